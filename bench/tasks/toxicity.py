"""Toxicity scored per segment, with whole documents as a second, coarser unit."""

from __future__ import annotations

from typing import Any, ClassVar

from bench.data.records import GoldDataset
from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.metrics.ranking import average_precision, f1_at_threshold, roc_auc
from bench.metrics.values import MetricValue
from bench.predictions import TextItem, ToxicityPrediction
from bench.tasks.base import Task, TaskScore


class ToxicityTask(Task):
    name: ClassVar[str] = "toxicity"
    main_metrics: ClassVar[tuple[str, ...]] = ("roc_auc", "average_precision", "f1")

    def __init__(self, gold: GoldDataset, adapter_name: str, threshold: float = 0.5) -> None:
        super().__init__(gold, adapter_name)
        self.threshold = threshold
        self._labels = {u.id: u.labels for u in (*gold.segments, *gold.documents)}
        self._documents = {d.id for d in gold.documents}

    def inputs(self) -> list[TextItem]:
        return [TextItem(u.id, u.text) for u in (*self.gold.segments, *self.gold.documents)]

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        if not isinstance(prediction, ToxicityPrediction):
            raise self.error(item, "prediction", "expected a ToxicityPrediction")
        self.check_probability(item, "score", prediction.score)
        for name, value in prediction.attributes.items():
            if name not in TOXICITY_ATTRIBUTES:
                raise self.error(item, f"attributes.{name}", "unknown attribute")
            self.check_probability(item, f"attributes.{name}", value)

    def score(self, items: list[TextItem], predictions: list[ToxicityPrediction]) -> TaskScore:
        metrics: dict[str, MetricValue] = {}
        for prefix, is_doc in (("", False), ("doc_", True)):
            rows = [
                (self._labels[item.id].toxic, p.score)
                for item, p in zip(items, predictions, strict=True)
                if (item.id in self._documents) == is_doc
            ]
            labels = [label for label, _ in rows]
            scores = [score for _, score in rows]
            metrics[f"{prefix}roc_auc"] = roc_auc(labels, scores)
            metrics[f"{prefix}average_precision"] = average_precision(labels, scores)
            metrics[f"{prefix}f1"] = f1_at_threshold(labels, scores, self.threshold)
        samples = [
            {
                "id": item.id,
                "level": "document" if item.id in self._documents else "segment",
                "gold": self._labels[item.id].toxic,
                "score": p.score,
                "correct": int(p.score >= self.threshold) == self._labels[item.id].toxic,
            }
            for item, p in zip(items, predictions, strict=True)
        ]
        n_docs = len(self._documents)
        return TaskScore(
            metrics=metrics,
            counts={
                "segments": len(items) - n_docs,
                "documents": n_docs,
                "toxic_segments": sum(s["gold"] for s in samples if s["level"] == "segment"),
            },
            samples=samples,
            breakdown={"threshold": self.threshold},
        )
