"""Toxicity: one score per item, scored per level (segments, documents, cases …).

On the main level (the first of the dataset's levels) it also reports the
best-threshold F1, calibration (Brier, ECE), the Jigsaw unintended-bias metrics
where items carry identities, per-attribute ROC-AUC where the adapter scores
attributes, and accuracy per group (e.g. HateCheck functionality) and per identity (the
target group of a HateCheck case, the identity terms of a madlibs sentence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import Any, ClassVar

import numpy as np

from bench.adapters.base import Adapter, has_toxicity_scores
from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.data.views import ToxicityGold
from bench.items import TextItems
from bench.metrics.analytic import (
    average_precision_ci,
    delong_roc_auc_ci,
    ece_ci,
    macro_mean_ci,
    mean_ci,
    prf_analytic,
)
from bench.metrics.bias import BIAS_SUMMARIES, jigsaw_bias_arrays, jigsaw_bias_statistic_arrays
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
from bench.metrics.score_groups import ScoreGroups, score_groups
from bench.metrics.values import MetricValue, undefined
from bench.predictions import PredictionFailure, TextItem, ToxicityPrediction, ToxicityScores
from bench.sample_rows import Coded, ColumnRows
from bench.tasks.base import Answers, Bootstrap, Task, TaskScore


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

    def predict(self, adapter: Adapter, items: Sequence[TextItem]) -> Sequence[Any]:
        """The adapter's predictions for ``items``: as arrays (:class:`ToxicityScores`,
        no object per item) from an adapter that gives them, else as objects."""
        self._adapter = adapter
        if has_toxicity_scores(adapter):
            columns = items if isinstance(items, TextItems) else TextItems.of(items)
            scored = adapter.predict_toxicity_scores(columns)
            if scored is not None:
                return scored
        return adapter.predict_toxicity(list(items))

    def validate(self, items: Sequence[TextItem], predictions: Sequence[Any]) -> None:
        """:meth:`Task.validate`, told in a few array operations for arrays or when every
        prediction is plainly valid (millions of items); else item by item, naming the
        first bad one."""
        if isinstance(predictions, ToxicityScores) and len(predictions) == len(items):
            self._validate_scores(items, predictions)
        elif len(predictions) != len(items) or not _plainly_valid(predictions):
            super().validate(items, predictions)

    def _validate_scores(self, items: Sequence[TextItem], predictions: ToxicityScores) -> None:
        """:meth:`validate_item` on arrays: the first bad score, then the first bad value of
        each attribute (NaN there: no score for that item), is named as it names it."""
        for k, failure in predictions.failures.items():
            super().validate([items[k]], [failure])
        answered = np.ones(len(items), bool)
        answered[list(predictions.failures)] = False
        columns = {"score": (predictions.scores, False)} | {
            f"attributes.{name}": (values, True) for name, values in predictions.attributes.items()
        }
        for field, (values, optional) in columns.items():
            name = field.removeprefix("attributes.")
            if field != name and name not in TOXICITY_ATTRIBUTES:
                raise self.error(items[0], field, "unknown attribute")
            values = np.asarray(values)
            if values.shape != (len(items),) or values.dtype.kind not in "fiu":
                raise self.error(items[0], field, f"expected {len(items)} numbers, got "
                                 f"{values.dtype} of shape {values.shape}")  # fmt: skip
            with np.errstate(invalid="ignore"):
                bad = answered & ~((values >= 0.0) & (values <= 1.0))
            if optional:
                bad &= ~np.isnan(values)
            if bad.any():
                k = int(np.argmax(bad))
                self.check_probability(items[k], field, values[k].item())

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        if not isinstance(prediction, ToxicityPrediction):
            raise self.error(item, "prediction", "expected a ToxicityPrediction")
        self.check_probability(item, "score", prediction.score)
        for name, value in prediction.attributes.items():
            if name not in TOXICITY_ATTRIBUTES:
                raise self.error(item, f"attributes.{name}", "unknown attribute")
            self.check_probability(item, f"attributes.{name}", value)

    def answers(self, n: int) -> ToxicityAnswers:
        return ToxicityAnswers(n)

    def positions(self, items: Sequence[TextItem]) -> np.ndarray:
        """Where ``items`` are in the gold: known to a subset of the gold's own items; all
        of them in order when their ids are the gold's (compared in one pass, not
        millions of lookups); else looked up by id."""
        gold_ids = self.gold.items.ids
        if isinstance(items, TextItems) and items.base is self.gold.items:
            return items.positions
        if len(items) == len(gold_ids) and all(
            map(str.__eq__, (item.id for item in items), gold_ids)
        ):
            return np.arange(len(items))
        index = self.gold.index
        return np.fromiter((index[item.id] for item in items), np.int64, len(items))

    def columns(
        self, items: Sequence[TextItem], predictions: Sequence[ToxicityPrediction]
    ) -> ToxicityColumns:
        """The gold and the predictions of ``items`` as arrays (no object per item)."""
        gold, n = self.gold, len(items)
        answers = (
            predictions if isinstance(predictions, ToxicityAnswers)
            else ToxicityAnswers.of(predictions)
        )  # fmt: skip
        if len(answers) != n:
            raise ValueError(f"{len(answers)} predictions for {n} items")
        at = self.positions(items)
        whole = n == len(gold.items) and bool((at == np.arange(n)).all())
        pick = (lambda column: column) if whole else (lambda column: column[at])  # noqa: E731
        level = pick(gold.level).astype(np.int64)
        groups = None
        if gold.groups is not None:  # of the main level's items
            main = pick(gold.groups.codes)[level == 0]
            used = np.unique(main)
            names = tuple(gold.groups.names[k] for k in used.tolist())
            groups = Coded(np.searchsorted(used, main).astype(np.int64), names)
        ids = gold.items.ids if whole else gold.items.ids.take(at)
        return ToxicityColumns(
            ids=ids,
            labels=pick(gold.labels).astype(np.int64),
            scores=answers.scores,
            level=level,
            combo=pick(gold.combo),
            combos=gold.combos,
            groups=groups,
            attributes={
                name: (
                    pick(gold.attributes[name]).astype(np.int64)
                    if name in gold.attributes
                    else np.full(n, -1, np.int64),
                    answers.attributes[name],
                )
                for name in TOXICITY_ATTRIBUTES
                if name in answers.attributes
            },
        )

    def score(
        self, items: Sequence[TextItem], predictions: Sequence[ToxicityPrediction]
    ) -> TaskScore:
        gold = self.gold
        columns = self.columns(items, predictions)
        metrics: dict[str, MetricValue] = {}
        draws = self.new_draws() if self.bootstrap is not None else None
        breakdown: dict[str, Any] = {"threshold": self.threshold, "levels": list(gold.levels)}
        for k, level in enumerate(gold.levels):
            prefix = "" if k == 0 else f"{level}_"
            at = columns.level == k
            at = slice(None) if at.all() else at  # one level: views, not copies
            labels, scores = columns.labels[at], columns.scores[at]
            ranked = score_groups(labels, scores)  # the one sort the rank metrics share
            metrics[f"{prefix}roc_auc"] = roc_auc(labels, scores, groups=ranked)
            metrics[f"{prefix}average_precision"] = average_precision(labels, scores, groups=ranked)
            metrics[f"{prefix}f1"] = f1_at_threshold(labels, scores, self.threshold)
            analytic, drawn = self._interval_draws(draws, labels.size)
            if analytic is not None:
                analytic.put(self._analytic_intervals(prefix, metrics, labels, scores, ranked))
            elif drawn is not None:
                self._intervals(drawn, prefix, labels, scores)
            if prefix:
                continue
            best = f1_best_threshold(labels, scores, groups=ranked)
            metrics["f1_best"] = best.f1
            breakdown["f1_best_threshold"] = best.threshold
            metrics["brier"] = brier_score(labels, scores)
            if analytic is not None:
                analytic.put({"brier": mean_ci((scores - labels) ** 2, self._alpha)})
            elif drawn is not None:
                drawn.add_one(mean_statistic((scores - labels) ** 2), "brier", labels.size)
            metrics["ece"] = expected_calibration_error(labels, scores)
            metrics |= self._attributes(columns, at, draws)
            membership, names = columns.identities(at)
            if names:
                alpha = self._alpha if analytic is not None else None
                bias = jigsaw_bias_arrays(
                    labels, scores, membership, names, alpha=alpha, groups=ranked
                )
                metrics["bias_score"] = bias.final_score
                for name, mean in bias.means.items():
                    metrics[f"{name}_power_mean"] = mean.value
                breakdown["bias"] = bias.to_json()
                item, identity = np.nonzero(membership)
                breakdown["identity_accuracy"] = self._accuracy_by(
                    labels, scores, item, identity, names
                )
                del item, identity
                if analytic is not None:
                    analytic.put({name: ci for name, ci in bias.intervals.items()
                               if metrics[name].value is not None})  # fmt: skip
            del membership  # item-sized: not held through the intervals below
            coded = columns.groups
            groups = coded.codes if coded is not None else None
            if coded is not None:
                breakdown["groups"] = self._accuracy_by(
                    labels, scores, np.arange(labels.size), coded.codes, coded.names
                )
                accuracies = [g["accuracy"] for g in breakdown["groups"].values()]
                metrics["group_accuracy_macro"] = MetricValue(float(np.mean(accuracies)))
            if analytic is not None:
                analytic.put(
                    self._analytic_main_intervals(metrics, breakdown, labels, scores, groups)
                )
            elif drawn is not None:
                membership = columns.identities(at)[0]
                self._main_intervals(drawn, metrics, labels, scores, groups, membership)
        counts = dict(zip((f"{level}s" for level in gold.levels),
                          np.bincount(columns.level, minlength=len(gold.levels)).tolist(),
                          strict=True))  # fmt: skip
        counts["toxic"] = int(columns.labels[columns.level == 0].sum())
        samples = ColumnRows(
            {
                "id": columns.ids,
                "level": Coded(columns.level, gold.levels),
                "gold": columns.labels,
                "score": columns.scores,
                "correct": (columns.scores >= self.threshold) == columns.labels,
            }
        )
        intervals = draws.intervals() if draws is not None else {}
        return TaskScore(metrics, counts, samples, breakdown, intervals)

    def _interval_draws(
        self, draws: SharedResamples | None, n_units: int
    ) -> tuple[SharedResamples | None, SharedResamples | None]:
        """Where intervals over ``n_units`` items go: ``(draws, None)`` by formula,
        ``(None, draws)`` drawn, neither without a bootstrap or without items."""
        if draws is None or self.bootstrap is None or n_units == 0:
            return None, None
        return (draws, None) if self.bootstrap.analytic(n_units) else (None, draws)

    @property
    def _alpha(self) -> float:
        """The intervals' alpha, asked for by the analytic ones (which need a bootstrap)."""
        if self.bootstrap is None:
            raise ValueError(f"{self.name}: no intervals without a bootstrap")
        return self.bootstrap.alpha

    def _intervals(
        self, draws: SharedResamples, prefix: str, labels: np.ndarray, scores: np.ndarray
    ) -> None:
        """Intervals of ROC-AUC, AP and F1 at the threshold; the unit is the item."""
        predicted = (scores >= self.threshold).astype(np.int64)
        f1_rows = np.column_stack([predicted & labels, predicted, labels])
        draws.add_one(f1_statistic(f1_rows), f"{prefix}f1", labels.size)
        if 0 < labels.sum() < labels.size:  # ROC-AUC needs both classes
            draws.add_one(roc_auc_statistic(labels, scores), f"{prefix}roc_auc", labels.size)
        if labels.sum() > 0:  # AP needs a toxic item
            ap = average_precision_statistic(labels, scores)
            draws.add_one(ap, f"{prefix}average_precision", labels.size)

    def _analytic_intervals(
        self,
        prefix: str,
        metrics: dict[str, MetricValue],
        labels: np.ndarray,
        scores: np.ndarray,
        groups: ScoreGroups,
    ) -> dict[str, Any]:
        """:meth:`_intervals` by formula: DeLong (ROC-AUC), logit (AP), delta method (F1)."""
        alpha = self._alpha
        predicted = (scores >= self.threshold).astype(np.int64)
        f1_rows = np.column_stack([predicted & labels, predicted, labels])
        out = {f"{prefix}f1": prf_analytic(f1_rows, alpha)["f1"]}
        if 0 < labels.sum() < labels.size:
            out[f"{prefix}roc_auc"] = delong_roc_auc_ci(labels, scores, alpha, groups=groups)
        if labels.sum() > 0:
            ap = metrics[f"{prefix}average_precision"].value
            assert ap is not None, "average precision is defined with a toxic item"
            out[f"{prefix}average_precision"] = average_precision_ci(
                ap, int(labels.sum()), labels.size, alpha
            )
        return out

    def _analytic_main_intervals(
        self,
        metrics: dict[str, MetricValue],
        breakdown: dict[str, Any],
        labels: np.ndarray,
        scores: np.ndarray,
        groups: np.ndarray | None,
    ) -> dict[str, Any]:
        """:meth:`_main_intervals` by formula: best-threshold F1 by the delta method at the
        chosen threshold (the choice is not accounted for), ECE and macro group accuracy
        normal (the bias summaries come with :func:`jigsaw_bias_arrays`)."""
        alpha = self._alpha
        out = {"ece": ece_ci(labels, scores, alpha=alpha)}
        if metrics["f1_best"].value is not None:
            predicted = (scores >= breakdown["f1_best_threshold"]).astype(np.int64)
            rows_best = np.column_stack([predicted & labels, predicted, labels])
            out["f1_best"] = prf_analytic(rows_best, alpha)["f1"]
        if groups is not None:
            correct = (scores >= self.threshold) == labels
            out["group_accuracy_macro"] = macro_mean_ci(correct, groups, alpha)
        return out

    def _main_intervals(
        self,
        draws: SharedResamples,
        metrics: dict[str, MetricValue],
        labels: np.ndarray,
        scores: np.ndarray,
        groups: np.ndarray | None,
        membership: np.ndarray,
    ) -> None:
        """Intervals of the main level's best-threshold F1, ECE, bias metrics and macro
        group accuracy, for those that are defined; the unit is the item."""
        statistics: dict[str, IndexStatistic] = {
            "f1_best": f1_best_statistic(labels, scores),
            "ece": ece_statistic(labels, scores),
        }
        if groups is not None:
            correct = (scores >= self.threshold) == labels
            statistics["group_accuracy_macro"] = macro_mean_statistic(correct, groups)
        names = [name for name in statistics if metrics[name].value is not None]
        bias_names = [n for n in BIAS_SUMMARIES
                      if n in metrics and metrics[n].value is not None]  # fmt: skip
        bias = jigsaw_bias_statistic_arrays(labels, scores, membership) if bias_names else None
        keep = [BIAS_SUMMARIES.index(n) for n in bias_names]

        def together(indices: np.ndarray) -> np.ndarray:  # one call for all
            parts = [statistics[name](indices)[:, None] for name in names]
            if bias is not None:
                parts.append(bias(indices)[:, keep])
            return np.concatenate(parts, axis=1)

        if names or bias is not None:
            draws.add(together, names + bias_names, labels.size)

    def _attributes(
        self, columns: ToxicityColumns, at: np.ndarray | slice, draws: SharedResamples | None
    ) -> dict[str, MetricValue]:
        """ROC-AUC (and its interval: DeLong where analytic) per attribute the adapter
        scores and the gold labels, on the items ``at``."""
        out = {}
        for name, (gold, predicted) in columns.attributes.items():
            labels, scores = gold[at], predicted[at]
            both = (labels >= 0) & ~np.isnan(scores)  # not all datasets label every attribute
            if not both.any():
                continue
            key = f"attribute.{name}.roc_auc"
            if not both.all():
                out[key] = undefined("the adapter scored this attribute for some items only")
                continue
            out[key] = roc_auc(labels, scores)
            if out[key].value is None:
                continue
            analytic, drawn = self._interval_draws(draws, labels.size)
            if analytic is not None:
                analytic.put({key: delong_roc_auc_ci(labels, scores, self._alpha)})
            elif drawn is not None:
                drawn.add_one(roc_auc_statistic(labels, scores), key, labels.size)
        return out

    def _accuracy_by(
        self,
        labels: np.ndarray,
        scores: np.ndarray,
        item: np.ndarray,
        key: np.ndarray,
        names: Sequence[str],
    ) -> dict[str, dict[str, Any]]:
        """Accuracy at the threshold per key of the items, item ``item[j]`` counting under
        ``names[key[j]]`` (an item under each of its keys): per group (HateCheck
        functionality) or per identity (target group, madlibs terms)."""
        correct = (scores[item] >= self.threshold) == labels[item]
        n = np.bincount(key, minlength=len(names))
        hits = np.bincount(key, weights=correct, minlength=len(names))
        return {names[k]: {"accuracy": float(hits[k] / n[k]), "n": int(n[k])}
                for k in np.flatnonzero(n).tolist()}  # fmt: skip


def _plainly_valid(predictions: Sequence[Any]) -> bool:
    """Whether every prediction is a :class:`ToxicityPrediction` without attributes whose
    score is a float or int (not a bool) in [0, 1] — what :meth:`ToxicityTask.validate_item`
    accepts; False leaves the verdict to it."""
    n = len(predictions)
    if not all(map(isinstance, predictions, repeat(ToxicityPrediction, n))):
        return False
    if any(map(attrgetter("attributes"), predictions)):
        return False
    scores = list(map(attrgetter("score"), predictions))
    if not set(map(type, scores)) <= {float, int}:
        return False
    try:
        s = np.fromiter(scores, float, n)
    except OverflowError:  # an int too large for a float: out of range
        return False
    return bool(((s >= 0.0) & (s <= 1.0)).all())  # False for NaN


@dataclass(frozen=True)
class ToxicityColumns:
    """The scored items' gold and predictions, one array entry per item (in order): what
    every toxicity metric is computed from, with no object per item."""

    ids: Sequence[str]
    labels: np.ndarray  # int64 0/1
    scores: np.ndarray  # float64
    level: np.ndarray  # index into the gold's levels
    combo: np.ndarray  # index into combos: the item's identities
    combos: tuple[tuple[str, ...], ...]  # the distinct identity sets
    groups: Coded | None  # of the main level's items (e.g. HateCheck functionality)
    attributes: dict[str, tuple[np.ndarray, np.ndarray]]  # see ToxicityTask._attribute_columns

    def identities(self, at: np.ndarray | slice) -> tuple[np.ndarray, list[str]]:
        """The identities mentioned by the items ``at`` (sorted) and their membership:
        boolean (n_at, K), as :func:`~bench.metrics.bias.jigsaw_bias_arrays` takes it."""
        combo = self.combo[at]
        used = np.unique(combo).tolist()
        names = sorted({name for c in used for name in self.combos[c]})
        column = {name: k for k, name in enumerate(names)}
        table = np.zeros((len(self.combos), len(names)), dtype=bool)
        for c in used:
            table[c, [column[name] for name in self.combos[c]]] = True
        return table[combo], names


class ToxicityAnswers(Answers):
    """The predictions of ``n`` items as columns, filled batch by batch: the scores (NaN
    where none yet or failed), per attribute some prediction scores its scores (NaN
    where none), and the failed items."""

    def __init__(self, n: int) -> None:
        self.scores = np.full(n, np.nan)
        self.attributes: dict[str, np.ndarray] = {}
        self.failures: dict[int, PredictionFailure] = {}
        self._filled = np.zeros(n, bool)

    @classmethod
    def of(cls, predictions: Sequence[Any]) -> ToxicityAnswers:
        answers = cls(len(predictions))
        answers.put(np.arange(len(predictions)), predictions)
        return answers

    def __len__(self) -> int:
        return len(self.scores)

    def put(self, positions: np.ndarray | Sequence[int], predictions: Sequence[Any]) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        m = len(predictions)
        if isinstance(predictions, ToxicityScores):
            self.scores[positions] = predictions.scores
            for name, values in predictions.attributes.items():
                if name not in self.attributes:
                    self.attributes[name] = np.full(len(self), np.nan)
                self.attributes[name][positions] = values
            failed = np.fromiter(predictions.failures, np.int64, len(predictions.failures))
            self.scores[positions[failed]] = np.nan
            self.failures |= dict(zip(positions[failed].tolist(), predictions.failures.values(),
                                      strict=True))  # fmt: skip
            self._filled[positions] = True
            return
        kinds = set(map(type, predictions))
        if kinds == {ToxicityPrediction} and not any(map(attrgetter("attributes"), predictions)):
            self.scores[positions] = np.fromiter(map(attrgetter("score"), predictions), float, m)
            self._filled[positions] = True
            return
        for k, prediction in zip(positions.tolist(), predictions, strict=True):
            self._filled[k] = True
            if isinstance(prediction, PredictionFailure):
                self.failures[k] = prediction
                self.scores[k] = np.nan
                continue
            self.scores[k] = prediction.score
            for name, value in prediction.attributes.items():
                if name not in self.attributes:
                    self.attributes[name] = np.full(len(self), np.nan)
                self.attributes[name][k] = value

    def __getitem__(self, k: int) -> Any:  # type: ignore[override]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self) or not self._filled[k]:
            raise IndexError(f"no prediction at {k}")
        return ToxicityScores(self.scores, self.attributes, self.failures)[k]

    def take(self, indices: np.ndarray) -> ToxicityAnswers:
        """The answers at ``indices`` (none of them failed), in that order."""
        out = ToxicityAnswers(0)
        out.scores = self.scores[indices]
        out.attributes = {name: v[indices] for name, v in self.attributes.items()}
        out._filled = self._filled[indices]
        return out
