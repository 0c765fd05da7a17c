"""Shared parts of the tasks: the score record, prediction errors and span checks."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

import bench.progress as progress
from bench.adapters.base import Adapter
from bench.metrics.analytic import ANALYTIC_ABOVE
from bench.metrics.clusters import Clusters
from bench.metrics.values import MetricValue
from bench.predictions import PredictionFailure, TextItem, UnusableInput
from bench.sample_rows import SampleRows

if TYPE_CHECKING:
    from bench.metrics.bootstrap import SharedResamples


class PredictionError(ValueError):
    """A prediction breaks the task schema; the message names adapter, item and field."""


class PredictionRecordError(PredictionError, UnusableInput):
    """A prediction read from a file breaks the task schema: the message also names the
    file and line, and the run is refused."""


@dataclass(frozen=True)
class Bootstrap:
    """How confidence intervals are drawn: seeded percentile bootstrap over ``unit``s, or
    the analytic formulas of :mod:`bench.metrics.analytic` (``method``, :meth:`analytic`)."""

    resamples: int = 1000
    seed: int = 0
    alpha: float = 0.05
    unit: str = "item"
    method: str = "auto"  # auto | bootstrap | analytic
    analytic_above: int = ANALYTIC_ABOVE  # auto: analytic intervals above this many units

    def analytic(self, n_units: int) -> bool:
        """Whether an interval over ``n_units`` units is analytic: always with
        ``method="analytic"``, above ``analytic_above`` units with ``"auto"``."""
        return self.method == "analytic" or (
            self.method == "auto" and n_units > self.analytic_above
        )

    def draws(self, batch_size: int | None = None) -> SharedResamples:
        """Where a task adds the statistics of all its intervals: each resample batch (of
        ``batch_size`` resamples; None: the default) is drawn once for all of them
        (:class:`~bench.metrics.bootstrap.SharedResamples`); the analytic intervals are
        put there too (:meth:`SharedResamples.put`)."""
        from bench.metrics.bootstrap import SharedResamples

        return SharedResamples(
            self.resamples,
            self.seed,
            self.alpha,
            unit=self.unit,
            batch_size=batch_size,
            on_done=progress.advance,
        )

    def add_prf(
        self, draws: SharedResamples, contributions: Any, names: Sequence[Hashable]
    ) -> None:
        """Micro precision, recall and F1 (``names``, in that order) from per-unit
        ``(tp, n_pred, n_gold)`` rows: by formula when :meth:`analytic` over their units
        (:func:`~bench.metrics.analytic.prf_analytic`), else drawn with the others."""
        if not self.analytic(len(contributions)):
            draws.add_prf(contributions, names)
            return
        from bench.metrics.analytic import prf_analytic

        intervals = prf_analytic(contributions, self.alpha, unit=self.unit)
        draws.put(dict(zip(names, intervals.values(), strict=True)))


@dataclass
class TaskScore:
    metrics: dict[str, MetricValue]
    counts: dict[str, int]
    samples: SampleRows
    breakdown: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Any] = field(default_factory=dict)  # metric -> BootstrapCI


class Answers(Sequence[Any]):
    """The predictions of ``n`` items, filled batch by batch (:meth:`put`) in any order:
    the prediction of item ``k`` is ``answers[k]``; ``failures`` holds the items the
    model could not predict (:class:`PredictionFailure`) by position. A task may hold
    them as columns (:class:`~bench.tasks.toxicity.ToxicityAnswers`)."""

    def __init__(self, n: int) -> None:
        self.values: list[Any] = [None] * n
        self.failures: dict[int, PredictionFailure] = {}

    def __len__(self) -> int:
        return len(self.values)

    def put(self, positions: Sequence[int] | np.ndarray, predictions: Sequence[Any]) -> None:
        """The (validated) predictions of the items at ``positions``."""
        for k, prediction in zip(np.asarray(positions).tolist(), predictions, strict=True):
            self.values[k] = prediction
            if isinstance(prediction, PredictionFailure):
                self.failures[k] = prediction

    def __getitem__(self, k: int) -> Any:  # type: ignore[override]
        return self.values[k]

    def take(self, indices: np.ndarray) -> Sequence[Any]:
        """The predictions at ``indices``, in that order (what :meth:`Task.score` takes)."""
        return [self.values[k] for k in indices.tolist()]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class Task:
    """A task turns gold into model inputs, checks predictions and scores them."""

    name: ClassVar[str]
    # The version of the task's metric definitions, stored in result.json
    # (tasks.<task>.metrics_version): reports refuse to mix runs of different versions.
    metrics_version: ClassVar[int]
    main_metrics: ClassVar[tuple[str, ...]]

    units: ClassVar[tuple[str, ...]] = ("item",)  # what the bootstrap may resample

    def __init__(self, gold: Any, adapter_name: str, bootstrap: Bootstrap | None = None) -> None:
        self.gold = gold  # the dataset's view for this task (bench.data.views)
        self.adapter_name = adapter_name
        self.bootstrap = bootstrap
        self._adapter: Adapter | None = None  # the last to predict: where a prediction is from
        self.draws: SharedResamples | None = None  # what the last score drew its intervals from
        if bootstrap is not None and bootstrap.unit not in self.units:
            raise ValueError(
                f"bootstrap unit {bootstrap.unit!r} for {self.name}: expected one of {self.units}"
            )

    def new_draws(self, batch_size: int | None = None) -> SharedResamples:
        """Fresh :meth:`Bootstrap.draws` for a score's intervals, kept as :attr:`draws`
        (robustness pairs the statistics of two runs: ``SharedResamples.minus``)."""
        if self.bootstrap is None:
            raise ValueError(f"{self.name}: no intervals without a bootstrap")
        self.draws = self.bootstrap.draws(batch_size)
        return self.draws

    def clusters(self, item_ids: Sequence[str]) -> Clusters:
        """The bootstrap clusters of the scored items: the gold ``segments`` of the
        view (of ner and attribution), an item without segments its own cluster."""
        return Clusters(item_ids, self.gold.segments)

    def inputs(self) -> Sequence[TextItem]:
        """The items a model is given (a view's items: a tuple, or columns for toxicity)."""
        return self.gold.items

    def answers(self, n: int) -> Answers:
        """Where :func:`bench.runner.predict` collects the predictions of ``n`` items."""
        return Answers(n)

    def predict(self, adapter: Adapter, items: Sequence[TextItem]) -> Sequence[Any]:
        """The adapter's predictions for ``items``; where the adapter read one from a file
        (:meth:`Adapter.source_of`), errors about it will name that file and line."""
        self._adapter = adapter  # asked in an error only: not once per item
        return getattr(adapter, f"predict_{self.name}")(items)

    def validate(self, items: Sequence[TextItem], predictions: Sequence[Any]) -> None:
        """One prediction per item, each valid; a :class:`PredictionFailure` stands for none."""
        if len(predictions) != len(items):
            raise PredictionError(
                f"{self.adapter_name}: {self.name}: returned {len(predictions)} predictions "
                f"for {len(items)} items"
            )
        for item, prediction in zip(items, predictions, strict=True):
            if isinstance(prediction, PredictionFailure):
                for name in ("reason", "message"):
                    value = getattr(prediction, name)
                    if not (isinstance(value, str) and value):
                        raise self.error(item, f"failure.{name}", "expected a non-empty string")
                continue
            self.validate_item(item, prediction)

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        raise NotImplementedError

    def score(self, items: Sequence[TextItem], predictions: Sequence[Any]) -> TaskScore:
        """Metrics over ``items`` and their gold only (the answered items of the task)."""
        raise NotImplementedError

    def error(
        self, item: TextItem, field: str, problem: str, element: int | None = None
    ) -> PredictionError:
        """``[path:line: ]adapter: task item 'id': field: problem``; the prefix, and a
        :class:`PredictionRecordError`, when the prediction was read from a file (the line
        of its ``element``-th entity where the adapter knows it: :meth:`Adapter.source_of`)."""
        message = f"{self.adapter_name}: {self.name} item {item.id!r}: {field}: {problem}"
        source = self._adapter and self._adapter.source_of(self.name, item.id, element)
        return PredictionRecordError(f"{source}: {message}") if source else PredictionError(message)

    def check_span(self, item: TextItem, field: str, span: Any, element: int | None = None) -> None:
        """A span must be two ints with 0 <= start < end <= len(item.text)."""
        if (
            not isinstance(span, tuple | list)
            or len(span) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
        ):
            raise self.error(item, field, f"expected (start, end), got {span!r}", element)
        if not 0 <= span[0] < span[1] <= len(item.text):
            raise self.error(
                item, field, f"span {tuple(span)} out of range for text of {len(item.text)}",
                element,
            )  # fmt: skip

    def check_probability(self, item: TextItem, field: str, value: Any) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not 0.0 <= value <= 1.0:  # False for NaN; exact for any int
            raise self.error(item, field, f"expected a probability in [0, 1], got {value!r}")
