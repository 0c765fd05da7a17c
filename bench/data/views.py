"""What each task needs of a dataset: items for the model and their gold labels.

Offsets are ``str`` indices into each item's text, half-open — the same frame as
adapter predictions. Any dataset (the built-in seed article, CoNLL files, CSV
test suites) provides one view per task it supports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import NamedTuple

import numpy as np

from bench.items import TextItems
from bench.metrics.attribution import AttributionRecord
from bench.predictions import TextItem
from bench.sample_rows import Coded

LabelledSpan = tuple[str, int, int, str]  # item id, start, end, label
Segments = tuple[LabelledSpan, ...]
"""The gold segments of the items, ``(item id, start, end, segment id)``: the clusters a
bootstrap at unit "cluster" resamples (``bench.metrics.clusters``); an item without
segments (a sentence) is one cluster."""


@dataclass(frozen=True)
class NerGold:
    items: tuple[TextItem, ...]
    spans: tuple[LabelledSpan, ...]
    labels: tuple[str, ...]  # the label set predictions must use
    tokenized: bool = False  # each item's text is its tokens joined by single spaces (CoNLL)
    segments: Segments = ()


@dataclass(frozen=True)
class AttributionGold:
    items: tuple[TextItem, ...]
    records: tuple[AttributionRecord, ...]
    speakers: tuple[tuple[str, tuple[str, ...]], ...]  # (speaker id, aliases)
    segments: Segments = ()


@dataclass(frozen=True)
class ToxicityGold:
    """Binary toxicity per item, as arrays aligned with ``items`` (no object per item);
    ``level`` groups items into units scored separately. Build it with
    :func:`toxicity_gold`.

    The first of ``levels`` is the main unit (segments for the seed article);
    metrics of other levels are prefixed with the level name (``document_roc_auc``).
    """

    items: TextItems
    labels: np.ndarray  # int8 0/1
    levels: tuple[str, ...]
    level: np.ndarray  # int8: index into levels
    combo: np.ndarray  # int32: index into combos, the item's identities
    combos: tuple[tuple[str, ...], ...]  # the distinct identity sets
    groups: Coded | None = None  # e.g. HateCheck functionality; code -1: none
    attributes: dict[str, np.ndarray] = field(default_factory=dict)  # int8; -1: not labelled

    def identities(self, k: int) -> tuple[str, ...]:
        """The identities item ``k`` mentions."""
        return self.combos[self.combo[k]]

    @cached_property
    def index(self) -> dict[str, int]:
        """Each item's position by its id: for the few uses that have an id only (built
        once; ~100 bytes an item)."""
        return {item_id: k for k, item_id in enumerate(self.items.ids)}


def toxicity_gold(
    items: Sequence[TextItem] | TextItems,
    labels: Sequence[int],
    levels: tuple[str, ...],
    level: Sequence[str] | None = None,
    identities: Iterable[tuple[str, ...]] | IdentityCodes | None = None,
    groups: Sequence[str | None] | None = None,
    attributes: Mapping[str, Sequence[int]] | None = None,
) -> ToxicityGold:
    """A :class:`ToxicityGold` from per-item values in item order: ``level`` names (None:
    every item at ``levels[0]``), identity tuples (or their :class:`IdentityCodes`; None:
    none), group names (None: no
    groups, or None for an item without one), attribute labels (−1: not labelled)."""
    items = items if isinstance(items, TextItems) else TextItems.of(items)
    n = len(items)
    if level is None:
        level_codes = np.zeros(n, np.int8)
    else:
        code = {name: k for k, name in enumerate(levels)}
        level_codes = np.fromiter(map(code.__getitem__, level), np.int8, n)
    if not isinstance(identities, IdentityCodes):
        identities = identity_codes(repeat((), n) if identities is None else identities, n)
    combo, combos = identities
    coded = None
    if groups is not None:
        names = sorted({g for g in groups if g is not None})
        position = {name: k for k, name in enumerate(names)} | {None: -1}
        coded = Coded(np.fromiter(map(position.__getitem__, groups), np.int32, n), tuple(names))
    return ToxicityGold(
        items=items,
        labels=np.fromiter(labels, np.int8, n),
        levels=levels,
        level=level_codes,
        combo=combo,
        combos=combos,
        groups=coded,
        attributes={
            name: np.fromiter(values, np.int8, n) for name, values in (attributes or {}).items()
        },
    )


class IdentityCodes(NamedTuple):
    """The identity sets of the items as codes into a table of the distinct sets:
    :attr:`ToxicityGold.combo` and :attr:`ToxicityGold.combos`."""

    combo: np.ndarray
    combos: tuple[tuple[str, ...], ...]


def identity_codes(identities: Iterable[tuple[str, ...]], n: int) -> IdentityCodes:
    """The :class:`IdentityCodes` of ``n`` items' identity tuples."""
    first: dict[tuple[str, ...], int] = {(): 0}
    combo = np.fromiter((first.setdefault(tuple(s), len(first)) for s in identities), np.int32, n)
    return IdentityCodes(combo, tuple(first))


def membership_codes(columns: Mapping[str, np.ndarray], n: int) -> IdentityCodes:
    """The :class:`IdentityCodes` of ``n`` items given one boolean column per identity (at
    most 64): an item's set is the identities whose column is true, in column order."""
    names = list(columns)
    if len(names) > 64:
        raise ValueError(f"{len(names)} identity columns: at most 64")
    mask = np.zeros(n, np.uint64)
    for k, name in enumerate(names):
        member = columns[name].astype(bool, copy=False)
        np.bitwise_or(mask, np.uint64(1 << k), out=mask, where=member)
    distinct = np.unique(mask)  # few sets: a search among them beats unique's inverse 2.5x
    combo = np.searchsorted(distinct, mask)
    combos = tuple(tuple(name for k, name in enumerate(names) if (m >> k) & 1)
                   for m in distinct.tolist())  # fmt: skip
    return IdentityCodes(combo.reshape(-1).astype(np.int32), combos)
