"""Toxicity: one score per item, scored per level (segments, documents, cases …).

On the main level (the first of the dataset's levels) it also reports the
best-threshold F1, calibration (Brier, ECE), the Jigsaw unintended-bias metrics
where items carry identities, per-attribute ROC-AUC where the adapter scores
attributes, and accuracy per group (e.g. HateCheck functionality).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import numpy as np

from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.data.views import ToxicityGold
from bench.metrics.bias import BIAS_SUMMARIES, jigsaw_bias_score, jigsaw_bias_statistic
from bench.metrics.bootstrap import (
    IndexStatistic,
    average_precision_statistic,
    ece_statistic,
    f1_best_statistic,
    macro_mean_statistic,
    mean_statistic,
    roc_auc_statistic,
)
from bench.metrics.ranking import (
    average_precision,
    brier_score,
    expected_calibration_error,
    f1_at_threshold,
    f1_best_threshold,
    roc_auc,
)
from bench.metrics.values import MetricValue, undefined
from bench.predictions import TextItem, ToxicityPrediction
from bench.tasks.base import Bootstrap, Task, TaskScore


class ToxicityTask(Task):
    name: ClassVar[str] = "toxicity"
    metrics_version: ClassVar[int] = 2  # 2: madlibs terms matched one by one; ECE bins as sklearn
    main_metrics: ClassVar[tuple[str, ...]] = ("roc_auc", "average_precision", "f1")

    def __init__(
        self,
        gold: ToxicityGold,
        adapter_name: str,
        bootstrap: Bootstrap | None = None,
        threshold: float = 0.5,
    ) -> None:
        super().__init__(gold, adapter_name, bootstrap)
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
        intervals: dict[str, Any] = {}
        breakdown: dict[str, Any] = {"threshold": self.threshold, "levels": list(gold.levels)}
        for level in gold.levels:
            prefix = "" if level == gold.levels[0] else f"{level}_"
            rows = [(item, p) for item, p in zip(items, predictions, strict=True)
                    if gold.level[item.id] == level]  # fmt: skip
            labels = np.array([gold.toxic[item.id] for item, _ in rows], dtype=np.int64)
            scores = np.array([p.score for _, p in rows], dtype=float)
            metrics[f"{prefix}roc_auc"] = roc_auc(labels, scores)
            metrics[f"{prefix}average_precision"] = average_precision(labels, scores)
            metrics[f"{prefix}f1"] = f1_at_threshold(labels, scores, self.threshold)
            intervals |= self._intervals(prefix, labels, scores)
            if prefix:
                continue
            best = f1_best_threshold(labels, scores)
            metrics["f1_best"] = best.f1
            breakdown["f1_best_threshold"] = best.threshold
            metrics["brier"] = brier_score(labels, scores)
            if self.bootstrap is not None and labels.size:
                squared_errors = mean_statistic((scores - labels) ** 2)
                intervals["brier"] = self.bootstrap.statistic(squared_errors, labels.size)
            metrics["ece"] = expected_calibration_error(labels, scores)
            attribute_metrics, attribute_intervals = self._attributes(rows)
            metrics |= attribute_metrics
            intervals |= attribute_intervals
            identities = [gold.identities.get(item.id, ()) for item, _ in rows]
            if any(identities):
                bias = jigsaw_bias_score(labels, scores, identities)
                metrics["bias_score"] = bias.final_score
                for name, mean in bias.means.items():
                    metrics[f"{name}_power_mean"] = mean.value
                breakdown["bias"] = bias.to_json()
            if gold.groups:
                breakdown["groups"] = self._group_accuracy(rows)
                accuracies = [g["accuracy"] for g in breakdown["groups"].values()]
                metrics["group_accuracy_macro"] = MetricValue(float(np.mean(accuracies)))
            intervals |= self._main_intervals(metrics, rows, labels, scores, identities)
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
        return TaskScore(metrics, counts, samples, breakdown, intervals)

    def _intervals(self, prefix: str, labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
        """Intervals of ROC-AUC, AP and F1 at the threshold; the unit is the item."""
        if self.bootstrap is None or labels.size == 0:
            return {}
        predicted = (scores >= self.threshold).astype(np.int64)
        f1_rows = list(zip(predicted & labels, predicted, labels, strict=True))
        out = {f"{prefix}f1": self.bootstrap.prf(f1_rows, "")["f1"]}
        if 0 < labels.sum() < labels.size:  # ROC-AUC needs both classes
            out[f"{prefix}roc_auc"] = self.bootstrap.statistic(
                roc_auc_statistic(labels, scores), labels.size
            )
        if labels.sum() > 0:  # AP needs a toxic item
            out[f"{prefix}average_precision"] = self.bootstrap.statistic(
                average_precision_statistic(labels, scores), labels.size
            )
        return out

    def _main_intervals(
        self,
        metrics: dict[str, MetricValue],
        rows: list[tuple[TextItem, ToxicityPrediction]],
        labels: np.ndarray,
        scores: np.ndarray,
        identities: list[tuple[str, ...]],
    ) -> dict[str, Any]:
        """Intervals of the main level's best-threshold F1, ECE, bias metrics and macro
        group accuracy, for those that are defined; the unit is the item."""
        if self.bootstrap is None or labels.size == 0:
            return {}
        statistics: dict[str, IndexStatistic] = {
            "f1_best": f1_best_statistic(labels, scores),
            "ece": ece_statistic(labels, scores),
        }
        if "group_accuracy_macro" in metrics:
            correct = (scores >= self.threshold) == labels
            groups = [self.gold.groups[item.id] for item, _ in rows]
            statistics["group_accuracy_macro"] = macro_mean_statistic(correct, groups)
        names = [name for name in statistics if metrics[name].value is not None]
        bias_names = [n for n in BIAS_SUMMARIES
                      if n in metrics and metrics[n].value is not None]  # fmt: skip
        bias = jigsaw_bias_statistic(labels, scores, identities) if bias_names else None
        keep = [BIAS_SUMMARIES.index(n) for n in bias_names]

        def together(indices: np.ndarray) -> np.ndarray:  # one draw of resamples for all
            parts = [statistics[name](indices)[:, None] for name in names]
            if bias is not None:
                parts.append(bias(indices)[:, keep])
            return np.concatenate(parts, axis=1)

        if not names and bias is None:
            return {}
        return self.bootstrap.statistics(together, names + bias_names, labels.size)

    def _attributes(
        self, rows: list[tuple[TextItem, ToxicityPrediction]]
    ) -> tuple[dict[str, MetricValue], dict[str, Any]]:
        """ROC-AUC (and its interval) per attribute the adapter scores and the gold labels."""
        out, intervals = {}, {}
        for name in TOXICITY_ATTRIBUTES:
            pairs = [(self.gold.attributes[item.id][name], p.attributes[name])
                     for item, p in rows
                     if name in p.attributes  # and the gold labels it (not all datasets do)
                     and name in self.gold.attributes.get(item.id, {})]  # fmt: skip
            if pairs:
                key = f"attribute.{name}.roc_auc"
                if len(pairs) < len(rows):
                    out[key] = undefined("the adapter scored this attribute for some items only")
                    continue
                labels, scores = (np.array(column) for column in zip(*pairs, strict=True))
                out[key] = roc_auc(labels, scores)
                if self.bootstrap is not None and out[key].value is not None:
                    auc = roc_auc_statistic(labels, scores.astype(float))
                    intervals[key] = self.bootstrap.statistic(auc, labels.size)
        return out, intervals

    def _group_accuracy(
        self, rows: list[tuple[TextItem, ToxicityPrediction]]
    ) -> dict[str, dict[str, Any]]:
        """Accuracy at the threshold per group (e.g. HateCheck functionality)."""
        hits: dict[str, list[bool]] = defaultdict(list)
        for item, p in rows:
            correct = int(p.score >= self.threshold) == self.gold.toxic[item.id]
            hits[self.gold.groups[item.id]].append(correct)
        return {g: {"accuracy": float(np.mean(h)), "n": len(h)} for g, h in sorted(hits.items())}
