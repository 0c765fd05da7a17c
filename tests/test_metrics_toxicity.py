"""Toxicity metrics: ranking and calibration (vs scikit-learn, by hand) and Jigsaw bias AUCs."""

from __future__ import annotations

import json
import re
import tracemalloc
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    roc_auc_score,
)

from bench.data.views import ToxicityGold, toxicity_gold
from bench.metrics.analytic import delong_roc_auc_ci
from bench.metrics.bias import (
    BIAS_AUCS,
    BIAS_SUMMARIES,
    bnsp_auc,
    bpsn_auc,
    jigsaw_bias_score,
    jigsaw_bias_statistic,
    power_mean,
    power_means,
    subgroup_auc,
    subgroup_power_mean,
)
from bench.metrics.bootstrap import resample_indices
from bench.metrics.ranking import (
    average_precision,
    brier_score,
    calibration_bins,
    expected_calibration_error,
    f1_at_threshold,
    f1_best_threshold,
    roc_auc,
)
from bench.metrics.score_groups import score_groups
from bench.metrics.values import MetricValue, undefined
from bench.predictions import PredictionFailure, TextItem, ToxicityPrediction
from bench.tasks.base import Bootstrap, PredictionError
from bench.tasks.toxicity import ToxicityTask


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    """400 labels with probability scores rounded to 2 decimals (many ties)."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 400)
    s = np.round(np.clip(0.35 * y + rng.normal(0.35, 0.2, 400), 0, 1), 2)
    return y, s


# ---------------------------------------------------------------- ranking vs sklearn


def test_auc_ap_brier_equal_sklearn(scored):
    y, s = scored
    assert roc_auc(y, s).value == pytest.approx(roc_auc_score(y, s), abs=1e-15)
    assert average_precision(y, s).value == pytest.approx(average_precision_score(y, s), abs=1e-15)
    assert brier_score(y, s).value == pytest.approx(brier_score_loss(y, s), abs=1e-15)
    assert brier_score(y, s).value == pytest.approx(np.mean((s - y) ** 2), abs=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_score_groups_are_those_of_np_unique(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 5000)
    s = np.round(rng.normal(size=5000), 2)  # many ties
    s[:3] = [0.0, -0.0, 0.0]  # equal though their bits differ
    groups = score_groups(y, s)
    thresholds, group = np.unique(s, return_inverse=True)
    assert np.array_equal(groups.thresholds, thresholds)
    assert np.array_equal(groups.group, group) and groups.size == thresholds.size
    assert np.array_equal(groups.positive, np.bincount(group[y == 1], minlength=groups.size))
    assert np.array_equal(groups.negative, np.bincount(group[y == 0], minlength=groups.size))


def test_rank_metrics_given_the_score_groups_equal_those_sorting_themselves(scored):
    y, s = scored
    groups = score_groups(y, s)
    assert roc_auc(y, s, groups=groups) == roc_auc(y, s)
    assert average_precision(y, s, groups=groups) == average_precision(y, s)
    assert f1_best_threshold(y, s, groups=groups) == f1_best_threshold(y, s)
    assert delong_roc_auc_ci(y, s, groups=groups) == delong_roc_auc_ci(y, s)
    with pytest.raises(ValueError, match="score groups of 400 items for 399 items"):
        roc_auc(y[1:], s[1:], groups=groups)


def test_undefined_rather_than_zero():
    assert roc_auc([1, 1], [0.2, 0.4]) == undefined("needs both toxic and non-toxic items")
    assert roc_auc([], []).value is None
    assert average_precision([0, 0], [0.2, 0.4]).undefined == "needs at least one toxic item"
    assert brier_score([], []).undefined == "no items"
    assert brier_score([1, 1], [1.0, 0.5]).value == pytest.approx(0.125)  # one class is fine
    assert expected_calibration_error([], []).undefined == "no items"
    assert f1_at_threshold([], [], 0.5).undefined == "no items"


@pytest.mark.parametrize(
    "labels, scores",
    [
        ([0, 1], [0.5]),
        ([0, 2], [0.1, 0.2]),
        ([0, 1], [0.1, float("nan")]),
        ([[0, 1]], [[0.1, 0.2]]),
    ],
)
def test_malformed_input_raises(labels, scores):
    with pytest.raises(ValueError):
        roc_auc(labels, scores)


def test_probability_metrics_reject_scores_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error([0, 1], [-0.1, 0.5])
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], [0.1, 0.5], n_bins=0)


# ---------------------------------------------------------------- best-threshold F1


def test_f1_best_threshold_by_hand():
    # Thresholds 0.9 → F1 2·1/(1+3) = .5; 0.8 → 2·1/(2+3) = .4; 0.6 → 2·2/(3+3) = .667;
    # 0.4 → 2·3/(4+3) = .857; 0.1 → 2·3/(5+3) = .75.
    labels = [1, 0, 1, 1, 0]
    scores = [0.9, 0.8, 0.6, 0.4, 0.1]
    best = f1_best_threshold(labels, scores)
    assert best.f1.value == pytest.approx(6 / 7)
    assert best.threshold == 0.4
    value, threshold = best  # unpacks like a tuple
    assert f1_at_threshold(labels, scores, threshold).value == value.value


def test_f1_best_threshold_is_the_max_over_distinct_scores(scored):
    y, s = scored
    best = f1_best_threshold(y, s)
    brute = {t: 2 * y[s >= t].sum() / ((s >= t).sum() + y.sum()) for t in np.unique(s)}
    top = max(brute.values())
    assert best.f1.value == pytest.approx(top, abs=1e-15)
    assert best.threshold == max(t for t, f in brute.items() if f == pytest.approx(top, abs=1e-15))
    predicted = (s >= best.threshold).astype(int)
    assert best.f1.value == pytest.approx(f1_score(y, predicted), abs=1e-15)


def test_f1_best_threshold_ties_go_to_the_highest_threshold():
    # t = 0.8 → TP 1, pred 1 → 2/(1+2); t = 0.2 → TP 2, pred 4 → 4/(4+2): both 2/3.
    best = f1_best_threshold([1, 0, 0, 1], [0.8, 0.5, 0.5, 0.2])
    assert best.f1.value == pytest.approx(2 / 3)
    assert best.threshold == 0.8


def test_f1_best_threshold_undefined_without_positives():
    assert f1_best_threshold([0, 0], [0.1, 0.9]) == (
        undefined("needs at least one toxic item"),
        None,
    )
    assert f1_best_threshold([], []).f1.undefined == "no items"
    assert f1_best_threshold([1, 1], [0.3, 0.3]) == (MetricValue(1.0), 0.3)


# ---------------------------------------------------------------- calibration


def test_ece_by_hand():
    # bins [0, .1], (.1, .2], (.2, .3], (.3, .4]: one item each → |y − s| / 6:
    #   .1 → |0 − .1|, .15 → |1 − .15|, .3 → |0 − .3|, .35 → |1 − .35|
    # bins (.8, .9] and (.9, 1]: .9 → |1 − .9|, 1.0 → |1 − 1|           ECE = 2.0/6
    labels = [0, 1, 0, 1, 1, 1]
    scores = [0.1, 0.15, 0.3, 0.35, 0.9, 1.0]
    assert expected_calibration_error(labels, scores).value == pytest.approx(2 / 6, abs=1e-15)


def test_ece_bin_edges_are_right_closed_and_the_first_bin_is_closed():
    # 0.3 closes the third bin (0.2, 0.3] with 0.29: |1 − .59|/2 = .205.
    # (Were 0.3 in [0.3, 0.4): |0 − .29|/2 + |1 − .3|/2 = .495.)
    assert expected_calibration_error([0, 1], [0.29, 0.3]).value == pytest.approx(0.205)
    edges, count, _, _ = calibration_bins([0, 1, 1, 0], [0.0, 0.3, 1.0, 0.7])
    assert count.tolist() == [1, 0, 1, 0, 0, 0, 1, 0, 0, 1]


EDGE_SCORES = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@pytest.mark.parametrize("n_bins", [1, 3, 5, 10, 15])
def test_ece_bins_are_those_of_sklearn_calibration_curve(scored, n_bins):
    """The bins of ``calibration_curve(strategy="uniform")``, scores on the edges included."""
    y, s = scored
    edge = np.linspace(0.0, 1.0, n_bins + 1)  # sklearn's edges, and the doubles k/M
    s = np.concatenate([s, EDGE_SCORES, edge, np.arange(n_bins + 1) / n_bins])
    y = np.concatenate([y, np.arange(s.size - y.size) % 2])
    _, count, n_pos, score_sum = calibration_bins(y, s, n_bins)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=n_bins, strategy="uniform")
    filled = count > 0
    assert n_pos[filled] / count[filled] == pytest.approx(prob_true, abs=1e-15)
    assert score_sum[filled] / count[filled] == pytest.approx(prob_pred, abs=1e-15)


def test_ece_scores_on_every_tenth_fall_in_the_bin_below():
    _, count, _, _ = calibration_bins([0] * 11, EDGE_SCORES)
    assert count.tolist() == [2, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # 0.0 and 0.1 share [0, 0.1]


def test_ece_special_cases(scored):
    y, s = scored
    # One bin: ECE = |mean(y) − mean(s)|.
    assert expected_calibration_error(y, s, n_bins=1).value == pytest.approx(
        abs(y.mean() - s.mean())
    )
    # Perfectly calibrated within each bin → 0; all wrong and certain → 1.
    assert expected_calibration_error([1, 0, 0, 0, 1, 1], [0.25] * 4 + [1.0] * 2).value == 0.0
    assert expected_calibration_error([0, 1], [1.0, 0.0]).value == 1.0


# ---------------------------------------------------------------- power mean


@pytest.mark.parametrize("p", [-5, -2, -1, -0.5, 0.5, 1, 2, 3])
def test_power_mean_equals_scipy(p):
    v = [0.5, 0.7, 0.93, 0.99]
    assert power_mean(v, p) == pytest.approx(stats.pmean(v, p), rel=1e-12)


def test_power_mean_properties():
    v = np.array([0.55, 0.8, 0.9, 0.97])
    assert power_mean(v, 1) == pytest.approx(v.mean())
    assert power_mean(v, -1) == pytest.approx(stats.hmean(v))
    assert power_mean(v, 0) == pytest.approx(stats.gmean(v))
    ps = [-20, -5, -2, -1, 0, 1, 2, 5]
    means = [power_mean(v, p) for p in ps]
    assert all(a <= b for a, b in zip(means, means[1:], strict=False))  # non-decreasing in p
    assert all(v.min() <= m <= v.max() for m in means)
    assert power_mean(v, -5) < power_mean(v, 1)  # p = −5 leans towards the worst subgroup
    assert power_mean([0.8] * 3, -5) == pytest.approx(0.8)
    assert power_mean([0.8, 0.0], -5) == 0.0  # the p < 0 limit
    assert power_mean([0.8, 0.0], 0) == 0.0
    assert power_mean([0.9], -5) == pytest.approx(0.9)
    for bad in ([], [0.5, -0.1], [0.5, float("nan")]):
        with pytest.raises(ValueError):
            power_mean(bad, -5)


# ---------------------------------------------------------------- Jigsaw bias metrics

# label, score, identities
ITEMS = [
    (0, 0.1, set()),
    (1, 0.8, set()),
    (0, 0.6, {"a"}),
    (1, 0.7, {"a"}),
    (0, 0.2, {"a", "b"}),
    (1, 0.4, {"b"}),
    (1, 0.9, {"c"}),  # the only "c" item is toxic: its subgroup AUC is undefined
]
LABELS = [label for label, _, _ in ITEMS]
SCORES = [score for _, score, _ in ITEMS]
IDENTITIES = [ids for _, _, ids in ITEMS]


def _member(name: str) -> list[bool]:
    return [name in ids for ids in IDENTITIES]


def test_bias_aucs_by_hand():
    # a: items 3,4,5. Subgroup: pos {.7} vs neg {.6,.2} → 1.
    # BPSN a: subgroup neg {.6,.2} vs background pos {.8,.4,.9} → 5 of 6 pairs (.4 < .6).
    # BNSP a: subgroup pos {.7} vs background neg {.1} → 1.
    assert subgroup_auc(LABELS, SCORES, _member("a")).value == 1.0
    assert bpsn_auc(LABELS, SCORES, _member("a")).value == pytest.approx(5 / 6)
    assert bnsp_auc(LABELS, SCORES, _member("a")).value == 1.0
    # b: items 5,6. BPSN: neg {.2} vs pos {.8,.7,.9} → 1. BNSP: pos {.4} vs neg {.1,.6} → 1/2.
    assert subgroup_auc(LABELS, SCORES, _member("b")).value == 1.0
    assert bpsn_auc(LABELS, SCORES, _member("b")).value == 1.0
    assert bnsp_auc(LABELS, SCORES, _member("b")).value == 0.5
    # c: item 7 only (toxic). BNSP: pos {.9} vs background neg {.1,.6,.2} → 1.
    assert subgroup_auc(LABELS, SCORES, _member("c")) == undefined(
        "no non-toxic item in the subgroup"
    )
    assert bpsn_auc(LABELS, SCORES, _member("c")) == undefined("no non-toxic item in the subgroup")
    assert bnsp_auc(LABELS, SCORES, _member("c")).value == 1.0


def test_bias_aucs_match_sklearn_on_the_defining_subsets(scored):
    y, s = scored
    member = np.random.default_rng(3).random(y.size) < 0.2
    sub = member
    bpsn = (member & (y == 0)) | (~member & (y == 1))
    bnsp = (member & (y == 1)) | (~member & (y == 0))
    for auc, subset in ((subgroup_auc, sub), (bpsn_auc, bpsn), (bnsp_auc, bnsp)):
        expected = roc_auc_score(y[subset], s[subset])  # Mann–Whitney vs trapezoids: 1e-15
        assert auc(y, s, member).value == pytest.approx(expected, abs=1e-15)


def test_jigsaw_bias_score_by_hand():
    report = jigsaw_bias_score(LABELS, SCORES, IDENTITIES)
    assert list(report.subgroups) == ["a", "b", "c"]
    assert report.overall_auc.value == pytest.approx(11 / 12)
    assert (report.subgroups["c"].n_items, report.subgroups["c"].n_toxic) == (1, 1)

    m_sub, m_bpsn, m_bnsp = (report.means[k] for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc"))
    assert m_sub.value.value == pytest.approx(1.0)
    assert (m_sub.n_used, m_sub.n_subgroups, m_sub.excluded) == (2, 3, ("c",))
    expected_bpsn = (((5 / 6) ** -5 + 1) / 2) ** (-1 / 5)
    assert m_bpsn.value.value == pytest.approx(expected_bpsn)
    assert (m_bpsn.n_used, m_bpsn.excluded) == (2, ("c",))
    expected_bnsp = ((1 + 0.5**-5 + 1) / 3) ** (-1 / 5)  # = (34/3)^(−1/5)
    assert m_bnsp.value.value == pytest.approx(expected_bnsp)
    assert (m_bnsp.n_used, m_bnsp.excluded) == (3, ())

    final = 0.25 * (11 / 12 + 1.0 + expected_bpsn + expected_bnsp)
    assert report.final_score.value == pytest.approx(final)
    weighted = jigsaw_bias_score(LABELS, SCORES, IDENTITIES, weights=(1.0, 0.0, 0.0, 0.0))
    assert weighted.final_score.value == pytest.approx(11 / 12)

    out = json.loads(json.dumps(report.to_json()))
    assert out["subgroups"]["c"]["subgroup_auc"] == {
        "value": None,
        "undefined": "no non-toxic item in the subgroup",
    }
    assert out["means"]["subgroup_auc"]["n_used"] == 2


def test_listed_subgroup_nobody_mentions_is_undefined_and_excluded():
    report = jigsaw_bias_score(LABELS, SCORES, IDENTITIES, subgroups=["a", "z"])
    z = report.subgroups["z"]
    assert z.n_items == 0
    for metric in ("subgroup_auc", "bpsn_auc", "bnsp_auc"):
        assert getattr(z, metric) == undefined("no item mentions the identity")
        assert report.means[metric].n_used == 1
    assert report.means["bpsn_auc"].value.value == pytest.approx(5 / 6)


def test_no_defined_subgroup_makes_the_mean_and_final_score_undefined():
    report = jigsaw_bias_score(LABELS, SCORES, IDENTITIES, subgroups=["c"])
    assert report.means["subgroup_auc"].value == undefined("undefined for every subgroup")
    assert report.means["subgroup_auc"].n_used == 0
    assert report.means["bnsp_auc"].value.value == 1.0
    assert report.final_score.value is None
    assert "mean subgroup_auc" in report.final_score.undefined
    assert subgroup_power_mean({}).value == undefined("no subgroups")
    empty = jigsaw_bias_score(LABELS, SCORES, [set()] * len(LABELS))
    assert empty.subgroups == {} and empty.final_score.value is None


def test_jigsaw_bias_score_validates_input():
    with pytest.raises(ValueError, match="identity sets"):
        jigsaw_bias_score(LABELS, SCORES, IDENTITIES[:-1])
    with pytest.raises(ValueError, match="not a string"):
        jigsaw_bias_score([0, 1], [0.1, 0.2], ["a", "b"])
    with pytest.raises(ValueError, match="subgroup flags"):
        subgroup_auc([0, 1], [0.1, 0.2], [True])


# ------------------------------------------------- bias metrics on bootstrap resamples


def test_power_means_leave_nan_out_row_by_row():
    rows = np.array(
        [
            [0.5, np.nan, 0.9, 0.7],
            [np.nan, np.nan, np.nan, np.nan],
            [0.8, 0.0, np.nan, 0.6],
            [0.61, 0.62, 0.99, 0.75],
        ]
    )
    for p in (-5, -1, 0, 2):
        got = power_means(rows, p)
        assert np.isnan(got[1])
        for i in (0, 2, 3):
            defined = rows[i][~np.isnan(rows[i])]
            assert got[i] == pytest.approx(power_mean(defined, p), abs=1e-15)
    assert power_means(rows[2:3], -5)[0] == 0.0  # a zero AUC pulls M_−5 to 0


def _bias_reference(y, s, identities, **kwargs):
    """jigsaw_bias_score's final score and power means on the items of ``row`` (None: undefined)."""

    def of_row(row: np.ndarray) -> list[float | None]:
        report = jigsaw_bias_score(y[row], s[row], [identities[i] for i in row], **kwargs)
        return [report.final_score.value, *(report.means[m].value.value for m in BIAS_AUCS)]

    return of_row


def _assert_bias_equal(statistic, reference, indices: np.ndarray) -> np.ndarray:
    values = statistic(indices)
    assert values.shape == (indices.shape[0], len(BIAS_SUMMARIES))
    expected = np.array(
        [[np.nan if v is None else v for v in reference(row)] for row in indices], dtype=float
    )
    assert np.array_equal(np.isnan(values), np.isnan(expected))
    defined = ~np.isnan(expected)
    assert np.max(np.abs(values[defined] - expected[defined]), initial=0.0) <= 1e-12
    return values


def _rows(n_units: int, n_resamples: int, seed: int) -> np.ndarray:
    """The full sample (row 0), then bootstrap resamples drawn as the interval draws them."""
    drawn = np.concatenate(list(resample_indices(n_units, n_resamples, seed)))
    return np.vstack([np.arange(n_units), drawn])


@pytest.fixture(scope="module")
def identity_scored() -> tuple[np.ndarray, np.ndarray, list[set[str]]]:
    """160 items, scores with ties, 0–2 of four identities each, and one rare identity."""
    rng = np.random.default_rng(21)
    y = rng.integers(0, 2, 160)
    s = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.25, 160), 0, 1), 1)
    identities = [set(rng.choice(list("abcd"), rng.integers(0, 3), replace=False)) for _ in y]
    identities[0] |= {"rare"}
    identities[1] |= {"rare"}
    y[:2] = [0, 1]  # "rare" has one non-toxic and one toxic item
    return y, s, identities


def test_bias_statistic_equals_jigsaw_bias_score_on_each_resample(identity_scored):
    y, s, identities = identity_scored
    idx = _rows(y.size, 20, seed=1)
    # "rare" is undefined on most resamples: its AUCs must be left out of the means there.
    rare_both = np.array([{0, 1} <= set(row) for row in idx])
    assert rare_both[0] and not rare_both.all()
    values = _assert_bias_equal(
        jigsaw_bias_statistic(y, s, identities), _bias_reference(y, s, identities), idx
    )
    report = jigsaw_bias_score(y, s, identities)
    assert values[0, 0] == pytest.approx(report.final_score.value, abs=1e-12)


def test_bias_statistic_with_options_and_undefined_means(identity_scored):
    y, s, identities = identity_scored
    idx = _rows(y.size, 40, seed=2)
    # Only "rare" (plus one nobody mentions): its subgroup mean is NaN unless both items are drawn.
    kwargs = {"subgroups": ["rare", "nobody"], "p": -2.0, "weights": (0.1, 0.2, 0.3, 0.4)}
    values = _assert_bias_equal(
        jigsaw_bias_statistic(y, s, identities, **kwargs),
        _bias_reference(y, s, identities, **kwargs),
        idx,
    )
    assert np.isnan(values[:, 0]).any() and not np.isnan(values[:, 0]).all()


def test_bias_statistic_is_nan_where_a_resample_has_one_class():
    labels = np.array([1, 0, 0, 0, 0, 1, 0, 0])
    scores = np.array([0.9, 0.1, 0.5, 0.5, 0.2, 0.5, 0.7, 0.5])
    identities = [{"a"}, {"a"}, {"a", "b"}, {"b"}, set(), {"b"}, {"a"}, set()]
    idx = _rows(labels.size, 60, seed=3)
    one_class = labels[idx].min(axis=1) == labels[idx].max(axis=1)
    assert one_class.any()
    values = _assert_bias_equal(
        jigsaw_bias_statistic(labels, scores, identities),
        _bias_reference(labels, scores, identities),
        idx,
    )
    assert np.isnan(values[one_class]).all()


def test_bias_statistic_chunks_rows_without_changing_values(identity_scored, monkeypatch):
    y, s, identities = identity_scored
    idx = _rows(y.size, 30, seed=4)
    whole = jigsaw_bias_statistic(y, s, identities)(idx)
    monkeypatch.setattr("bench.metrics.bias.BATCH_ELEMENTS", 1)  # one resample per chunk
    assert np.array_equal(jigsaw_bias_statistic(y, s, identities)(idx), whole, equal_nan=True)


# ------------------------------------------------------------- intervals of the task


NEW_INTERVALS = ("f1_best", "ece", *BIAS_SUMMARIES, "group_accuracy_macro")


def _toxicity_gold(labels: np.ndarray, identities: list[set[str]]) -> ToxicityGold:
    ids = [f"t{i}" for i in range(labels.size)]
    return toxicity_gold(
        [TextItem(i, f"text {i}") for i in ids],
        labels.tolist(),
        ("item",),
        identities=[tuple(sorted(ids_)) for ids_ in identities],
        groups=[f"group {k % 5}" for k in range(len(ids))],
    )


def test_toxicity_task_has_an_interval_for_every_new_metric(identity_scored):
    y, s, identities = identity_scored
    gold = _toxicity_gold(y, identities)
    task = ToxicityTask(gold, "test", Bootstrap(resamples=200, seed=3))
    scored = task.score(list(gold.items), [ToxicityPrediction(float(x)) for x in s])
    for name in NEW_INTERVALS:
        value, ci = scored.metrics[name].value, scored.intervals[name]
        assert ci.n_resamples == 200 and ci.unit == "item" and ci.n_units == y.size, name
        assert ci.value == pytest.approx(value, abs=1e-12), name
        assert ci.low <= value <= ci.high and ci.low < ci.high, (name, ci)


def test_toxicity_task_skips_intervals_of_undefined_metrics():
    labels = np.zeros(30, dtype=int)  # no toxic item: best-threshold F1 and the AUCs are undefined
    gold = _toxicity_gold(labels, [{"a"} if i % 2 else set() for i in range(30)])
    task = ToxicityTask(gold, "test", Bootstrap(resamples=50))
    scores = np.linspace(0, 1, 30)
    scored = task.score(list(gold.items), [ToxicityPrediction(float(x)) for x in scores])
    for name in ("f1_best", *BIAS_SUMMARIES):
        assert scored.metrics[name].value is None and name not in scored.intervals, name
    assert "ece" in scored.intervals and "group_accuracy_macro" in scored.intervals


def test_average_precision_keeps_its_interval_when_every_item_is_toxic():
    """AP needs a toxic item, not both classes (ROC-AUC does)."""
    labels = np.ones(20, dtype=int)
    gold = _toxicity_gold(labels, [set()] * 20)
    task = ToxicityTask(gold, "test", Bootstrap(resamples=50))
    scores = np.linspace(0, 1, 20)
    scored = task.score(list(gold.items), [ToxicityPrediction(float(x)) for x in scores])
    assert scored.metrics["roc_auc"].value is None and "roc_auc" not in scored.intervals
    assert scored.metrics["average_precision"].value == pytest.approx(1.0)
    assert scored.intervals["average_precision"].value == pytest.approx(1.0)


# ------------------------------------------------------------------- at scale (issue 13)


def test_a_score_keeps_no_object_per_item(identity_scored):
    """The scored items' gold, predictions and sample rows are held as columns: what a
    score keeps is a few array entries per item (a dict per sample row kept ~190 bytes)."""
    y, s, identities = identity_scored
    n = 40 * y.size
    gold = _toxicity_gold(np.tile(y, 40), identities * 40)
    predictions = [ToxicityPrediction(float(x)) for x in np.tile(s, 40)]
    task = ToxicityTask(gold, "test", Bootstrap(resamples=10, method="analytic"))
    tracemalloc.start()
    try:
        scored = task.score(list(gold.items), predictions)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(scored.samples) == n
    assert kept / n < 64, f"{kept / n:.0f} bytes kept per item"


def _with_last(prediction: Any, n: int = 3000) -> tuple[list[TextItem], list[Any]]:
    items = [TextItem(f"t{i}", "") for i in range(n)]
    return items, [ToxicityPrediction(0.5)] * (n - 1) + [prediction]


@pytest.mark.parametrize(
    ("prediction", "problem"),
    [
        (ToxicityPrediction(True), "score: expected a probability in [0, 1], got True"),
        (ToxicityPrediction(float("nan")), "score: expected a probability in [0, 1], got nan"),
        (ToxicityPrediction(1.5), "score: expected a probability in [0, 1], got 1.5"),
        (ToxicityPrediction(-0.0001), "score: expected a probability"),
        (ToxicityPrediction("0.5"), "score: expected a probability in [0, 1], got '0.5'"),
        (ToxicityPrediction(10**400), "score: expected a probability"),
        (ToxicityPrediction(0.5, {"insult": 2.0}), "attributes.insult: expected a probability"),
        (ToxicityPrediction(0.5, {"rude": 0.5}), "attributes.rude: unknown attribute"),
        ({"score": 0.5}, "prediction: expected a ToxicityPrediction"),
    ],
)
def test_validating_many_predictions_names_the_one_bad_item(prediction, problem):
    """Predictions are validated with array operations when all are plainly valid; any
    other is found and named as item-by-item validation names it."""
    items, predictions = _with_last(prediction)
    with pytest.raises(PredictionError, match=re.escape(f"item 't2999': {problem}")):
        ToxicityTask(_toxicity_gold(np.zeros(1, int), [set()]), "m").validate(items, predictions)


@pytest.mark.parametrize(
    "prediction",
    [ToxicityPrediction(1), ToxicityPrediction(np.float64(0.25)), ToxicityPrediction(0.0),
     ToxicityPrediction(0.5, {"insult": 1}), PredictionFailure("parse", "no number")],
)  # fmt: skip
def test_validating_many_predictions_accepts_what_each_item_check_accepts(prediction):
    items, predictions = _with_last(prediction)
    ToxicityTask(_toxicity_gold(np.zeros(1, int), [set()]), "m").validate(items, predictions)


def test_the_bias_intervals_hold_few_item_sized_arrays_at_once(monkeypatch):
    """``jigsaw_bias_arrays`` with intervals (issue 13: ten million items) holds the score
    groups and the four influence rows, and little more: each subgroup's items found in
    turn, the background added a chunk of items at a time, a row squared at a time."""
    import bench.metrics.bias as bias

    monkeypatch.setattr(bias, "_CHUNK", 1 << 14, raising=False)  # small beside n, as at 10 M
    n, rng = 200_000, np.random.default_rng(0)
    labels = (rng.random(n) < 0.1).astype(np.int64)
    scores = np.round(np.clip(0.3 * labels + rng.random(n) * 0.7, 0, 1), 3)
    member = rng.random((n, 10)) < 0.05
    names = [f"g{k}" for k in range(10)]
    tracemalloc.start()
    try:
        report = bias.jigsaw_bias_arrays(labels, scores, member, names, alpha=0.05)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.intervals["bias_score"].high > report.final_score.value
    assert peak / n < 60, f"{peak / n:.0f} bytes an item"  # 82 when all were held at once
