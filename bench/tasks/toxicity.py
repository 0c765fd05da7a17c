"""Toxicity: one score per item, scored per level (segments, documents, cases …).

On the main level (the first of the dataset's levels) it also reports the
best-threshold F1, calibration (Brier, ECE), the Jigsaw unintended-bias metrics
where items carry identities, per-attribute ROC-AUC where the adapter scores
attributes, and accuracy per group (e.g. HateCheck functionality).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, ClassVar

import numpy as np

from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.data.views import ToxicityGold
from bench.metrics.analytic import (
    average_precision_ci,
    delong_roc_auc_ci,
    ece_ci,
    macro_mean_ci,
    mean_ci,
    prf_analytic,
)
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
            analytic = self.bootstrap is not None and self.bootstrap.analytic(labels.size)
            if analytic:
                intervals |= self._analytic_intervals(prefix, metrics, labels, scores)
            else:
                intervals |= self._intervals(prefix, labels, scores)
            if prefix:
                continue
            best = f1_best_threshold(labels, scores)
            metrics["f1_best"] = best.f1
            breakdown["f1_best_threshold"] = best.threshold
            metrics["brier"] = brier_score(labels, scores)
            if analytic and labels.size:
                intervals["brier"] = mean_ci((scores - labels) ** 2, self.bootstrap.alpha)
            elif self.bootstrap is not None and labels.size:
                squared_errors = mean_statistic((scores - labels) ** 2)
                intervals["brier"] = self.bootstrap.statistic(squared_errors, labels.size)
            metrics["ece"] = expected_calibration_error(labels, scores)
            attribute_metrics, attribute_intervals = self._attributes(rows, analytic)
            metrics |= attribute_metrics
            intervals |= attribute_intervals
            identities = [gold.identities.get(item.id, ()) for item, _ in rows]
            if any(identities):
                alpha = self.bootstrap.alpha if analytic else None
                bias = jigsaw_bias_score(labels, scores, identities, alpha=alpha)
                metrics["bias_score"] = bias.final_score
                for name, mean in bias.means.items():
                    metrics[f"{name}_power_mean"] = mean.value
                breakdown["bias"] = bias.to_json()
                intervals |= {name: ci for name, ci in bias.intervals.items()
                              if metrics[name].value is not None}  # fmt: skip
            if gold.groups:
                breakdown["groups"] = self._group_accuracy(rows)
                accuracies = [g["accuracy"] for g in breakdown["groups"].values()]
                metrics["group_accuracy_macro"] = MetricValue(float(np.mean(accuracies)))
            if analytic:
                intervals |= self._analytic_main_intervals(metrics, breakdown, rows, labels, scores)
            else:
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
        level_of = Counter(sample["level"] for sample in samples)
        counts = {f"{level}s": level_of[level] for level in gold.levels}
        counts["toxic"] = sum(s["gold"] for s in samples if s["level"] == gold.levels[0])
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

    def _analytic_intervals(
        self, prefix: str, metrics: dict[str, MetricValue], labels: np.ndarray, scores: np.ndarray
    ) -> dict[str, Any]:
        """:meth:`_intervals` by formula: DeLong (ROC-AUC), logit (AP), delta method (F1)."""
        if labels.size == 0:
            return {}
        alpha = self.bootstrap.alpha
        predicted = (scores >= self.threshold).astype(np.int64)
        f1_rows = np.column_stack([predicted & labels, predicted, labels])
        out = {f"{prefix}f1": prf_analytic(f1_rows, alpha)["f1"]}
        if 0 < labels.sum() < labels.size:
            out[f"{prefix}roc_auc"] = delong_roc_auc_ci(labels, scores, alpha)
        if labels.sum() > 0:
            ap = metrics[f"{prefix}average_precision"].value
            out[f"{prefix}average_precision"] = average_precision_ci(
                ap, int(labels.sum()), labels.size, alpha
            )
        return out

    def _analytic_main_intervals(
        self,
        metrics: dict[str, MetricValue],
        breakdown: dict[str, Any],
        rows: list[tuple[TextItem, ToxicityPrediction]],
        labels: np.ndarray,
        scores: np.ndarray,
    ) -> dict[str, Any]:
        """:meth:`_main_intervals` by formula: best-threshold F1 by the delta method at the
        chosen threshold (the choice is not accounted for), ECE and macro group accuracy
        normal (the bias summaries come with :func:`jigsaw_bias_score`)."""
        alpha = self.bootstrap.alpha
        out = {"ece": ece_ci(labels, scores, alpha=alpha)}
        if metrics["f1_best"].value is not None:
            predicted = (scores >= breakdown["f1_best_threshold"]).astype(np.int64)
            rows_best = np.column_stack([predicted & labels, predicted, labels])
            out["f1_best"] = prf_analytic(rows_best, alpha)["f1"]
        if "group_accuracy_macro" in metrics:
            correct = (scores >= self.threshold) == labels
            groups = [self.gold.groups[item.id] for item, _ in rows]
            out["group_accuracy_macro"] = macro_mean_ci(correct, np.asarray(groups), alpha)
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
        self, rows: list[tuple[TextItem, ToxicityPrediction]], analytic: bool
    ) -> tuple[dict[str, MetricValue], dict[str, Any]]:
        """ROC-AUC (and its interval: DeLong if ``analytic``) per attribute the adapter
        scores and the gold labels."""
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
                if analytic and out[key].value is not None:
                    intervals[key] = delong_roc_auc_ci(labels, scores, self.bootstrap.alpha)
                elif self.bootstrap is not None and out[key].value is not None:
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
