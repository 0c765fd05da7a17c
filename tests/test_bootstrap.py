"""Bootstrap intervals and paired tests vs scikit-learn, a closed form and exact enumeration."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from bench.metrics.bootstrap import (
    approximate_randomization,
    bootstrap_ci,
    bootstrap_cis,
    ece_statistic,
    f1_best_statistic,
    f1_statistic,
    macro_mean_statistic,
    mean_statistic,
    paired_bootstrap,
    precision_recall_f1_arrays,
    prf_bootstrap,
    resample_indices,
    resample_sums,
    resample_weights,
    roc_auc_bootstrap,
    roc_auc_difference_statistic,
    roc_auc_statistic,
)
from bench.metrics.ranking import expected_calibration_error, f1_best_threshold
from bench.metrics.values import precision_recall_f1


def _all_indices(n_units: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    return np.concatenate(list(resample_indices(n_units, n_resamples, seed)))


def _full_and_drawn(n_units: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    """The full sample (row 0) followed by bootstrap resamples (rows with duplicates)."""
    return np.vstack([np.arange(n_units), _all_indices(n_units, n_resamples, seed)])


def _assert_equals_on_rows(values: np.ndarray, reference, indices: np.ndarray) -> None:
    """values[r] == reference(indices[r]) to 1e-12, NaN exactly where reference is None."""
    expected = [reference(row) for row in indices]
    expected = np.array([np.nan if v is None else v for v in expected], dtype=float)
    assert np.array_equal(np.isnan(values), np.isnan(expected))
    defined = ~np.isnan(expected)
    assert np.max(np.abs(values[defined] - expected[defined]), initial=0.0) <= 1e-12


@pytest.fixture(scope="module")
def tied_scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 300)
    s = np.round(0.3 * y + rng.random(300), 1)  # few distinct values: many ties
    return y, s


# ------------------------------------------------------------------------ resampling


def test_resample_indices_are_seeded_and_independent_of_batching():
    a = _all_indices(50, 37, seed=4)
    assert a.shape == (37, 50) and a.min() >= 0 and a.max() < 50
    for batch_size in (1, 5, 36, 100):
        b = np.concatenate(list(resample_indices(50, 37, seed=4, batch_size=batch_size)))
        assert np.array_equal(a, b)
    assert not np.array_equal(a, _all_indices(50, 37, seed=5))


def test_resample_weights_are_per_row_bincounts():
    idx = _all_indices(20, 6)
    w = resample_weights(idx, 20)
    assert w.shape == (6, 20)
    for row, counts in zip(idx, w, strict=True):
        assert np.array_equal(counts, np.bincount(row, minlength=20))


# ------------------------------------------------------------- vectorised ROC-AUC


def test_vectorised_auc_equals_sklearn_on_every_resample(tied_scores):
    y, s = tied_scores
    idx = _all_indices(y.size, 120, seed=1)
    ours = roc_auc_statistic(y, s)(idx)
    reference = np.array([roc_auc_score(y[row], s[row]) for row in idx])
    assert np.max(np.abs(ours - reference)) <= 1e-12
    full = roc_auc_statistic(y, s)(np.arange(y.size)[None, :])[0]
    assert abs(full - roc_auc_score(y, s)) <= 1e-12


def _exact_auc(y: np.ndarray, s: np.ndarray) -> float:
    """2U / (2 · n_pairs) from every toxic/non-toxic pair, in integers: the one rounding."""
    pos, neg = s[y == 1], s[y == 0]
    twice_u = int(2 * (pos[:, None] > neg).sum() + (pos[:, None] == neg).sum())
    return twice_u / (2.0 * (pos.size * neg.size)) if pos.size and neg.size else np.nan


def test_vectorised_auc_is_the_exact_pair_count_to_the_last_bit(tied_scores):
    y, s = tied_scores
    idx = _full_and_drawn(y.size, 60, seed=3)
    expected = [_exact_auc(y[row], s[row]) for row in idx]
    assert np.array_equal(roc_auc_statistic(y, s)(idx), expected)


def _systems(case: str) -> tuple[tuple, tuple]:
    """Two systems' (labels, scores) on the same units."""
    rng = np.random.default_rng(21)
    y = rng.integers(0, 2, 400)
    tied = np.round(0.3 * y + rng.random(400), 1)
    if case == "tied":  # few (A, B) cells: counted once for both
        return (y, tied), (y, np.round(0.1 * y + rng.random(400), 1))
    if case == "distinct":  # as many cells as units: each system its own keys
        return (y, tied), (y, 0.2 * y + rng.random(400))
    if case == "labels differ":
        return (y, tied), (rng.integers(0, 2, 400), tied)
    y = np.array([1, 0, 0, 0, 0, 0, 1, 0])  # few units: resamples of one class (NaN)
    return (y, np.array([0.9, 0.1, 0.5, 0.5, 0.1, 0.9, 0.9, 0.1])), (y, np.zeros(8))


@pytest.mark.parametrize("case", ["tied", "distinct", "labels differ", "few units"])
def test_roc_auc_difference_is_that_of_the_stacked_systems_to_the_last_bit(case):
    a, b = _systems(case)
    n = a[0].size
    idx = _full_and_drawn(n, 300, seed=4)
    stacked = roc_auc_statistic(*(np.concatenate(pair) for pair in zip(a, b, strict=True)))
    expected = stacked(idx) - stacked(idx + n)
    assert np.array_equal(roc_auc_difference_statistic(a, b)(idx), expected, equal_nan=True)
    if case == "few units":
        assert np.isnan(expected).sum() > 10
    # paired_bootstrap takes it for roc_auc_statistic; another builder stacks the units
    generic = paired_bootstrap(lambda *data: roc_auc_statistic(*data), a, b, 300, seed=5)
    assert paired_bootstrap(roc_auc_statistic, a, b, 300, seed=5) == generic


def test_single_class_resamples_are_nan_and_dropped():
    y = np.array([1, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.5, 0.5, 0.2, 0.95])
    idx = _all_indices(y.size, 150, seed=2)
    ours = roc_auc_statistic(y, s)(idx)
    one_class = np.array([len(set(y[row])) < 2 for row in idx])
    assert one_class.sum() > 25
    assert np.array_equal(np.isnan(ours), one_class)
    defined = ~one_class
    reference = [roc_auc_score(y[row], s[row]) for row in idx[defined]]
    assert np.max(np.abs(ours[defined] - reference)) <= 1e-12

    ci = roc_auc_bootstrap(y, s, n_resamples=150, seed=2)
    assert ci.n_dropped == one_class.sum()
    kept = ours[defined]
    assert (ci.low, ci.high) == tuple(np.quantile(kept, [0.025, 0.975]))
    assert ci.value == roc_auc_score(y, s)


def test_roc_auc_bootstrap_undefined_without_both_classes():
    ci = roc_auc_bootstrap([1, 1, 1], [0.1, 0.2, 0.3])
    assert ci.value is None and ci.low is None
    assert ci.undefined == "needs both toxic and non-toxic items"
    assert json.loads(json.dumps(ci.to_json()))["undefined"] == ci.undefined


def test_roc_auc_bootstrap_is_deterministic_and_brackets_the_value(tied_scores):
    y, s = tied_scores
    a = roc_auc_bootstrap(y, s, n_resamples=500, seed=3)
    assert a == roc_auc_bootstrap(y, s, n_resamples=500, seed=3, batch_size=7)
    assert a != roc_auc_bootstrap(y, s, n_resamples=500, seed=4)
    assert a.low < a.value < a.high
    out = json.loads(json.dumps(a.to_json()))
    assert out["n_resamples"] == 500 and out["n_dropped"] == 0 and out["unit"] == "item"
    assert "undefined" not in out


# --------------------------------------------------------- generic interval, closed form


def test_bootstrap_of_a_proportion_matches_the_normal_closed_form():
    # n = 2000 units, 600 ones: p̂ = 0.3, se = sqrt(p̂(1 − p̂)/n) ≈ 0.01025.
    # With B = 4000 the Monte Carlo error is ~1.1% on the se and ~0.04 se on each
    # endpoint, so the tolerances below are > 4 Monte Carlo standard errors.
    n, p = 2000, 0.3
    values = np.zeros(n)
    values[: int(p * n)] = 1
    ci = bootstrap_ci(mean_statistic(values), n, n_resamples=4000, seed=0)
    se = np.sqrt(p * (1 - p) / n)
    assert ci.value == pytest.approx(p)
    assert ci.standard_error == pytest.approx(se, rel=0.05)
    z = stats.norm.ppf(0.975)
    assert abs(ci.low - (p - z * se)) < 0.2 * se
    assert abs(ci.high - (p + z * se)) < 0.2 * se


def test_bootstrap_ci_drops_and_counts_undefined_resamples():
    def first_unit_drawn_twice_is_undefined(indices: np.ndarray) -> np.ndarray:
        out = indices.mean(axis=1).astype(float)
        out[(indices == 0).sum(axis=1) >= 2] = np.nan
        return out

    idx = _all_indices(5, 400, seed=9)
    expected = int(((idx == 0).sum(axis=1) >= 2).sum())
    ci = bootstrap_ci(first_unit_drawn_twice_is_undefined, 5, n_resamples=400, seed=9)
    assert 0 < ci.n_dropped == expected
    all_nan = bootstrap_ci(lambda idx: np.full(len(idx), np.nan), 5, n_resamples=10)
    assert all_nan.value is None and all_nan.undefined == "undefined on the full sample"


def test_bootstrap_ci_validates_arguments():
    stat = mean_statistic([0.0, 1.0])
    for kwargs in ({"n_resamples": 0}, {"alpha": 1.0}, {"alpha": 0.0}):
        with pytest.raises(ValueError):
            bootstrap_ci(stat, 2, **kwargs)
    with pytest.raises(ValueError, match="shape"):
        bootstrap_ci(lambda idx: np.zeros(3), 2, n_resamples=5)


# ---------------------------------------------------------------- count-based metrics


def test_resample_sums_equal_explicit_sums():
    c = np.array([[1, 2, 3], [0, 1, 1], [2, 2, 2], [0, 0, 1]])
    idx = _all_indices(4, 50, seed=6)
    expected = np.array([c[row].sum(axis=0) for row in idx])
    assert np.array_equal(resample_sums(c, idx), expected)


def test_prf_arrays_agree_with_the_scalar_convention():
    rows = [(3, 5, 4), (0, 0, 4), (0, 3, 0), (0, 0, 0), (2, 2, 2)]
    tp, n_pred, n_gold = (np.array(col) for col in zip(*rows, strict=True))
    p, r, f = precision_recall_f1_arrays(tp, n_pred, n_gold)
    for i, row in enumerate(rows):
        assert (p[i], r[i], f[i]) == pytest.approx(precision_recall_f1(*row), abs=1e-15)


def test_prf_bootstrap_point_values_and_shared_resamples():
    rng = np.random.default_rng(8)
    n_gold = rng.integers(0, 6, 120)
    n_pred = rng.integers(0, 6, 120)
    tp = np.minimum(rng.integers(0, 6, 120), np.minimum(n_gold, n_pred))
    c = np.stack([tp, n_pred, n_gold], axis=1)
    cis = prf_bootstrap(c, n_resamples=300, seed=5, unit="document")
    expected = precision_recall_f1(int(tp.sum()), int(n_pred.sum()), int(n_gold.sum()))
    got = (cis["precision"].value, cis["recall"].value, cis["f1"].value)
    assert got == pytest.approx(expected, abs=1e-15)
    assert cis["f1"].unit == "document"
    # F1 from the same resamples as bootstrap_ci over f1_statistic with the same seed.
    alone = bootstrap_ci(f1_statistic(c), 120, n_resamples=300, seed=5, unit="document")
    assert alone == cis["f1"]
    with pytest.raises(ValueError, match="tp cannot exceed"):
        prf_bootstrap(np.array([[2, 1, 3]]))


# ------------------------------------------------------------------------ paired tests


@pytest.fixture(scope="module")
def two_systems() -> tuple[np.ndarray, np.ndarray]:
    """Per-item correctness: A right on ~85% of 400 items, B on ~65%."""
    rng = np.random.default_rng(12)
    a = (rng.random(400) < 0.85).astype(float)
    b = (rng.random(400) < 0.65).astype(float)
    return a, b


@pytest.mark.parametrize("test", [paired_bootstrap, approximate_randomization])
def test_identical_systems_have_zero_difference_and_p_one(test, two_systems, tied_scores):
    a, _ = two_systems
    result = test(mean_statistic, a, a, 500, seed=1)
    assert result.difference == 0.0 and result.p_value == 1.0
    y, s = tied_scores
    result = test(roc_auc_statistic, (y, s), (y, s), 300, seed=1)
    assert result.difference == 0.0 and result.p_value == 1.0
    if test is paired_bootstrap:
        assert (result.low, result.high) == (0.0, 0.0)


@pytest.mark.parametrize("test", [paired_bootstrap, approximate_randomization])
def test_a_clearly_better_system_gets_a_small_p(test, two_systems):
    a, b = two_systems
    result = test(mean_statistic, a, b, 1000, seed=2)
    assert result.difference == pytest.approx(a.mean() - b.mean())
    assert result.difference > 0.1
    assert result.p_value < 0.01
    assert result.p_value >= 1 / 1001  # never 0
    flipped = test(mean_statistic, b, a, 1000, seed=2)
    assert flipped.difference == pytest.approx(-result.difference)
    assert test(mean_statistic, a, b, 1000, seed=2) == result  # seeded


def test_paired_bootstrap_interval_of_an_auc_difference(tied_scores):
    y, s = tied_scores
    noisy = s + np.random.default_rng(3).normal(0, 0.5, s.size)
    result = paired_bootstrap(roc_auc_statistic, (y, s), (y, noisy), 500, seed=0)
    assert result.difference == pytest.approx(roc_auc_score(y, s) - roc_auc_score(y, noisy))
    assert 0 < result.low < result.difference < result.high
    assert result.p_value < 0.01
    out = json.loads(json.dumps(result.to_json()))
    assert out["method"] == "paired bootstrap" and out["n_dropped"] == 0


def test_approximate_randomization_approaches_the_exact_permutation_p():
    a = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    b = np.array([0, 1, 0, 0, 1, 0, 0, 1, 1, 0], dtype=float)
    observed = abs(a.mean() - b.mean())
    deltas = []
    for swap in itertools.product([False, True], repeat=a.size):
        s = np.array(swap)
        deltas.append(abs(np.where(s, b, a).mean() - np.where(s, a, b).mean()))
    exact = np.mean(np.array(deltas) >= observed - 1e-12)
    approx = approximate_randomization(mean_statistic, a, b, 20000, seed=0).p_value
    assert approx == pytest.approx(exact, abs=0.01)


def test_paired_tests_reject_mismatched_systems():
    with pytest.raises(ValueError):
        paired_bootstrap(mean_statistic, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        approximate_randomization(roc_auc_statistic, (np.zeros(3),), (np.zeros(3), np.zeros(3)))


def test_average_precision_statistic_equals_sklearn_on_each_resample():
    from sklearn.metrics import average_precision_score

    from bench.metrics.bootstrap import average_precision_statistic, resample_indices

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 2)  # ties on purpose
    [indices] = list(resample_indices(300, 50, seed=3))
    values = average_precision_statistic(labels, scores)(indices)
    for row, value in zip(indices, values, strict=True):
        if labels[row].sum() == 0:
            assert np.isnan(value)
        else:
            assert value == pytest.approx(
                average_precision_score(labels[row], scores[row]), abs=1e-12
            )


# ------------------------------------------------- best-threshold F1, ECE, macro mean


def test_f1_best_statistic_equals_f1_best_threshold_on_each_resample(tied_scores):
    y, s = tied_scores
    idx = _full_and_drawn(y.size, 60, seed=5)
    values = f1_best_statistic(y, s)(idx)
    _assert_equals_on_rows(values, lambda row: f1_best_threshold(y[row], s[row]).f1.value, idx)
    assert values[0] == f1_best_threshold(y, s).f1.value


def test_f1_best_statistic_is_nan_without_a_toxic_unit():
    y = np.array([1, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.5, 0.5, 0.2, 0.95])
    idx = _full_and_drawn(y.size, 150, seed=2)
    values = f1_best_statistic(y, s)(idx)
    no_toxic = y[idx].sum(axis=1) == 0
    assert 25 < no_toxic.sum() < 140
    _assert_equals_on_rows(values, lambda row: f1_best_threshold(y[row], s[row]).f1.value, idx)


@pytest.mark.parametrize("n_bins", [1, 7, 10])
def test_ece_statistic_equals_expected_calibration_error_on_each_resample(n_bins):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200), 1)  # ties, and scores on bin edges: 0.0, 0.3, 1.0 …
    idx = _full_and_drawn(y.size, 60, seed=6)
    values = ece_statistic(y, s, n_bins)(idx)
    _assert_equals_on_rows(
        values, lambda row: expected_calibration_error(y[row], s[row], n_bins).value, idx
    )


def test_ece_statistic_is_defined_on_one_class_and_checks_probabilities():
    y = np.array([1, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.5, 0.5, 0.2, 0.95])
    idx = _full_and_drawn(y.size, 80, seed=2)
    assert (y[idx].sum(axis=1) == 0).any()
    values = ece_statistic(y, s)(idx)
    _assert_equals_on_rows(
        values, lambda row: expected_calibration_error(y[row], s[row]).value, idx
    )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ece_statistic([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="n_bins"):
        ece_statistic([0, 1], [0.5, 0.5], n_bins=0)


def _macro_mean(values: np.ndarray, groups: np.ndarray) -> float:
    """Mean over the groups present of each group's mean value, by plain Python."""
    by_group: dict[str, list[float]] = {}
    for value, group in zip(values, groups, strict=True):
        by_group.setdefault(group, []).append(value)
    return float(np.mean([np.mean(v) for v in by_group.values()]))


def test_macro_mean_statistic_leaves_absent_groups_out():
    rng = np.random.default_rng(9)
    correct = rng.integers(0, 2, 40).astype(float)
    groups = np.array(["rare"] + list(rng.choice(["a", "b", "c"], 39)))
    correct[0] = 1.0  # the rare group, drawn or not, moves the macro mean
    idx = _full_and_drawn(correct.size, 100, seed=3)
    rare_absent = (idx != 0).all(axis=1)
    assert 10 < rare_absent.sum() < 90
    values = macro_mean_statistic(correct, groups)(idx)
    _assert_equals_on_rows(values, lambda row: _macro_mean(correct[row], groups[row]), idx)
    with pytest.raises(ValueError, match="group labels"):
        macro_mean_statistic([1.0, 0.0], ["a"])


def test_bootstrap_cis_equal_one_bootstrap_ci_per_column(tied_scores):
    y, s = tied_scores
    auc, f1_best = roc_auc_statistic(y, s), f1_best_statistic(y, s)

    def both(indices: np.ndarray) -> np.ndarray:
        return np.column_stack([auc(indices), f1_best(indices)])

    cis = bootstrap_cis(both, ("auc", "f1_best"), y.size, 200, seed=7, batch_size=33)
    assert cis["auc"] == bootstrap_ci(auc, y.size, 200, seed=7)
    assert cis["f1_best"] == bootstrap_ci(f1_best, y.size, 200, seed=7)
    with pytest.raises(ValueError, match="3 values per resample"):
        bootstrap_cis(both, ("a", "b", "c"), y.size, 10)
