"""Strings a generative model returns, mapped back to character offsets in the source text.

Any generative adapter (and any perturbation that must follow a span) can use it.
Matching is done modulo normalisation: curly and straight quote marks, primes and
backticks are equal, dashes equal ``-``, ``…`` equals ``...``, and any run of
whitespace equals one space.

- NER (:func:`map_entities`): every returned mention claims one occurrence of its
  text; mentions are placed longest text first (so ``Mexico`` cannot take the
  ``Mexico`` inside a returned ``Mexico City``), and mentions with the same text in
  the order returned. Each takes the *first occurrence in document order that
  overlaps no span claimed so far* and that starts and ends on word boundaries. So
  a mention returned three times maps to the first three free occurrences, in
  order; a mention returned once maps to its first free occurrence only. A mention
  without a free occurrence is reported as a problem.
- Attribution (:func:`locate_quote`): a quote (surrounding quote marks stripped)
  claims the first occurrence in document order not already claimed *by an
  identical span* (different quotes may nest or overlap). If not found after
  normalisation, a case-insensitive search is tried, then, if the quote contains an
  ellipsis, its fragments are located in order and become the content pieces.
  Otherwise the quote is not found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bench.predictions import EntityPrediction, Span

_CHAR_MAP = {
    **dict.fromkeys("“”„‟«»″‶〝〞＂", '"'),
    **dict.fromkeys("‘’‚‛′‵`´＇", "'"),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    "…": "...",
    "\u00ad": "",
    "\u200b": "",
    "\ufeff": "",
}


def normalise_with_index(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index it came from."""
    chars: list[str] = []
    index: list[int] = []
    in_space = False
    for i, c in enumerate(text):
        if c.isspace():
            if not in_space:
                chars.append(" ")
                index.append(i)
            in_space = True
            continue
        in_space = False
        mapped = _CHAR_MAP.get(c, c)
        chars.extend(mapped)
        index.extend([i] * len(mapped))
    return "".join(chars), index


def normalise(text: str) -> str:
    return normalise_with_index(text)[0].strip()


def _lower_same_length(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Locator:
    """Finds strings returned by a model in one text, modulo :func:`normalise`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.index = normalise_with_index(text)
        self.lower = _lower_same_length(self.norm)

    def find_all(
        self, needle: str, *, start: int = 0, ignore_case: bool = False, words: bool = False
    ) -> list[Span]:
        """Original-text spans of the occurrences of ``needle`` at or after ``start``."""
        target = normalise(needle)
        if not target:
            return []
        haystack = self.lower if ignore_case else self.norm
        if ignore_case:
            target = _lower_same_length(target)
        spans: list[Span] = []
        pos = haystack.find(target)
        while pos != -1:
            end = pos + len(target)
            aligned = (pos == 0 or self.index[pos - 1] != self.index[pos]) and (
                end == len(self.index) or self.index[end] != self.index[end - 1]
            )
            span = (self.index[pos], self.index[end - 1] + 1)
            if aligned and span[0] >= start and (not words or self._on_word_boundaries(span)):
                spans.append(span)
            pos = haystack.find(target, pos + 1)
        return spans

    def _on_word_boundaries(self, span: Span) -> bool:
        s, e = span
        t = self.text
        return not (s > 0 and t[s - 1].isalnum() and t[s].isalnum()) and not (
            e < len(t) and t[e - 1].isalnum() and t[e].isalnum()
        )


def _overlaps(span: Span, others: Iterable[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def map_entities(
    text: str, mentions: list[tuple[str, str]]
) -> tuple[list[EntityPrediction], list[str]]:
    """(text, label) mentions to entity spans, by the rule in the module docstring."""
    locator = Locator(text)
    claimed: list[Span] = []
    placed: list[EntityPrediction] = []
    problems: list[str] = []
    order = sorted(range(len(mentions)), key=lambda i: -len(normalise(mentions[i][0])))
    for i in order:
        mention, label = mentions[i]
        spans = locator.find_all(mention, words=True)
        free = [s for s in spans if not _overlaps(s, claimed)]
        if not free:
            why = "not found" if not spans else f"all {len(spans)} occurrences already claimed"
            problems.append(f"entities[{i}] {mention!r}: {why}")
            continue
        claimed.append(free[0])
        placed.append(EntityPrediction(free[0][0], free[0][1], label))
    return sorted(placed, key=lambda e: (e.start, e.end)), problems


_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|…|\[\s*(?:\.\.\.|…)\s*\])\s*")


_DOUBLE_QUOTES = '"“”„‟«»'


def strip_quote_marks(quote: str) -> str:
    """Drop surrounding whitespace and the outer quotation marks a model added.

    A pair of outer marks goes; a lone outer mark goes only when the marks in the
    quote are unbalanced, so ``the order “emphasized …”`` (a mixed quote ending
    in a partial quotation) keeps its closing mark.
    """
    quote = quote.strip()
    if len(quote) >= 2 and quote[0] in _DOUBLE_QUOTES and quote[-1] in _DOUBLE_QUOTES:
        return quote[1:-1].strip()
    if sum(c in _DOUBLE_QUOTES for c in quote) % 2:
        if quote[0] in _DOUBLE_QUOTES:
            return quote[1:].lstrip()
        if quote[-1] in _DOUBLE_QUOTES:
            return quote[:-1].rstrip()
    if len(quote) >= 2 and quote[0] in "'‘" and quote[-1] in "'’":
        return quote[1:-1].strip()
    return quote


def locate_quote(
    locator: Locator, quote: str, claimed: set[tuple[Span, ...]]
) -> tuple[tuple[Span, ...] | None, str]:
    """Content pieces for ``quote`` (or None) and how they were found or why not."""
    stripped = strip_quote_marks(quote)
    if not stripped:
        return None, "empty quote"
    variants = [stripped] + ([quote.strip()] if quote.strip() != stripped else [])
    for how, ignore_case in (("normalised", False), ("case-insensitive", True)):
        for variant in variants:
            spans = locator.find_all(variant, ignore_case=ignore_case)
            free = [(s,) for s in spans if (s,) not in claimed]
            if free:
                return free[0], how
            if spans:
                return None, f"all {len(spans)} occurrences already claimed"
    quote = stripped
    fragments = [f for f in _ELLIPSIS.split(quote) if strip_quote_marks(f)]
    if len(fragments) > 1:
        pieces: list[Span] = []
        position = 0
        for fragment in fragments:
            found = locator.find_all(strip_quote_marks(fragment), start=position)
            if not found:
                return None, f"ellipsis fragment {fragment[:40]!r} not found"
            pieces.append(found[0])
            position = found[0][1]
        return tuple(pieces), "ellipsis fragments"
    return None, "not found verbatim or normalised"
