"""Character alignment of a perturbed text: an edit list and the offset map it implies.

A perturbation never rewrites a text directly: it proposes :class:`Edit` s (replace
``text[start:end]`` by ``replacement``), and :func:`apply_edits` applies them and
returns an :class:`OffsetMap` that carries every gold span into the new text. A span
moves consistently under an edit outside it (shifted) or inside it (resized); an edit
across one of its boundaries has no consistent image, so :func:`keep_spans_whole`
drops it (that occurrence stays untouched) before the edits are applied.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

Span = tuple[int, int]


class AlignmentError(ValueError):
    """Edits overlap or leave the text, or a span has no consistent image."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (half-open; empty: an insertion) by ``replacement``."""

    start: int
    end: int
    replacement: str


def cuts(edit: Edit, span: Span) -> bool:
    """Whether a boundary of ``span`` lies strictly inside ``edit`` (no consistent image)."""
    return any(edit.start < boundary < edit.end for boundary in span)


def keep_spans_whole(edits: Iterable[Edit], spans: Iterable[Span]) -> list[Edit]:
    """The edits that cut no span (:func:`cuts`), in order."""
    spans = list(spans)
    return [e for e in edits if not any(cuts(e, span) for span in spans)]


class OffsetMap:
    """Where offsets of the old text are in the new one, from applied edits.

    A span ``[s, e)`` maps to ``[s + Δ(edits ending at or before s),
    e + Δ(edits starting before e)]``: an insertion at a span's boundary stays
    outside the span, an edit inside it resizes it.
    """

    def __init__(self, edits: Sequence[Edit]) -> None:
        self._ends = [e.end for e in edits]
        self._starts = [e.start for e in edits]
        deltas = [len(e.replacement) - (e.end - e.start) for e in edits]
        self._shift = [0, *accumulate(deltas)]  # total delta of the first k edits
        self._edits = tuple(edits)

    def span(self, start: int, end: int) -> Span:
        """The image of ``[start, end)``; an :class:`AlignmentError` if an edit cuts it."""
        for edit in self._edits:
            if cuts(edit, (start, end)):
                raise AlignmentError(f"edit {edit} cuts span [{start}, {end})")
        return (
            start + self._shift[bisect_right(self._ends, start)],
            end + self._shift[bisect_left(self._starts, end)],
        )


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, tuple[Edit, ...]]:
    """The edited text and the edits, sorted (:class:`OffsetMap` maps spans through
    them); edits must be in range and not overlap."""
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    for e in edits:
        if not 0 <= e.start <= e.end <= len(text):
            raise AlignmentError(f"edit {e} outside the text (length {len(text)})")
    for before, after in pairwise(edits):
        if after.start < before.end or (after.start == before.start == after.end == before.end):
            raise AlignmentError(f"edits {before} and {after} overlap")
    pieces, position = [], 0
    for e in edits:
        pieces += [text[position : e.start], e.replacement]
        position = e.end
    pieces.append(text[position:])
    return "".join(pieces), tuple(edits)
