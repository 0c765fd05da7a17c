"""Scores against binary labels: ranking, thresholded F1 and calibration.

Every function takes ``labels`` (0/1, or bools; 1 = toxic) and ``scores`` (one
real number per item, higher = more toxic) and returns a
:class:`~bench.metrics.values.MetricValue`, undefined with a reason when the
quantity does not exist for the data (e.g. an AUC without both classes).
Malformed input — lengths that differ, labels outside {0, 1}, non-finite
scores, probabilities outside [0, 1] — raises :class:`ValueError` instead: it is
a caller's bug, not a property of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bench.metrics.values import MetricValue, undefined

# Binary labels (0/1) and scores, as lists or arrays.
Labels = Sequence[int] | np.ndarray
Scores = Sequence[float] | np.ndarray


def check_binary_scores(
    labels: Labels,
    scores: Scores,
    *,
    probabilities: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``labels``/``scores`` to ``int64``/``float64`` 1-D arrays.

    Raises :class:`ValueError` unless both are one-dimensional and of equal
    length, every label is 0 or 1, and every score is finite (and, with
    ``probabilities=True``, within [0, 1]).
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got {sorted(set(y.tolist()))[:5]}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    if probabilities and s.size and (s.min() < 0.0 or s.max() > 1.0):
        raise ValueError(f"scores must be probabilities in [0, 1], got [{s.min()}, {s.max()}]")
    return y.astype(np.int64), s


def _both_classes(labels: np.ndarray) -> bool:
    return labels.size > 0 and 0 < labels.sum() < labels.size


def roc_auc(labels: Labels, scores: Scores) -> MetricValue:
    """Area under the ROC curve (scikit-learn); undefined unless both classes occur.

    AUC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) for a random toxic item s⁺ and non-toxic s⁻
    (the Mann–Whitney U statistic divided by n⁺·n⁻).
    """
    from sklearn.metrics import roc_auc_score

    y, s = check_binary_scores(labels, scores)
    if not _both_classes(y):
        return undefined("needs both toxic and non-toxic items")
    return MetricValue(float(roc_auc_score(y, s)))


def average_precision(labels: Labels, scores: Scores) -> MetricValue:
    """Average precision AP = Σ_n (R_n − R_{n−1}) P_n (scikit-learn); needs a positive item."""
    from sklearn.metrics import average_precision_score

    y, s = check_binary_scores(labels, scores)
    if y.sum() == 0:
        return undefined("needs at least one toxic item")
    return MetricValue(float(average_precision_score(y, s)))


def f1_at_threshold(labels: Labels, scores: Scores, threshold: float) -> MetricValue:
    """F1 of the positive class with prediction ``score >= threshold``; 0 when nothing matches."""
    from sklearn.metrics import f1_score

    y, s = check_binary_scores(labels, scores)
    if y.size == 0:
        return undefined("no items")
    predicted = (s >= threshold).astype(int)
    return MetricValue(float(f1_score(y, predicted, zero_division=0.0)))


class BestThreshold(NamedTuple):
    """The best F1 over thresholds and the threshold reaching it (``None`` if undefined)."""

    f1: MetricValue
    threshold: float | None


def f1_best_threshold(labels: Labels, scores: Scores) -> BestThreshold:
    """The maximum over thresholds t of F1(t), with prediction ``score >= t``.

    F1(t) = 2·TP(t) / (n_pred(t) + n_pos), where TP(t) and n_pred(t) count the
    toxic and all items with score ≥ t. Candidate thresholds are the distinct
    scores (scikit-learn's ``precision_recall_curve``); a threshold above every
    score predicts nothing and has F1 = 0, so it never wins. Ties go to the
    highest threshold (fewest positive predictions). ``f1_at_threshold`` at the
    returned threshold gives the same value. Undefined without items or
    without a toxic item (recall, and so the choice of threshold, is undefined).

    This is an optimistic, in-sample figure: the threshold is tuned on the
    items it is scored on.
    """
    from sklearn.metrics import precision_recall_curve

    y, s = check_binary_scores(labels, scores)
    if y.size == 0:
        return BestThreshold(undefined("no items"), None)
    n_pos = int(y.sum())
    if n_pos == 0:
        return BestThreshold(undefined("needs at least one toxic item"), None)
    _, recall, thresholds = precision_recall_curve(y, s)
    # The curve's last point (recall 0, no threshold) is dropped; counts are
    # recovered exactly so that tied F1 values compare equal as floats.
    tp = np.rint(recall[:-1] * n_pos)
    n_pred = s.size - np.searchsorted(np.sort(s), thresholds, side="left")
    f1 = 2.0 * tp / (n_pred + n_pos)
    best = int(np.flatnonzero(f1 == f1.max())[-1])
    return BestThreshold(MetricValue(float(f1[best])), float(thresholds[best]))


def brier_score(labels: Labels, scores: Scores) -> MetricValue:
    """Brier score BS = (1/n) Σ_i (s_i − y_i)², lower is better (scikit-learn).

    ``scores`` must be probabilities in [0, 1]. Defined for a single class too.
    """
    from sklearn.metrics import brier_score_loss

    y, s = check_binary_scores(labels, scores, probabilities=True)
    if y.size == 0:
        return undefined("no items")
    return MetricValue(float(brier_score_loss(y, s, labels=[0, 1])))


def calibration_bin_of(scores: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins of [0, 1]: ``(edges, bin_of)``, the bin index of each score.

    Exactly the bins of scikit-learn's ``calibration_curve(strategy="uniform")``
    (which the calibration plot draws): edges ``np.linspace(0, 1, M + 1)``, and
    a score on an inner edge belongs to the bin below it — bin 0 is [0, 1/M],
    bin k ≥ 1 is (k/M, (k+1)/M]. So with M = 10 a score of exactly 0.3 falls in
    the third bin (0.2, 0.3], 0.0 in the first and 1.0 in the last.
    ``scores`` must already be checked probabilities (:func:`check_binary_scores`).
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return edges, np.searchsorted(edges[1:-1], scores)  # side="left": as calibration_curve


def calibration_bins(
    labels: Labels, scores: Scores, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Equal-width reliability bins: ``(edges, count, n_positive, score_sum)`` per bin.

    Bins as in :func:`calibration_bin_of`: [0, 1/M], then (k/M, (k+1)/M].
    """
    y, s = check_binary_scores(labels, scores, probabilities=True)
    edges, bin_of = calibration_bin_of(s, n_bins)
    count = np.bincount(bin_of, minlength=n_bins)
    n_positive = np.bincount(bin_of, weights=y, minlength=n_bins)
    score_sum = np.bincount(bin_of, weights=s, minlength=n_bins)
    return edges, count, n_positive, score_sum


def expected_calibration_error(labels: Labels, scores: Scores, n_bins: int = 10) -> MetricValue:
    """Expected calibration error over ``n_bins`` equal-width bins of [0, 1].

    ECE = Σ_b (|B_b| / n) · |acc_b − conf_b|, where acc_b is the fraction of toxic
    items in bin b and conf_b the mean score there; empty bins contribute
    nothing. Bins are [0, 1/M], then (k/M, (k+1)/M], as scikit-learn's
    ``calibration_curve(strategy="uniform")`` (see :func:`calibration_bin_of`).
    ``scores`` must be probabilities in [0, 1]. 0 is perfect calibration, 1 the
    worst. Undefined without items. An estimate, biased upward: with few items
    per bin it is above 0 even for perfectly calibrated scores, so neither it
    nor its bootstrap interval says how close to 0 the true ECE is.
    """
    _, count, n_positive, score_sum = calibration_bins(labels, scores, n_bins)
    n = int(count.sum())
    if n == 0:
        return undefined("no items")
    # |B_b|/n · |acc_b − conf_b| = |Σ_{i∈B_b} y_i − Σ_{i∈B_b} s_i| / n, zero on empty bins.
    return MetricValue(float(np.abs(n_positive - score_sum).sum() / n))
