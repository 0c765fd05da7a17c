"""Scores against binary labels: ROC-AUC, average precision, F1 at a threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.metrics.values import MetricValue, undefined


def _both_classes(labels: np.ndarray) -> bool:
    return labels.size > 0 and 0 < labels.sum() < labels.size


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> MetricValue:
    """Area under the ROC curve (scikit-learn); undefined unless both classes occur."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels)
    if not _both_classes(y):
        return undefined("needs both toxic and non-toxic items")
    return MetricValue(float(roc_auc_score(y, np.asarray(scores, dtype=float))))


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> MetricValue:
    """Average precision AP = Σ_n (R_n − R_{n−1}) P_n (scikit-learn); needs a positive item."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(labels)
    if y.sum() == 0:
        return undefined("needs at least one toxic item")
    return MetricValue(float(average_precision_score(y, np.asarray(scores, dtype=float))))


def f1_at_threshold(
    labels: Sequence[int], scores: Sequence[float], threshold: float
) -> MetricValue:
    """F1 of the positive class with prediction ``score >= threshold``; 0 when nothing matches."""
    from sklearn.metrics import f1_score

    y = np.asarray(labels)
    if y.size == 0:
        return undefined("no items")
    predicted = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    return MetricValue(float(f1_score(y, predicted, zero_division=0.0)))
