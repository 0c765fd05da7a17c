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

with every weight 0.25. A subgroup AUC that is undefined (a single class among
its items) is reported as such and left out of its power mean; the mean says
how many subgroups it used and is undefined when none is left.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.metrics.ranking import check_binary_scores
from bench.metrics.values import MetricValue, undefined

POWER = -5.0
WEIGHTS = (0.25, 0.25, 0.25, 0.25)
BIAS_AUCS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
_SUB_POS = "toxic item in the subgroup"
_SUB_NEG = "non-toxic item in the subgroup"


def _auc(y: np.ndarray, s: np.ndarray, mask: np.ndarray, missing: str) -> MetricValue:
    from sklearn.metrics import roc_auc_score

    y_m = y[mask]
    if y_m.size == 0 or y_m.min() == y_m.max():
        return undefined(missing)
    return MetricValue(float(roc_auc_score(y_m, s[mask])))


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
    labels: Sequence[int], scores: Sequence[float], in_subgroup: Sequence[bool]
) -> MetricValue:
    """ROC-AUC restricted to the items that mention the identity.

    Undefined unless the subgroup holds both toxic and non-toxic items.
    """
    y, s = check_binary_scores(labels, scores)
    member = _membership(y, in_subgroup)
    reason = _missing(y, member, [(True, 1, _SUB_POS), (True, 0, _SUB_NEG)])
    return _auc(y, s, member, reason)


def bpsn_auc(
    labels: Sequence[int], scores: Sequence[float], in_subgroup: Sequence[bool]
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
    labels: Sequence[int], scores: Sequence[float], in_subgroup: Sequence[bool]
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
    if p == 0:
        return 0.0 if (v == 0).any() else float(np.exp(np.log(v).mean()))
    if p < 0 and (v == 0).any():
        return 0.0
    return float(np.mean(v**p) ** (1.0 / p))


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

    def to_json(self) -> dict[str, Any]:
        return {
            "overall_auc": self.overall_auc.to_json(),
            "final_score": self.final_score.to_json(),
            "means": {name: mean.to_json() for name, mean in self.means.items()},
            "subgroups": {name: sub.to_json() for name, sub in self.subgroups.items()},
            "p": self.p,
            "weights": list(self.weights),
        }


def jigsaw_bias_score(
    labels: Sequence[int],
    scores: Sequence[float],
    identities: Sequence[Collection[str]],
    subgroups: Sequence[str] | None = None,
    p: float = POWER,
    weights: tuple[float, float, float, float] = WEIGHTS,
) -> BiasReport:
    """The Jigsaw Unintended Bias evaluation of toxicity ``scores``.

    ``identities[i]`` is the set of identities item i mentions. ``subgroups`` are
    the identities to evaluate (default: every identity that occurs, sorted); a
    listed identity that no item mentions is reported with undefined AUCs.

    final = w₀·AUC_overall + w₁·M_p(subgroup AUCs) + w₂·M_p(BPSN AUCs)
    + w₃·M_p(BNSP AUCs), undefined if any of its four terms is.
    """
    from bench.metrics.ranking import roc_auc

    y, s = check_binary_scores(labels, scores)
    if len(identities) != y.size:
        raise ValueError(f"{y.size} labels but {len(identities)} identity sets")
    if any(isinstance(ids, str) for ids in identities):
        raise ValueError("each item's identities must be a collection of names, not a string")
    if len(weights) != 4:
        raise ValueError(f"weights must have four entries, got {len(weights)}")
    item_sets = [frozenset(ids) for ids in identities]
    names = sorted(set().union(*item_sets)) if subgroups is None else list(subgroups)
    if len(set(names)) != len(names):
        raise ValueError("subgroups must be distinct")

    overall = roc_auc(y, s)
    per_subgroup: dict[str, SubgroupBias] = {}
    for name in names:
        member = np.fromiter((name in ids for ids in item_sets), dtype=bool, count=y.size)
        per_subgroup[name] = SubgroupBias(
            n_items=int(member.sum()),
            n_toxic=int(y[member].sum()),
            subgroup_auc=subgroup_auc(y, s, member),
            bpsn_auc=bpsn_auc(y, s, member),
            bnsp_auc=bnsp_auc(y, s, member),
        )
    means = {
        metric: subgroup_power_mean(
            {name: getattr(sub, metric) for name, sub in per_subgroup.items()}, p
        )
        for metric in BIAS_AUCS
    }
    terms = [("overall AUC", overall)] + [(f"mean {m}", means[m].value) for m in BIAS_AUCS]
    missing = [name for name, term in terms if term.value is None]
    if missing:
        final = undefined("undefined " + ", ".join(missing))
    else:
        final = MetricValue(
            float(sum(w * t.value for w, (_, t) in zip(weights, terms, strict=True)))
        )
    return BiasReport(overall, per_subgroup, means, final, p, tuple(weights))
