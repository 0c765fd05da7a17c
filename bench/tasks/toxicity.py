"""Toxicity scored per segment, with whole documents as a second, coarser unit."""

from __future__ import annotations

from typing import Any, ClassVar

from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.data.views import ToxicityGold
from bench.metrics.ranking import average_precision, f1_at_threshold, roc_auc
from bench.metrics.values import MetricValue
from bench.predictions import TextItem, ToxicityPrediction
from bench.tasks.base import Task, TaskScore


class ToxicityTask(Task):
    name: ClassVar[str] = "toxicity"
    main_metrics: ClassVar[tuple[str, ...]] = ("roc_auc", "average_precision", "f1")

    def __init__(self, gold: ToxicityGold, adapter_name: str, threshold: float = 0.5) -> None:
        super().__init__(gold, adapter_name)
        self.threshold = threshold

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        if not isinstance(prediction, ToxicityPrediction):
            raise self.error(item, "prediction", "expected a ToxicityPrediction")
        self.check_probability(item, "score", prediction.score)
        for name, value in prediction.attributes.items():
            if name not in TOXICITY_ATTRIBUTES:
                raise self.error(item, f"attributes.{name}", "unknown attribute")
            self.check_probability(item, f"attributes.{name}", value)

    def score(self, items: list[TextItem], predictions: list[ToxicityPrediction]) -> TaskScore:
        gold = self.gold
        metrics: dict[str, MetricValue] = {}
        for level in gold.levels:
            prefix = "" if level == gold.levels[0] else f"{level}_"
            rows = [
                (gold.toxic[item.id], p.score)
                for item, p in zip(items, predictions, strict=True)
                if gold.level[item.id] == level
            ]
            labels = [label for label, _ in rows]
            scores = [score for _, score in rows]
            metrics[f"{prefix}roc_auc"] = roc_auc(labels, scores)
            metrics[f"{prefix}average_precision"] = average_precision(labels, scores)
            metrics[f"{prefix}f1"] = f1_at_threshold(labels, scores, self.threshold)
        samples = [
            {
                "id": item.id,
                "level": gold.level[item.id],
                "gold": gold.toxic[item.id],
                "score": p.score,
                "correct": int(p.score >= self.threshold) == gold.toxic[item.id],
            }
            for item, p in zip(items, predictions, strict=True)
        ]
        counts = {
            f"{level}s": sum(gold.level[i.id] == level for i in items) for level in gold.levels
        }
        counts["toxic"] = sum(gold.toxic[i.id] for i in items if gold.level[i.id] == gold.levels[0])
        return TaskScore(
            metrics=metrics,
            counts=counts,
            samples=samples,
            breakdown={"threshold": self.threshold},
        )
