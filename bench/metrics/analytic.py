"""Analytic (large-sample) confidence intervals: DeLong, Wilson, delta method, normal.

The alternative to the bootstrap of :mod:`bench.metrics.bootstrap` when the
sample is large: each interval costs one pass over the data (a sort for the
AUCs) instead of a thousand resamples, and the normal approximations they rest
on are accurate at the sizes where they are used (``bootstrap.method=auto``
switches above ``bootstrap.analytic_above`` units). Each function states its
formula and source; tests/test_analytic.py checks each against a direct
computation and against the bootstrap at n ≈ 2000.

All intervals are two-sided (1 − alpha) and clipped to the metric's range.
With z = Φ⁻¹(1 − alpha/2) and a standard error se, a *normal* interval is
value ± z·se.

The paired test of two ROC-AUCs on the same items (:func:`delong_paired_test`) stands in
for :func:`bench.metrics.bootstrap.paired_bootstrap` in the same way, above
:data:`ANALYTIC_ABOVE` units by default (``bench-report compare --analytic-above``).

References: DeLong, DeLong & Clarke-Pearson, Biometrics 44 (1988) 837–845; Sun &
Xu, IEEE Signal Processing Letters 21 (2014) 1389–1393 (the O(n log n) DeLong
by midranks); Wilson, JASA 22 (1927) 209–212; Cochran, *Sampling Techniques*
(3rd ed. 1977) §6.3 (variance of a ratio estimator, i.e. the delta method);
Boyd, Eng & Page, ECML-PKDD 2013 (logit interval of average precision);
van der Vaart, *Asymptotic Statistics* (1998) ch. 3 and 20 (delta method,
influence functions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from bench.metrics.binary import calibration_bin_of, check_binary_scores
from bench.metrics.bootstrap import PairedTest
from bench.metrics.score_groups import ScoreGroups, matching, score_groups
from bench.metrics.values import interval_json

ANALYTIC_ABOVE = 100_000
"""Above this many units an interval or a paired test is analytic rather than resampled,
by default: ``bootstrap.analytic_above`` of a run (:class:`bench.tasks.base.Bootstrap`) and
``--analytic-above`` of ``bench-report compare``, ``check`` and ``leaderboard``."""


@dataclass(frozen=True)
class AnalyticCI:
    """A point value with its (1 − alpha) analytic interval; ``method`` names the formula."""

    value: float | None
    low: float | None
    high: float | None
    standard_error: float | None
    n_units: int
    alpha: float
    method: str
    unit: str = "item"
    undefined: str | None = None

    def to_json(self) -> dict[str, Any]:
        return interval_json(self)


def _z(alpha: float) -> float:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return NormalDist().inv_cdf(1 - alpha / 2)


def normal_ci(
    value: float,
    standard_error: float,
    n_units: int,
    alpha: float = 0.05,
    *,
    method: str = "normal",
    unit: str = "item",
    bounds: tuple[float, float] = (0.0, 1.0),
) -> AnalyticCI:
    """value ± z·se, clipped to ``bounds``; undefined where value or se is not finite."""
    z = _z(alpha)
    if not (np.isfinite(value) and np.isfinite(standard_error)):
        reason = "undefined on the sample" if not np.isfinite(value) else "no standard error"
        v = float(value) if np.isfinite(value) else None
        return AnalyticCI(v, None, None, None, n_units, alpha, method, unit, reason)
    low = max(bounds[0], value - z * standard_error)
    high = min(bounds[1], value + z * standard_error)
    return AnalyticCI(
        float(value), float(low), float(high), float(standard_error), n_units, alpha, method, unit
    )


def _undefined(n_units: int, alpha: float, method: str, unit: str, reason: str) -> AnalyticCI:
    return AnalyticCI(None, None, None, None, n_units, alpha, method, unit, reason)


# ----------------------------------------------------------------------- proportions


def wilson_ci(successes: int, n: int, alpha: float = 0.05, *, unit: str = "item") -> AnalyticCI:
    """Wilson score interval of a proportion p̂ = k/n (Wilson 1927).

        centre = (p̂ + z²/2n) / (1 + z²/n),
        half   = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).

    Unlike p̂ ± z·√(p̂(1−p̂)/n) it stays inside [0, 1] and keeps its coverage near
    0 and 1. ``standard_error`` is √(p̂(1 − p̂)/n). Undefined for n = 0.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return _undefined(0, alpha, "wilson", unit, "no units")
    z = _z(alpha)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    se = float(np.sqrt(p * (1 - p) / n))
    return AnalyticCI(
        p, max(0.0, centre - half), min(1.0, centre + half), se, n, alpha, "wilson", unit
    )


def ratio_standard_error(numerators: np.ndarray, denominators: np.ndarray) -> tuple[float, float]:
    """R = Σa_i / Σb_i over n units and its delta-method standard error (Cochran §6.3).

    Linearising R around its value, R̂ − R ≈ Σ_i d_i / Σ_i b_i with d_i = a_i − R̂·b_i, so

        se(R̂)² = n/(n − 1) · Σ_i d_i² / (Σ_i b_i)²,

    which treats the units as independent draws (as the bootstrap does) and allows
    any per-unit counts — an item, an entity, a cluster. NaN where Σb = 0 or n < 2.
    """
    a = np.asarray(numerators, dtype=float)
    b = np.asarray(denominators, dtype=float)
    total = b.sum()
    if total == 0:
        return float("nan"), float("nan")
    r = a.sum() / total
    n = a.size
    if n < 2:
        return float(r), float("nan")
    d = a - r * b
    return float(r), float(np.sqrt(n / (n - 1) * np.dot(d, d)) / total)


def prf_analytic(
    contributions: np.ndarray, alpha: float = 0.05, *, unit: str = "item"
) -> dict[str, AnalyticCI]:
    """Intervals of micro precision, recall and F1 from per-unit ``(tp, n_pred, n_gold)``.

    P = Σtp/Σn_pred, R = Σtp/Σn_gold, F1 = 2Σtp/(Σn_pred + Σn_gold): each a ratio
    of sums with the delta-method se of :func:`ratio_standard_error`. When every
    unit predicts and holds at most one thing (0/1 counts: a binary classifier
    scored per item) precision and recall are proportions and get
    :func:`wilson_ci` instead. The value of F1 with nothing predicted or gold is 0,
    as :func:`bench.metrics.values.precision_recall_f1`.
    """
    c = np.asarray(contributions, dtype=float)
    if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] == 0:
        raise ValueError(f"contributions must have shape (n_units, 3), got {c.shape}")
    n = c.shape[0]
    tp, n_pred, n_gold = c[:, 0], c[:, 1], c[:, 2]
    binary = bool(np.isin(c, (0.0, 1.0)).all())
    out = {}
    for name, denominator in (("precision", n_pred), ("recall", n_gold)):
        if denominator.sum() == 0:
            out[name] = AnalyticCI(0.0, 0.0, 0.0, 0.0, n, alpha, "delta", unit)
        elif binary:
            wilson = wilson_ci(int(tp.sum()), int(denominator.sum()), alpha, unit=unit)
            out[name] = replace(wilson, n_units=n)
        else:
            out[name] = normal_ci(*ratio_standard_error(tp, denominator), n, alpha,
                                  method="delta", unit=unit)  # fmt: skip
    if (n_pred + n_gold).sum() == 0:
        out["f1"] = AnalyticCI(0.0, 0.0, 0.0, 0.0, n, alpha, "delta", unit)
    else:
        f1, se = ratio_standard_error(2 * tp, n_pred + n_gold)
        out["f1"] = normal_ci(f1, se, n, alpha, method="delta", unit=unit)
    return out


def delta_method_sums(
    counts: np.ndarray,
    function: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    alpha: float = 0.05,
    *,
    unit: str = "item",
) -> dict[str, AnalyticCI]:
    """Delta-method intervals of statistics θ_j = f_j(S) of the column sums S = Σ_i c_i
    of per-unit counts ``counts`` (n_units, k) (van der Vaart 1998, ch. 3).

    The units are independent draws, so Var(S) = n·Cov(c) (ddof = 1) and

        se(θ_j)² = ∇f_j(S)ᵀ · n·Cov(c) · ∇f_j(S) = n/(n − 1) · Σ_i ((c_i − c̄)·∇f_j(S))²,

    the gradient by central differences (step 10⁻⁶·max(1, |S_k|)); a column constant
    over the units has no variance and its derivative is not needed. ``function`` maps a
    batch of sums (B, k) to (B, len(names)) — the form the bootstrap statistics use on
    resampled sums. For a ratio Σa/Σb this is :func:`ratio_standard_error`.
    """
    c = np.asarray(counts, dtype=float)
    n, k = c.shape
    sums = c.sum(axis=0)
    step = 1e-6 * np.maximum(1.0, np.abs(sums))
    batch = np.vstack([sums, sums + np.diag(step), sums - np.diag(step)])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(function(batch), dtype=float).reshape(2 * k + 1, len(names))
    gradient = (out[1 : k + 1] - out[k + 1 :]) / (2 * step[:, None])
    varies = np.ptp(c, axis=0) > 0 if n else np.zeros(k, bool)
    projected = (c[:, varies] - c[:, varies].mean(axis=0)) @ gradient[varies]
    se = np.sqrt(n / (n - 1) * (projected**2).sum(axis=0)) if n > 1 else np.full(len(names), np.nan)
    return {
        name: normal_ci(out[0, j], se[j], n, alpha, method="delta", unit=unit)
        for j, name in enumerate(names)
    }


def mean_ci(
    values: np.ndarray,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    bounds: tuple[float, float] = (0.0, 1.0),
) -> AnalyticCI:
    """Normal interval of a mean (central limit theorem): x̄ ± z·s/√n, s with ddof = 1."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return _undefined(int(v.size), alpha, "normal", unit, "needs two units")
    se = float(v.std(ddof=1) / np.sqrt(v.size))
    return normal_ci(float(v.mean()), se, v.size, alpha, unit=unit, bounds=bounds)


def macro_mean_ci(
    values: np.ndarray, groups: np.ndarray, alpha: float = 0.05, *, unit: str = "item"
) -> AnalyticCI:
    """Normal interval of the mean over G groups of each group's mean of 0/1 values.

    Groups are independent samples, so se² = (1/G²) Σ_g p̂_g(1 − p̂_g)/n_g.
    """
    v = np.asarray(values, dtype=float)
    _, group = np.unique(np.asarray(groups), return_inverse=True)
    n_g = np.bincount(group)
    p_g = np.bincount(group, weights=v) / n_g
    se = float(np.sqrt((p_g * (1 - p_g) / n_g).sum()) / n_g.size)
    return normal_ci(float(p_g.mean()), se, v.size, alpha, unit=unit)


def ece_ci(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    n_bins: int = 10,
    alpha: float = 0.05,
    *,
    unit: str = "item",
) -> AnalyticCI:
    """Normal interval of the expected calibration error, by the delta method.

    ECE = Σ_b |D_b| / n with D_b = Σ_{i ∈ b} (y_i − s_i) (bins as
    :func:`bench.metrics.ranking.expected_calibration_error`), so with the signs
    of the D_b held fixed ECE is the mean of z_i = sign(D_{b(i)})·(y_i − s_i), and
    the interval is that of :func:`mean_ci`. Valid when no bin's D_b is near 0;
    like ECE itself it says little about how close to 0 the true ECE is.
    """
    y, s = check_binary_scores(labels, scores, probabilities=True)
    _, bin_of = calibration_bin_of(s, n_bins)
    d = y - s
    sign = np.sign(np.bincount(bin_of, weights=d, minlength=n_bins))
    return mean_ci(sign[bin_of] * d, alpha, unit=unit)


def average_precision_ci(
    value: float, n_positive: int, n_units: int, alpha: float = 0.05, *, unit: str = "item"
) -> AnalyticCI:
    """Logit interval of average precision (Boyd, Eng & Page 2013, "logit").

    η = log(AP/(1 − AP)) is taken as normal with se_η = 1/√(n⁺·AP·(1 − AP)), and
    the interval is expit(η ± z·se_η); ``standard_error`` is the delta-method
    se of AP itself, AP(1 − AP)·se_η. Undefined without a toxic unit, or when
    AP is 0 or 1 (the logit is infinite).
    """
    if n_positive == 0 or not 0.0 < value < 1.0:
        reason = "needs a toxic item" if n_positive == 0 else "AP is 0 or 1"
        v = None if n_positive == 0 else float(value)
        return AnalyticCI(v, None, None, None, n_units, alpha, "logit", unit, reason)
    z = _z(alpha)
    se_eta = 1.0 / np.sqrt(n_positive * value * (1 - value))
    eta = np.log(value / (1 - value))
    low, high = (1.0 / (1.0 + np.exp(-(eta + d))) for d in (-z * se_eta, z * se_eta))
    return AnalyticCI(
        float(value), float(low), float(high), float(value * (1 - value) * se_eta), n_units,
        alpha, "logit", unit,
    )  # fmt: skip


# ---------------------------------------------------------------------------- DeLong


@dataclass(frozen=True)
class AucTables:
    """An AUC with DeLong's structural components per score group (Sun & Xu 2014).

    For a toxic item i, V10_i = P(s_i > s⁻) + ½P(s_i = s⁻) over the non-toxic
    items; for a non-toxic j, V01_j = P(s⁺ > s_j) + ½P(s⁺ = s_j) over the toxic
    ones. Both depend only on the item's score group, so they are tables over the
    groups; AUC = mean V10 = mean V01.
    """

    auc: float
    positive: np.ndarray  # (G,) toxic items per score group
    negative: np.ndarray  # (G,) non-toxic items per score group
    v10: np.ndarray  # (G,) V10 of a toxic item at each score group
    v01: np.ndarray  # (G,) V01 of a non-toxic item

    @property
    def variance(self) -> float:
        """DeLong: Var(AUC) = S10/m + S01/n, S the sample variances (ddof = 1) of the
        V10 over the m toxic and the V01 over the n non-toxic items."""
        m, n = int(self.positive.sum()), int(self.negative.sum())
        if m < 2 or n < 2:
            return float("nan")
        s10 = np.dot(self.positive, (self.v10 - self.auc) ** 2) / (m - 1)
        s01 = np.dot(self.negative, (self.v01 - self.auc) ** 2) / (n - 1)
        return float(s10 / m + s01 / n)

    def influence(self) -> tuple[np.ndarray, np.ndarray]:
        """Per score group, the influence of a toxic and of a non-toxic item,
        (V10 − AUC)/m and (V01 − AUC)/n: AUC − E[AUC] ≈ Σ_i IF_i."""
        m, n = self.positive.sum(), self.negative.sum()
        return (self.v10 - self.auc) / m, (self.v01 - self.auc) / n


def auc_tables(positive: np.ndarray, negative: np.ndarray) -> AucTables | None:
    """The AUC and DeLong tables from toxic and non-toxic counts per score group
    (ascending score: :class:`~bench.metrics.score_groups.ScoreGroups`), or None without
    both classes.

    Midranks by counting: with P_g, N_g the toxic and non-toxic items of group g,
    V10 at g = (Σ_{g' < g} N_g' + ½N_g)/n and V01 at g = (Σ_{g' > g} P_g' + ½P_g)/m —
    Sun & Xu's T_z − T_x midrank differences, O(G) after the one shared sort of
    :func:`~bench.metrics.score_groups.score_groups`. The AUC is summed in integers
    (2U), so it equals :func:`bench.metrics.ranking.roc_auc` (scikit-learn) to rounding.
    """
    m, n = int(positive.sum()), int(negative.sum())
    if m == 0 or n == 0:
        return None
    twice_neg_below = 2 * (np.cumsum(negative) - negative) + negative
    twice_pos_above = 2 * (m - np.cumsum(positive)) + positive
    twice_u = int(np.dot(positive, twice_neg_below))
    return AucTables(
        auc=twice_u / (2.0 * m * n),
        positive=positive,
        negative=negative,
        v10=twice_neg_below / (2.0 * n),
        v01=twice_pos_above / (2.0 * m),
    )


def delong_roc_auc_ci(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    groups: ScoreGroups | None = None,
) -> AnalyticCI:
    """DeLong interval of ROC-AUC: AUC ± z·√(S10/m + S01/n) (DeLong et al. 1988),
    computed in O(n log n) as Sun & Xu (2014) (see :func:`auc_tables`); ``groups``: the
    items' :class:`~bench.metrics.score_groups.ScoreGroups`, if the caller has them."""
    y, s = check_binary_scores(labels, scores)
    g = matching(groups, y, s)
    parts = auc_tables(g.positive, g.negative)
    if parts is None:
        return _undefined(int(y.size), alpha, "delong", unit,
                          "needs both toxic and non-toxic items")  # fmt: skip
    return normal_ci(parts.auc, np.sqrt(parts.variance), int(y.size), alpha,
                     method="delong", unit=unit)  # fmt: skip


def delong_paired_test(
    labels: Sequence[int] | np.ndarray,
    scores_a: Sequence[float] | np.ndarray,
    scores_b: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    *,
    unit: str = "item",
) -> PairedTest:
    """DeLong's test of ROC-AUC(A) − ROC-AUC(B), two models scoring the same items: the
    test for two correlated ROC curves of DeLong, DeLong & Clarke-Pearson (1988), as pROC's
    ``roc.test(method="delong", paired=TRUE)`` computes it.

    With each model's structural components (:class:`AucTables`: V10 of each of the m
    toxic items, V01 of each of the n non-toxic ones) and S10, S01 the 2×2 sample
    covariances (ddof = 1) of (V10_A, V10_B) over the toxic and of (V01_A, V01_B) over
    the non-toxic items,

        Var(A − B) = (S10_AA + S10_BB − 2·S10_AB)/m + (S01_AA + S01_BB − 2·S01_AB)/n,

    computed as var(V10_A − V10_B)/m + var(V01_A − V01_B)/n (the same quantity);
    z = (A − B)/se, two-sided p = 2·Φ(−|z|) and the interval (A − B) ± Φ⁻¹(1 − alpha/2)·se,
    clipped to [−1, 1]. One sort per model (:func:`score_groups`), then O(n): no pair of
    items is visited. As pROC, se = 0 gives z = 0 when A = B (p = 1: e.g. the same
    model twice) and z = ±∞ otherwise (p = 0: every item's components differ by the same
    amount, e.g. a perfect and a reversed ranking). Undefined without both classes, and
    without a p-value and interval with fewer than two items of either (no ddof = 1
    variance). Nothing is drawn: ``n_resamples`` is 0.
    """
    y, s_a = check_binary_scores(labels, scores_a)
    _, s_b = check_binary_scores(y, scores_b)
    m, n = int(y.sum()), int(y.size - y.sum())

    def result(
        difference: float | None,
        interval: tuple[float, float] | None = None,
        p: float | None = None,
        undefined: str | None = None,
    ) -> PairedTest:
        low, high = interval or (None, None)
        return PairedTest(difference, low, high, p, n_resamples=0, n_dropped=0,
                          n_units=int(y.size), alpha=alpha, seed=0, method="delong",
                          unit=unit, undefined=undefined)  # fmt: skip

    if m == 0 or n == 0:
        return result(None, undefined="needs both toxic and non-toxic items")
    toxic = y == 1
    parts = []
    for s in (s_a, s_b):
        groups = score_groups(y, s)
        tables = auc_tables(groups.positive, groups.negative)
        assert tables is not None, "both classes are present"
        parts.append(
            (tables.auc, tables.v10[groups.group[toxic]], tables.v01[groups.group[~toxic]])
        )
        del groups  # its item-sized arrays, before the other model's sort
    (auc_a, v10_a, v01_a), (auc_b, v10_b, v01_b) = parts
    difference = auc_a - auc_b
    if m < 2 or n < 2:
        return result(difference, undefined="no variance: needs two toxic and two non-toxic items")
    se = float(np.sqrt(np.var(v10_a - v10_b, ddof=1) / m + np.var(v01_a - v01_b, ddof=1) / n))
    if se > 0:
        z_score = difference / se
    else:
        z_score = 0.0 if difference == 0 else float(np.copysign(np.inf, difference))
    half = _z(alpha) * se
    interval = max(-1.0, difference - half), min(1.0, difference + half)
    return result(difference, interval, 2 * NormalDist().cdf(-abs(z_score)))
