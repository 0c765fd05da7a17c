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
    content_tokens,
    match_attributions,
    match_overlap,
)
from bench.metrics.bootstrap import resample_indices, resample_sums
from bench.metrics.speakers import build_alias_table, normalise_name, resolve_speaker

TEXT = "".join(f"w{k:03d} " for k in range(40))  # a token every 5 characters: [5k, 5k + 4)


def rec(item, content, speaker=None, cue=None, source=None, type=None):
    content = tuple(content)
    tokens = content_tokens(TEXT, content)
    return AttributionRecord(item, content, speaker, cue, source, type, tokens)


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
        rec("d", [(30, 40), (52, 60)], "bob", (42, 47), None, "mixed"),  # IoU 0.9, right speaker
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
    # tokens: gold 2 + 4 + 4, pred 2 + 4 + 2, shared 2 + 4 -> P = 6/8, R = 6/10
    assert m["content_token_precision"] == pytest.approx(6 / 8)
    assert m["content_token_recall"] == pytest.approx(6 / 10)
    assert m["content_token_f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
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


def random_predictions(rng, gold, n):
    """``n`` random records, and a prediction near each of half the gold records (its
    content pieces shifted by up to 3 characters, a random speaker, or none): pairs of
    every IoU, so that found and not-found quotes both occur."""
    near = []
    for g in gold[::2]:
        pieces = []
        for start, end in g.content:
            start, end = start + int(rng.integers(-3, 4)), end + int(rng.integers(-3, 4))
            pieces.append((max(start, 0), max(end, max(start, 0) + 1)))
        speaker = rng.choice(["ann", "bob", None])
        near.append(rec(g.item_id, sorted(set(pieces)), speaker, g.cue, None, g.type))
    return random_records(rng, n, typed=False) + near


def metric_values(metrics):
    return {name: m.value for name, m in metrics.items() if m.value is not None}


def statistic_values(sums):
    return {name: float(v[0]) for name, v in attribution_metrics(sums).items() if np.isfinite(v[0])}


def resampled(records, copies):
    return [replace(r, item_id=copy) for r in records for copy in copies.get(r.item_id, [])]


@pytest.mark.parametrize("min_overlap", [0.5, 0.3])
@pytest.mark.parametrize("seed", range(8))
def test_item_bootstrap_statistic_equals_the_metrics_on_the_resampled_items(seed, min_overlap):
    rng = np.random.default_rng(seed)
    gold = random_records(rng, 9, typed=True)
    pred = random_predictions(rng, gold, 5)
    matches = match_attributions(gold, pred, min_overlap)
    counts = attribution_counts(gold, pred, matches, "item", min_overlap=min_overlap)
    items = sorted({r.item_id for r in (*gold, *pred)})
    assert len(counts) == len(items)
    for row in next(resample_indices(len(items), 5, seed=seed)):
        # each draw of an item becomes an item of its own
        drawn = {items[k]: [] for k in row}
        for copy, k in enumerate(row):
            drawn[items[k]].append(f"{items[k]}#{copy}")

        expected = attribution_scores(
            resampled(gold, drawn), resampled(pred, drawn), min_overlap=min_overlap
        )[0]
        got = statistic_values(resample_sums(counts, row[None, :]))
        assert set(got) == set(metric_values(expected))
        assert got == pytest.approx(metric_values(expected), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_unit_rows_add_up_to_the_whole_sample(seed):
    rng = np.random.default_rng(seed)
    gold = random_records(rng, 10, typed=True)
    pred = random_predictions(rng, gold, 6)
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


# ---------------------------------------------------------------- found quotes


def test_tokens_are_word_runs_a_content_touches():
    text = "“We will win,” she said."
    assert [text[s:e] for s, e in content_tokens(text, [(1, 12)])] == ["We", "will", "win"]
    # one character inside a word covers the whole word; punctuation covers nothing
    assert [text[s:e] for s, e in content_tokens(text, [(5, 6)])] == ["will"]
    assert content_tokens(text, [(12, 14)]) == ()


def _shrunk(gold, keep):
    """The gold records with each content piece cut to ``keep(start, end)``."""
    return [
        rec(g.item_id, [keep(s, e) for s, e in g.content], g.speaker, g.cue, g.source, g.type)
        for g in gold
    ]


def _one_middle_character(start, end):
    middle = (start + end) // 2
    return middle, middle + 1


def _centred_80_percent(start, end):
    cut = round((end - start) * 0.1)
    return start + cut, end - cut


def test_one_character_of_each_quote_is_not_a_found_quote():
    gold = [rec("d", [(5 * k, 5 * k + 40)], "ann") for k in range(0, 40, 10)]
    m = values(attribution_scores(gold, _shrunk(gold, _one_middle_character))[0])
    assert m["content_overlap_f1"] == 1.0  # the lenient figure still finds them all
    assert m["e2e_f1"] == m["content_iou_f1"] == 0.0
    assert m["content_token_recall"] == pytest.approx(1 / 8)  # one token of eight
    assert m["source_accuracy"] is None


def test_centred_80_percent_of_each_quote_is_found():
    gold = [rec("d", [(5 * k, 5 * k + 40)], "ann") for k in range(0, 40, 10)]
    m = values(attribution_scores(gold, _shrunk(gold, _centred_80_percent))[0])
    assert m["e2e_f1"] == m["content_iou_f1"] == m["source_accuracy"] == 1.0
    assert m["content_exact_f1"] == 0.0
    assert 0.8 <= m["content_token_f1"] <= 1.0


@pytest.mark.parametrize(("min_overlap", "found"), [(0.5, 1.0), (0.55, 0.0)])
def test_min_overlap_is_the_iou_from_which_a_quote_is_found(min_overlap, found):
    gold = [rec("d", [(0, 20)], "ann")]
    pred = [rec("d", [(10, 30)], "ann")]  # 10 shared of 30: IoU 1/3
    half = [rec("d", [(5, 15)], "ann")]  # 10 shared of 20: IoU 1/2
    assert values(attribution_scores(gold, pred, None, min_overlap)[0])["e2e_f1"] == 0.0
    assert values(attribution_scores(gold, half, None, min_overlap)[0])["e2e_f1"] == found


def test_matching_prefers_a_substantial_pair_to_more_shared_characters():
    """Maximising shared characters would give gold 0 to the long prediction 0 (100
    characters, IoU 1/3) and leave the substantial prediction 1 (IoU 0.6) unmatched."""
    gold = [rec("d", [(0, 100)], "ann"), rec("d", [(100, 120)], "bob")]
    pred = [rec("d", [(0, 300)], "bob"), rec("d", [(0, 60)], "ann")]
    assert match_overlap(gold, pred) == [(0, 1), (1, 0)]
    m = values(attribution_scores(gold, pred)[0])
    assert m["e2e_f1"] == pytest.approx(0.5) and m["content_overlap_f1"] == 1.0


def test_matching_prefers_a_substantial_pair_to_more_pairs():
    """Most pairs first would pair gold 0 with the 3-character prediction 1 and gold 1
    with prediction 0 (2 of 30 characters): two pairs, neither substantial."""
    gold = [rec("d", [(0, 10)], "ann"), rec("d", [(10, 30)], "bob")]
    pred = [rec("d", [(0, 12)], "ann"), rec("d", [(5, 8)], "ann")]
    assert match_overlap(gold, pred) == [(0, 0)]
    assert values(attribution_scores(gold, pred)[0])["e2e_f1"] == pytest.approx(0.5)


def test_then_most_pairs_before_most_shared_characters():
    gold = [rec("d", [(0, 10)]), rec("d", [(10, 12)])]
    pred = [rec("d", [(0, 11)]), rec("d", [(2, 8)])]  # 10 + 0 shared, or 1 + 6 in two pairs
    # IoU: pred 0 ~ gold 0 = 10/11, pred 1 ~ gold 0 = 6/10: one substantial pair either way
    assert match_overlap(gold, pred) == [(0, 1), (1, 0)]


def test_two_missing_speakers_are_not_a_correct_speaker():
    gold = [rec("d", [(0, 10)], None)]
    m = values(attribution_scores(gold, [rec("d", [(0, 10)], None)])[0])
    assert m["content_iou_f1"] == 1.0
    assert m["e2e_f1"] == m["source_accuracy"] == 0.0


def test_an_alias_shared_by_two_speakers_is_refused():
    with pytest.raises(ValueError, match="'Mr. Smith'.* names both 'ann_smith' and 'bob_smith'"):
        build_alias_table([("ann_smith", ["Ms. Smith"]), ("bob_smith", ["Mr. Smith"])])
