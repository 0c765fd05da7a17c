"""The cluster bootstrap: clusters of a dataset, rows per cluster, and why (coverage)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics.attribution import (
    COUNT_COLUMNS,
    AttributionRecord,
    attribution_counts,
    match_attributions,
)
from bench.metrics.bootstrap import f1_statistic, paired_bootstrap, prf_bootstrap
from bench.metrics.clusters import Clusters, cluster_sums
from bench.metrics.spans import span_counts, span_units, strict_units

SEGMENTS = [("d", 5, 20, "d1"), ("d", 20, 50, "d2"), ("d", 60, 90, "d3")]


def test_a_position_belongs_to_the_segment_it_starts_in():
    """Before the first segment: the first; in a gap: the segment before it; an item
    without segments is one cluster."""
    clusters = Clusters(["d", "e"], [*SEGMENTS, ("other", 0, 9, "x")])
    assert len(clusters) == 4 and clusters.items == ("d", "e")
    starts = [0, 5, 19, 20, 55, 60, 89]
    assert clusters.of_spans(["d"] * 7, starts).tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert clusters.of_spans(["e", "e"], [0, 500]).tolist() == [3, 3]
    assert clusters.segment_at("d", 55) == ("d", 20, 50, "d2")
    assert clusters.segment_at("e", 3) is None
    with pytest.raises(ValueError, match="'f' of a span"):
        clusters.of_spans(["f"], [0])


def test_cluster_sums_add_the_rows_of_each_cluster():
    rows = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
    assert cluster_sums(rows, [2, 0, 2, 2], 4).tolist() == [
        [0, 1, 0], [0, 0, 0], [2, 2, 3], [0, 0, 0]
    ]  # fmt: skip


def test_cluster_rows_are_the_entity_rows_of_the_segment_they_start_in():
    """strict: each span in the segment where it starts. SemEval: a pair counts where its
    prediction starts — a prediction crossing from d2 into d3 is a PAR in d2 — and the
    rows still add up to the whole sample's counts."""
    clusters = Clusters(["d"], SEGMENTS)
    gold = [("d", 6, 9, "PER"), ("d", 22, 30, "ORG"), ("d", 62, 70, "LOC")]
    pred = [("d", 6, 9, "PER"), ("d", 45, 65, "LOC"), ("d", 80, 85, "ORG")]
    strict = strict_units(gold, pred, "cluster", clusters=clusters)
    assert strict.tolist() == [[1, 1, 1], [0, 1, 1], [0, 1, 1]]
    partial = span_units(gold, pred, "cluster", clusters=clusters).overall["partial"]
    assert partial.tolist() == [[1, 1, 1], [0.5, 1, 2], [0, 1, 0]]  # d2: PAR + ORG missed
    c = span_counts(gold, pred).overall["partial"]
    assert partial.sum(axis=0).tolist() == [c.correct + 0.5 * c.partial, c.actual, c.possible]
    with pytest.raises(ValueError, match="needs the clusters"):
        strict_units(gold, pred, "cluster")


def test_attribution_cluster_rows_hold_the_quotes_starting_in_each_segment():
    """A gold record belongs to the segment where its content starts, together with the
    prediction matched to it; an unmatched prediction to its own; the rows add up to
    the whole sample."""
    gold = [AttributionRecord("d", ((8, 12), (30, 40)), "ann"),  # d1
            AttributionRecord("d", ((61, 70),), "bob")]  # d3  # fmt: skip
    pred = [AttributionRecord("d", ((30, 40),), "ann"),  # d2, matched to gold 0
            AttributionRecord("d", ((75, 80),), None)]  # d3, spurious  # fmt: skip
    matches = match_attributions(gold, pred)
    counts = attribution_counts(gold, pred, matches, "cluster", clusters=Clusters(["d"], SEGMENTS))
    g, p, pair = (COUNT_COLUMNS.index(k) for k in ("gold", "pred", "content_overlap"))
    assert counts[:, [g, p, pair]].tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 0]]
    whole = attribution_counts(gold, pred, matches, "item").sum(axis=0)
    np.testing.assert_array_equal(counts.sum(axis=0), whole)


# ------------------------------------------------------------------- coverage, simulated

# Each sentence (cluster) has M gold entities and a difficulty d ~ Beta(½, ½) shared by
# them: each entity is found with probability 1 − d, and Binomial(M, d/2) spurious spans
# are predicted. Errors are strongly correlated within a sentence (intra-class
# correlation ½). As the number of sentences grows, micro F1 tends to
#   F1 = 2·E[tp] / (E[n_pred] + E[n_gold]) = 2(1 − μ) / (2 − μ/2),  μ = E[d] = ½.
M, N_SENTENCES, REPETITIONS, RESAMPLES = 5, 100, 300, 200
TRUE_F1 = 2 * (1 - 0.5) / (2 - 0.5 / 2)


def _simulated_corpus(rng: np.random.Generator) -> tuple[list, list, Clusters]:
    """Ten documents of ten sentences each (gold segments of 100 characters)."""
    gold, pred, segments = [], [], []
    difficulty = rng.beta(0.5, 0.5, size=N_SENTENCES)
    for c, d in enumerate(difficulty):
        doc, base = f"doc{c // 10}", (c % 10) * 100
        segments.append((doc, base, base + 100, f"s{c}"))
        found = rng.random(M) < 1 - d
        for k in range(M):
            span = (doc, base + 10 * k, base + 10 * k + 5, "PER")
            gold.append(span)
            if found[k]:
                pred.append(span)
        for k in range(rng.binomial(M, d / 2)):
            pred.append((doc, base + 10 * k + 6, base + 10 * k + 8, "PER"))
    return gold, pred, Clusters(sorted({s[0] for s in segments}), segments)


def test_cluster_intervals_cover_the_true_f1_and_entity_intervals_do_not():
    """Nominal 95% intervals over 300 simulated corpora: resampling sentences covers the
    true F1 ≥ 93% of the time; resampling entities, as if independent, far less (the
    design effect 1 + (M − 1)·½ = 3 makes its intervals √3 too narrow)."""
    covered = {"cluster": 0, "entity": 0}
    for repetition in range(REPETITIONS):
        gold, pred, clusters = _simulated_corpus(np.random.default_rng(1000 + repetition))
        for unit in covered:
            rows = strict_units(gold, pred, unit, clusters=clusters)
            ci = prf_bootstrap(rows, RESAMPLES, seed=repetition, unit=unit)["f1"]
            covered[unit] += ci.low <= TRUE_F1 <= ci.high
            assert ci.n_units == (N_SENTENCES if unit == "cluster" else len(rows))
    coverage = {unit: n / REPETITIONS for unit, n in covered.items()}
    assert coverage["cluster"] >= 0.93, coverage
    assert coverage["entity"] <= 0.85, coverage


def test_paired_test_by_cluster_keeps_its_size_and_by_entity_does_not():
    """Two equally good systems, each with its own difficulty per sentence: pairing
    sentences rejects "equal F1" at p < 0.05 about 5% of the time; pairing entities,
    far more often."""
    rejected = {"cluster": 0, "entity": 0}
    n_gold = N_SENTENCES * M
    sentence = np.repeat(np.arange(N_SENTENCES), M)
    for repetition in range(REPETITIONS):
        rng = np.random.default_rng(2000 + repetition)
        found = [rng.random(n_gold) < 1 - np.repeat(rng.beta(0.5, 0.5, N_SENTENCES), M)
                 for _ in "ab"]  # fmt: skip
        # entity units: each gold entity, (tp, predicted, gold) for system a and b
        rows = [np.column_stack([f, f, np.ones(n_gold)]).astype(int) for f in found]
        tests = {
            "entity": (rows[0], rows[1]),
            "cluster": tuple(cluster_sums(r, sentence, N_SENTENCES) for r in rows),
        }
        for unit, (a, b) in tests.items():
            test = paired_bootstrap(f1_statistic, a, b, RESAMPLES, seed=repetition, unit=unit)
            rejected[unit] += test.p_value < 0.05
    rate = {unit: n / REPETITIONS for unit, n in rejected.items()}
    assert rate["cluster"] <= 0.08, rate
    assert rate["entity"] >= 0.15, rate
