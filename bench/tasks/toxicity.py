"""Toxicity: one score per item, scored per level (segments, documents, cases …).

On the main level (the first of the dataset's levels) it also reports the
best-threshold F1, calibration (Brier, ECE), the Jigsaw unintended-bias metrics
where items carry identities, per-attribute ROC-AUC where the adapter scores
attributes, and accuracy per group (e.g. HateCheck functionality) and per identity (the
target group of a HateCheck case, the identity terms of a madlibs sentence).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
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
    SharedResamples,
    average_precision_statistic,
    ece_statistic,
    f1_best_statistic,
    f1_statistic,
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
        draws = self.bootstrap.draws() if self.bootstrap is not None else None
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
            scored = draws is not None and labels.size > 0  # intervals, by formula or drawn
            analytic = scored and self.bootstrap.analytic(labels.size)
            drawn = scored and not analytic
            if analytic:
                draws.put(self._analytic_intervals(prefix, metrics, labels, scores))
            elif drawn:
                self._intervals(draws, prefix, labels, scores)
            if prefix:
                continue
            best = f1_best_threshold(labels, scores)
            metrics["f1_best"] = best.f1
            breakdown["f1_best_threshold"] = best.threshold
            metrics["brier"] = brier_score(labels, scores)
            if analytic:
                draws.put({"brier": mean_ci((scores - labels) ** 2, self.bootstrap.alpha)})
            elif drawn:
                draws.add_one(mean_statistic((scores - labels) ** 2), "brier", labels.size)
            metrics["ece"] = expected_calibration_error(labels, scores)
            metrics |= self._attributes(rows, draws)
            identities = [gold.identities.get(item.id, ()) for item, _ in rows]
            if any(identities):
                alpha = self.bootstrap.alpha if analytic else None
                bias = jigsaw_bias_score(labels, scores, identities, alpha=alpha)
                metrics["bias_score"] = bias.final_score
                for name, mean in bias.means.items():
                    metrics[f"{name}_power_mean"] = mean.value
                breakdown["bias"] = bias.to_json()
                breakdown["identity_accuracy"] = self._accuracy_by(
                    rows, lambda item: gold.identities.get(item.id, ())
                )
                if analytic:
                    draws.put({name: ci for name, ci in bias.intervals.items()
                               if metrics[name].value is not None})  # fmt: skip
            if gold.groups:
                breakdown["groups"] = self._accuracy_by(rows, lambda item: (gold.groups[item.id],))
                accuracies = [g["accuracy"] for g in breakdown["groups"].values()]
                metrics["group_accuracy_macro"] = MetricValue(float(np.mean(accuracies)))
            if analytic:
                draws.put(self._analytic_main_intervals(metrics, breakdown, rows, labels, scores))
            elif drawn:
                self._main_intervals(draws, metrics, rows, labels, scores, identities)
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
        intervals = draws.intervals() if draws is not None else {}
        return TaskScore(metrics, counts, samples, breakdown, intervals)

    def _intervals(
        self, draws: SharedResamples, prefix: str, labels: np.ndarray, scores: np.ndarray
    ) -> None:
        """Intervals of ROC-AUC, AP and F1 at the threshold; the unit is the item."""
        predicted = (scores >= self.threshold).astype(np.int64)
        f1_rows = list(zip(predicted & labels, predicted, labels, strict=True))
        draws.add_one(f1_statistic(f1_rows), f"{prefix}f1", labels.size)
        if 0 < labels.sum() < labels.size:  # ROC-AUC needs both classes
            draws.add_one(roc_auc_statistic(labels, scores), f"{prefix}roc_auc", labels.size)
        if labels.sum() > 0:  # AP needs a toxic item
            ap = average_precision_statistic(labels, scores)
            draws.add_one(ap, f"{prefix}average_precision", labels.size)

    def _analytic_intervals(
        self, prefix: str, metrics: dict[str, MetricValue], labels: np.ndarray, scores: np.ndarray
    ) -> dict[str, Any]:
        """:meth:`_intervals` by formula: DeLong (ROC-AUC), logit (AP), delta method (F1)."""
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
        draws: SharedResamples,
        metrics: dict[str, MetricValue],
        rows: list[tuple[TextItem, ToxicityPrediction]],
        labels: np.ndarray,
        scores: np.ndarray,
        identities: list[tuple[str, ...]],
    ) -> None:
        """Intervals of the main level's best-threshold F1, ECE, bias metrics and macro
        group accuracy, for those that are defined; the unit is the item."""
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

        def together(indices: np.ndarray) -> np.ndarray:  # one call for all
            parts = [statistics[name](indices)[:, None] for name in names]
            if bias is not None:
                parts.append(bias(indices)[:, keep])
            return np.concatenate(parts, axis=1)

        if names or bias is not None:
            draws.add(together, names + bias_names, labels.size)

    def _attributes(
        self, rows: list[tuple[TextItem, ToxicityPrediction]], draws: SharedResamples | None
    ) -> dict[str, MetricValue]:
        """ROC-AUC (and its interval: DeLong where analytic) per attribute the adapter
        scores and the gold labels."""
        out = {}
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
                if draws is None or out[key].value is None:
                    continue
                if self.bootstrap.analytic(labels.size):
                    ci = delong_roc_auc_ci(labels, scores, self.bootstrap.alpha)
                    draws.put({key: ci})
                else:
                    draws.add_one(roc_auc_statistic(labels, scores.astype(float)), key, labels.size)
        return out

    def _accuracy_by(
        self,
        rows: list[tuple[TextItem, ToxicityPrediction]],
        keys: Callable[[TextItem], Iterable[str]],
    ) -> dict[str, dict[str, Any]]:
        """Accuracy at the threshold per key of the items (an item counts under each of its
        keys): per group (HateCheck functionality) or per identity (target group)."""
        hits: dict[str, list[bool]] = defaultdict(list)
        for item, p in rows:
            correct = int(p.score >= self.threshold) == self.gold.toxic[item.id]
            for key in keys(item):
                hits[key].append(correct)
        return {g: {"accuracy": float(np.mean(h)), "n": len(h)} for g, h in sorted(hits.items())}
