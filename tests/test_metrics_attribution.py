"""Attribution matching and speaker resolution, on hand-computed cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.metrics.attribution import (
    COUNT_COLUMNS,
    AttributionRecord,
    attribution_counts,
    attribution_metrics,
    attribution_scores,
    build_alias_table,
    match_attributions,
    match_overlap,
    normalise_name,
    resolve_speaker,
)
from bench.metrics.bootstrap import resample_indices, resample_sums


def rec(item, content, speaker=None, cue=None, source=None, type=None):
    return AttributionRecord(item, tuple(content), speaker, cue, source, type)


GOLD = [
    rec("d", [(0, 10)], "ann", (12, 16), (17, 20), "direct"),
    rec("d", [(30, 40), (50, 60)], "bob", (42, 47), (47, 49), "direct"),
    rec("e", [(5, 25)], "ann", (0, 4), (26, 29), "indirect"),
]


def values(metrics):
    return {k: v.value for k, v in metrics.items()}


def test_perfect_prediction_scores_one():
    metrics, pairs = attribution_scores(GOLD, GOLD)
    assert pairs == [(0, 0), (1, 1), (2, 2)]
    assert all(v == 1.0 for v in values(metrics).values())


def test_hand_computed_partial_case():
    pred = [
        rec("d", [(0, 10)], "bob", (12, 16), (17, 20), "direct"),  # exact, wrong speaker
        rec("d", [(35, 40)], "bob", (42, 47), None, "mixed"),  # overlaps gold 1, right speaker
        rec("e", [(70, 80)], "ann", None, None, None),  # spurious
    ]
    m = values(attribution_scores(GOLD, pred)[0])
    # exact content: 1 of 3 pred, 1 of 3 gold -> F1 = 1/3
    assert m["content_exact_f1"] == pytest.approx(1 / 3)
    # overlap pairs: (0,0), (1,1) -> P = R = 2/3
    assert m["content_overlap_f1"] == pytest.approx(2 / 3)
    assert m["source_accuracy"] == pytest.approx(1 / 2)
    # e2e: 1 correct / 3 pred, 1 / 3 gold
    assert m["e2e_f1"] == pytest.approx(1 / 3)
    # cue: two predictions give a cue, both exact -> P = 1, R = 2/3
    assert m["cue_exact_f1"] == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))
    # source: one prediction gives a source, exact -> P = 1, R = 1/3
    assert m["source_exact_f1"] == pytest.approx(2 * (1 / 3) / (1 + 1 / 3))
    # type on typed matched pairs: direct==direct, mixed!=direct
    assert m["type_accuracy"] == pytest.approx(1 / 2)
    # direct: gold 2, both matched -> R = 1; pred typed direct 1, matched -> P = 1
    assert m["content_overlap_f1.direct"] == pytest.approx(1.0)
    # indirect: gold 1 unmatched -> R = 0, no pred -> 0
    assert m["content_overlap_f1.indirect"] == 0.0


def test_overlap_matching_is_one_to_one_and_maximises_overlap():
    gold = [rec("d", [(0, 10)]), rec("d", [(10, 20)])]
    pred = [rec("d", [(5, 18)])]  # 5 chars with gold 0, 8 with gold 1
    assert match_overlap(gold, pred) == [(1, 0)]
    two = [rec("d", [(0, 20)]), rec("d", [(0, 20)])]
    assert len(match_overlap(gold, two)) == 2


def test_duplicate_cue_spans_match_as_a_multiset():
    gold = [rec("d", [(0, 5)], cue=(9, 12)), rec("d", [(20, 25)], cue=(9, 12))]
    m = values(attribution_scores(gold, gold[:1])[0])
    assert m["cue_exact_f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)


@pytest.mark.parametrize(("gold", "pred"), [([], []), (GOLD, []), ([], GOLD)])
def test_zero_gold_or_zero_predictions_do_not_divide_by_zero(gold, pred):
    metrics, pairs = attribution_scores(gold, pred)
    assert pairs == []
    assert metrics["content_overlap_f1"].value == 0.0
    assert metrics["source_accuracy"].value is None
    assert metrics["source_accuracy"].undefined


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mr. Videgaray", "videgaray"),
        ("Videgaray’s", "videgaray"),
        ("PRESIDENT Donald Trump", "donald trump"),
        ("luis_videgaray", "luis videgaray"),
        ("  Ms.  Jane   Doe ", "jane doe"),
    ],
)
def test_normalise_name(name, expected):
    assert normalise_name(name) == expected


def test_resolve_speaker_through_aliases():
    table = build_alias_table([("luis_videgaray", ["Luis Videgaray", "Mr. Videgaray"])])
    assert resolve_speaker("mr videgaray", table) == "luis_videgaray"
    assert resolve_speaker("Videgaray’s", table) == "luis_videgaray"
    assert resolve_speaker("luis_videgaray", table) == "luis_videgaray"
    assert resolve_speaker("Someone Else", table) is None
    assert resolve_speaker(None, table) is None


# ---------------------------------------------------------------- per-unit counts


def random_records(rng, n, typed):
    def span():
        start = int(rng.integers(0, 90))
        return (start, start + int(rng.integers(1, 12)))

    def maybe(value):
        return value if rng.random() < 0.7 else None

    return [
        rec(
            str(rng.choice(["a", "b", "c"])),
            sorted({span() for _ in range(int(rng.integers(1, 3)))}),
            maybe(str(rng.choice(["ann", "bob"]))),
            maybe(span()),
            maybe(span()),
            str(rng.choice(["direct", "indirect", "mixed"])) if typed else maybe("direct"),
        )
        for _ in range(n)
    ]


def metric_values(metrics):
    return {name: m.value for name, m in metrics.items() if m.value is not None}


def statistic_values(sums):
    return {name: float(v[0]) for name, v in attribution_metrics(sums).items() if np.isfinite(v[0])}


def resampled(records, copies):
    return [replace(r, item_id=copy) for r in records for copy in copies.get(r.item_id, [])]


@pytest.mark.parametrize("seed", range(8))
def test_item_bootstrap_statistic_equals_the_metrics_on_the_resampled_items(seed):
    rng = np.random.default_rng(seed)
    gold, pred = random_records(rng, 9, typed=True), random_records(rng, 8, typed=False)
    counts = attribution_counts(gold, pred, match_attributions(gold, pred), "item")
    items = sorted({r.item_id for r in (*gold, *pred)})
    assert len(counts) == len(items)
    for row in next(resample_indices(len(items), 5, seed=seed)):
        # each draw of an item becomes an item of its own
        drawn = {items[k]: [] for k in row}
        for copy, k in enumerate(row):
            drawn[items[k]].append(f"{items[k]}#{copy}")

        expected = attribution_scores(resampled(gold, drawn), resampled(pred, drawn))[0]
        got = statistic_values(resample_sums(counts, row[None, :]))
        assert set(got) == set(metric_values(expected))
        assert got == pytest.approx(metric_values(expected), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_unit_rows_add_up_to_the_whole_sample(seed):
    rng = np.random.default_rng(seed)
    gold, pred = random_records(rng, 10, typed=True), random_records(rng, 10, typed=False)
    matches = match_attributions(gold, pred)
    item, quote = (attribution_counts(gold, pred, matches, unit) for unit in ("item", "quote"))
    np.testing.assert_array_equal(item.sum(axis=0), quote.sum(axis=0))
    full = statistic_values(quote.sum(axis=0, keepdims=True))
    assert full == metric_values(attribution_scores(gold, pred)[0])


def test_a_quote_unit_holds_every_prediction_matched_to_its_gold_record():
    gold = [rec("d", [(0, 10)], cue=(20, 24)), rec("d", [(40, 50)], cue=(60, 64))]
    pred = [
        rec("d", [(0, 10)], cue=(60, 64)),  # content of gold 0, cue of gold 1: links both
        rec("d", [(40, 45)]),  # content of gold 1
        rec("d", [(80, 90)]),  # spurious: a unit of its own
    ]
    counts = attribution_counts(gold, pred, match_attributions(gold, pred), "quote")
    columns = [COUNT_COLUMNS.index("gold"), COUNT_COLUMNS.index("pred")]
    assert sorted(map(tuple, counts[:, columns].tolist())) == [(0, 1), (2, 2)]


def test_items_without_records_are_units_of_the_item_bootstrap():
    counts = attribution_counts(GOLD, GOLD[:1], match_attributions(GOLD, GOLD[:1]), "item", "def")
    assert counts.shape[0] == 3  # d, e (records) and f (none)
    assert counts[2].sum() == 0 and counts[:2].sum() > 0


@pytest.mark.parametrize("seed", range(30))
def test_scores_do_not_depend_on_the_order_of_the_records(seed):
    """Tied optimal assignments must not let the input order change a score."""
    rng = np.random.default_rng(seed)

    def records(n):
        out = []
        for _ in range(n):
            start = int(rng.integers(0, 6)) * 5
            cue = (30 + int(rng.integers(0, 3)), 34) if rng.random() < 0.8 else None
            out.append(rec("d", [(start, start + 10)], str(rng.choice(["a", "b"])), cue))
        return out

    gold, pred = records(4), records(4)
    expected = values(attribution_scores(gold, pred)[0])
    for _ in range(5):
        shuffled_gold = [gold[k] for k in rng.permutation(len(gold))]
        shuffled_pred = [pred[k] for k in rng.permutation(len(pred))]
        assert values(attribution_scores(shuffled_gold, shuffled_pred)[0]) == expected
