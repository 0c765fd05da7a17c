"""A metric's value, or the reason it is undefined (never a silent 0 or NaN)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

LOWER_IS_BETTER = frozenset({"brier", "ece", "counterfactual_gap", "counterfactual_flip_rate",
                             "entities_lost"})  # fmt: skip
"""The metrics (and robustness measures) where a lower value is better; every other is
higher-is-better."""


def higher_is_better(metric: str) -> bool:
    """Whether a higher value of ``metric`` is better (see :data:`LOWER_IS_BETTER`)."""
    return metric not in LOWER_IS_BETTER


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    undefined: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        if self.undefined is not None:
            out["undefined"] = self.undefined
        return out


def interval_json(interval: Any) -> dict[str, Any]:
    """An interval dataclass (bootstrap, analytic, paired test) as JSON: its fields, with
    ``undefined`` only when it is set."""
    out: dict[str, Any] = asdict(interval)
    if out.get("undefined") is None:
        out.pop("undefined", None)
    return out


def undefined(reason: str) -> MetricValue:
    return MetricValue(None, reason)


def precision_recall_f1(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts.

    P = tp / n_pred, R = tp / n_gold, F1 = 2PR / (P + R). A zero denominator
    gives 0.0, the ``zero_division=0`` convention of scikit-learn and seqeval:
    a system that predicts nothing has precision 0, and recall is 0 on no gold.
    """
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
