"""Attribution matching and speaker resolution, on hand-computed cases."""

from __future__ import annotations

import pytest

from bench.metrics.attribution import (
    AttributionRecord,
    attribution_scores,
    build_alias_table,
    match_overlap,
    normalise_name,
    resolve_speaker,
)


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
