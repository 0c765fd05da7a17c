"""Lexicon toxicity: weighted hits of profanity, insults, violence and slurs.

score = 1 − exp(−Σ weight × hits): 0 with no hit, rising towards 1.
Masked profanity (letters around ``*#$%&@–``, as in ``sh*t``) counts as profanity.
"""

from __future__ import annotations

import math
import re
from functools import cache

from bench.adapters.rules.lexicon import alternation, lexicon
from bench.predictions import ToxicityPrediction

_WEIGHTS = {"slurs": 3.0, "profanity": 1.5, "masked": 1.5, "insults": 1.2, "violence": 0.8}
_MASKED = re.compile(r"\b[a-z]+[*#$%&@–]+[a-z*#$%&@–]*", re.I)
_SHOUT = re.compile(r"\b[A-Z]{4,}\b")


@cache
def _lexicon_patterns() -> dict[str, re.Pattern[str]]:
    lex = lexicon()
    names = ("slurs", "profanity", "insults", "violence", "groups", "demonyms")
    return {n: re.compile(rf"\b(?:{alternation(lex[n])})(?:e?s)?\b", re.I) for n in names}


def hits(text: str) -> dict[str, int]:
    """Counts of lexicon matches per category, plus masked profanity and shouted words."""
    counts = {name: len(p.findall(text)) for name, p in _lexicon_patterns().items()}
    counts["masked"] = len(_MASKED.findall(text))
    counts["shouting"] = len(_SHOUT.findall(text))
    return counts


def score_text(text: str) -> ToxicityPrediction:
    """Toxicity probability and attribute probabilities of one text."""
    h = hits(text)
    weighted = sum(_WEIGHTS[k] * h[k] for k in _WEIGHTS) + 0.3 * min(h["shouting"], 3)
    score = 1.0 - math.exp(-weighted)
    targets_group = h["groups"] + h["demonyms"] > 0
    attacks = h["insults"] + h["violence"] + h["slurs"]

    def squash(x: float) -> float:
        return round(1.0 - math.exp(-x), 6)

    attributes = {
        "severe_toxicity": squash(h["slurs"] * 2 + max(weighted - 3, 0)),
        "obscene": squash(1.5 * (h["profanity"] + h["masked"])),
        "insult": squash(1.2 * (h["insults"] + h["slurs"])),
        "threat": squash(0.8 * h["violence"]),
        "identity_attack": squash(2 * h["slurs"] + (1.0 * attacks if targets_group else 0)),
    }
    return ToxicityPrediction(round(score, 6), attributes)
