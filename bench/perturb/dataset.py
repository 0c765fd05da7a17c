"""A dataset seen through a perturbation: the same items (same ids) with perturbed
texts, and every gold span carried into the new texts by the edits' offset map."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from bench.data.dataset import Dataset
from bench.data.views import AttributionGold, NerGold, ToxicityGold, identity_codes
from bench.items import TextItems
from bench.metrics.attribution import content_tokens
from bench.perturb.align import (
    AlignmentError,
    Edit,
    OffsetMap,
    Span,
    apply_edits,
    keep_spans_whole,
)
from bench.perturb.base import Perturbation
from bench.predictions import TextItem


@dataclass(frozen=True)
class Perturbed:
    """One item's original and perturbed text, and the edits between them."""

    original: str
    text: str
    edits: tuple[Edit, ...]

    @cached_property
    def offsets(self) -> OffsetMap:
        return OffsetMap(self.edits)

    @property
    def changes(self) -> list[tuple[str, str]]:
        """The ``(old, new)`` text of each edit."""
        return [(self.original[e.start : e.end], e.replacement) for e in self.edits]


class PerturbedDataset(Dataset):
    """``base`` with ``perturbation`` applied to every item. An item whose text is a
    segment of another item (the seed article's toxicity segments) is cut from that
    item's perturbed text, so both see the same change. Its ``sha256`` (the prediction
    cache's key) covers the base gold, the perturbation's options and the texts."""

    def __init__(self, base: Dataset, perturbation: Perturbation) -> None:
        self.base, self.perturbation = base, perturbation
        self.tasks = base.tasks  # type: ignore[misc]  # per instance, not per class
        self.name, self.version, self.files = base.name, base.version, base.files

    @cached_property
    def sha256(self) -> str:  # type: ignore[override]
        """Over the base gold, the perturbation's options and every perturbed text: the
        prediction cache's key changes with any of them (a changed perturbation code too)."""
        digest = hashlib.sha256(json.dumps(
            {"base": self.base.sha256, "perturbation": self.perturbation.describe()},
            sort_keys=True).encode())  # fmt: skip
        for item_id, perturbed in sorted(self.items.items()):
            digest.update(json.dumps([item_id, perturbed.text]).encode())
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        return self.base.describe() | {
            "sha256": self.sha256,
            "base_sha256": self.base.sha256,
            "perturbation": self.perturbation.describe(),
        }

    @cached_property
    def _base_views(self) -> dict[str, Any]:
        views = {task: self.base.view(task) for task in sorted(self.base.tasks)}
        self.perturbation.prepare(views)
        return views

    @cached_property
    def items(self) -> dict[str, Perturbed]:
        """Every item's perturbation, by item id."""
        texts: dict[str, str] = {}
        spans: dict[str, list[Span]] = {}  # entities and quote parts
        whole: dict[str, list[Span]] = {}  # these and the segments: kept whole
        tokenized: set[str] = set()
        parents: dict[str, tuple[str, Span]] = {}  # segment id -> (item id, span)
        for view in self._base_views.values():
            for item in view.items:
                if texts.setdefault(item.id, item.text) != item.text:
                    raise AlignmentError(f"item {item.id!r}: two views give it different texts")
            for item_id, span in _spans(view):
                spans.setdefault(item_id, []).append(span)
            for item_id, start, end, segment in getattr(view, "segments", ()):
                parents[segment] = (item_id, (start, end))
                whole.setdefault(item_id, []).append((start, end))
            if getattr(view, "tokenized", False):
                tokenized |= {item.id for item in view.items}
        out: dict[str, Perturbed] = {}
        for item_id, text in texts.items():
            parent = parents.get(item_id)
            if parent is None or texts.get(parent[0], "")[slice(*parent[1])] != text:
                own = spans.get(item_id, [])
                out[item_id] = self._perturb(item_id, text, own, own + whole.get(item_id, []),
                                             item_id in tokenized)  # fmt: skip
        for item_id, text in texts.items():
            if item_id not in out:  # a segment: its text cut from its parent's
                parent_id, (start, end) = parents[item_id]
                edits = [
                    Edit(e.start - start, e.end - start, e.replacement)
                    for e in out[parent_id].edits
                    if start <= e.start and e.end <= end
                ]
                out[item_id] = Perturbed(text, *apply_edits(text, edits))  # fmt: skip
        return out

    def _perturb(
        self, item_id: str, text: str, spans: list[Span], whole: list[Span], tokenized: bool
    ) -> Perturbed:
        """``spans``: the item's gold annotation; ``whole``: those and its segments."""
        edits = self.perturbation.edits(item_id, text, spans, self.perturbation.rng(item_id))
        edits = keep_spans_whole(edits, whole)
        if tokenized:  # the text stays its tokens joined by single spaces
            edits = [e for e in edits if not any(c.isspace() for c in text[e.start : e.end]
                                                 + e.replacement)]  # fmt: skip
        perturbed = Perturbed(text, *apply_edits(text, edits))
        new_text, offsets = perturbed.text, perturbed.offsets
        for start, end in whole:
            new_start, new_end = offsets.span(start, end)
            piece = new_text[new_start:new_end]
            if not piece or piece != piece.strip():
                raise AlignmentError(
                    f"item {item_id!r}: {self.perturbation.name} turns span [{start}, {end}) "
                    f"{text[start:end]!r} into {piece!r}"
                )
        return perturbed

    def _items(self, items: Sequence[TextItem]) -> Any:
        """``items`` with their perturbed texts (a tuple, or columns for columns)."""
        perturbed = [TextItem(item.id, self.items[item.id].text) for item in items]
        return TextItems.of(perturbed) if isinstance(items, TextItems) else tuple(perturbed)

    def _span(self, item_id: str, span: Span) -> Span:
        return self.items[item_id].offsets.span(*span)

    def _segments(self, segments: tuple) -> tuple:
        return tuple((i, *self._span(i, (s, e)), seg) for i, s, e, seg in segments)

    def ner(self) -> NerGold:
        gold: NerGold = self._base_views["ner"]
        spans = tuple((i, *self._span(i, (s, e)), label) for i, s, e, label in gold.spans)
        return replace(gold, items=self._items(gold.items), spans=spans,
                       segments=self._segments(gold.segments))  # fmt: skip

    def attribution(self) -> AttributionGold:
        gold: AttributionGold = self._base_views["attribution"]
        records = []
        for r in gold.records:
            content = tuple(self._span(r.item_id, piece) for piece in r.content)
            tokens = content_tokens(self.items[r.item_id].text, content) if r.tokens else ()
            records.append(replace(
                r, content=content, tokens=tokens,
                cue=None if r.cue is None else self._span(r.item_id, r.cue),
                source=None if r.source is None else self._span(r.item_id, r.source),
            ))  # fmt: skip
        rename = self.perturbation.rename
        speakers = tuple((speaker, tuple(dict.fromkeys(map(rename, aliases))))
                         for speaker, aliases in gold.speakers)  # fmt: skip
        return replace(gold, items=self._items(gold.items), records=tuple(records),
                       speakers=speakers, segments=self._segments(gold.segments))  # fmt: skip

    def toxicity(self) -> ToxicityGold:
        gold: ToxicityGold = self._base_views["toxicity"]
        identities = [gold.identities(k) for k in range(len(gold.items))]
        recognise = getattr(self.perturbation, "identities", None)
        if recognise is not None:  # the swapped terms' identities replace the old ones'
            for k, item in enumerate(gold.items):
                new_text = self.items[item.id].text
                if new_text != item.text:
                    kept = set(identities[k]) - recognise(item.text)
                    identities[k] = tuple(sorted(kept | recognise(new_text)))
        combo, combos = identity_codes(identities, len(identities))
        return replace(gold, items=self._items(gold.items), combo=combo, combos=combos)


def _spans(view: Any) -> list[tuple[str, Span]]:
    """The annotated spans of a view (entities, quote parts), with their item ids."""
    out: list[tuple[str, Span]] = []
    if isinstance(view, NerGold):
        out += [(i, (s, e)) for i, s, e, _ in view.spans]
    if isinstance(view, AttributionGold):
        for r in view.records:
            parts = [*r.content, *(p for p in (r.cue, r.source) if p is not None)]
            out += [(r.item_id, part) for part in parts]
    return out
