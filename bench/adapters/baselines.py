"""Reference adapters: ``oracle`` (returns the gold) and ``empty`` (returns nothing)."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from bench.adapters.base import LARGE_BATCH, TASKS, Adapter, Batching
from bench.data.dataset import Dataset
from bench.items import TextItems
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    TextItem,
    ToxicityScores,
)


class OracleAdapter(Adapter):
    """Answers with the gold itself: every main metric must be 1.0 (the harness's sanity check).

    Its preset passes ``dataset: ${dataset}``, which Hydra builds into the
    same Dataset the runner scores against.
    """

    tasks: ClassVar[frozenset[str]] = frozenset(TASKS)
    cacheable: ClassVar[bool] = False
    preferred_batching: ClassVar[Batching] = Batching(LARGE_BATCH)
    reference: ClassVar[str | None] = "ceiling"

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [list(self._entities.get(d.id, ())) for d in documents]

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return [list(self._attributions.get(d.id, ())) for d in documents]

    # The gold by item, indexed once (per batch it would make a run quadratic in the data).
    @cached_property
    def _entities(self) -> dict[str, list[EntityPrediction]]:
        by_item: dict[str, list[EntityPrediction]] = defaultdict(list)
        for item_id, start, end, label in self.dataset.view("ner").spans:
            by_item[item_id].append(EntityPrediction(start, end, label))
        return by_item

    @cached_property
    def _attributions(self) -> dict[str, list[AttributionPrediction]]:
        by_item: dict[str, list[AttributionPrediction]] = defaultdict(list)
        for r in self.dataset.view("attribution").records:
            by_item[r.item_id].append(
                AttributionPrediction(r.content, r.speaker, r.cue, r.source, r.type)
            )
        return by_item

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores:
        gold = self.dataset.view("toxicity")
        if items.base is gold.items:  # the gold's own items: their positions are known
            at = items.positions
        else:
            at = np.fromiter(map(gold.index.__getitem__, items.ids), np.int64, len(items))
        return ToxicityScores(gold.labels[at].astype(float))

    def identity(self) -> dict[str, Any]:
        return {"gold_sha256": self.dataset.sha256}


class EmptyAdapter(Adapter):
    """Predicts no entities, no attributions and a constant toxicity score."""

    tasks: ClassVar[frozenset[str]] = frozenset(TASKS)
    cacheable: ClassVar[bool] = False
    preferred_batching: ClassVar[Batching] = Batching(LARGE_BATCH)
    reference: ClassVar[str | None] = "floor"

    def __init__(self, score: float = 0.0) -> None:
        self.score = score

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[] for _ in documents]

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return [[] for _ in documents]

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores:
        return ToxicityScores(np.full(len(items), self.score))
