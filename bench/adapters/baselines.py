"""Reference adapters: ``oracle`` (returns the gold) and ``empty`` (returns nothing)."""

from __future__ import annotations

from typing import Any, ClassVar

from bench.adapters.base import TASKS, Adapter
from bench.data.gold import load_dataset
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    TextItem,
    ToxicityPrediction,
)


class OracleAdapter(Adapter):
    """Answers with the gold itself: every main metric must be 1.0 (the harness's sanity check)."""

    tasks: ClassVar[frozenset[str]] = frozenset(TASKS)

    def __init__(self, dataset_path: str | None = None) -> None:
        self.gold = load_dataset(dataset_path)
        self._starts = {d.id: d.start for d in self.gold.documents}
        self._toxic = {u.id: u.labels.toxic for u in (*self.gold.documents, *self.gold.segments)}

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [
            [
                EntityPrediction(e.start - self._starts[d.id], e.end - self._starts[d.id], e.label)
                for e in self.gold.entities
                if e.doc_id == d.id
            ]
            for d in documents
        ]

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        def shift(span: tuple[int, int], offset: int) -> tuple[int, int]:
            return span[0] - offset, span[1] - offset

        out = []
        for d in documents:
            offset = self._starts[d.id]
            out.append(
                [
                    AttributionPrediction(
                        content=tuple(shift(piece, offset) for piece in a.content),
                        speaker=a.source_entity,
                        cue=shift(a.cue, offset),
                        source=shift(a.source, offset),
                        type=a.type,
                    )
                    for a in self.gold.attributions
                    if a.doc_id == d.id
                ]
            )
        return out

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(float(self._toxic[item.id])) for item in items]

    def identity(self) -> dict[str, Any]:
        return {"gold_sha256": self.gold.files_sha256}


class EmptyAdapter(Adapter):
    """Predicts no entities, no attributions and a constant toxicity score."""

    tasks: ClassVar[frozenset[str]] = frozenset(TASKS)

    def __init__(self, score: float = 0.0) -> None:
        self.score = score

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[] for _ in documents]

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return [[] for _ in documents]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(self.score) for _ in items]
