"""Rule NER: number and date patterns, gazetteers, and capitalised word sequences.

Candidates carry a priority; the lowest priority number wins an overlap, then
the longer span. No statistics, no gold: a baseline written from general rules.
"""

from __future__ import annotations

import re
from functools import cache

from bench.adapters.rules.lexicon import alternation, lexicon
from bench.predictions import EntityPrediction

Candidate = tuple[int, int, int, str]  # priority, start, end, label
Span = tuple[int, int]

_CAP = rf"(?:(?:[A-Z]\.){{2,}}|{alternation(lexicon()['abbreviations'])}|[A-Z][^\W\d_]*)"
_CONNECTOR = r"(?:of|and|for|de|del|la)"
_SEQUENCE = re.compile(rf"{_CAP}(?: +(?:{_CONNECTOR} +)?{_CAP})*")
_TOKEN = re.compile(rf"{_CONNECTOR}\b|{_CAP}")


@cache
def _patterns() -> list[tuple[int, str, re.Pattern[str]]]:
    lex = lexicon()
    months, weekdays = alternation(lex["months"]), alternation(lex["weekdays"])
    norp, ordinal = alternation(lex["demonyms"]), alternation(lex["ordinals"])
    numbers = alternation(lex["number_words"])
    scale = r"(?:thousand|million|billion|trillion)"
    approx = r"(?:(?:more|less|fewer) than |about |nearly |almost |over |some )?"
    unit = r"(?:days|weeks|months|years|decades)"
    period = r"(?:week|month|year|decade)"
    return [
        (0, "MONEY", re.compile(rf"\$\s?\d[\d,]*(?:\.\d+)?(?:\s{scale})?", re.I)),
        (0, "MONEY", re.compile(rf"\b\d[\d,.]*(?:\s{scale})?\s(?:dollars|pesos|euros)\b", re.I)),
        (0, "PERCENT", re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b)")),
        (0, "TIME", re.compile(rf"\b(?:{weekdays})\s(?:night|morning|afternoon|evening)\b")),
        (0, "DATE", re.compile(rf"\b(?:{months})(?:\s\d{{1,2}}\b)?(?:,?\s\d{{4}}\b)?")),
        (0, "DATE", re.compile(rf"\b(?:{weekdays})\b")),
        (0, "DATE", re.compile(rf"\b(?:last|next|this|past|coming) {period}\b")),
        (0, "DATE", re.compile(rf"\b(?:last|past|next) (?:\w+ )?{unit}\b")),
        (0, "DATE", re.compile(rf"\b(?:end|beginning|start) of (?:this|the|next) {period}\b")),
        (0, "DATE", re.compile(r"\b(?:today|yesterday|tomorrow|(?:19|20)\d{2})\b")),
        (2, "NORP", re.compile(rf"\b(?:non-)?(?:{norp})(?:e?s)?\b", re.I)),
        (4, "ORDINAL", re.compile(rf"\b(?:{ordinal}|\d+(?:st|nd|rd|th))\b", re.I)),
        (4, "CARDINAL", re.compile(rf"{approx}\b\d[\d,]*(?:\.\d+)?(?:\s{scale})?\b")),
        (4, "CARDINAL", re.compile(rf"\b(?:{numbers})\b", re.I)),
    ]  # fmt: skip


def _label(words: list[str], after_title: bool) -> str:
    lex = lexicon()
    name = " ".join(words).title() if " ".join(words).isupper() else " ".join(words)
    if after_title and words[-1] not in lex["org_words"]:
        return "PERSON"
    if name in lex["countries"] or name in lex["cities"]:
        return "GPE"
    if name in lex["regions"]:
        return "LOC"
    if words[-1] in lex["law_words"]:
        return "LAW"
    if any(w in lex["org_words"] for w in words) or re.fullmatch(r"[A-Z]{2,5}", name):
        return "ORG"
    return "PERSON"


def _parts(text: str, tokens: list[Span]) -> list[tuple[list[Span], bool]]:
    """Split a sequence at titles (what follows a title is a person) and at "and"
    unless the sequence ends in an organisation or law word
    (``Messrs. Tillerson and Kelly`` is two people; ``Customs and Border Protection`` one)."""
    lex = lexicon()
    titles = set(lex["titles"])
    last = text[tokens[-1][0] : tokens[-1][1]]
    split_and = last not in lex["org_words"] and last not in lex["law_words"]
    parts: list[tuple[list[Span], bool]] = []
    current: list[Span] = []
    titled = False
    for span in tokens:
        word = text[span[0] : span[1]]
        if word in titles or (word == "and" and split_and):
            if current:
                parts.append((current, titled))
            current, titled = [], titled or word in titles
        else:
            current.append(span)
    if current:
        parts.append((current, titled))
    return parts


def _trim(text: str, part: list[Span]) -> list[Span]:
    """Drop leading function words and connectors, and trailing connectors."""
    while part and text[part[0][0] : part[0][1]].lower() in lexicon()["function_words"]:
        part = part[1:]
    while part and re.fullmatch(_CONNECTOR, text[part[-1][0] : part[-1][1]]):
        part = part[:-1]
    return part


def _capitalised(text: str) -> list[Candidate]:
    """Candidates from capitalised word sequences."""
    org_words = set(lexicon()["org_words"])
    out: list[Candidate] = []
    for match in _SEQUENCE.finditer(text):
        tokens = [(match.start() + m.start(), match.start() + m.end())
                  for m in _TOKEN.finditer(match.group())]  # fmt: skip
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in '.!?“"…'
        for part, titled in _parts(text, tokens):
            part = _trim(text, part)
            if not part:
                continue
            if titled and len(part) > 1 and text[part[0][0] : part[0][1]] in org_words:
                out.append((1, *part[0], "ORG"))  # "Secretary of State Rex Tillerson"
                part = part[1:]
            words = [text[s:e] for s, e in part]
            if len(part) == 1 and not titled and sentence_start and part[0][0] == match.start():
                continue  # a lone capitalised first word is usually just a sentence start
            if words[-1].isupper() and len(words[-1]) > 5:
                continue  # shouting, not a name
            label = _label(words, titled)
            priority = 1 if label != "PERSON" and len(part) > 1 else 3
            out.append((priority, part[0][0], part[-1][1], label))
    return out


def find_entities(text: str) -> list[EntityPrediction]:
    """Entities found by the rules, sorted by offset, never overlapping."""
    candidates = [
        (priority, m.start(), m.end(), label)
        for priority, label, pattern in _patterns()
        for m in pattern.finditer(text)
    ] + _capitalised(text)
    candidates.sort(key=lambda c: (c[0], -(c[2] - c[1]), c[1]))
    taken: list[tuple[int, int, str]] = []
    for _, start, end, label in candidates:
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, label))
    return [EntityPrediction(s, e, label) for s, e, label in sorted(taken)]
