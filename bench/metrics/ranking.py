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

from typing import NamedTuple

import numpy as np

from bench.metrics.binary import Labels, Scores, calibration_bin_of, check_binary_scores
from bench.metrics.bootstrap import average_precision_of_counts, roc_auc_of_counts
from bench.metrics.score_groups import ScoreGroups, matching
from bench.metrics.values import MetricValue, undefined


def _both_classes(labels: np.ndarray) -> bool:
    return labels.size > 0 and 0 < labels.sum() < labels.size


def roc_auc(labels: Labels, scores: Scores, *, groups: ScoreGroups | None = None) -> MetricValue:
    """Area under the ROC curve; undefined unless both classes occur.

    AUC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) for a random toxic item s⁺ and non-toxic s⁻
    (the Mann–Whitney U statistic divided by n⁺·n⁻: scikit-learn's ``roc_auc_score``
    to ~1e-15; the formula of :func:`bench.metrics.bootstrap.roc_auc_statistic`, on
    the counts per distinct score). ``groups``: the items' :class:`ScoreGroups`, if
    the caller has them.
    """
    y, s = check_binary_scores(labels, scores)
    if not _both_classes(y):
        return undefined("needs both toxic and non-toxic items")
    g = matching(groups, y, s)
    return MetricValue(float(roc_auc_of_counts(g.negative[None], g.positive[None])[0]))


def average_precision(
    labels: Labels, scores: Scores, *, groups: ScoreGroups | None = None
) -> MetricValue:
    """Average precision AP = Σ_n (R_n − R_{n−1}) P_n (scikit-learn's, to ~1e-15:
    the formula of :func:`bench.metrics.bootstrap.average_precision_statistic`, on the
    counts per distinct score); needs a positive item. ``groups`` as :func:`roc_auc`."""
    y, s = check_binary_scores(labels, scores)
    if y.sum() == 0:
        return undefined("needs at least one toxic item")
    g = matching(groups, y, s)
    descending = (np.ascontiguousarray(c[None, ::-1]) for c in (g.negative, g.positive))
    return MetricValue(float(average_precision_of_counts(*descending)[0]))


def f1_at_threshold(labels: Labels, scores: Scores, threshold: float) -> MetricValue:
    """F1 of the positive class with prediction ``score >= threshold``; 0 when nothing matches."""
    y, s = check_binary_scores(labels, scores)
    if y.size == 0:
        return undefined("no items")
    predicted = s >= threshold
    tp, total = int((predicted & (y == 1)).sum()), int(predicted.sum() + y.sum())
    return MetricValue(2 * tp / total if total else 0.0)  # 2PR / (P + R), one rounding


class BestThreshold(NamedTuple):
    """The best F1 over thresholds and the threshold reaching it (``None`` if undefined)."""

    f1: MetricValue
    threshold: float | None


def f1_best_threshold(
    labels: Labels, scores: Scores, *, groups: ScoreGroups | None = None
) -> BestThreshold:
    """The maximum over thresholds t of F1(t), with prediction ``score >= t``.

    F1(t) = 2·TP(t) / (n_pred(t) + n_pos), where TP(t) and n_pred(t) count the
    toxic and all items with score ≥ t. Candidate thresholds are the distinct
    scores (scikit-learn's ``precision_recall_curve``); a threshold above every
    score predicts nothing and has F1 = 0, so it never wins. Ties go to the
    highest threshold (fewest positive predictions). ``f1_at_threshold`` at the
    returned threshold gives the same value. Undefined without items or
    without a toxic item (recall, and so the choice of threshold, is undefined).

    This is an optimistic, in-sample figure: the threshold is tuned on the
    items it is scored on. ``groups`` as :func:`roc_auc`.
    """
    y, s = check_binary_scores(labels, scores)
    if y.size == 0:
        return BestThreshold(undefined("no items"), None)
    n_pos = int(y.sum())
    if n_pos == 0:
        return BestThreshold(undefined("needs at least one toxic item"), None)
    g = matching(groups, y, s)  # thresholds ascending
    # items with score >= each threshold: counts summed from the top score down
    tp = g.positive[::-1].cumsum()[::-1]
    n_pred = (g.positive + g.negative)[::-1].cumsum()[::-1]
    f1 = 2.0 * tp / (n_pred + n_pos)
    best = int(np.flatnonzero(f1 == f1.max())[-1])
    return BestThreshold(MetricValue(float(f1[best])), float(g.thresholds[best]))


def brier_score(labels: Labels, scores: Scores) -> MetricValue:
    """Brier score BS = (1/n) Σ_i (s_i − y_i)², lower is better.

    ``scores`` must be probabilities in [0, 1]. Defined for a single class too.
    """
    y, s = check_binary_scores(labels, scores, probabilities=True)
    if y.size == 0:
        return undefined("no items")
    return MetricValue(float(np.mean((s - y) ** 2)))


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
