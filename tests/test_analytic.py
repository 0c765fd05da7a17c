"""Analytic intervals: DeLong against its O(n²) definition, Wilson against scipy, coverage
by simulation, agreement with the bootstrap at n = 2000, and the switch in runs."""

from __future__ import annotations

import numpy as np
import pytest
from bench_config import run_model
from omegaconf import OmegaConf
from scipy import stats
from sklearn.metrics import roc_auc_score

from bench.cli import CONF_DIR
from bench.data.views import toxicity_gold
from bench.metrics.analytic import (
    ANALYTIC_ABOVE,
    auc_tables,
    delong_paired_test,
    delong_roc_auc_ci,
    delta_method_sums,
    prf_analytic,
    ratio_standard_error,
    wilson_ci,
)
from bench.metrics.bias import jigsaw_bias_score
from bench.metrics.bootstrap import (
    bootstrap_ci,
    paired_bootstrap,
    prf_bootstrap,
    roc_auc_statistic,
)
from bench.metrics.score_groups import score_groups
from bench.metrics.spans import macro_f1_of_sums, span_macro_f1_statistic
from bench.predictions import TextItem, ToxicityPrediction
from bench.runner import ConfigError
from bench.tasks.base import Bootstrap
from bench.tasks.toxicity import ToxicityTask


def _components(y: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong et al. (1988) as written: ψ over every toxic/non-toxic pair, O(m·n); the AUC
    and the structural components V10 (per toxic item) and V01 (per non-toxic item)."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def _delong_direct(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    auc, v10, v01 = _components(y, s)
    return auc, float(v10.var(ddof=1) / v10.size + v01.var(ddof=1) / v01.size)


def _delong_paired_direct(y: np.ndarray, s_a: np.ndarray, s_b: np.ndarray) -> tuple[float, float]:
    """A − B and Var(A − B) by DeLong et al. (1988), eq. (3)–(4): the 2×2 covariances
    S10, S01 (ddof = 1) of the two models' components, contrasted with L = (1, −1)."""
    (auc_a, v10_a, v01_a), (auc_b, v10_b, v01_b) = _components(y, s_a), _components(y, s_b)
    s10, s01 = np.cov(np.vstack([v10_a, v10_b])), np.cov(np.vstack([v01_a, v01_b]))
    contrast = np.array([1.0, -1.0])
    variance = contrast @ s10 @ contrast / v10_a.size + contrast @ s01 @ contrast / v01_a.size
    return auc_a - auc_b, float(variance)


def _correlated_scores(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two models' scores sharing a latent score (correlated), rounded (ties)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    latent = rng.normal(0.8 * y, 1.0)
    s_a = np.round(latent + rng.normal(0, 0.5, n), 1)
    s_b = np.round(latent + rng.normal(0, 0.7, n), 1)
    return y, s_a, s_b


@pytest.mark.parametrize("seed", range(4))
def test_delong_variance_equals_the_direct_quadratic_computation(seed):
    rng = np.random.default_rng(seed)
    n = 150
    y = (rng.random(n) < 0.4).astype(np.int64)
    s = np.round(rng.normal(0.5 * y, 1.0), 1)  # rounded: many ties
    auc, variance = _delong_direct(y, s)
    groups = score_groups(y, s)
    parts = auc_tables(groups.positive, groups.negative)
    assert parts.auc == pytest.approx(auc, abs=1e-12)
    assert parts.auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert parts.variance == pytest.approx(variance, rel=1e-10)
    ci = delong_roc_auc_ci(y, s)
    assert ci.method == "delong" and ci.standard_error == pytest.approx(np.sqrt(variance))
    assert ci.low == pytest.approx(auc - 1.959963984540054 * np.sqrt(variance))


def test_delong_is_undefined_without_both_classes():
    ci = delong_roc_auc_ci([1, 1, 1], [0.2, 0.5, 0.9])
    assert ci.value is None and ci.undefined == "needs both toxic and non-toxic items"


def test_delong_covers_the_true_auc_about_95_percent_of_the_time():
    """Binormal scores, toxic ~ N(d, 1), non-toxic ~ N(0, 1): true AUC = Φ(d/√2). With 400
    samples of n = 2000 the coverage of a 95% interval has sd 1.1%; ±3 sd is the band."""
    rng = np.random.default_rng(7)
    d = 1.2
    truth = stats.norm.cdf(d / np.sqrt(2))
    hits = 0
    for _ in range(400):
        y = (rng.random(2000) < 0.3).astype(np.int64)
        ci = delong_roc_auc_ci(y, rng.normal(d * y, 1.0))
        hits += ci.low <= truth <= ci.high
    assert 0.917 <= hits / 400 <= 0.983


Z95 = stats.norm.ppf(0.975)


@pytest.mark.parametrize("seed", range(4))
def test_paired_delong_variance_equals_the_direct_quadratic_computation(seed):
    y, s_a, s_b = _correlated_scores(seed, 300)
    difference, variance = _delong_paired_direct(y, s_a, s_b)
    test = delong_paired_test(y, s_a, s_b)
    assert test.difference == pytest.approx(difference, abs=1e-12)
    assert test.difference == pytest.approx(roc_auc_score(y, s_a) - roc_auc_score(y, s_b))
    se = np.sqrt(variance)
    assert (test.low, test.high) == pytest.approx(
        (difference - Z95 * se, difference + Z95 * se), rel=1e-9
    )
    assert test.p_value == pytest.approx(2 * stats.norm.sf(abs(difference) / se), rel=1e-9)
    assert (test.method, test.n_resamples, test.n_units, test.alpha) == ("delong", 0, 300, 0.05)
    assert test.undefined is None


# pROC's test data (tests/testthat/helper-deLongPlacementsCpp-expected.R of
# github.com/xrobin/pROC): DeLong's placements of the 41 poor-outcome (toxic here) and 72
# good-outcome patients of its aSAH data set, for the wfns and s100b predictors, each
# patient at the same position in both; as integers: twice the placement times 72 (a
# case: 2·controls below + controls tied) and times 41 (a control: 2·cases above + tied).
ASAH_CASES = {
    "wfns": [117, 94, 128, 140, 140, 140, 140, 94, 140, 94, 37, 94, 140, 128, 128, 94, 140, 140,
             140, 94, 140, 94, 140, 94, 128, 140, 128, 128, 37, 128, 128, 94, 94, 140, 140, 94,
             94, 140, 140, 140, 140],
    "s100b": [81, 63, 103, 78, 130, 144, 140, 26, 123, 50, 26, 128, 126, 139, 144, 118, 144,
              144, 144, 26, 144, 120, 0, 50, 116, 144, 118, 144, 38, 118, 81, 63, 74, 116, 144,
              88, 144, 121, 144, 144, 130],
}  # fmt: skip
ASAH_CONTROLS = {
    "wfns": [80, 80, 80, 80, 18, 80, 66, 66, 80, 66, 66, 80, 80, 80, 66, 80, 66, 80, 80, 53, 44,
             80, 44, 80, 18, 18, 80, 80, 66, 44, 80, 80, 66, 66, 80, 66, 80, 66, 66, 80, 80, 80,
             80, 66, 80, 66, 80, 80, 53, 66, 44, 66, 80, 44, 80, 80, 18, 44, 66, 66, 80, 80, 80,
             53, 80, 66, 66, 44, 44, 80, 80, 80],
    "s100b": [58, 55, 66, 80, 28, 52, 66, 66, 80, 73, 80, 70, 63, 77, 52, 77, 63, 58, 52, 80, 53,
              55, 36, 70, 24, 28, 53, 77, 32, 28, 63, 73, 70, 73, 80, 58, 66, 55, 54, 80, 80, 70,
              80, 70, 73, 53, 70, 73, 37, 63, 42, 77, 66, 39, 77, 80, 48, 34, 66, 54, 73, 55, 66,
              77, 80, 52, 54, 28, 52, 54, 24, 27],
}  # fmt: skip


def _scores_with_placements(cases: list[int], controls: list[int]) -> np.ndarray:
    """Scores (cases, then controls) whose DeLong placements are the given ones: a case
    scores its own 2·(controls below) + (controls tied); the controls, ordered by their
    placement (fewer cases above: higher), score the same count at their level."""
    placement = np.asarray(controls)
    levels, count = np.unique(-placement, return_counts=True)  # ascending score
    level_score = 2 * (np.cumsum(count) - count) + count
    return np.concatenate([cases, level_score[np.searchsorted(levels, -placement)]]).astype(float)


def test_paired_delong_equals_procs_published_test_of_wfns_and_s100b():
    """pROC's roc.test(r.wfns, r.s100b) (DeLong, paired), tests/testthat/test-roc.test.R:
    Z = 2.20898359144091, p = 0.0271757822291882, 95% CI [0.0104061769564846,
    0.174214419249478]."""
    y = np.r_[np.ones(41, np.int64), np.zeros(72, np.int64)]
    scores = {}
    for name in ("wfns", "s100b"):
        scores[name] = _scores_with_placements(ASAH_CASES[name], ASAH_CONTROLS[name])
        groups = score_groups(y, scores[name])
        tables = auc_tables(groups.positive, groups.negative)
        assert tables.v10[groups.group[:41]] * 144 == pytest.approx(ASAH_CASES[name])
        assert tables.v01[groups.group[41:]] * 82 == pytest.approx(ASAH_CONTROLS[name])
    test = delong_paired_test(y, scores["wfns"], scores["s100b"])
    assert (test.low, test.high) == pytest.approx((0.0104061769564846, 0.174214419249478), 1e-12)
    assert test.p_value == pytest.approx(0.0271757822291882, rel=1e-12)
    se = (test.high - test.low) / (2 * Z95)
    assert test.difference / se == pytest.approx(2.20898359144091, rel=1e-12)


@pytest.mark.parametrize("seed", range(2))
def test_paired_delong_agrees_with_the_paired_bootstrap_at_n_2000(seed):
    """Standard errors (half the interval over z) within 15% and bounds within 0.3
    bootstrap se; the p-values close (observed: se ratios 0.98–1.03, bounds within 0.11
    se, p 0.004 vs 0.005 and 0.098 vs 0.092)."""
    y, s_a, s_b = _correlated_scores(seed, 2000)
    delong = delong_paired_test(y, s_a, s_b)
    boot = paired_bootstrap(roc_auc_statistic, (y, s_a), (y, s_b), 1000, seed)
    assert delong.difference == pytest.approx(boot.difference, abs=1e-12)
    se_boot = (boot.high - boot.low) / (2 * Z95)
    assert 0.85 < (delong.high - delong.low) / (boot.high - boot.low) < 1.15
    for bound in ("low", "high"):
        assert abs(getattr(delong, bound) - getattr(boot, bound)) < 0.3 * se_boot, bound
    assert delong.p_value == pytest.approx(boot.p_value, abs=0.02)


def test_paired_delong_edge_cases_follow_proc():
    """se = 0: z = 0 when the AUCs are equal (p = 1), ±∞ otherwise (p = 0), as pROC's
    delong.paired.test; without a class nothing is defined, with one item of a class no
    variance."""
    y = np.array([0, 0, 0, 1, 1, 1] * 5)
    s = np.arange(30, dtype=float)
    same = delong_paired_test(y, s, s)
    assert (same.difference, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    perfect = (y * 100 + s).astype(float)
    flipped = delong_paired_test(y, perfect, -perfect)
    assert (flipped.difference, flipped.low, flipped.high, flipped.p_value) == (1.0,) * 3 + (0.0,)
    one_class = delong_paired_test(np.ones(30, np.int64), s, -s)
    assert (one_class.difference, one_class.p_value) == (None, None)
    assert one_class.undefined == "needs both toxic and non-toxic items"
    lone = np.r_[1, np.zeros(29, np.int64)]
    single = delong_paired_test(lone, s, -s)
    assert single.difference == pytest.approx(roc_auc_score(lone, s) - roc_auc_score(lone, -s))
    assert (single.low, single.high, single.p_value) == (None, None, None)
    assert single.undefined == "no variance: needs two toxic and two non-toxic items"


def test_the_switch_point_is_one_constant_shared_with_the_config():
    """conf/config.yaml's bootstrap.analytic_above is the Python default (ANALYTIC_ABOVE)."""
    assert OmegaConf.load(CONF_DIR / "config.yaml").bootstrap.analytic_above == ANALYTIC_ABOVE
    assert Bootstrap().analytic_above == ANALYTIC_ABOVE


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (57, 400), (1, 2000)])
def test_wilson_equals_scipy(k, n):
    ci = wilson_ci(k, n)
    expected = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert (ci.low, ci.high) == pytest.approx((expected.low, expected.high), abs=1e-12)
    assert ci.method == "wilson" and ci.value == k / n


def test_ratio_standard_error_matches_the_bootstrap_of_a_ratio():
    """Per-cluster counts (several entities per unit): the delta-method se of micro F1
    within 10% of the bootstrap's (2000 resamples: Monte Carlo error of the se ≈ 1.6%)."""
    rng = np.random.default_rng(3)
    n_gold = rng.poisson(3.0, 2000)
    n_pred = rng.poisson(3.0, 2000)
    tp = np.minimum(rng.binomial(n_gold, 0.7), n_pred)
    rows = np.column_stack([tp, n_pred, n_gold]).astype(float)
    analytic = prf_analytic(rows)
    boot = prf_bootstrap(rows, 2000, seed=0)
    for name in ("precision", "recall", "f1"):
        assert analytic[name].method == "delta"
        assert analytic[name].value == pytest.approx(boot[name].value, abs=1e-12)
        ratio = analytic[name].standard_error / boot[name].standard_error
        assert 0.9 < ratio < 1.1, (name, ratio)
    f1, se = ratio_standard_error(2 * tp, n_pred + n_gold)
    assert f1 == analytic["f1"].value and se == analytic["f1"].standard_error


def test_prf_of_binary_units_uses_wilson_for_precision_and_recall():
    rows = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]], float)
    out = prf_analytic(rows)
    assert out["precision"].method == out["recall"].method == "wilson"
    assert out["precision"].n_units == 5
    assert (out["precision"].low, out["precision"].high) == pytest.approx(
        (wilson_ci(2, 3).low, wilson_ci(2, 3).high)
    )
    assert out["f1"].method == "delta"
    nothing_predicted = prf_analytic(np.array([[0, 0, 1], [0, 0, 0], [0, 0, 1]], float))
    assert nothing_predicted["precision"].value == 0.0  # as precision_recall_f1's zero_division
    assert (nothing_predicted["precision"].low, nothing_predicted["precision"].high) == (0, 0)
    assert nothing_predicted["recall"].method == "wilson"


def _synthetic_task(seed: int, n: int = 2000, n_identities: int = 6):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1), 2)
    member = rng.random((n, n_identities)) < 0.1
    items = tuple(TextItem(f"i{i}", "") for i in range(n))
    gold = toxicity_gold(
        items,
        y.tolist(),
        ("segment",),
        identities=[tuple(f"id{k}" for k in np.flatnonzero(member[i])) for i in range(n)],
        groups=[f"g{i % 7}" for i in range(n)],
    )
    return gold, list(items), [ToxicityPrediction(float(v)) for v in s]


@pytest.mark.parametrize("seed", range(2))
def test_analytic_toxicity_intervals_agree_with_the_bootstrap_at_n_2000(seed):
    """Every toxicity interval, by formula and by 1000 resamples of the same items.

    Tolerance: standard errors within 15% and each bound within 0.6 bootstrap se. The
    bootstrap's own Monte Carlo error is ≈ 2% on its se and ≈ 0.1–0.15 se on a percentile
    bound; the rest is the skew the symmetric normal interval ignores, largest for ECE, the
    best-threshold F1 and the p = −5 power means (observed: up to 0.51 se, se ratios
    0.94–1.09)."""
    gold, items, predictions = _synthetic_task(seed)
    analytic = ToxicityTask(gold, "x", Bootstrap(1000, seed, method="analytic"))
    resampled = ToxicityTask(gold, "x", Bootstrap(1000, seed, method="bootstrap"))
    a = analytic.score(items, predictions)
    b = resampled.score(items, predictions)
    assert a.metrics == b.metrics
    assert set(a.intervals) == set(b.intervals) >= {"roc_auc", "bias_score", "f1_best", "ece"}
    methods = {name: ci.method for name, ci in a.intervals.items()}
    assert methods["roc_auc"] == "delong" and methods["average_precision"] == "logit"
    assert methods["f1"] == "delta" and methods["bias_score"] == "delta (delong)"
    for name, ci in a.intervals.items():
        reference = b.intervals[name]
        assert reference.method == "percentile bootstrap"
        assert ci.value == pytest.approx(a.metrics[name].value, abs=1e-12), name
        assert 0.85 < ci.standard_error / reference.standard_error < 1.15, name
        for bound in ("low", "high"):
            gap = abs(getattr(ci, bound) - getattr(reference, bound))
            assert gap < 0.6 * reference.standard_error, (name, bound)


def test_bias_aucs_from_arrays_equal_sklearn_on_each_subset():
    gold, items, predictions = _synthetic_task(5, n=600)
    y = gold.labels.astype(np.int64)
    s = np.array([p.score for p in predictions])
    identities = [gold.identities(k) for k in range(len(items))]
    report = jigsaw_bias_score(y, s, identities)
    for name, sub in report.subgroups.items():
        member = np.array([name in ids for ids in identities])
        masks = (member, (member & (y == 0)) | (~member & (y == 1)),
                 (member & (y == 1)) | (~member & (y == 0)))  # fmt: skip
        values = (sub.subgroup_auc, sub.bpsn_auc, sub.bnsp_auc)
        for mask, value in zip(masks, values, strict=True):
            assert value.value == pytest.approx(roc_auc_score(y[mask], s[mask]), abs=1e-12)


@pytest.mark.parametrize(
    ("overrides", "analytic"),
    [
        (("bootstrap.method=analytic",), {"segment", "document"}),
        # auto: the seed article's 40 segments above the switch, its 3 documents below
        (("bootstrap.analytic_above=5",), {"segment"}),
        ((), set()),
        (("bootstrap.method=bootstrap", "bootstrap.analytic_above=5"), set()),
    ],
)
def test_runs_record_the_method_of_each_interval(tmp_path, overrides, analytic):
    result = run_model(tmp_path, "rules", "task=toxicity", "bootstrap.resamples=50", *overrides)
    metrics = result.result["tasks"]["toxicity"]["metrics"]
    methods = {name: m["ci95"]["method"] for name, m in metrics.items() if "ci95" in m}
    assert {"roc_auc", "f1", "brier", "ece", "bias_score", "document_roc_auc"} <= set(methods)
    for name, method in methods.items():
        level = "document" if name.startswith("document_") else "segment"
        assert (method != "percentile bootstrap") == (level in analytic), name
    assert methods["roc_auc"] == ("delong" if analytic else "percentile bootstrap")
    for name, metric in metrics.items():
        ci = metric.get("ci95", {})
        if ci.get("low") is not None:
            assert ci["low"] - 1e-12 <= metric["value"] <= ci["high"] + 1e-12, name


@pytest.mark.parametrize("override", ["bootstrap.method=jackknife", "bootstrap.analytic_above=0"])
def test_a_bad_interval_method_is_a_config_error(tmp_path, override):
    with pytest.raises(ConfigError, match=override.split("=")[0]):
        run_model(tmp_path, "rules", "task=toxicity", override)
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize("task", ["ner", "attribution"])
def test_analytic_ner_and_attribution_intervals_are_delta_method_over_clusters(tmp_path, task):
    result = run_model(tmp_path, "rules", f"task={task}", "bootstrap.method=analytic").result
    metrics = result["tasks"][task]["metrics"]
    intervals = {name: m["ci95"] for name, m in metrics.items() if "ci95" in m}
    assert "strict_macro_f1" in intervals if task == "ner" else "e2e_f1" in intervals
    for name, ci in intervals.items():
        assert ci["method"] in ("delta", "wilson"), name
        assert ci["unit"] == "cluster" and ci["n_units"] == 40, name
        if ci["low"] is not None:
            assert ci["low"] - 1e-12 <= metrics[name]["value"] <= ci["high"] + 1e-12, name


def test_delta_method_of_sums_equals_the_ratio_formula():
    rng = np.random.default_rng(11)
    rows = np.column_stack([rng.poisson(2.0, 500), rng.poisson(4.0, 500) + 1]).astype(float)
    [ci] = delta_method_sums(rows, lambda s: (s[:, 0] / s[:, 1])[:, None], ["r"]).values()
    value, se = ratio_standard_error(rows[:, 0], rows[:, 1])
    assert ci.value == value and ci.method == "delta"
    assert ci.standard_error == pytest.approx(se, rel=1e-6)


def test_delta_method_macro_f1_agrees_with_the_bootstrap_at_n_2000():
    """Per-label (credit, actual, possible) of 4 labels over 2000 sentences; one label
    absent everywhere (left out of the macro mean, as by the bootstrap statistic)."""
    rng = np.random.default_rng(5)
    possible = rng.poisson([0.8, 0.5, 0.3, 0.0], (2000, 4))
    actual = rng.poisson([0.8, 0.6, 0.2, 0.0], (2000, 4))
    credit = np.minimum(rng.binomial(possible, 0.75), actual)
    rows = np.stack([credit, actual, possible], axis=2).reshape(2000, 12).astype(float)
    of_sums = lambda sums: macro_f1_of_sums(sums)[:, None]  # noqa: E731
    [ci] = delta_method_sums(rows, of_sums, ["f1"]).values()
    boot = bootstrap_ci(span_macro_f1_statistic(rows), 2000, 1000, seed=0)
    assert ci.value == pytest.approx(boot.value, abs=1e-12)
    assert 0.85 < ci.standard_error / boot.standard_error < 1.15
