"""Seeded percentile-bootstrap confidence intervals and paired significance tests.

A *unit* is what is resampled (an item — a document, segment, sentence or case —,
an entity, a quote). A statistic is vectorised over resamples: it maps an index
array of shape (B, n) — row b lists the n units drawn, with replacement, for
resample b — to B values, so that a thousand resamples cost a few array
operations rather than a thousand calls. The builders here cover sums of
per-unit counts (:func:`resample_sums`, :func:`prf_statistic`,
:func:`f1_statistic`), means (:func:`mean_statistic`, :func:`macro_mean_statistic`)
and scores of ranked items (:func:`roc_auc_statistic`,
:func:`average_precision_statistic`, :func:`f1_best_statistic`,
:func:`ece_statistic`); task-specific ones live beside their metrics
(``bench.metrics.spans``, ``bench.metrics.attribution``, ``bench.metrics.bias``).
:func:`bootstrap_ci` turns one statistic into an interval, :func:`bootstrap_cis`
several computed together into one interval each.

Resamples on which the statistic is undefined (it returns NaN, e.g. an AUC on
a resample with a single class) are dropped, and the number dropped is
reported with the interval. Everything is deterministic given ``seed``: the
resample indices come from ``numpy.random.default_rng(seed)`` and do not depend
on how they are batched.

References: Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 13
(percentile interval); Koehn (2004) and Berg-Kirkpatrick, Burkett & Klein (2012)
(paired bootstrap); Noreen, *Computer-Intensive Methods for Testing Hypotheses*
(1989) and Riezler & Maxwell (2005) (approximate randomisation).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.metrics.binary import calibration_bin_of, check_binary_scores
from bench.metrics.score_groups import score_groups
from bench.metrics.values import interval_json

IndexStatistic = Callable[[np.ndarray], np.ndarray]
"""statistic(indices: int array (B, n)) -> float array (B,) (NaN where undefined)."""

# Elements of a (B, n) index batch held at once: 4M int64 = 32 MB.
BATCH_ELEMENTS = 4_000_000
# |δ*| counts as "at least as extreme" as |δ| within this relative tolerance, so
# floating-point noise cannot turn an exact tie (e.g. identical systems) into a miss.
_TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class BootstrapCI:
    """A point value with its (1 − alpha) percentile-bootstrap interval.

    ``n_resamples`` were drawn; ``n_dropped`` of them gave an undefined
    statistic and were left out of the interval and of ``standard_error``
    (the standard deviation of the kept bootstrap values).
    """

    value: float | None
    low: float | None
    high: float | None
    standard_error: float | None
    n_resamples: int
    n_dropped: int
    n_units: int
    alpha: float
    seed: int
    unit: str = "item"
    method: str = "percentile bootstrap"
    undefined: str | None = None

    def to_json(self) -> dict[str, Any]:
        return interval_json(self)


@dataclass(frozen=True)
class PairedTest:
    """Difference ``statistic(A) − statistic(B)`` on the same units, with a p-value.

    ``low``/``high`` bound the difference (paired bootstrap only; ``None`` for
    the randomisation test). ``p_value`` is two-sided, for the null hypothesis
    that the two systems are exchangeable / equally good.
    """

    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    n_resamples: int
    n_dropped: int
    n_units: int
    alpha: float | None
    seed: int
    method: str
    unit: str = "item"
    undefined: str | None = None

    def to_json(self) -> dict[str, Any]:
        return interval_json(self)


# --------------------------------------------------------------------------- checks


def _check_counts(n_units: int, n_resamples: int, alpha: float) -> None:
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) or n_units < 1:
        raise ValueError(f"n_units must be a positive integer, got {n_units!r}")
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, (int, np.integer))
        or n_resamples < 1
    ):
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _rows_per_batch(n_units: int, batch_size: int | None) -> int:
    if batch_size is None:
        return max(1, BATCH_ELEMENTS // n_units)
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    return int(batch_size)


# ------------------------------------------------------------------------ resampling


def resample_indices(
    n_units: int, n_resamples: int, seed: int = 0, batch_size: int | None = None
) -> Iterator[np.ndarray]:
    """Bootstrap resamples as int64 index arrays of shape (b, n_units), in batches.

    Row r (counting across batches) is ``n_units`` draws with replacement from
    ``range(n_units)``. The concatenated rows depend only on ``seed``, not on
    ``batch_size`` (default: about :data:`BATCH_ELEMENTS` indices per batch).
    """
    _check_counts(n_units, n_resamples, 0.5)
    rng = np.random.default_rng(seed)
    rows = _rows_per_batch(n_units, batch_size)
    for start in range(0, n_resamples, rows):
        b = min(rows, n_resamples - start)
        yield rng.integers(0, n_units, size=(b, n_units), dtype=np.int64)


def resample_weights(indices: np.ndarray, n_units: int) -> np.ndarray:
    """How often each unit is drawn in each resample: int64 array (B, n_units).

    One ``np.bincount`` over all rows, offset so that each row has its own bins.
    """
    idx = np.asarray(indices)
    n_rows = idx.shape[0]
    offsets = (np.arange(n_rows, dtype=np.int64) * n_units)[:, None]
    counts = np.bincount((idx + offsets).ravel(), minlength=n_rows * n_units)
    return counts.reshape(n_rows, n_units)


def _collect(
    statistics: Sequence[IndexStatistic],
    n_units: int,
    n_resamples: int,
    seed: int,
    batch_size: int | None,
) -> list[np.ndarray]:
    """Each statistic over every resample: float arrays (n_resamples, ...), all from one
    draw of the resample indices."""
    global _last_weights
    parts: list[list[np.ndarray]] = [[] for _ in statistics]
    try:
        for indices in resample_indices(n_units, n_resamples, seed, batch_size):
            for statistic, own in zip(statistics, parts, strict=True):
                out = np.asarray(statistic(indices), dtype=float)
                if out.shape[:1] != (indices.shape[0],):
                    raise ValueError(
                        f"statistic returned shape {out.shape} for {indices.shape[0]} resamples"
                    )
                own.append(out)
    finally:
        _last_weights = None
    return [np.concatenate(own) for own in parts]


def _full_sample(statistic: IndexStatistic, n_units: int) -> np.ndarray:
    values = np.asarray(statistic(np.arange(n_units, dtype=np.int64)[None, :]), dtype=float)
    full: np.ndarray = values[0]  # the one row: numpy types a row of an ndarray as Any
    return full


def _percentile_ci(
    value: float,
    samples: np.ndarray,
    *,
    n_units: int,
    alpha: float,
    seed: int,
    unit: str,
) -> BootstrapCI:
    n_resamples = samples.size
    kept = samples[np.isfinite(samples)]
    common = dict(
        n_resamples=n_resamples,
        n_dropped=n_resamples - kept.size,
        n_units=n_units,
        alpha=alpha,
        seed=seed,
        unit=unit,
    )
    if not np.isfinite(value):
        return BootstrapCI(
            None, None, None, None, undefined="undefined on the full sample", **common
        )
    if kept.size == 0:
        return BootstrapCI(
            float(value), None, None, None, undefined="undefined on every resample", **common
        )
    low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2])
    se = float(np.std(kept, ddof=1)) if kept.size > 1 else None
    return BootstrapCI(float(value), float(low), float(high), se, **common)


class SharedResamples:
    """Intervals of many statistics from one draw of resamples per number of units.

    :meth:`add` registers a statistic (one column per name) on ``n_units`` units;
    :meth:`intervals` draws the resample indices of each distinct ``n_units`` once and
    evaluates every statistic registered for it on each batch. Each interval equals that
    of a separate :func:`bootstrap_ci` (:func:`bootstrap_cis`) call with the same seed —
    the same indices — at the cost of one draw (a task's metric families share it).
    """

    def __init__(
        self,
        n_resamples: int = 1000,
        seed: int = 0,
        alpha: float = 0.05,
        *,
        unit: str = "item",
        batch_size: int | None = None,
        on_done: Callable[[int], None] | None = None,
    ) -> None:
        """``on_done(k)`` is called as each ``k`` intervals are ready (a progress bar)."""
        _check_counts(1, n_resamples, alpha)
        self.n_resamples, self.seed, self.alpha = n_resamples, seed, alpha
        self.unit, self.batch_size, self.on_done = unit, batch_size, on_done
        self._added: list[tuple[IndexStatistic, tuple[Hashable, ...], int]] = []
        self._put: dict[Hashable, Any] = {}

    def add(self, statistic: IndexStatistic, names: Sequence[Hashable], n_units: int) -> None:
        """``statistic`` returns shape (B, len(names)): column j is ``names[j]``."""
        _check_counts(n_units, self.n_resamples, self.alpha)
        self._added.append((statistic, tuple(names), n_units))

    def add_one(self, statistic: IndexStatistic, name: Hashable, n_units: int) -> None:
        """A statistic returning one value per resample, shape (B,)."""

        def column(indices: np.ndarray) -> np.ndarray:
            out = np.asarray(statistic(indices), dtype=float)
            if out.ndim != 1:
                raise ValueError("statistic must return one value per resample")
            return out[:, None]

        self.add(column, (name,), n_units)

    def add_prf(self, contributions: np.ndarray, names: Sequence[Hashable]) -> None:
        """Micro precision, recall and F1 (``names``, in that order) from per-unit
        ``(tp, n_pred, n_gold)`` rows (:func:`prf_statistic`)."""
        c = _check_prf_contributions(contributions)
        self.add(prf_statistic(c), names, c.shape[0])

    def minus(self, other: SharedResamples, names: Collection[Hashable]) -> SharedResamples:
        """The paired differences (this − ``other``) of the ``names`` both added on the
        same number of units, in new draws with this one's options: each resample
        scores both on the same units, so unit k must be the same unit in both (items
        or clusters of the same items, in the same order — not entities). An interval
        put, not drawn, has no difference here."""
        out = SharedResamples(self.n_resamples, self.seed, self.alpha, unit=self.unit,
                              batch_size=self.batch_size)  # fmt: skip
        by_name = {(name, n): (stat, j) for stat, theirs, n in other._added
                   for j, name in enumerate(theirs)}  # fmt: skip
        for stat, ours, n in self._added:
            pairs = [(name, i, *by_name[name, n]) for i, name in enumerate(ours)
                     if name in names and (name, n) in by_name]  # fmt: skip
            for stat_b in dict.fromkeys(p[2] for p in pairs):  # one difference per pair
                cols = [(name, i, j) for name, i, s, j in pairs if s is stat_b]

                def delta(
                    indices: np.ndarray,
                    a: IndexStatistic = stat,
                    b: IndexStatistic = stat_b,
                    cols: list[tuple[Hashable, int, int]] = cols,
                ) -> np.ndarray:
                    mine, theirs = a(indices), b(indices)
                    return np.stack([mine[:, i] - theirs[:, j] for _, i, j in cols], axis=1)

                out.add(delta, [name for name, _, _ in cols], n)
        return out

    def put(self, intervals: Mapping[Any, Any]) -> None:
        """Intervals computed without resampling (the formulas of
        :mod:`bench.metrics.analytic`), returned by :meth:`intervals` with the drawn ones."""
        self._put.update(intervals)

    def intervals(self) -> dict[Any, Any]:  # keyed by the callers' names
        """The interval of every name put or added, drawing each resample batch once per
        ``n_units``."""
        out: dict[Hashable, Any] = dict(self._put)
        for n_units in dict.fromkeys(n for _, _, n in self._added):
            added = [(stat, names) for stat, names, n in self._added if n == n_units]
            values = [_full_sample(stat, n_units) for stat, _ in added]
            samples = _collect([stat for stat, _ in added], n_units, self.n_resamples,
                               self.seed, self.batch_size)  # fmt: skip
            for (_, names), value, drawn in zip(added, values, samples, strict=True):
                if drawn.ndim != 2 or drawn.shape[1] != len(names):
                    raise ValueError(f"statistic must return {len(names)} values per resample")
                for j, name in enumerate(names):
                    out[name] = _percentile_ci(
                        value[j], drawn[:, j], n_units=n_units, alpha=self.alpha,
                        seed=self.seed, unit=self.unit,
                    )  # fmt: skip
                if self.on_done is not None:
                    self.on_done(len(names))
        return out


def bootstrap_ci(
    statistic: IndexStatistic,
    n_units: int,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> BootstrapCI:
    """Percentile-bootstrap (1 − alpha) interval of a vectorised statistic.

    value = statistic(all units, once each); the resample values θ*_1..θ*_B come
    from :func:`resample_indices`; non-finite ones (undefined statistic) are
    dropped and counted. The interval is [q(alpha/2), q(1 − alpha/2)], with q
    the empirical quantile of the kept θ* (``numpy.quantile``, linear
    interpolation), and ``standard_error`` their standard deviation (ddof = 1).
    """
    shared = SharedResamples(n_resamples, seed, alpha, unit=unit, batch_size=batch_size)
    shared.add_one(statistic, "value", n_units)
    ci: BootstrapCI = shared.intervals()["value"]  # a drawn interval (intervals() maps to Any)
    return ci


def bootstrap_cis(
    statistic: IndexStatistic,
    names: Sequence[str],
    n_units: int,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> dict[str, BootstrapCI]:
    """Intervals of several statistics computed together, all from the same resamples.

    ``statistic`` returns shape (B, k), column j being the statistic ``names[j]``;
    each column gets the interval of :func:`bootstrap_ci` (with its own
    ``n_dropped``). Equal to k separate :func:`bootstrap_ci` calls with the same
    seed, at the cost of one.
    """
    shared = SharedResamples(n_resamples, seed, alpha, unit=unit, batch_size=batch_size)
    shared.add(statistic, names, n_units)
    return {str(name): ci for name, ci in shared.intervals().items()}


# ----------------------------------------------------------------- statistic builders


def mean_statistic(values: Sequence[float] | np.ndarray) -> IndexStatistic:
    """Mean of per-unit values (e.g. 0/1 correctness gives accuracy) per resample."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or not np.isfinite(v).all():
        raise ValueError("values must be a 1-D array of finite numbers")

    def statistic(indices: np.ndarray) -> np.ndarray:
        means: np.ndarray = v[indices].mean(axis=1)  # numpy types it as Any
        return means

    return statistic


def resample_sums(contributions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Column sums of per-unit contribution rows over each resample: (B, k).

    ``contributions`` has one row per unit (e.g. ``tp, n_pred, n_gold``); the sum
    for resample b is Σ_i w_bi · c_i, with w_b the draw counts of
    :func:`resample_weights` — one matrix product for all resamples. Integer
    contributions sum exactly (float64 holds integers up to 2⁵³).
    """
    global _last_weights
    c = np.asarray(contributions, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"contributions must be 2-D (units × columns), got shape {c.shape}")
    last = _last_weights
    if last is not None and last[0] is indices and last[1] == c.shape[0]:
        weights = last[2]
    else:
        weights = resample_weights(indices, c.shape[0]).astype(float)
        _last_weights = (indices, c.shape[0], weights)
    sums: np.ndarray = weights @ c  # numpy types it as Any
    return sums


# The draw counts (as floats) of the index batch summed over last: the statistics that
# SharedResamples evaluates on one batch share them rather than count it again each;
# dropped once the batches are done (_collect).
_last_weights: tuple[np.ndarray, int, np.ndarray] | None = None


def resample_group_sums(
    groups: np.ndarray, values: np.ndarray, n_groups: int, indices: np.ndarray
) -> np.ndarray:
    """Per-group sums of per-unit value columns over each resample: (B, n_groups, k).

    Entry [b, j, c] = Σ_{i : group_i = j} w_bi · values_ic, with w_b the draw counts
    of :func:`resample_weights` — :func:`resample_sums` of the one-hot rows
    values_ic · [group_i = j], so one matrix product for all resamples.
    """
    v = np.asarray(values, dtype=float)
    one_hot = np.zeros((v.shape[0], n_groups, v.shape[1]))
    one_hot[np.arange(v.shape[0]), groups] = v
    sums = resample_sums(one_hot.reshape(v.shape[0], -1), indices)
    return sums.reshape(-1, n_groups, v.shape[1])


def macro_mean_statistic(
    values: Sequence[float] | np.ndarray, groups: Sequence[Any] | np.ndarray
) -> IndexStatistic:
    """Mean over groups of the group's mean value, per resample (macro average).

    θ* = (1/|J*|) Σ_{j ∈ J*} (Σ_{i ∈ j} w_i v_i) / (Σ_{i ∈ j} w_i), where J* are the
    groups with a unit drawn: a group absent from a resample is left out of
    its mean. With 0/1 correctness as ``values`` this is macro accuracy.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or not np.isfinite(v).all():
        raise ValueError("values must be a 1-D array of finite numbers")
    names, group = np.unique(np.asarray(groups), return_inverse=True)
    if group.size != v.size:
        raise ValueError(f"{v.size} values but {group.size} group labels")
    columns = np.column_stack([v, np.ones_like(v)])

    def statistic(indices: np.ndarray) -> np.ndarray:
        sums = resample_group_sums(group, columns, names.size, indices)
        total, count = sums[..., 0], sums[..., 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(count > 0, total / count, np.nan)
        macro: np.ndarray = np.nanmean(means, axis=1)  # numpy types it as Any
        return macro

    return statistic


def precision_recall_f1_arrays(
    tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise P = tp/n_pred, R = tp/n_gold, F1 = 2·tp/(n_pred + n_gold).

    A zero denominator gives 0.0, as in
    :func:`bench.metrics.values.precision_recall_f1` (``zero_division=0``).
    F1 = 2PR/(P + R) = 2·tp/(n_pred + n_gold) when both are non-zero.
    """
    tp, n_pred, n_gold = (np.asarray(a, dtype=float) for a in (tp, n_pred, n_gold))

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        out = np.zeros(np.broadcast(num, den).shape)
        quotient: np.ndarray = np.divide(num, den, out=out, where=den != 0)  # numpy types it as Any
        return quotient

    return ratio(tp, n_pred), ratio(tp, n_gold), ratio(2 * tp, n_pred + n_gold)


def _check_prf_contributions(contributions: np.ndarray) -> np.ndarray:
    c = np.asarray(contributions, dtype=float)
    if c.ndim != 2 or c.shape[1] != 3:
        raise ValueError(f"contributions must have shape (n_units, 3), got {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ValueError("contributions must be finite, non-negative counts")
    if (c[:, 0] > c[:, 1:].min(axis=1)).any():
        raise ValueError("tp cannot exceed n_pred or n_gold")
    return c


def prf_statistic(contributions: np.ndarray) -> IndexStatistic:
    """Micro P, R and F1 per resample, shape (B, 3), from per-unit ``(tp, n_pred, n_gold)``."""
    c = _check_prf_contributions(contributions)

    def statistic(indices: np.ndarray) -> np.ndarray:
        sums = resample_sums(c, indices)
        return np.stack(precision_recall_f1_arrays(sums[:, 0], sums[:, 1], sums[:, 2]), axis=1)

    return statistic


def prf_statistics(families: Sequence[np.ndarray]) -> IndexStatistic:
    """:func:`prf_statistic` of several families of ``(tp, n_pred, n_gold)`` rows over the
    same units, side by side, shape (B, 3·len(families)), from one matrix product per
    batch. Counts sum exactly in any order, so each family's columns equal its own
    :func:`prf_statistic`."""
    c = np.hstack([_check_prf_contributions(rows) for rows in families])

    def statistic(indices: np.ndarray) -> np.ndarray:
        sums = resample_sums(c, indices)
        return np.hstack([np.stack(precision_recall_f1_arrays(*sums[:, j : j + 3].T), axis=1)
                          for j in range(0, c.shape[1], 3)])  # fmt: skip

    return statistic


def f1_statistic(contributions: np.ndarray) -> IndexStatistic:
    """Micro F1 = 2·ΣTP / (Σn_pred + Σn_gold) per resample, from ``(tp, n_pred, n_gold)`` rows."""
    prf = prf_statistic(contributions)

    def statistic(indices: np.ndarray) -> np.ndarray:
        return prf(indices)[:, 2]

    return statistic


def prf_bootstrap(
    contributions: np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> dict[str, BootstrapCI]:
    """Intervals for micro precision, recall and F1, all from the same resamples.

    ``contributions`` has one row ``(tp, n_pred, n_gold)`` per unit (e.g. per
    document for entity spans); a resample sums the rows of the drawn units.
    """
    c = _check_prf_contributions(contributions)
    return bootstrap_cis(
        prf_statistic(c),
        ("precision", "recall", "f1"),
        c.shape[0],
        n_resamples,
        seed,
        alpha,
        unit=unit,
        batch_size=batch_size,
    )


def _class_keys(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, int]:
    """Each unit's key, its score's group (distinct scores, ascending) + G · its class (the
    non-toxic groups first, then the toxic ones), and 2G, the number of keys."""
    groups = score_groups(y, s)
    return groups.group + groups.size * y, 2 * groups.size


def _class_counts_by_score(
    y: np.ndarray, s: np.ndarray
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """For index batches (B, n): the drawn non-toxic and toxic counts per distinct
    score, each (B, G) with groups in ascending ``s``, from one ``np.bincount`` per
    resample (a row's keys stay in cache: twice as fast as one over the batch)."""
    key, n_keys = _class_keys(y, s)

    def counts_of(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.empty((indices.shape[0], n_keys), np.int64)
        for row, drawn in zip(counts, indices, strict=True):
            row[:] = np.bincount(key.take(drawn), minlength=n_keys)
        by_class = counts.reshape(-1, 2, n_keys // 2)
        return by_class[:, 0], by_class[:, 1]

    return counts_of


def auc_from_twice_u(twice_u: np.ndarray, n_pairs: np.ndarray) -> np.ndarray:
    """AUC = 2U / (2 · n_pairs), element-wise; NaN where there is no toxic/non-toxic pair.

    2U = Σ over toxic/non-toxic pairs of 2 (correctly ordered) or 1 (tied), kept
    in integers so that the division is the only rounding.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = twice_u / (2.0 * n_pairs)
    return np.where(n_pairs > 0, auc, np.nan)


def roc_auc_of_counts(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """ROC-AUC per row of the drawn non-toxic and toxic counts per score group (B, G)."""
    neg_below = np.cumsum(neg, axis=1) - neg
    twice_u = (pos * (2 * neg_below + neg)).sum(axis=1)
    return auc_from_twice_u(twice_u, pos.sum(axis=1) * neg.sum(axis=1))


def roc_auc_statistic(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> IndexStatistic:
    """ROC-AUC per resample, by the weighted Mann–Whitney statistic; NaN on one class.

    With w_i the number of times unit i is drawn, grouped by distinct score g
    (ascending) into toxic weight P_g and non-toxic weight N_g:

        AUC = Σ_g P_g · (Σ_{g' < g} N_g' + ½ N_g) / (P · N),  P = Σ P_g,  N = Σ N_g,

    i.e. a toxic/non-toxic pair counts 1 when ordered correctly and ½ when tied.
    P_g, N_g for all resamples come from one ``np.bincount``; the numerator is
    summed in integers, so the only rounding is the final division. This equals
    scikit-learn's ``roc_auc_score`` on ``labels[row], scores[row]`` to ~1e-15.
    """
    y, s = check_binary_scores(labels, scores)
    counts_of = _class_counts_by_score(y, s)

    def statistic(indices: np.ndarray) -> np.ndarray:
        return roc_auc_of_counts(*counts_of(indices))

    return statistic


def roc_auc_difference_statistic(
    data_a: Sequence[np.ndarray], data_b: Sequence[np.ndarray]
) -> IndexStatistic:
    """:func:`roc_auc_statistic` of system A minus that of system B (``data_*``: labels,
    scores) on the units each resample draws: the difference of the two, bit for bit (the
    same integer counts, the same division), at about the cost of one when scores tie.

    A unit's *cell* is its pair of keys (class and score group), in A and in B. With at
    most half as many distinct cells as units (tied scores: rules, rounded probabilities),
    a resample counts its cells (one ``np.bincount`` over its units) and sums them into
    each system's counts (one over the cells); otherwise each system counts its own keys.
    """
    (y_a, s_a), (y_b, s_b) = (check_binary_scores(*data) for data in (data_a, data_b))
    (key_a, n_a), (key_b, n_b) = _class_keys(y_a, s_a), _class_keys(y_b, s_b)
    cells, cell_of = np.unique(key_a * n_b + key_b, return_inverse=True)
    if 2 * cells.size > y_a.size:  # counting cells would cost more than counting keys
        auc_a, auc_b = roc_auc_statistic(y_a, s_a), roc_auc_statistic(y_b, s_b)

        def each(indices: np.ndarray) -> np.ndarray:
            return auc_a(indices) - auc_b(indices)

        return each
    sides = ((cells // n_b, n_a), (cells % n_b, n_b))  # each cell's key in A, in B

    def statistic(indices: np.ndarray) -> np.ndarray:
        counts = [np.empty((indices.shape[0], n_keys), np.int64) for _, n_keys in sides]
        for row, drawn in enumerate(indices):
            in_cells = np.bincount(cell_of.take(drawn), minlength=cells.size)
            for (key_of_cell, n_keys), out in zip(sides, counts, strict=True):
                # float sums of at most n integers: exact
                out[row] = np.bincount(key_of_cell, weights=in_cells, minlength=n_keys)
        a, b = (c.reshape(-1, 2, n_keys // 2) for c, (_, n_keys) in zip(counts, sides, strict=True))
        auc_a, auc_b = (roc_auc_of_counts(c[:, 0], c[:, 1]) for c in (a, b))
        difference: np.ndarray = auc_a - auc_b  # numpy types it as Any
        return difference

    return statistic


def average_precision_statistic(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> IndexStatistic:
    """Average precision per resample; NaN when a resample has no toxic unit.

    With distinct scores in descending order g = 1, 2, … and the drawn toxic and
    non-toxic weights P_g, N_g of each, TP_g = Σ_{g' ≤ g} P_g', FP_g likewise:

        AP = Σ_g (P_g / P) · TP_g / (TP_g + FP_g),   P = Σ P_g,

    scikit-learn's AP = Σ_n (R_n − R_{n−1}) P_n with one threshold per distinct score.
    """
    y, s = check_binary_scores(labels, scores)
    counts_of = _class_counts_by_score(y, -s)  # groups in descending score order

    def statistic(indices: np.ndarray) -> np.ndarray:
        return average_precision_of_counts(*counts_of(indices))

    return statistic


def average_precision_of_counts(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Average precision per row of the drawn non-toxic and toxic counts per score group
    (B, G), groups in descending score order; NaN on a row without a toxic count."""
    tp, drawn = np.cumsum(pos, axis=1), np.cumsum(pos + neg, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(drawn > 0, tp / np.maximum(drawn, 1), 0.0)
        ap = (pos * precision).sum(axis=1) / pos.sum(axis=1)
    return np.where(pos.sum(axis=1) > 0, ap, np.nan)


def f1_best_statistic(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> IndexStatistic:
    """Best-threshold F1 per resample; NaN when a resample has no toxic unit.

    With distinct scores in descending order g = 1, 2, … and the drawn toxic and
    non-toxic weights P_g, N_g of each, prediction ``score >= t_g`` gives
    TP_g = Σ_{g' ≤ g} P_g' and n_pred_g = Σ_{g' ≤ g} (P_g' + N_g'), so

        F1_best = max_g 2·TP_g / (n_pred_g + P),   P = Σ P_g.

    A score not drawn repeats the counts of the next higher drawn one (or, above
    every drawn score, gives F1 = 0, which never wins), so the max equals that
    over the drawn scores, as :func:`bench.metrics.ranking.f1_best_threshold`.
    """
    y, s = check_binary_scores(labels, scores)
    counts_of = _class_counts_by_score(y, -s)  # groups in descending score order

    def statistic(indices: np.ndarray) -> np.ndarray:
        neg, pos = counts_of(indices)
        tp, n_pred = np.cumsum(pos, axis=1), np.cumsum(pos + neg, axis=1)
        n_pos = tp[:, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            best = (2.0 * tp / (n_pred + n_pos)).max(axis=1)
        return np.where(n_pos[:, 0] > 0, best, np.nan)

    return statistic


def ece_statistic(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, n_bins: int = 10
) -> IndexStatistic:
    """Expected calibration error per resample over ``n_bins`` equal-width bins.

    With the bins of :func:`bench.metrics.binary.calibration_bin_of` and the
    drawn sums Y_b = Σ_{i ∈ b} w_i y_i, S_b = Σ_{i ∈ b} w_i s_i,

        ECE = Σ_b |Y_b − S_b| / n,

    as :func:`bench.metrics.ranking.expected_calibration_error` (a resample has
    n units). ``scores`` must be probabilities in [0, 1].
    """
    y, s = check_binary_scores(labels, scores, probabilities=True)
    _, bin_of = calibration_bin_of(s, n_bins)
    columns = np.column_stack([y, s])

    def statistic(indices: np.ndarray) -> np.ndarray:
        sums = resample_group_sums(bin_of, columns, n_bins, indices)
        errors = np.abs(sums[..., 0] - sums[..., 1])
        ece: np.ndarray = errors.sum(axis=1) / indices.shape[1]  # numpy types it as Any
        return ece

    return statistic


def roc_auc_bootstrap(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> BootstrapCI:
    """Percentile-bootstrap interval of ROC-AUC (vectorised; see :func:`roc_auc_statistic`).

    Resamples with a single class are dropped and counted in ``n_dropped``;
    undefined (with reason) when the full sample lacks a class.
    """
    y, s = check_binary_scores(labels, scores)
    if y.size == 0 or y.min() == y.max():
        _check_counts(max(y.size, 1), n_resamples, alpha)
        return BootstrapCI(
            None,
            None,
            None,
            None,
            n_resamples=n_resamples,
            n_dropped=0,
            n_units=int(y.size),
            alpha=alpha,
            seed=seed,
            unit=unit,
            undefined="needs both toxic and non-toxic items",
        )
    return bootstrap_ci(
        roc_auc_statistic(y, s),
        y.size,
        n_resamples,
        seed,
        alpha,
        unit=unit,
        batch_size=batch_size,
    )


# ------------------------------------------------------------------------ paired tests

StatisticBuilder = Callable[..., IndexStatistic]
"""Builds an :data:`IndexStatistic` from per-unit arrays, e.g. :func:`roc_auc_statistic`."""


def _paired_arrays(
    data_a: Sequence[Any] | np.ndarray, data_b: Sequence[Any] | np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Each system's per-unit arrays (a bare array is one), checked to be as many, with one
    entry per unit and the same shapes in both; and the number of units."""
    if isinstance(data_a, np.ndarray):
        data_a = (data_a,)
    if isinstance(data_b, np.ndarray):
        data_b = (data_b,)
    if len(data_a) != len(data_b) or not data_a:
        raise ValueError("data_a and data_b must give the same, non-zero number of arrays")
    arrays_a = [np.asarray(a) for a in data_a]
    arrays_b = [np.asarray(b) for b in data_b]
    n_units = arrays_a[0].shape[0] if arrays_a[0].ndim else 0
    for a, b in zip(arrays_a, arrays_b, strict=True):
        if a.ndim == 0 or a.shape[0] != n_units or a.shape != b.shape:
            raise ValueError("every array of both systems needs one entry per unit, same shape")
    return arrays_a, arrays_b, n_units


def _stack_systems(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any] | np.ndarray,
    data_b: Sequence[Any] | np.ndarray,
) -> tuple[IndexStatistic, int]:
    """One statistic over 2n stacked units: 0..n−1 are system A's, n..2n−1 system B's."""
    arrays_a, arrays_b, n_units = _paired_arrays(data_a, data_b)
    stacked = [np.concatenate([a, b]) for a, b in zip(arrays_a, arrays_b, strict=True)]
    return make_statistic(*stacked), n_units


PAIRED_DIFFERENCES: dict[
    StatisticBuilder, Callable[[Sequence[np.ndarray], Sequence[np.ndarray]], IndexStatistic]
] = {roc_auc_statistic: roc_auc_difference_statistic}
"""Builders whose statistic's paired difference (A minus B, on the units drawn) has a
faster statistic of its own, equal bit for bit to the difference on stacked units
(tests/test_bootstrap.py checks each): :func:`paired_bootstrap` uses it."""


def _paired_difference(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any] | np.ndarray,
    data_b: Sequence[Any] | np.ndarray,
) -> tuple[IndexStatistic, int]:
    """δ = θ(A) − θ(B) per resample of the n units, and n: the builder's own paired
    difference (:data:`PAIRED_DIFFERENCES`), else the statistic of the 2n stacked units
    on rows i (A's) and i + n (B's)."""
    difference = PAIRED_DIFFERENCES.get(make_statistic)
    if difference is not None:
        arrays_a, arrays_b, n_units = _paired_arrays(data_a, data_b)
        return difference(arrays_a, arrays_b), n_units
    statistic, n_units = _stack_systems(make_statistic, data_a, data_b)

    def delta(indices: np.ndarray) -> np.ndarray:
        return statistic(indices) - statistic(indices + n_units)

    return delta, n_units


def _two_sided_p(extreme: np.ndarray, n_kept: int) -> float:
    """(1 + #extreme) / (1 + #kept): never 0, exactly 1 when every draw is as extreme."""
    return float((1 + int(extreme.sum())) / (1 + n_kept))


def _as_extreme(deltas: np.ndarray, observed: float) -> np.ndarray:
    bound = abs(observed)
    extreme: np.ndarray = np.abs(deltas) >= bound - _TIE_TOLERANCE * max(1.0, bound)
    return extreme  # (annotated: numpy types the comparison as Any)


def _paired_test(
    observed: float,
    deltas: np.ndarray,
    *,
    bootstrap: bool,
    n_units: int,
    alpha: float | None,
    seed: int,
    unit: str,
) -> PairedTest:
    """The result of a paired test from the observed and the resampled differences.

    Bootstrap: percentile interval of δ*, with the centred δ* − δ as the null
    distribution. Randomisation: the δ_r are draws under the null; no interval.
    """
    kept = deltas[np.isfinite(deltas)]
    common = dict(
        n_resamples=deltas.size,
        n_dropped=deltas.size - kept.size,
        n_units=n_units,
        alpha=alpha,
        seed=seed,
        method="paired bootstrap" if bootstrap else "approximate randomisation",
        unit=unit,
    )
    if not np.isfinite(observed):
        return PairedTest(
            None, None, None, None, undefined="undefined on the full sample", **common
        )
    if kept.size == 0:
        what = "resample" if bootstrap else "round"
        return PairedTest(
            observed, None, None, None, undefined=f"undefined on every {what}", **common
        )
    if not bootstrap:
        p = _two_sided_p(_as_extreme(kept, observed), kept.size)
        return PairedTest(observed, None, None, p, **common)
    assert alpha is not None, "a paired bootstrap is given alpha (randomisation has none)"
    low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2])
    p = _two_sided_p(_as_extreme(kept - observed, observed), kept.size)
    return PairedTest(observed, float(low), float(high), p, **common)


def paired_bootstrap(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any] | np.ndarray,
    data_b: Sequence[Any] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> PairedTest:
    """Paired bootstrap of δ = θ(A) − θ(B) for two systems scored on the same units.

    ``make_statistic(*data)`` builds the statistic from per-unit arrays, e.g.
    ``paired_bootstrap(roc_auc_statistic, (labels, scores_a), (labels, scores_b))``
    or ``paired_bootstrap(mean_statistic, correct_a, correct_b)``. Each resample
    draws units once and scores both systems on them: δ*_b = θ*_b(A) − θ*_b(B)
    (with the builder's own difference statistic where it has one, the same numbers:
    :data:`PAIRED_DIFFERENCES`).

    Interval: percentile [q(alpha/2), q(1 − alpha/2)] of the kept δ*. p-value
    (two-sided, H₀: δ = 0): the centred bootstrap distribution δ* − δ stands
    in for δ under H₀, so p = (1 + #{b : |δ*_b − δ| ≥ |δ|}) / (1 + B_kept).
    Identical systems give δ = 0 and p = 1. Resamples where either statistic
    is undefined are dropped and counted.
    """
    delta, n_units = _paired_difference(make_statistic, data_a, data_b)
    _check_counts(n_units, n_resamples, alpha)
    observed = float(_full_sample(delta, n_units))
    [deltas] = _collect([delta], n_units, n_resamples, seed, batch_size)
    return _paired_test(
        observed, deltas, bootstrap=True, n_units=n_units, alpha=alpha, seed=seed, unit=unit
    )


def approximate_randomization(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any] | np.ndarray,
    data_b: Sequence[Any] | np.ndarray,
    n_permutations: int = 1000,
    seed: int = 0,
    *,
    unit: str = "item",
    batch_size: int | None = None,
) -> PairedTest:
    """Approximate randomisation (paired permutation) test of δ = θ(A) − θ(B).

    Under H₀ the two systems' outputs on a unit are exchangeable. Each round
    swaps A's and B's output on every unit independently with probability ½ and
    recomputes δ_r; p = (1 + #{r : |δ_r| ≥ |δ|}) / (1 + R_kept). Identical
    systems give p = 1. ``make_statistic`` and the data are as for
    :func:`paired_bootstrap`; no interval is given (``low``/``high`` are None).
    """
    statistic, n_units = _stack_systems(make_statistic, data_a, data_b)
    _check_counts(n_units, n_permutations, 0.05)
    rng = np.random.default_rng(seed)
    rows = _rows_per_batch(n_units, batch_size)
    own = np.arange(n_units, dtype=np.int64)
    observed = float(statistic(own[None, :])[0] - statistic(own[None, :] + n_units)[0])
    parts = []
    for start in range(0, n_permutations, rows):
        swap = rng.random((min(rows, n_permutations - start), n_units)) < 0.5
        idx_a = own + n_units * swap
        idx_b = own + n_units * ~swap
        parts.append(np.asarray(statistic(idx_a), float) - np.asarray(statistic(idx_b), float))
    deltas = np.concatenate(parts)
    return _paired_test(
        observed, deltas, bootstrap=False, n_units=n_units, alpha=None, seed=seed, unit=unit
    )
