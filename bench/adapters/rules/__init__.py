"""The rule baseline for all three tasks, written from general rules and word lists.

It never reads the gold. Its lexicon (``lexicon.json``) holds generic lists; see
that file's ``_about`` note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from bench.adapters.base import LARGE_BATCH, TASKS, Adapter, Batching
from bench.adapters.labels import LabelMap
from bench.adapters.rules.attribution import find_attributions
from bench.adapters.rules.ner import find_entities
from bench.adapters.rules.toxicity import score_text
from bench.data.schema import ENTITY_LABELS
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    TextItem,
    ToxicityPrediction,
)


class RulesAdapter(Adapter):
    """Patterns and gazetteers for NER, quote + cue verb for attribution, lexicon toxicity."""

    tasks: ClassVar[frozenset[str]] = frozenset(TASKS)
    cacheable: ClassVar[bool] = False
    preferred_batching: ClassVar[Batching] = Batching(LARGE_BATCH)

    def __init__(
        self, label_map: Mapping[str, str | None] | None = None, labels: list[str] | None = None
    ) -> None:
        """``label_map``/``labels``: its OntoNotes entity types onto another label set
        (see :class:`bench.adapters.labels.LabelMap`), e.g. WNUT-17's."""
        self.label_map = LabelMap(label_map, "rules", labels)
        self.label_map.check(ENTITY_LABELS)  # the rules may emit any OntoNotes type

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        out = []
        for d in documents:
            mapped = ((e, self.label_map(e.label)) for e in find_entities(d.text))
            out.append([replace(e, label=label) for e, label in mapped if label is not None])
        return out

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return [find_attributions(d.text) for d in documents]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [score_text(item.text) for item in items]

    def identity(self) -> dict[str, Any]:
        from bench.adapters.rules.lexicon import lexicon
        from bench.provenance import fingerprint

        return {"lexicon_sha256": fingerprint(lexicon())}
