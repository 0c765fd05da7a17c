"""bench's NER metrics against the references: seqeval (default and strict, every scheme)
and nervaluate (the four SemEval-2013 schemes).

The randomised tests are seeded and compare *exact* floats. The hand-written tests pin
the conventions bench follows where the references diverge or leave room:

* Decoding: ``mode="default"`` is conlleval/seqeval ``get_entities`` (an ``I-X`` after
  ``O`` or another type starts an entity) — nervaluate's list loader decodes B/I/O tags
  the same way; ``mode="strict"`` is seqeval's ``mode="strict"`` for the given scheme
  (an IOB2 entity starting with ``I-`` is dropped).
* Zero division is 0.0 (seqeval's ``"warn"``/``0``, nervaluate's behaviour); seqeval's
  ``zero_division=1`` is available. Macro over no entity type is ``zero_division``
  (seqeval: NaN).
* ``mode="strict"`` needs a scheme (seqeval's ``*_score`` silently falls back to the
  default decoding); malformed tags raise instead of warning.
* SemEval matching is nervaluate's greedy one, visiting spans in ``(start, end, label)``
  order; spans are half-open (nervaluate's ends are inclusive); duplicates count once;
  "overlap" is nervaluate's 1 %-of-the-gold-span threshold; a type confusion is INC
  overall but SPU + MIS per label; macro is the mean of per-label scores.
* ``strict_scores`` (what the NER task reports) is the CoNLL set intersection, which
  equals SemEval ``strict`` unless predicted spans overlap one another.
"""

from __future__ import annotations

import math
import random
import warnings
from itertools import product

import numpy as np
import pytest
from nervaluate import Evaluator
from seqeval import scheme as seqeval_schemes
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import Tokens

from bench.data.conll import token_offsets
from bench.data.views import NerGold
from bench.metrics.bio import (
    SCHEMES as TAG_SCHEMES,
)
from bench.metrics.bio import (
    bio_f1_score,
    bio_precision_score,
    bio_recall_score,
    bio_scores,
    bio_to_spans,
    decode,
)
from bench.metrics.bootstrap import prf_statistic
from bench.metrics.clusters import Clusters
from bench.metrics.spans import (
    SCHEMES,
    UNITS,
    SchemeCounts,
    span_counts,
    span_f1,
    span_macro_f1_statistic,
    span_precision,
    span_recall,
    span_scores,
    span_units,
    strict_counts,
    strict_scores,
    strict_units,
    token_spans,
)
from bench.predictions import EntityPrediction, TextItem
from bench.tasks.base import Bootstrap
from bench.tasks.ner import NerTask

TYPES = ("PER", "LOC", "ORG")
ROWS = {"micro avg": "micro", "macro avg": "macro", "weighted avg": "weighted"}
COUNT_KEYS = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual")
SCORE_KEYS = ("precision", "recall", "f1")


@pytest.fixture(autouse=True)
def _quiet_references():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval's UndefinedMetricWarning, NaN means
        yield


# ------------------------------------------------------------------------------ helpers


def _encode(entities: list[tuple[int, int, str]], length: int, scheme: str) -> list[str]:
    """Valid tags of ``scheme`` for non-overlapping half-open entities."""
    tags = ["O"] * length
    by_start = {s: (e, t) for s, e, t in entities}
    by_end = {e: (s, t) for s, e, t in entities}
    for s, e, t in entities:
        n = e - s
        if scheme == "IOB2":
            body = ["B"] + ["I"] * (n - 1)
        elif scheme == "IOB1":
            after_same = s in by_end and by_end[s][1] == t
            body = ["B" if after_same else "I"] + ["I"] * (n - 1)
        elif scheme == "IOE2":
            body = ["I"] * (n - 1) + ["E"]
        elif scheme == "IOE1":
            before_same = e in by_start and by_start[e][1] == t
            body = ["I"] * (n - 1) + ["E" if before_same else "I"]
        elif scheme == "IOBES":
            body = ["S"] if n == 1 else ["B"] + ["I"] * (n - 2) + ["E"]
        else:  # BILOU
            body = ["U"] if n == 1 else ["B"] + ["I"] * (n - 2) + ["L"]
        tags[s:e] = [f"{prefix}-{t}" for prefix in body]
    return tags


def _random_entities(rng: random.Random, length: int) -> list[tuple[int, int, str]]:
    entities, i = [], 0
    while i < length:
        if rng.random() < 0.35:
            n = min(rng.randint(1, 4), length - i)
            entities.append((i, i + n, rng.choice(TYPES)))
            i += n + (0 if rng.random() < 0.3 else 1)  # sometimes adjacent
        else:
            i += 1
    return entities


def _corrupt(rng: random.Random, tags: list[str], prefixes: str) -> list[str]:
    """Token-level noise: wrong prefix (invalid starts, splits), type confusion, O, junk."""
    kind = rng.random()
    if kind < 0.1:
        return ["O"] * len(tags)  # empty prediction
    if kind < 0.2:
        return list(tags)  # perfect
    out = []
    for tag in tags:
        r = rng.random()
        if r < 0.08 and tag != "O":
            out.append(f"{rng.choice(prefixes)}-{tag[2:]}")  # e.g. B→I: invalid start / split
        elif r < 0.14 and tag != "O":
            out.append(f"{tag[0]}-{rng.choice(TYPES)}")  # type confusion
        elif r < 0.19:
            out.append("O")
        elif r < 0.23:
            out.append(f"{rng.choice(prefixes)}-{rng.choice(TYPES)}")
        else:
            out.append(tag)
    return out


def _random_corpus(rng: random.Random, scheme: str | None, prefixes: str):
    y_true, y_pred = [], []
    for _ in range(rng.randint(1, 6)):
        length = rng.choice((0, 1, 2, rng.randint(3, 14)))
        encoding = scheme or rng.choice(("IOB2", "IOB1", "IOE2", "IOBES"))
        tags = _encode(_random_entities(rng, length), length, encoding)
        y_true.append(tags)
        y_pred.append(_corrupt(rng, tags, prefixes))
    if rng.random() < 0.1:
        y_true = [["O"] * len(seq) for seq in y_true]  # no gold entity: recall 0/0
    return y_true, y_pred


def _assert_same_as_seqeval(ours: dict, theirs: dict, zero_division: float) -> None:
    assert set(theirs) - set(ROWS) == set(ours["per_type"])
    for name, row in theirs.items():
        mine = ours[ROWS[name]] if name in ROWS else ours["per_type"][name]
        for key, my_key in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("f1-score", "f1"),
            ("support", "support"),
        ):
            if isinstance(row[key], float) and math.isnan(row[key]):
                assert name == "macro avg" and not ours["per_type"]
                assert mine[my_key] == zero_division  # bench's convention, see module doc
            else:
                assert row[key] == mine[my_key], (name, key, row[key], mine[my_key])


def _nervaluate(gold, pred, labels, min_overlap=1.0):
    """nervaluate on bench spans: per item, sorted by (start, end, label), inclusive ends."""
    items = sorted({s[0] for s in gold} | {s[0] for s in pred}, key=repr)

    def documents(spans):
        spans = set(spans)
        return [
            [
                {"label": lab, "start": s, "end": e - 1}
                for _, s, e, lab in sorted(
                    (x for x in spans if x[0] == item), key=lambda x: (x[1], x[2], x[3])
                )
            ]
            for item in items
        ]

    evaluator = Evaluator(
        documents(gold),
        documents(pred),
        tags=list(labels),
        loader="dict",
        min_overlap_percentage=min_overlap,
    )
    return evaluator.evaluate()


def _assert_same_as_nervaluate(report: dict, result: dict) -> None:
    keys = COUNT_KEYS + SCORE_KEYS
    for scheme in SCHEMES:
        theirs = result["overall"].get(scheme)
        for key in keys:
            expected = getattr(theirs, key) if theirs else 0
            assert report["micro"][scheme][key] == expected, (scheme, key)
    assert set(report["per_label"]) == set(result["entities"])
    for label, by_scheme in result["entities"].items():
        for scheme in SCHEMES:
            for key in keys:
                mine = report["per_label"][label][scheme][key]
                assert mine == getattr(by_scheme[scheme], key), (label, scheme, key)


# --------------------------------------------------------------- seqeval, randomised


@pytest.mark.parametrize("seed", range(4))
def test_default_mode_equals_seqeval(seed):
    rng = random.Random(seed)
    for _ in range(60):
        y_true, y_pred = _random_corpus(rng, None, "BIES")
        for seq in y_true + y_pred:
            expected = [(s, e + 1, t) for t, s, e in get_entities(seq)]
            assert decode(seq) == expected, seq
        for zd in (0, 1):
            theirs = classification_report(y_true, y_pred, output_dict=True, zero_division=zd)
            _assert_same_as_seqeval(bio_scores(y_true, y_pred, zero_division=zd), theirs, zd)


# The tag prefixes each scheme uses (None: seqeval's default mode, any prefix).
PREFIXES = {None: "BIES", "IOB1": "IB", "IOB2": "IB", "IOE1": "IE", "IOE2": "IE",
            "IOBES": "IBES", "BILOU": "BILU"}  # fmt: skip


@pytest.mark.parametrize("scheme", TAG_SCHEMES)
def test_strict_mode_equals_seqeval(scheme):
    """Every scheme, with seqeval's own (sometimes odd, e.g. IOE1) patterns."""
    rng = random.Random(100 + TAG_SCHEMES.index(scheme))
    prefixes = PREFIXES[scheme]
    reference = getattr(seqeval_schemes, scheme)
    for _ in range(60):
        y_true, y_pred = _random_corpus(rng, scheme, prefixes)
        for seq in y_true + y_pred:
            expected = [(x.start, x.end, x.tag) for x in Tokens(seq, reference).entities]
            assert decode(seq, mode="strict", scheme=scheme) == expected, seq
        for zd in (0, 1):
            theirs = classification_report(
                y_true, y_pred, output_dict=True, mode="strict", scheme=reference, zero_division=zd
            )
            ours = bio_scores(y_true, y_pred, mode="strict", scheme=scheme, zero_division=zd)
            _assert_same_as_seqeval(ours, theirs, zd)


@pytest.mark.parametrize("scheme", (None, *TAG_SCHEMES))
def test_decoding_every_short_sequence_equals_seqeval(scheme):
    """Exhaustive: every sequence of up to 4 tags over O and <prefix>-{A,B}."""
    prefixes = PREFIXES[scheme]
    alphabet = ["O"] + [f"{p}-{t}" for p in prefixes for t in "AB"]
    sequences = [list(seq) for n in range(1, 5) for seq in product(alphabet, repeat=n)]
    if scheme is None:
        ours = bio_to_spans(sequences)
        expected = [
            (i, s, e + 1, t) for i, seq in enumerate(sequences) for t, s, e in get_entities(seq)
        ]
    else:
        ours = bio_to_spans(sequences, mode="strict", scheme=scheme)
        reference = getattr(seqeval_schemes, scheme)
        expected = [
            (i, x.start, x.end, x.tag)
            for i, seq in enumerate(sequences)
            for x in Tokens(seq, reference).entities
        ]
    assert ours == expected
    mode = "default" if scheme is None else "strict"
    one_by_one = [
        (i, *span)
        for i, seq in enumerate(sequences)
        for span in decode(seq, mode=mode, scheme=scheme)
    ]
    assert one_by_one == expected


def test_large_tag_vocabulary_takes_the_per_token_path():
    """Over 1024 distinct tags the pair table is not built; the result is the same."""
    rng = random.Random(5)
    types = [f"T{i}" for i in range(1500)]
    y_true = [
        [
            f"{rng.choice('BI')}-{rng.choice(types)}" if rng.random() < 0.7 else "O"
            for _ in range(40)
        ]
        for _ in range(60)
    ]
    y_pred = [_corrupt(rng, seq, "BI") for seq in y_true]
    for mode, scheme, reference in (
        ("default", None, None),
        ("strict", "IOB2", seqeval_schemes.IOB2),
    ):
        ours = bio_scores(y_true, y_pred, mode=mode, scheme=scheme)
        theirs = classification_report(
            y_true,
            y_pred,
            output_dict=True,
            scheme=reference,
            mode=None if scheme is None else "strict",
        )
        _assert_same_as_seqeval(ours, theirs, 0.0)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_score_functions_equal_seqeval_score_functions(average):
    rng = random.Random(7)
    for _ in range(40):
        y_true, y_pred = _random_corpus(rng, "IOB2", "IB")
        if not any(t != "O" for seq in y_true + y_pred for t in seq):
            continue  # seqeval's macro/weighted are NaN here (see the hand-written test)
        for mine, theirs in (
            (bio_precision_score, precision_score),
            (bio_recall_score, recall_score),
            (bio_f1_score, f1_score),
        ):
            assert mine(y_true, y_pred, average=average) == theirs(y_true, y_pred, average=average)
            assert mine(y_true, y_pred, mode="strict", scheme="IOB2", average=average) == theirs(
                y_true, y_pred, average=average, mode="strict", scheme=seqeval_schemes.IOB2
            )


# ------------------------------------------------------------ nervaluate, randomised


def _random_spans(rng, n, items, max_start, max_length):
    return [
        (rng.choice(items), s, s + rng.randint(1, max_length), rng.choice(TYPES))
        for s in (rng.randrange(max_start) for _ in range(n))
    ]


def _random_case(rng, items):
    """Gold and predictions on ``items``: nested, overlapping, duplicated and long (>100)
    spans; predictions near the gold (shifted, retyped, missed) or unrelated."""
    max_length = rng.choice((1, 3, 8, 150))
    gold = _random_spans(rng, rng.randint(0, 8), items, 30, max_length)
    if rng.random() < 0.6:  # predictions near the gold: shifted, retyped, duplicated
        pred = []
        for item, s, e, label in gold:
            if rng.random() < 0.15:
                continue
            s2 = max(0, s + rng.choice((0, 0, -1, 1, -3)))
            e2 = max(s2 + 1, e + rng.choice((0, 0, -1, 1, 2)))
            label2 = label if rng.random() < 0.75 else rng.choice(TYPES)
            pred.append((item, s2, e2, label2))
        pred += _random_spans(rng, rng.randint(0, 3), items, 30, max_length)
        pred += rng.sample(pred, min(len(pred), 1))  # a duplicate
    else:
        pred = _random_spans(rng, rng.randint(0, 8), items, 30, max_length)
    return gold, pred


@pytest.mark.parametrize("seed", range(3))
def test_span_schemes_equal_nervaluate(seed):
    """Overlapping, nested, duplicated and long (>100) spans; several items; thresholds."""
    rng = random.Random(seed)
    items = ["doc-a", "doc-b", 3]
    for _ in range(250):
        gold, pred = _random_case(rng, items)
        if not gold and not pred:
            continue
        min_overlap = rng.choice((1.0, 1.0, 10.0, 50.0, 100.0))
        labels = rng.choice((TYPES, TYPES[:2]))
        report = span_scores(gold, pred, labels=labels, min_overlap_percentage=min_overlap)
        _assert_same_as_nervaluate(report, _nervaluate(gold, pred, labels, min_overlap))


def test_tag_sequences_equal_nervaluate_list_loader_and_seqeval():
    """On B/I/O tags: default decoding = nervaluate's list loader; SemEval strict = seqeval."""
    rng = random.Random(11)
    for _ in range(80):
        y_true, y_pred = _random_corpus(rng, "IOB2", "IB")
        gold, pred = bio_to_spans(y_true), bio_to_spans(y_pred)
        report = span_scores(gold, pred)
        if not gold and not pred:
            continue  # nervaluate reports no entity type
        theirs = Evaluator(y_true, y_pred, tags=list(TYPES), loader="list").evaluate()
        _assert_same_as_nervaluate(report, theirs)
        strict = report["micro"]["strict"]
        seq = bio_scores(y_true, y_pred)["micro"]
        assert (strict["precision"], strict["recall"], strict["f1"]) == (
            seq["precision"],
            seq["recall"],
            seq["f1"],
        )
        assert strict_scores(gold, pred)[0]["strict_f1"] == seq["f1"]


def _random_tokens_and_tags(rng, n_tokens):
    """Tokens of very different lengths and dense entities of two types, so that a
    prediction often overlaps two gold spans of its type (nervaluate's ent_type then takes
    the nearer one, which can differ between token and character offsets)."""
    tokens = ["x" * rng.choice((1, 2, 13)) for _ in range(n_tokens)]
    tags = [["O" if rng.random() < 0.3 else f"{rng.choice('BI')}-{rng.choice(TYPES[:2])}"
             for _ in tokens] for _ in range(2)]  # fmt: skip
    return tokens, tags


def test_ner_task_semeval_on_token_data_equals_nervaluate_on_the_tags():
    """On a CoNLL dataset the task's SemEval counts are nervaluate's on the tags, exactly
    (character offsets would differ in a few cases: see ``bench.tasks.ner``)."""
    rng = random.Random(2017)
    for _ in range(2000):
        items, gold, predictions, y_true, y_pred = [], [], [], [], []
        for k in range(rng.randint(1, 3)):
            tokens, (true_tags, pred_tags) = _random_tokens_and_tags(rng, rng.randint(1, 12))
            item = TextItem(f"s{k}", " ".join(tokens))
            offsets = token_offsets(tokens)
            gold += [(item.id, offsets[i][0], offsets[j - 1][1], label)
                     for i, j, label in decode(true_tags)]  # fmt: skip
            predictions.append([EntityPrediction(offsets[i][0], offsets[j - 1][1], label)
                                for i, j, label in decode(pred_tags)])  # fmt: skip
            items.append(item)
            y_true.append(true_tags)
            y_pred.append(pred_tags)
        if not gold and not any(predictions):
            continue  # nervaluate reports no entity type
        task = NerTask(NerGold(tuple(items), tuple(gold), TYPES, tokenized=True), "test")
        report = task.score(items, predictions).breakdown["semeval"]
        theirs = Evaluator(y_true, y_pred, tags=list(TYPES), loader="list").evaluate()
        _assert_same_as_nervaluate(report, theirs)


def test_ner_task_semeval_keeps_characters_on_an_item_with_a_span_inside_tokens():
    """No tags express "ew Yo": its item is scored on characters (widened to "New York" it
    would be exact); the other item, on token boundaries, on tokens."""
    items = [TextItem("s1", "New York City is big"), TextItem("s2", "in New York")]
    spans = (("s1", 0, 8, "LOC"), ("s2", 3, 11, "LOC"))  # "New York" twice
    gold = NerGold(tuple(items), spans, TYPES, tokenized=True)
    predictions = [[EntityPrediction(1, 6, "LOC")], [EntityPrediction(3, 11, "LOC")]]
    score = NerTask(gold, "test").score(items, predictions)
    exact = score.breakdown["semeval"]["micro"]["exact"]
    assert (exact["correct"], exact["incorrect"]) == (1, 1)
    assert token_spans(
        gold.spans,
        [("s1", 1, 6, "LOC"), ("s2", 3, 11, "LOC")],
        {
            "s1": token_offsets(["New", "York", "City", "is", "big"]),
            "s2": token_offsets(["in", "New", "York"]),
        },
    ) == ({("s1", 0, 8, "LOC"), ("s2", 1, 3, "LOC")}, {("s1", 1, 6, "LOC"), ("s2", 1, 3, "LOC")})


# ----------------------------------------------------------------- hand-written cases


def test_invalid_i_start_default_keeps_it_strict_iob2_drops_it():
    """conlleval/seqeval default: ``O I-PER`` is a PER entity; strict IOB2: no entity."""
    tags = ["O", "I-PER", "I-PER", "B-LOC", "I-ORG"]
    assert decode(tags) == [(1, 3, "PER"), (3, 4, "LOC"), (4, 5, "ORG")]
    assert decode(tags, mode="strict", scheme="IOB2") == [(3, 4, "LOC")]
    y_true = [["B-PER", "I-PER", "O"]]
    y_pred = [["I-PER", "I-PER", "O"]]
    assert bio_scores(y_true, y_pred)["micro"]["f1"] == 1.0
    assert bio_scores(y_true, y_pred, mode="strict", scheme="iob2")["micro"]["f1"] == 0.0


def test_default_mode_reads_e_and_s_like_seqeval():
    """``E-``/``S-`` close the chunk; a lone ``E-X`` or ``S-X`` is a one-token entity."""
    tags = ["B-PER", "E-PER", "E-PER", "S-LOC", "I-LOC", "E-LOC", "B-ORG", "S-ORG"]
    expected = [(s, e + 1, t) for t, s, e in get_entities(tags)]
    assert (
        decode(tags)
        == expected
        == [
            (0, 2, "PER"),
            (2, 3, "PER"),
            (3, 4, "LOC"),
            (4, 6, "LOC"),
            (6, 7, "ORG"),
            (7, 8, "ORG"),
        ]
    )


def test_bare_prefixes_have_seqeval_type_underscore():
    assert decode(["B", "I", "O", "B-"]) == [(0, 2, "_"), (3, 4, "_")]
    assert decode(["B", "I"], mode="strict", scheme="IOB2") == [(0, 2, "_")]


def test_zero_division_is_zero_and_one_is_available():
    """No predictions: precision 0/0. bench returns 0.0 like seqeval's default ("warn")."""
    y_true = [["B-PER", "O"], ["O", "B-LOC"]]
    y_pred = [["O", "O"], ["O", "O"]]
    ours = bio_scores(y_true, y_pred)
    assert ours["micro"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 2,
        "predicted": 0,
        "true_positives": 0,
    }
    theirs = classification_report(y_true, y_pred, output_dict=True)
    _assert_same_as_seqeval(ours, theirs, 0.0)
    ones = bio_scores(y_true, y_pred, zero_division=1)
    assert ones["micro"]["precision"] == 1.0 and ones["micro"]["f1"] == 0.0
    assert precision_score(y_true, y_pred, zero_division=1) == 1.0


def test_macro_over_no_entity_type_is_zero_division_not_nan():
    """seqeval: macro avg of an empty per-type array is NaN (with a RuntimeWarning)."""
    y = [["O", "O"]]
    theirs = classification_report(y, y, output_dict=True)
    assert math.isnan(theirs["macro avg"]["f1-score"])
    ours = bio_scores(y, y)
    assert ours["macro"]["f1"] == 0.0 and ours["per_type"] == {}
    assert ours["micro"]["f1"] == theirs["micro avg"]["f1-score"] == 0.0
    assert ours["weighted"]["f1"] == theirs["weighted avg"]["f1-score"] == 0.0
    assert bio_scores(y, y, zero_division=1)["macro"]["f1"] == 1.0


def test_strict_needs_a_scheme_and_default_refuses_one():
    """seqeval's f1_score(mode="strict") without a scheme silently decodes leniently."""
    y_true, y_pred = [["B-PER", "I-PER"]], [["I-PER", "I-PER"]]
    assert f1_score(y_true, y_pred, mode="strict") == 1.0  # the silent fallback
    with pytest.raises(ValueError, match="needs a scheme"):
        bio_scores(y_true, y_pred, mode="strict")
    with pytest.raises(ValueError, match="strict' only"):
        bio_scores(y_true, y_pred, scheme="IOB2")
    with pytest.raises(ValueError, match="unknown scheme"):
        bio_scores(y_true, y_pred, mode="strict", scheme="IOB3")
    with pytest.raises(ValueError, match="mode"):
        bio_scores(y_true, y_pred, mode="lenient")


@pytest.mark.parametrize("tag", ["PER", "X-PER", "O-PER", "BPER", "U-PER", "L-PER", ""])
def test_default_mode_rejects_malformed_tags(tag):
    """seqeval only warns ("seems not to be NE tag") and reads tag[0] as the prefix."""
    with pytest.raises(ValueError):
        bio_scores([["O", tag]], [["O", "O"]])


def test_strict_mode_rejects_prefixes_outside_the_scheme_like_seqeval():
    with pytest.raises(ValueError, match="not allowed"):
        bio_scores([["B-PER", "E-PER"]], [["O", "O"]], mode="strict", scheme="IOB2")
    with pytest.raises(ValueError, match="Invalid token"):
        classification_report(
            [["B-PER", "E-PER"]], [["O", "O"]], mode="strict", scheme=seqeval_schemes.IOB2
        )


def test_bio_input_validation():
    with pytest.raises(ValueError, match="sequence 1"):
        bio_scores([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="2 true sequences"):
        bio_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(TypeError):
        bio_scores(["B-PER O"], ["O O"])
    with pytest.raises(TypeError):
        bio_scores([["O", 3]], [["O", "O"]])
    with pytest.raises(ValueError, match="zero_division"):
        bio_scores([["O"]], [["O"]], zero_division="warn")
    with pytest.raises(ValueError, match="item_ids"):
        bio_to_spans([["O"]], item_ids=["a", "b"])
    assert bio_scores([], [])["micro"]["f1"] == 0.0


def test_bio_to_spans_is_half_open_and_named():
    spans = bio_to_spans([["B-PER", "I-PER", "O"], [], ["S-LOC"]], item_ids=["s1", "s2", "s3"])
    assert spans == [("s1", 0, 2, "PER"), ("s3", 0, 1, "LOC")]


def test_nervaluate_ends_are_inclusive():
    """bench [3, 5) is nervaluate {"start": 3, "end": 4}: tokens 3 and 4."""
    gold = [("d", 3, 5, "PER")]
    pred = [("d", 4, 5, "PER")]
    theirs = Evaluator(
        [[{"label": "PER", "start": 3, "end": 4}]],
        [[{"label": "PER", "start": 4, "end": 4}]],
        tags=["PER"],
    ).evaluate()
    report = span_scores(gold, pred)
    _assert_same_as_nervaluate(report, theirs)
    assert report["micro"]["partial"]["partial"] == 1


def test_greedy_matching_diverges_from_the_conll_set_intersection():
    """Gold [0, 5) PER; predictions [0, 3) PER and [0, 5) PER (they overlap each other).

    nervaluate visits [0, 3) first: it overlaps the gold span, which it consumes as INC;
    the exact prediction then finds no free gold span: SPU. bench's SemEval ``strict``
    reproduces this; ``strict_scores`` (CoNLL, what the NER task reports) counts the
    exact prediction as a true positive. With disjoint predictions they agree.
    """
    gold = [("d", 0, 5, "PER")]
    pred = [("d", 0, 3, "PER"), ("d", 0, 5, "PER")]
    report = span_scores(gold, pred)
    strict = report["micro"]["strict"]
    assert (strict["correct"], strict["incorrect"], strict["spurious"]) == (0, 1, 1)
    _assert_same_as_nervaluate(report, _nervaluate(gold, pred, ["PER"]))
    micro, _ = strict_scores(gold, pred)
    assert micro["strict_precision"] == 0.5 and micro["strict_recall"] == 1.0


def test_order_is_start_end_label_within_an_item():
    """nervaluate depends on list order; bench always visits spans sorted.

    Gold [0, 10) PER; predictions [5, 10) PER and [0, 4) PER: the one at 0 comes first and
    takes the gold span (PAR), the other is SPU — whatever order they were given in.
    """
    gold = [("d", 0, 10, "PER")]
    pred = [("d", 5, 10, "PER"), ("d", 0, 4, "PER")]
    partial = span_scores(gold, pred)["micro"]["partial"]
    assert (partial["partial"], partial["spurious"]) == (1, 1)
    reversed_input = span_scores(gold, pred[::-1])["micro"]["partial"]
    assert reversed_input == partial


def test_duplicates_count_once():
    """nervaluate would count the second copy as SPU; bench treats inputs as sets."""
    gold = [("d", 0, 2, "PER")]
    once = span_scores(gold, [("d", 0, 2, "PER")])
    twice = span_scores(gold, [("d", 0, 2, "PER")] * 2)
    assert once == twice and twice["micro"]["strict"]["spurious"] == 0


def test_overlap_threshold_is_a_percentage_of_the_gold_span():
    """nervaluate's default 1 %: 1 of 150 characters is not an overlap, 2 of 150 is."""
    gold = [("d", 0, 150, "PER")]
    one = span_scores(gold, [("d", 149, 160, "PER")])["micro"]["ent_type"]
    two = span_scores(gold, [("d", 148, 160, "PER")])["micro"]["ent_type"]
    assert (one["correct"], one["missed"], one["spurious"]) == (0, 1, 1)
    assert (two["correct"], two["missed"], two["spurious"]) == (1, 0, 0)
    half = span_scores(gold, [("d", 148, 160, "PER")], min_overlap_percentage=50)
    assert half["micro"]["ent_type"]["correct"] == 0
    for pred in ([("d", 149, 160, "PER")], [("d", 148, 160, "PER")]):
        _assert_same_as_nervaluate(span_scores(gold, pred), _nervaluate(gold, pred, ["PER"]))


def test_type_confusion_is_inc_overall_but_spu_and_mis_per_label():
    gold = [("d", 0, 2, "PER")]
    pred = [("d", 0, 2, "LOC")]
    report = span_scores(gold, pred)
    strict = report["micro"]["strict"]
    assert (strict["incorrect"], strict["missed"], strict["spurious"]) == (1, 0, 0)
    assert report["micro"]["exact"]["correct"] == 1
    assert report["per_label"]["PER"]["strict"]["missed"] == 1
    assert report["per_label"]["LOC"]["strict"]["spurious"] == 1
    _assert_same_as_nervaluate(report, _nervaluate(gold, pred, ["PER", "LOC"]))


def test_ent_type_prefers_the_closest_same_label_span():
    """Among overlapping same-label gold spans, the smallest |Δstart| + |Δend| wins."""
    gold = [("d", 0, 4, "PER"), ("d", 4, 7, "PER")]
    pred = [("d", 3, 7, "PER")]
    report = span_scores(gold, pred)
    assert report["micro"]["ent_type"]["correct"] == 1
    _assert_same_as_nervaluate(report, _nervaluate(gold, pred, ["PER"]))


def test_partial_scores_and_macro_by_hand():
    """partial: P = (COR + 0.5 PAR) / ACT; macro = mean of per-label values."""
    gold = [("d", 0, 2, "PER"), ("d", 5, 9, "LOC")]
    pred = [("d", 0, 2, "PER"), ("d", 6, 9, "LOC"), ("d", 12, 13, "ORG")]
    report = span_scores(gold, pred)
    partial = report["micro"]["partial"]
    assert (partial["correct"], partial["partial"], partial["spurious"]) == (1, 1, 1)
    assert partial["precision"] == 1.5 / 3 and partial["recall"] == 1.5 / 2
    per = report["per_label"]
    assert report["macro"]["strict"]["f1"] == sum(per[x]["strict"]["f1"] for x in per) / 3
    assert report["macro"]["strict"]["f1"] == (1.0 + 0.0 + 0.0) / 3


def test_scheme_count_functions():
    counts = SchemeCounts("partial", correct=2, incorrect=1, partial=2, missed=1, spurious=3)
    assert (counts.possible, counts.actual) == (6, 8)
    assert span_precision(counts) == 3 / 8 and span_recall(counts) == 3 / 6
    assert span_f1(counts) == 2 * (3 / 8 * 3 / 6) / (3 / 8 + 3 / 6)
    strict = SchemeCounts("strict", correct=2, partial=0, incorrect=1, missed=1, spurious=1)
    assert span_precision(strict) == 2 / 4
    empty = SchemeCounts("exact")
    assert (span_precision(empty), span_recall(empty), span_f1(empty)) == (0.0, 0.0, 0.0)


def test_no_spans_at_all():
    report = span_scores([], [])
    assert report["per_label"] == {}
    assert all(report["micro"][s]["f1"] == 0.0 for s in SCHEMES)
    assert all(report["macro"][s]["f1"] == 0.0 for s in SCHEMES)
    counts = span_counts([], [("d", 0, 1, "PER")])
    assert counts.overall["strict"].spurious == 1 and counts.labels == ("PER",)


def test_labels_restrict_the_comparison():
    gold = [("d", 0, 2, "PER"), ("d", 3, 4, "MISC")]
    pred = [("d", 0, 2, "PER"), ("d", 3, 4, "PER")]
    report = span_scores(gold, pred, labels=["PER"])
    assert set(report["per_label"]) == {"PER"}
    assert report["micro"]["strict"]["spurious"] == 1
    _assert_same_as_nervaluate(report, _nervaluate(gold, pred, ["PER"]))


@pytest.mark.parametrize(
    "span, error",
    [
        (("d", 3, 3, "PER"), ValueError),  # empty
        (("d", 4, 3, "PER"), ValueError),  # reversed
        (("d", -1, 3, "PER"), ValueError),  # negative
        (("d", 0.0, 3, "PER"), TypeError),  # float offset
        (("d", 0, 3, 7), TypeError),  # label not a string
        (("d", 0, 3), ValueError),  # arity
        (("d", 0, 3, "PER", "x"), ValueError),
    ],
)
def test_span_input_validation(span, error):
    with pytest.raises(error):
        span_scores([span], [])
    with pytest.raises(error):
        span_scores([], [span])


def test_span_argument_validation():
    with pytest.raises(ValueError, match="min_overlap"):
        span_scores([], [], min_overlap_percentage=0.5)
    with pytest.raises(TypeError):
        span_scores([], [], labels="PER")
    with pytest.raises(TypeError):
        span_scores("d 0 3 PER", [])
    assert span_scores([["d", 0, 3, "PER"]], [("d", 0, 3, "PER")])["micro"]["strict"]["f1"] == 1


def test_strict_scores_keeps_its_keys():
    gold = {("a", 0, 3, "PER"), ("a", 5, 8, "LOC")}
    pred = {("a", 0, 3, "PER"), ("a", 5, 7, "LOC")}
    micro, per_label = strict_scores(gold, pred)
    assert micro == {"strict_precision": 0.5, "strict_recall": 0.5, "strict_f1": 0.5}
    assert per_label["PER"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 1,
        "predicted": 1,
    }


# ------------------------------------------------------------------- bootstrap units

ITEMS = ["doc-a", "doc-b", 3, "no-spans"]
# Segments of some items (doc-b's first starts after 0; item 3 is its own cluster): 7 clusters.
CLUSTERS = Clusters(
    ITEMS,
    [("doc-a", 0, 10, "a1"), ("doc-a", 10, 25, "a2"), ("doc-a", 25, 200, "a3"),
     ("doc-b", 5, 40, "b1"), ("doc-b", 40, 300, "b2"), ("no-spans", 0, 9, "n1")],
)  # fmt: skip
# The rows an entity unit can have: COR, INC, PAR pairs, SPU, MIS.
ENTITY_ROWS = {(1.0, 1.0, 1.0), (0.0, 1.0, 1.0), (0.5, 1.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)}


def _random_cases(seed, n):
    """``n`` random comparisons with options; every 5th has no gold or no predictions."""
    rng = random.Random(seed)
    for i in range(n):
        gold, pred = _random_case(rng, ITEMS[:3])
        if i % 5 == 0:
            gold, pred = rng.choice(((gold, []), ([], pred)))
        options = {
            "labels": rng.choice((None, TYPES[:2])),
            "min_overlap_percentage": rng.choice((1.0, 50.0, 100.0)),
        }
        yield gold, pred, options


def _credit_actual_possible(counts: SchemeCounts) -> list[float]:
    return [counts.correct + 0.5 * counts.partial, counts.actual, counts.possible]


@pytest.mark.parametrize("unit", UNITS)
def test_span_units_add_up_to_span_counts(unit):
    """Σ over units of (credit, ACTUAL, POSSIBLE) = span_counts', overall and per label."""
    for gold, pred, options in _random_cases(20, 150):
        counts = span_counts(gold, pred, **options)
        units = span_units(gold, pred, unit, items=ITEMS, clusters=CLUSTERS, **options)
        assert units.unit == unit and units.labels == counts.labels
        for scheme in SCHEMES:
            overall, per_label = units.overall[scheme], units.per_label[scheme]
            assert overall.sum(axis=0).tolist() == _credit_actual_possible(counts.overall[scheme])
            by_label = per_label.sum(axis=0).reshape(-1, 3).tolist()
            assert by_label == [
                _credit_actual_possible(counts.per_label[label][scheme]) for label in units.labels
            ]
            if unit == "item":
                assert overall.shape[0] == per_label.shape[0] == len(ITEMS)
                assert not overall[ITEMS.index("no-spans")].any()
                continue
            if unit == "cluster":
                assert overall.shape[0] == per_label.shape[0] == len(CLUSTERS) == 7
                assert not overall[-1].any()  # no-spans' segment
                continue
            c = counts.overall[scheme]
            assert overall.shape[0] == c.actual + c.missed  # each pair, SPU and MIS once
            assert set(map(tuple, overall.tolist())) <= ENTITY_ROWS
            blocks = per_label.reshape(per_label.shape[0], len(units.labels), 3)
            assert ((blocks != 0).any(axis=2).sum(axis=1) == 1).all()  # one label per unit
            assert set(map(tuple, blocks.sum(axis=1).tolist())) <= ENTITY_ROWS


def test_item_resamples_equal_span_scores_of_the_resampled_items():
    """A resample of items, scored from the unit rows, is span_scores of the drawn items
    (an item drawn twice becomes two items): micro P/R/F1 and macro F1 of every scheme."""
    draws = np.random.default_rng(0)
    for gold, pred, options in _random_cases(21, 60):
        units = span_units(gold, pred, "item", items=ITEMS, **options)
        indices = draws.integers(0, len(ITEMS), size=(4, len(ITEMS)))
        statistics = {
            scheme: (
                prf_statistic(units.overall[scheme])(indices),
                span_macro_f1_statistic(units.per_label[scheme])(indices),
            )
            for scheme in SCHEMES
        }
        for b, drawn in enumerate(indices):
            resampled = [
                [(j, s, e, label) for item, s, e, label in spans if item == ITEMS[k]]
                for spans in (gold, pred)
                for j, k in enumerate(drawn)
            ]
            n = len(drawn)
            report = span_scores(sum(resampled[:n], []), sum(resampled[n:], []), **options)
            for scheme, (prf, macro) in statistics.items():
                micro = report["micro"][scheme]
                expected = [micro["precision"], micro["recall"], micro["f1"]]
                assert prf[b].tolist() == pytest.approx(expected, abs=1e-12, rel=0)
                assert macro[b] == pytest.approx(report["macro"][scheme]["f1"], abs=1e-12, rel=0)


def test_span_units_by_hand():
    """partial: pairs COR and PAR, an SPU and a MIS; a type confusion is one INC unit
    overall but an SPU and a MIS per label."""
    gold = [("d", 0, 2, "PER"), ("d", 5, 9, "LOC"), ("d", 20, 22, "ORG")]
    pred = [("d", 0, 2, "PER"), ("d", 6, 9, "LOC"), ("d", 12, 13, "ORG")]
    units = span_units(gold, pred, "entity")
    assert units.overall["partial"].tolist() == [[1, 1, 1], [0.5, 1, 1], [0, 1, 0], [0, 0, 1]]
    assert units.overall["strict"].tolist() == [[1, 1, 1], [0, 1, 1], [0, 1, 0], [0, 0, 1]]
    assert span_units(gold, pred, "item").overall["partial"].tolist() == [[1.5, 3, 3]]
    confused = span_units([("d", 0, 2, "PER")], [("d", 0, 2, "LOC")], "entity")
    assert confused.labels == ("LOC", "PER")
    assert confused.overall["strict"].tolist() == [[0, 1, 1]]
    assert confused.per_label["strict"].tolist() == [[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]]


def test_macro_f1_averages_the_labels_present_in_the_resample():
    """Item a: PER found; item b: LOC missed; item c: no span. Full sample: (1 + 0) / 2."""
    gold = [("a", 0, 2, "PER"), ("b", 0, 2, "LOC")]
    pred = [("a", 0, 2, "PER")]
    items = ["a", "b", "c"]
    for unit in UNITS:
        rows = span_units(gold, pred, unit, items=items, clusters=Clusters(items)).per_label
        rows = rows["strict"]
        full = np.arange(len(rows))[None, :]
        assert span_macro_f1_statistic(rows)(full).tolist() == [0.5]
    assert span_scores(gold, pred)["macro"]["strict"]["f1"] == 0.5
    rows = span_units(gold, pred, "item", items=items).per_label["strict"]
    drawn = np.array([[0, 0, 0], [1, 1, 2], [0, 1, 1], [2, 2, 2]])
    assert span_macro_f1_statistic(rows)(drawn).tolist() == [
        1.0,  # only PER drawn: LOC is not averaged in
        0.0,
        0.5,
        0.0,  # no label at all: 0.0, as span_report on no spans
    ]


def test_span_unit_order_does_not_depend_on_input_order():
    """The bootstrap draws unit indices: the rows' order must be reproducible."""
    rng = random.Random(3)
    for gold, pred, options in _random_cases(22, 30):
        for unit in UNITS:
            units = span_units(gold, pred, unit, items=ITEMS, clusters=CLUSTERS, **options)
            shuffled = span_units(
                rng.sample(gold, len(gold)), rng.sample(pred, len(pred)), unit, items=ITEMS,
                clusters=CLUSTERS, **options,
            )  # fmt: skip
            for scheme in SCHEMES:
                assert np.array_equal(units.overall[scheme], shuffled.overall[scheme])
                assert np.array_equal(units.per_label[scheme], shuffled.per_label[scheme])


def test_span_units_validation():
    gold = [("a", 0, 2, "PER")]
    with pytest.raises(ValueError, match="unit"):
        span_units(gold, [], "document")
    with pytest.raises(ValueError, match="does not list"):
        span_units(gold, [("b", 0, 1, "PER")], "item", items=["a"])
    with pytest.raises(ValueError, match="distinct"):
        span_units(gold, [], "item", items=["a", "a"])
    with pytest.raises(TypeError):
        span_units(gold, [], "item", items="a")
    with pytest.raises(ValueError, match="shape"):
        span_macro_f1_statistic(np.zeros((2, 4)))
    assert span_units([], [], "entity").overall["strict"].shape == (0, 3)
    no_label = span_units([], [], "item", items=["a"]).per_label["strict"]
    assert no_label.shape == (1, 0)
    assert span_macro_f1_statistic(no_label)(np.zeros((2, 1), dtype=np.int64)).tolist() == [0, 0]


# ------------------------------------------------------------------------ the NER task


@pytest.mark.parametrize("unit", NerTask.units)
def test_ner_task_gives_an_interval_for_every_metric(unit):
    """Every reported metric has an interval around it, from the task's units (at unit
    "item", every item, including the two without any span)."""
    rng = random.Random(30)
    texts = [TextItem(f"s{i}", "x" * 40) for i in range(14)]
    gold, predictions = [], []
    for item in texts[:12]:
        g, p = _random_case(rng, [item.id])
        gold += [span for span in g if span[2] <= 40]
        predictions.append([EntityPrediction(s, e, label) for _, s, e, label in set(p) if e <= 40])
    predictions += [[], []]
    task = NerTask(NerGold(tuple(texts), tuple(gold), TYPES), "test", Bootstrap(200, unit=unit))
    score = task.score(texts, predictions)
    assert set(score.intervals) == set(score.metrics)
    for name, metric in score.metrics.items():
        ci = score.intervals[name]
        assert ci.unit == unit and ci.n_resamples == 200 and ci.n_dropped == 0
        assert unit == "entity" or ci.n_units == len(texts)
        assert ci.value == pytest.approx(metric.value, abs=1e-12, rel=0), name
        assert ci.low <= metric.value <= ci.high, (name, ci)
        assert ci.low < ci.high, name  # a degenerate interval would hide a missing unit
    for label, scores in score.breakdown["per_label"].items():
        for name in ("precision", "recall", "f1"):
            ci = scores["ci95"][name]
            assert ci["unit"] == unit and ci["value"] == pytest.approx(scores[name]), label
            assert ci["low"] <= scores[name] <= ci["high"], (label, name, ci)


@pytest.mark.parametrize("seed", range(6))
def test_strict_units_add_up_to_the_strict_counts_per_label(seed):
    rng = random.Random(seed)
    gold, pred = _random_case(rng, ["a", "b", "c"])
    counts = strict_counts(gold, pred)
    for label in [None, *sorted(set(counts["gold"]) | set(counts["pred"]))]:
        expected = [
            sum(counts[key].values()) if label is None else counts[key][label]
            for key in ("tp", "pred", "gold")
        ]
        entity = strict_units(gold, pred, "entity", label=label)
        item = strict_units(gold, pred, "item", items=["a", "b", "c", "empty"], label=label)
        assert entity.sum(axis=0).tolist() == expected and item.sum(axis=0).tolist() == expected
        assert item.shape == (4, 3) and item[3].tolist() == [0, 0, 0]
        assert len(entity) == len({s for s in (*gold, *pred) if label in (None, s[3])})


def test_strict_entity_units_by_hand():
    gold = [("d", 0, 4, "PER"), ("d", 10, 14, "ORG")]
    pred = [("d", 0, 4, "PER"), ("d", 10, 14, "PER")]
    assert strict_units(gold, pred, "entity").tolist() == [[1, 1, 1], [0, 0, 1], [0, 1, 0]]
    assert strict_units(gold, pred, "entity", label="ORG").tolist() == [[0, 0, 1]]
    assert strict_units(gold, pred, "item").tolist() == [[1, 2, 2]]
