"""Shared parts of the tasks: the score record, prediction errors and span checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bench.adapters.base import Adapter
from bench.metrics.values import MetricValue
from bench.predictions import TextItem


class PredictionError(ValueError):
    """A prediction breaks the task schema; the message names adapter, item and field."""


@dataclass
class TaskScore:
    metrics: dict[str, MetricValue]
    counts: dict[str, int]
    samples: list[dict[str, Any]]
    breakdown: dict[str, Any] = field(default_factory=dict)


class Task:
    """A task turns gold into model inputs, checks predictions and scores them."""

    name: ClassVar[str]
    main_metrics: ClassVar[tuple[str, ...]]

    def __init__(self, gold: Any, adapter_name: str) -> None:
        self.gold = gold  # the dataset's view for this task (bench.data.views)
        self.adapter_name = adapter_name

    def inputs(self) -> list[TextItem]:
        return list(self.gold.items)

    def predict(self, adapter: Adapter, items: list[TextItem]) -> list[Any]:
        return getattr(adapter, f"predict_{self.name}")(items)

    def validate(self, items: Sequence[TextItem], predictions: Sequence[Any]) -> None:
        if len(predictions) != len(items):
            raise PredictionError(
                f"{self.adapter_name}: {self.name}: returned {len(predictions)} predictions "
                f"for {len(items)} items"
            )
        for item, prediction in zip(items, predictions, strict=True):
            self.validate_item(item, prediction)

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        raise NotImplementedError

    def score(self, items: list[TextItem], predictions: list[Any]) -> TaskScore:
        raise NotImplementedError

    def error(self, item: TextItem, field: str, problem: str) -> PredictionError:
        return PredictionError(
            f"{self.adapter_name}: {self.name} item {item.id!r}: {field}: {problem}"
        )

    def check_span(self, item: TextItem, field: str, span: Any) -> None:
        """A span must be two ints with 0 <= start < end <= len(item.text)."""
        if (
            not isinstance(span, tuple | list)
            or len(span) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
        ):
            raise self.error(item, field, f"expected (start, end), got {span!r}")
        if not 0 <= span[0] < span[1] <= len(item.text):
            raise self.error(
                item, field, f"span {tuple(span)} out of range for text of {len(item.text)}"
            )

    def check_probability(self, item: TextItem, field: str, value: Any) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or math.isnan(value) or not 0.0 <= value <= 1.0:
            raise self.error(item, field, f"expected a probability in [0, 1], got {value!r}")
