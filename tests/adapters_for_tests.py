"""Deliberately broken adapters, built by Hydra from ``_target_`` in the tests."""

from __future__ import annotations

from typing import ClassVar

from bench.adapters.base import Adapter
from bench.predictions import EntityPrediction, TextItem, ToxicityPrediction


class OutOfRangeNer(Adapter):
    """Returns an entity ending past the document; toxicity stays valid."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner", "toxicity"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[EntityPrediction(0, len(d.text) + 5, "PERSON")] for d in documents]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(0.5) for _ in items]


class UnknownLabelNer(Adapter):
    tasks: ClassVar[frozenset[str]] = frozenset({"ner"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[EntityPrediction(0, 3, "VILLAIN")] for _ in documents]


class NanToxicity(Adapter):
    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(float("nan")) for _ in items]


class RaisingAdapter(Adapter):
    """Raises inside the model call for NER; attribution works (returns nothing)."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner", "attribution"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        raise RuntimeError("model server went away")

    def predict_attribution(self, documents: list[TextItem]) -> list[list]:
        return [[] for _ in documents]
