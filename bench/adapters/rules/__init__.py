"""The rule baseline for all three tasks, written from general rules and word lists.

It never reads the gold. Its lexicon (``lexicon.json``) holds generic lists; see
that file's ``_about`` note.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bench.adapters.base import TASKS, Adapter
from bench.adapters.rules.attribution import find_attributions
from bench.adapters.rules.ner import find_entities
from bench.adapters.rules.toxicity import score_text
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

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [find_entities(d.text) for d in documents]

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return [find_attributions(d.text) for d in documents]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [score_text(item.text) for item in items]

    def identity(self) -> dict[str, Any]:
        from bench.adapters.rules.lexicon import lexicon
        from bench.provenance import fingerprint

        return {"lexicon_sha256": fingerprint(lexicon())}
