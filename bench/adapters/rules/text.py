"""Sentence and quotation finding shared by the rule-based tasks."""

from __future__ import annotations

import re

from bench.adapters.rules.lexicon import alternation, lexicon

Span = tuple[int, int]

_ABBREVIATION = re.compile(
    rf"(?:\b(?:{alternation([w.rstrip('.') for w in lexicon()['abbreviations']])})"
    r"|\b(?:[A-Z]\.)+[A-Z])$"
)
_BOUNDARY = re.compile(r"[.!?…]+[”’\"')]*(?=\s+|$)|\n")
QUOTE = re.compile(r"“([^“”]+)”|\"([^\"]+)\"")


def quotations(text: str, min_words: int = 3) -> list[Span]:
    """Inner spans of double-quoted passages with at least ``min_words`` words.

    Shorter quoted passages are usually scare quotes or titles, not speech.
    """
    spans = []
    for match in QUOTE.finditer(text):
        group = 1 if match.group(1) is not None else 2
        start, end = match.span(group)
        inner = text[start:end]
        start += len(inner) - len(inner.lstrip())
        end -= len(inner) - len(inner.rstrip())
        if len(text[start:end].split()) >= min_words:
            spans.append((start, end))
    return spans


def sentences(text: str) -> list[Span]:
    """Sentence spans; never split inside a quotation or after a known abbreviation."""
    quoted = [m.span() for m in QUOTE.finditer(text)]
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if any(qs < match.start() < qe - 1 for qs, qe in quoted):
            continue
        if match.group() == "." and _ABBREVIATION.search(text[start : match.start()]):
            continue
        if text[start:end].strip():
            spans.append(strip_span(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(strip_span(text, start, len(text)))
    return spans


def strip_span(text: str, start: int, end: int) -> Span:
    """``[start, end)`` of ``text`` without surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
