"""What each task needs of a dataset: items for the model and their gold labels.

Offsets are ``str`` indices into each item's text, half-open — the same frame as
adapter predictions. Any dataset (the built-in seed article, CoNLL files, CSV
test suites) provides one view per task it supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.metrics.attribution import AttributionRecord
from bench.predictions import TextItem

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
    """Binary toxicity per item; ``level`` groups items into units scored separately.

    The first of ``levels`` is the main unit (segments for the seed article);
    metrics of other levels are prefixed with the level name (``document_roc_auc``).
    """

    items: tuple[TextItem, ...]
    toxic: dict[str, int]
    level: dict[str, str]
    levels: tuple[str, ...]
    identities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # e.g. HateCheck functionality
    attributes: dict[str, dict[str, int]] = field(default_factory=dict)
