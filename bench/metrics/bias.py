"""Unintended identity bias of a toxicity scorer: the Jigsaw bias AUCs and final score.

After Borkan, Dixon, Sorensen, Thain and Vasserman, "Nuanced Metrics for
Measuring Unintended Bias with Real Data for Text Classification" (WWW 2019
companion), as used by the Kaggle competition "Jigsaw Unintended Bias in
Toxicity Classification". For an identity subgroup s (the items that mention
the identity) and its background (all other items):

* subgroup AUC — ROC-AUC on the items of s only;
* BPSN AUC (background positive, subgroup negative) — on the non-toxic items
  of s together with the toxic items of the background; low when the model
  scores non-toxic mentions of the identity above toxic items without it;
* BNSP AUC (background negative, subgroup positive) — on the toxic items of s
  together with the non-toxic items of the background; low when toxic
  mentions of the identity score below non-toxic items without it.

Each is summarised over subgroups by the generalised power mean
M_p(m) = ((1/N) Σ_s m_s^p)^(1/p) with p = −5, which leans towards the worst
subgroups, and the final score is

    score = w₀ · AUC_overall + Σ_{a ∈ {subgroup, BPSN, BNSP}} w_a · M_p(m_a),

with every weight 0.25 — the Kaggle competition's ``get_final_metric`` (its
benchmark kernel), which tests/test_bias_reference.py checks bench equals, with
the per-subgroup AUCs of conversationai/unintended-ml-bias-analysis
(``model_bias_analysis.py``). A subgroup AUC that is undefined (a single class among
its items) is reported as such and left out of its power mean (where the
reference's mean would be NaN); the mean says
how many subgroups it used and is undefined when none is left.

:func:`jigsaw_bias_statistic` computes the final score and the three power
means on bootstrap resamples, vectorised (see :mod:`bench.metrics.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bench.metrics.analytic import AnalyticCI, auc_tables, normal_ci
from bench.metrics.binary import Labels, Scores, check_binary_scores
from bench.metrics.bootstrap import (
    BATCH_ELEMENTS,
    IndexStatistic,
    auc_from_twice_u,
    resample_weights,
)
from bench.metrics.ranking import roc_auc
from bench.metrics.score_groups import ScoreGroups, matching, score_groups
from bench.metrics.values import MetricValue, undefined

POWER = -5.0
WEIGHTS = (0.25, 0.25, 0.25, 0.25)
BIAS_AUCS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
BIAS_SUMMARIES = ("bias_score", *(f"{name}_power_mean" for name in BIAS_AUCS))
"""Columns of :func:`jigsaw_bias_statistic`: the final score, then M_p of each bias AUC."""
_SUB_POS = "toxic item in the subgroup"
_SUB_NEG = "non-toxic item in the subgroup"


def _auc(y: np.ndarray, s: np.ndarray, mask: np.ndarray, missing: str) -> MetricValue:
    y_m = y[mask]
    if y_m.size == 0 or y_m.min() == y_m.max():
        return undefined(missing)
    return roc_auc(y_m, s[mask])


def _membership(y: np.ndarray, in_subgroup: Sequence[bool] | np.ndarray) -> np.ndarray:
    member = np.asarray(in_subgroup)
    if member.shape != y.shape:
        raise ValueError(f"{y.size} labels but {member.size} subgroup flags")
    if member.size and not np.isin(member, (0, 1)).all():
        raise ValueError("subgroup flags must be booleans")
    return member.astype(bool)


def _missing(y: np.ndarray, member: np.ndarray, needed: Iterable[tuple[bool, int, str]]) -> str:
    """The reason an AUC is undefined: the first needed (member, label) cell that is empty."""
    if not member.any():
        return "no item mentions the identity"
    gaps = [what for in_sub, label, what in needed if not np.any((member == in_sub) & (y == label))]
    return "no " + " and no ".join(gaps) if gaps else "undefined"


def subgroup_auc(
    labels: Labels, scores: Scores, in_subgroup: Sequence[bool] | np.ndarray
) -> MetricValue:
    """ROC-AUC restricted to the items that mention the identity.

    Undefined unless the subgroup holds both toxic and non-toxic items.
    """
    y, s = check_binary_scores(labels, scores)
    member = _membership(y, in_subgroup)
    reason = _missing(y, member, [(True, 1, _SUB_POS), (True, 0, _SUB_NEG)])
    return _auc(y, s, member, reason)


def bpsn_auc(
    labels: Labels, scores: Scores, in_subgroup: Sequence[bool] | np.ndarray
) -> MetricValue:
    """Background-positive, subgroup-negative ROC-AUC.

    ROC-AUC on {non-toxic items of the subgroup} ∪ {toxic items outside it}.
    Undefined unless both of those sets are non-empty.
    """
    y, s = check_binary_scores(labels, scores)
    member = _membership(y, in_subgroup)
    mask = (member & (y == 0)) | (~member & (y == 1))
    needed = [(True, 0, _SUB_NEG), (False, 1, "toxic item in the background")]
    return _auc(y, s, mask, _missing(y, member, needed))


def bnsp_auc(
    labels: Labels, scores: Scores, in_subgroup: Sequence[bool] | np.ndarray
) -> MetricValue:
    """Background-negative, subgroup-positive ROC-AUC.

    ROC-AUC on {toxic items of the subgroup} ∪ {non-toxic items outside it}.
    Undefined unless both of those sets are non-empty.
    """
    y, s = check_binary_scores(labels, scores)
    member = _membership(y, in_subgroup)
    mask = (member & (y == 1)) | (~member & (y == 0))
    needed = [(True, 1, _SUB_POS), (False, 0, "non-toxic item in the background")]
    return _auc(y, s, mask, _missing(y, member, needed))


def power_mean(values: Sequence[float] | np.ndarray, p: float = POWER) -> float:
    """Generalised (power) mean M_p = ((1/N) Σ_i v_i^p)^(1/p) of non-negative values.

    M_1 is the arithmetic mean, M_−1 the harmonic mean, M_0 (the limit p → 0)
    the geometric mean. min(v) ≤ M_p ≤ max(v), and M_p grows with p. For p < 0
    a zero value gives M_p = 0 (the limit as that value → 0⁺). Raises
    :class:`ValueError` on no values, negative or non-finite values.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError("power_mean needs a non-empty 1-D sequence of values")
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError("power_mean needs finite, non-negative values")
    if not np.isfinite(p):
        raise ValueError(f"p must be finite, got {p}")
    return float(power_means(v[None, :], p)[0])


def power_means(values: np.ndarray, p: float = POWER) -> np.ndarray:
    """M_p of each row of ``values`` (shape (B, N)) over its non-NaN entries: (B,).

    NaN marks an undefined value, left out of its row's mean; a row with none
    defined gives NaN. Defined values must be non-negative (not checked). As in
    :func:`power_mean`: M_0 = exp(mean log v), and a zero gives 0 when p ≤ 0
    (v^p = ∞ and ∞^(1/p) = 0 for p < 0; log 0 = −∞ for p = 0).
    """
    v = np.asarray(values, dtype=float)
    defined = ~np.isnan(v)
    n_used = defined.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 0:
            means = np.exp(np.where(defined, np.log(v), 0.0).sum(axis=1) / n_used)
        else:
            means = (np.where(defined, v**p, 0.0).sum(axis=1) / n_used) ** (1.0 / p)
    return np.where(n_used > 0, means, np.nan)


@dataclass(frozen=True)
class PowerMean:
    """A power mean over the subgroups where the metric is defined."""

    value: MetricValue
    p: float
    n_used: int
    n_subgroups: int
    excluded: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.value.to_json(),
            "p": self.p,
            "n_used": self.n_used,
            "n_subgroups": self.n_subgroups,
            "excluded": list(self.excluded),
        }


def subgroup_power_mean(per_subgroup: Mapping[str, MetricValue], p: float = POWER) -> PowerMean:
    """M_p over the defined values of ``per_subgroup``; undefined ones are excluded.

    Undefined when no subgroup has a defined value.
    """
    defined = {name: m.value for name, m in per_subgroup.items() if m.value is not None}
    excluded = tuple(name for name, m in per_subgroup.items() if m.value is None)
    if not defined:
        reason = "no subgroups" if not per_subgroup else "undefined for every subgroup"
        value = undefined(reason)
    else:
        value = MetricValue(power_mean(list(defined.values()), p))
    return PowerMean(value, p, len(defined), len(per_subgroup), excluded)


@dataclass(frozen=True)
class SubgroupBias:
    """The three bias AUCs of one identity subgroup, with its size and toxic count."""

    n_items: int
    n_toxic: int
    subgroup_auc: MetricValue
    bpsn_auc: MetricValue
    bnsp_auc: MetricValue

    def to_json(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "n_toxic": self.n_toxic,
            **{name: getattr(self, name).to_json() for name in BIAS_AUCS},
        }


@dataclass(frozen=True)
class BiasReport:
    """Overall AUC, per-subgroup bias AUCs, their power means and the final score."""

    overall_auc: MetricValue
    subgroups: dict[str, SubgroupBias]
    means: dict[str, PowerMean]
    final_score: MetricValue
    p: float = POWER
    weights: tuple[float, float, float, float] = field(default=WEIGHTS)
    # analytic intervals of BIAS_SUMMARIES (jigsaw_bias_arrays with alpha); not in to_json
    intervals: dict[str, AnalyticCI] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall_auc": self.overall_auc.to_json(),
            "final_score": self.final_score.to_json(),
            "means": {name: mean.to_json() for name, mean in self.means.items()},
            "subgroups": {name: sub.to_json() for name, sub in self.subgroups.items()},
            "p": self.p,
            "weights": list(self.weights),
        }


def _check_bias_input(
    labels: Labels,
    scores: Scores,
    identities: Sequence[Collection[str]],
    subgroups: Sequence[str] | None,
    weights: Sequence[float],
) -> tuple[np.ndarray, np.ndarray, Sequence[Collection[str]], list[str]]:
    """Checked ``(labels, scores, identity set per item, subgroup names)``.

    The subgroups default to every identity that occurs, sorted.
    """
    y, s = check_binary_scores(labels, scores)
    if len(identities) != y.size:
        raise ValueError(f"{y.size} labels but {len(identities)} identity sets")
    if any(isinstance(ids, str) for ids in identities):
        raise ValueError("each item's identities must be a collection of names, not a string")
    if len(weights) != 4:
        raise ValueError(f"weights must have four entries, got {len(weights)}")
    names = sorted(set().union(*identities)) if subgroups is None else list(subgroups)
    if len(set(names)) != len(names):
        raise ValueError("subgroups must be distinct")
    return y, s, identities, names


def identity_membership(item_sets: Sequence[Collection[str]], names: Sequence[str]) -> np.ndarray:
    """Boolean (n_items, K) array: item i mentions identity ``names[k]``; one pass over
    the (item, identity) pairs."""
    column = {name: k for k, name in enumerate(names)}
    pairs = [(i, column[n]) for i, ids in enumerate(item_sets) for n in ids if n in column]
    member = np.zeros((len(item_sets), len(names)), dtype=bool)
    if pairs:
        rows, cols = np.array(pairs, dtype=np.int64).T
        member[rows, cols] = True
    return member


def jigsaw_bias_score(
    labels: Labels,
    scores: Scores,
    identities: Sequence[Collection[str]],
    subgroups: Sequence[str] | None = None,
    p: float = POWER,
    weights: tuple[float, float, float, float] = WEIGHTS,
    alpha: float | None = None,
) -> BiasReport:
    """The Jigsaw Unintended Bias evaluation of toxicity ``scores``.

    ``identities[i]`` is the set of identities item i mentions. ``subgroups`` are
    the identities to evaluate (default: every identity that occurs, sorted); a
    listed identity that no item mentions is reported with undefined AUCs.

    final = w₀·AUC_overall + w₁·M_p(subgroup AUCs) + w₂·M_p(BPSN AUCs)
    + w₃·M_p(BNSP AUCs), undefined if any of its four terms is. With ``alpha``,
    also the analytic intervals of :func:`jigsaw_bias_arrays`.
    """
    y, s, item_sets, names = _check_bias_input(labels, scores, identities, subgroups, weights)
    member = identity_membership(item_sets, names)
    return jigsaw_bias_arrays(y, s, member, names, p, weights, alpha)


_NEEDED = (
    [(True, 1, _SUB_POS), (True, 0, _SUB_NEG)],
    [(True, 0, _SUB_NEG), (False, 1, "toxic item in the background")],
    [(True, 1, _SUB_POS), (False, 0, "non-toxic item in the background")],
)


def jigsaw_bias_arrays(
    labels: np.ndarray,
    scores: np.ndarray,
    membership: np.ndarray,
    names: Sequence[str],
    p: float = POWER,
    weights: tuple[float, float, float, float] = WEIGHTS,
    alpha: float | None = None,
    groups: ScoreGroups | None = None,
) -> BiasReport:
    """:func:`jigsaw_bias_score` from checked arrays: ``membership`` is a boolean
    (n_items, K) array, column k the items mentioning ``names[k]``; ``groups``: the
    items' :class:`~bench.metrics.score_groups.ScoreGroups`, if the caller has them.

    Every AUC comes from counts per score group after one shared sort
    (:func:`bench.metrics.analytic.auc_tables`, ties ½, equal to scikit-learn's
    ``roc_auc_score`` to rounding): with P, N the toxic and non-toxic counts of all
    items and P_k, N_k of subgroup k, the subgroup AUC uses (P_k, N_k), BPSN
    (P − P_k, N_k) and BNSP (P_k, N − N_k), so subgroup k costs O(n_k + G), not O(n).

    With ``alpha``, ``intervals`` holds delta-method intervals of the final score and
    the power means: each summary θ = f(A_1 … A_J) of the AUCs is linearised,
    θ − E θ ≈ Σ_i IF_i with IF_i = Σ_j ∂f/∂A_j · IF_ij, IF_ij the DeLong influence of
    item i on AUC j (:meth:`~bench.metrics.analytic.AucTables.influence`) and
    ∂M_p/∂A_k = (1/N) A_k^(p−1) M_p^(1−p); se² = Σ_i IF_i², which keeps the
    correlation of AUCs that share items (for one AUC it is DeLong's variance with
    1/m² for 1/(m(m − 1))). An AUC of 0 leaves its mean without a standard error.
    """
    g = matching(groups, labels, scores)
    group, n_groups, positive, negative = g.group, g.size, g.positive, g.negative
    overall_tables = auc_tables(positive, negative)
    overall = (undefined("needs both toxic and non-toxic items") if overall_tables is None
               else MetricValue(overall_tables.auc))  # fmt: skip
    # Rows: final score, then Σ_k A_k^(p−1)·IF_k per kind (the rest of ∂M_p/∂A_k below).
    influence = np.zeros((4, labels.size)) if alpha is not None else None
    # BPSN's toxic and BNSP's non-toxic items are the background: their influence is
    # summed per score group over every subgroup, then the subgroup's own items removed.
    background = np.zeros((2, n_groups))
    per_subgroup: dict[str, SubgroupBias] = {}
    aucs = np.full((3, len(names)), np.nan)
    for k, name in enumerate(names):
        items = np.flatnonzero(membership[:, k])  # one subgroup's items at a time
        toxic = labels[items] == 1
        g_pos, g_neg = group[items[toxic]], group[items[~toxic]]
        pos_k = np.bincount(g_pos, minlength=n_groups)
        neg_k = np.bincount(g_neg, minlength=n_groups)
        counts = ((pos_k, neg_k), (positive - pos_k, neg_k), (pos_k, negative - neg_k))
        values = []
        for j, (pos_j, neg_j) in enumerate(counts):
            tables = auc_tables(pos_j, neg_j)
            if tables is None:
                values.append(undefined(_missing(labels, membership[:, k], _NEEDED[j])))
                continue
            aucs[j, k] = tables.auc
            values.append(MetricValue(tables.auc))
            if influence is None:
                continue
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                d10, d01 = (tables.auc ** (p - 1) * d for d in tables.influence())
            row = influence[j + 1]
            if j == 1:  # toxic: the background's; non-toxic: the subgroup's
                background[0] += d10
                row[items[toxic]] -= d10[g_pos]
            else:
                row[items[toxic]] += d10[g_pos]
            if j == 2:  # non-toxic: the background's
                background[1] += d01
                row[items[~toxic]] -= d01[g_neg]
            else:
                row[items[~toxic]] += d01[g_neg]
        per_subgroup[name] = SubgroupBias(int(items.size), int(toxic.sum()), *values)
    means = {
        metric: subgroup_power_mean(
            {name: getattr(sub, metric) for name, sub in per_subgroup.items()}, p
        )
        for metric in BIAS_AUCS
    }
    terms = [("overall AUC", overall)] + [(f"mean {m}", means[m].value) for m in BIAS_AUCS]
    missing = [name for name, term in terms if term.value is None]
    defined = [term.value for _, term in terms if term.value is not None]
    if missing:
        final = undefined("undefined " + ", ".join(missing))
    else:
        final = MetricValue(float(sum(w * v for w, v in zip(weights, defined, strict=True))))
    report = BiasReport(overall, per_subgroup, means, final, p, (*weights,))
    if influence is None or alpha is None:
        return report
    toxic = labels == 1
    _add_by_group(influence[2], background[0], group, toxic)
    _add_by_group(influence[3], background[1], group, ~toxic)
    mean_values = power_means(aucs, p)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        influence[1:] *= (mean_values ** (1 - p) / (~np.isnan(aucs)).sum(axis=1))[:, None]
    if overall_tables is not None:
        d10, d01 = overall_tables.influence()
        _add_by_group(influence[0], weights[0] * d10, group, toxic)
        _add_by_group(influence[0], weights[0] * d01, group, ~toxic)
    influence[0] += np.asarray(weights[1:]) @ influence[1:]
    se = np.sqrt([np.square(row).sum() for row in influence])  # a row's square at a time
    summaries = [final.value, *(means[m].value.value for m in BIAS_AUCS)]
    intervals = {
        name: normal_ci(
            np.nan if v is None else v, se[i], int(labels.size), alpha, method="delta (delong)"
        )
        for i, (name, v) in enumerate(zip(BIAS_SUMMARIES, summaries, strict=True))
    }
    return replace(report, intervals=intervals)


_CHUNK = 1 << 20  # items a time: an n-sized temporary at 10 M items is 80 MB


def _add_by_group(row: np.ndarray, table: np.ndarray, group: np.ndarray, at: np.ndarray) -> None:
    """``row[at] += table[group[at]]``, a chunk of items at a time (the same sums)."""
    for start in range(0, row.size, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        picked = at[chunk]
        row[chunk][picked] += table[group[chunk][picked]]


# ------------------------------------------------------------------ bootstrap statistic


@dataclass(frozen=True)
class _Cells:
    """Items grouped into cells (segment, distinct score) for the bias AUCs.

    Segment 0 holds every item and segment k ≥ 1 the items of subgroup k − 1,
    so an item lies in one cell per segment it is in. Cells are ordered by
    segment, then ascending score; segment 0 has one cell per distinct score,
    so its cell g is score group g.
    """

    pair_item: np.ndarray  # (n_pairs,) item of each (item, segment) pair, sorted by key
    key_start: np.ndarray  # where each used key's pairs start; key = class · n_cells + cell
    key_used: np.ndarray  # the keys with a pair
    n_items: int
    cell_score: np.ndarray  # (n_cells,) score group of each cell
    cell_first: np.ndarray  # (n_cells,) first cell of the cell's segment
    seg_start: np.ndarray  # (n_segments,) first cell of each segment, or of the next if empty
    nonempty: np.ndarray  # the segments with a cell
    n_scores: int

    @classmethod
    def build(cls, y: np.ndarray, s: np.ndarray, membership: np.ndarray) -> _Cells:
        groups = score_groups(y, s)
        score_group, n_scores = groups.group, max(groups.size, 1)
        member_item, member_column = np.nonzero(membership)
        item = np.concatenate([np.arange(y.size), member_item]).astype(np.int64)
        segment = np.concatenate([np.zeros(y.size, np.int64), member_column + 1])
        cell_ids, cell = np.unique(segment * n_scores + score_group[item], return_inverse=True)
        n_cells, cell_segment = cell_ids.size, cell_ids // n_scores
        key = y[item] * n_cells + cell
        order = np.argsort(key, kind="stable")
        key_used, key_start = np.unique(key[order], return_index=True)
        seg_start = np.searchsorted(cell_segment, np.arange(membership.shape[1] + 1))
        return cls(
            pair_item=item[order],
            key_start=key_start,
            key_used=key_used,
            n_items=y.size,
            cell_score=cell_ids % n_scores,
            cell_first=seg_start[cell_segment],
            seg_start=seg_start,
            nonempty=np.flatnonzero(np.diff(seg_start, append=n_cells) > 0),
            n_scores=n_scores,
        )

    @property
    def width(self) -> int:
        """Elements per resample of the largest arrays: pair weights and cell counts."""
        return self.pair_item.size + 2 * self.cell_score.size

    def counts(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drawn non-toxic and toxic weight of every cell: two int64 arrays (B, n_cells).

        A pair weighs its item's draw count (:func:`resample_weights`); the pairs
        of a key are contiguous, so one ``np.add.reduceat`` sums every key of
        every resample.
        """
        pair_weight = np.take(resample_weights(indices, self.n_items), self.pair_item, axis=1)
        counts = np.zeros((indices.shape[0], 2 * self.cell_score.size), dtype=np.int64)
        counts[:, self.key_used] = np.add.reduceat(pair_weight, self.key_start, axis=1)
        return counts[:, : self.cell_score.size], counts[:, self.cell_score.size :]

    def per_segment(self, x: np.ndarray) -> np.ndarray:
        """Sums of the cell columns of ``x`` (B, n_cells) per segment: (B, n_segments)."""
        out = np.zeros((x.shape[0], self.seg_start.size), dtype=x.dtype)
        out[:, self.nonempty] = np.add.reduceat(x, self.seg_start[self.nonempty], axis=1)
        return out


def _resample_aucs(cells: _Cells, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overall AUC (B,) and subgroup, BPSN, BNSP AUCs (B, 3, K) per resample.

    As in :func:`bench.metrics.bootstrap.roc_auc_statistic`, 2U(pos, neg) =
    Σ_g pos_g · (2 · neg below g + neg_g) over score groups g. With P_k, N_k
    the drawn toxic and non-toxic weights of subgroup k and P, N of all items:

        subgroup: 2U(P_k, N_k),                           pairs P_k · N_k
        BPSN:     2U(P − P_k, N_k) = 2U(P, N_k) − 2U(P_k, N_k),  pairs (P − P_k) · N_k
        BNSP:     2U(P_k, N − N_k) = 2U(P_k, N) − 2U(P_k, N_k),  pairs P_k · (N − N_k)

    where 2U(P_k, N) and 2U(P, N_k) weigh each cell of k by the all-items counts
    at its score. Every term is an integer; NaN where a class is missing.
    """
    neg, pos = cells.counts(indices)
    g = cells.n_scores
    neg_before = np.cumsum(neg, axis=1) - neg
    # 2 × (non-toxic below + ½ non-toxic at the score), within each cell's segment.
    twice_neg_below = 2 * (neg_before - np.take(neg_before, cells.cell_first, axis=1)) + neg
    # The same over all items (segment 0) at each cell's score, and likewise toxic above.
    all_neg_below = np.take(twice_neg_below[:, :g], cells.cell_score, axis=1)
    pos_upto = np.cumsum(pos[:, :g], axis=1)
    twice_pos_above = 2 * (pos_upto[:, -1:] - pos_upto) + pos[:, :g]
    all_pos_above = np.take(twice_pos_above, cells.cell_score, axis=1)

    n_pos, n_neg = cells.per_segment(pos), cells.per_segment(neg)
    within = cells.per_segment(pos * twice_neg_below)
    pos_vs_all_neg = cells.per_segment(pos * all_neg_below)
    all_pos_vs_neg = cells.per_segment(neg * all_pos_above)
    p_all, n_all = n_pos[:, :1], n_neg[:, :1]
    aucs = np.stack(
        [
            auc_from_twice_u(within, n_pos * n_neg),
            auc_from_twice_u(all_pos_vs_neg - within, (p_all - n_pos) * n_neg),
            auc_from_twice_u(pos_vs_all_neg - within, n_pos * (n_all - n_neg)),
        ],
        axis=1,
    )  # (B, 3, n_segments)
    return aucs[:, 0, 0], aucs[:, :, 1:]


def jigsaw_bias_statistic(
    labels: Labels,
    scores: Scores,
    identities: Sequence[Collection[str]],
    subgroups: Sequence[str] | None = None,
    p: float = POWER,
    weights: tuple[float, float, float, float] = WEIGHTS,
) -> IndexStatistic:
    """The bias score and the three power means per resample: (B, 4), see :data:`BIAS_SUMMARIES`.

    Arguments as for :func:`jigsaw_bias_score`, which it equals on the resampled
    items: every subgroup AUC comes from the same drawn items, one undefined on
    a resample (a class missing among its drawn items) is left out of that
    resample's power mean, and a mean or the final score with nothing to
    average or an undefined term is NaN. Index batches are processed in row
    chunks of about :data:`~bench.metrics.bootstrap.BATCH_ELEMENTS` pair weights
    and cell counts, so memory stays bounded however many distinct scores occur.
    """
    y, s, item_sets, names = _check_bias_input(labels, scores, identities, subgroups, weights)
    return jigsaw_bias_statistic_arrays(y, s, identity_membership(item_sets, names), p, weights)


def jigsaw_bias_statistic_arrays(
    labels: np.ndarray,
    scores: np.ndarray,
    membership: np.ndarray,
    p: float = POWER,
    weights: tuple[float, float, float, float] = WEIGHTS,
) -> IndexStatistic:
    """:func:`jigsaw_bias_statistic` from checked arrays, ``membership`` as for
    :func:`jigsaw_bias_arrays`."""
    cells = _Cells.build(labels, scores, membership)
    rows_per_chunk = max(1, BATCH_ELEMENTS // cells.width)

    def summaries(indices: np.ndarray) -> np.ndarray:
        overall, aucs = _resample_aucs(cells, indices)
        means = [power_means(aucs[:, j], p) for j in range(len(BIAS_AUCS))]
        final = sum(w * term for w, term in zip(weights, [overall, *means], strict=True))
        return np.column_stack([final, *means])

    def statistic(indices: np.ndarray) -> np.ndarray:
        chunks = range(0, indices.shape[0], rows_per_chunk)
        return np.concatenate([summaries(indices[i : i + rows_per_chunk]) for i in chunks])

    return statistic
