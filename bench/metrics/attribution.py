"""Attribution matching: content spans one-to-one, then the resolved speaker.

Content is compared as a set of characters (the union of its pieces). Matching
is *character overlap with one-to-one assignment*: gold and predicted records of
the same item are paired to maximise the total number of shared characters
(Hungarian algorithm); a pair counts only if it shares at least one character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.metrics.values import MetricValue, precision_recall_f1, undefined

Span = tuple[int, int]

_TITLES = (
    "mr", "mrs", "ms", "dr", "messrs", "president", "secretary", "minister", "senator",
    "sen", "rep", "gov", "governor", "prof", "sir",
)  # fmt: skip
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(_TITLES) + r")\.?\s+)+")
_POSSESSIVE_RE = re.compile(r"[’']s\b")


@dataclass(frozen=True)
class AttributionRecord:
    """What the matcher needs of a gold or predicted attribution."""

    item_id: str
    content: tuple[Span, ...]
    speaker: str | None


def normalise_name(name: str) -> str:
    """Lower-case, drop possessives, leading titles (Mr., President …) and punctuation."""
    name = _POSSESSIVE_RE.sub("", name.lower().replace("_", " "))
    name = re.sub(r"[^\w\s.]", " ", name)
    name = _TITLE_RE.sub("", " ".join(name.split()))
    return " ".join(name.replace(".", " ").split())


def build_alias_table(speakers: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Map every normalised alias (and the id itself) to its speaker id."""
    table: dict[str, str] = {}
    for speaker_id, aliases in speakers:
        for alias in (speaker_id, *aliases):
            table.setdefault(normalise_name(alias), speaker_id)
    return table


def resolve_speaker(name: str | None, aliases: dict[str, str]) -> str | None:
    """The speaker id whose alias equals ``name`` after normalisation, else None."""
    if not name:
        return None
    return aliases.get(normalise_name(name))


def _chars(content: tuple[Span, ...]) -> set[int]:
    return {i for start, end in content for i in range(start, end)}


def match_overlap(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord]
) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs maximising shared characters per item."""
    from scipy.optimize import linear_sum_assignment

    pairs: list[tuple[int, int]] = []
    for item in sorted({g.item_id for g in gold} & {p.item_id for p in pred}):
        g_idx = [i for i, g in enumerate(gold) if g.item_id == item]
        p_idx = [j for j, p in enumerate(pred) if p.item_id == item]
        g_chars = [_chars(gold[i].content) for i in g_idx]
        p_chars = [_chars(pred[j].content) for j in p_idx]
        overlap = np.array([[len(g & p) for p in p_chars] for g in g_chars])
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        pairs += [(g_idx[r], p_idx[c]) for r, c in zip(rows, cols, strict=True) if overlap[r, c]]
    return sorted(pairs)


def attribution_scores(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord]
) -> tuple[dict[str, MetricValue], list[tuple[int, int]]]:
    """Content exact/overlap F1, speaker accuracy on matched contents, end-to-end F1.

    - content_exact_f1: a prediction is correct when its content pieces equal a
      gold record's (same item); P = correct / #pred, R = correct / #gold.
    - content_overlap_f1: the same with one-to-one character-overlap matching.
    - source_accuracy: among overlap-matched pairs, the fraction whose resolved
      speaker equals the gold speaker id (undefined with no matched pair).
    - e2e_f1: F1 where a true positive is an overlap-matched pair with the
      correct speaker.
    Also returns the overlap pairs for per-item samples.
    """
    n_gold, n_pred = len(gold), len(pred)
    gold_exact = {(g.item_id, tuple(sorted(g.content))) for g in gold}
    exact_tp = len(gold_exact & {(p.item_id, tuple(sorted(p.content))) for p in pred})
    pairs = match_overlap(gold, pred)
    correct = sum(gold[i].speaker == pred[j].speaker for i, j in pairs)
    metrics = {
        "content_exact_f1": MetricValue(precision_recall_f1(exact_tp, n_pred, n_gold)[2]),
        "content_overlap_f1": MetricValue(precision_recall_f1(len(pairs), n_pred, n_gold)[2]),
        "source_accuracy": (
            MetricValue(correct / len(pairs)) if pairs else undefined("no matched content")
        ),
        "e2e_f1": MetricValue(precision_recall_f1(correct, n_pred, n_gold)[2]),
    }
    return metrics, pairs
