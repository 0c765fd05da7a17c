"""Issue 16: the NER path the CLI runs on CoNLL files, without per-token Python.

Each fast part is checked against a plain reference: CoNLL reading against a loop over
lines, entity decoding against seqeval, token offsets and token spans against per-token
dictionaries, and a whole ``bench`` run on WNUT-17 — every metric and interval — against
intervals drawn from per-sentence counts that seqeval and nervaluate compute.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nervaluate import Evaluator
from seqeval.metrics.sequence_labeling import get_entities

from bench.data import conll as conll_module
from bench.data.conll import (
    ConllFile,
    _parse_plain,
    parse_conll,
    read_conll,
    texts_token_offsets,
    token_offsets,
)
from bench.metrics.bootstrap import prf_bootstrap
from bench.metrics.clusters import Clusters
from bench.metrics.spans import (
    SpanColumns,
    TokenOffsets,
    span_units,
    strict_units,
    strict_units_by_label,
    token_columns,
    token_spans,
)
from bench.resources import resource_dir

WNUT = resource_dir("datasets") / "wnut17"
BENCH = str(Path(sys.executable).with_name("bench"))
WNUT_TYPES = ["person", "location", "corporation", "product", "creative-work", "group"]


def _by_lines(text: str) -> list[tuple[tuple[str, ...], list[str], tuple[int, ...]]] | int:
    """The sentences of a CoNLL text read line by line (bench's reading before issue 16),
    or the number of the first line with a bad column count."""
    sentences, rows, lines, width = [], [], [], None
    for number, line in enumerate(text.splitlines(), 1):
        columns = line.split()
        if not columns:
            if rows:
                sentences.append((tuple(r[0] for r in rows), [r[-1] for r in rows], tuple(lines)))
            rows, lines = [], []
            continue
        if columns[0] == "-DOCSTART-":
            continue
        width = width or len(columns)
        if len(columns) < 2 or len(columns) != width:
            return number
        rows.append(columns)
        lines.append(number)
    if rows:
        sentences.append((tuple(r[0] for r in rows), [r[-1] for r in rows], tuple(lines)))
    return sentences


@pytest.mark.parametrize("as_bytes", [False, True], ids=["text", "bytes"])
def test_conll_reading_equals_a_loop_over_lines(as_bytes):
    """Whole-text splits give every sentence, tag and line number of a line-by-line
    reading, whatever the white space (tabs, spaces, CRLF, Unicode line ends and spaces,
    -DOCSTART-, blank lines of spaces), and the same first bad line; so do a file's bytes
    (split with numpy where their only white space is spaces, tabs, LF and CRLF)."""
    pieces = ["a", "b", "O", "B-X", " ", "\t", "\n", "\r\n", "\x0b", "\x1c", "\x85", "\u2028",
              "\xa0", "-DOCSTART-", "  ", "\n\n", "é", "\r", "☕"]  # fmt: skip
    rng = random.Random(16)
    errors = plain = 0
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        data = text.encode() if as_bytes else text
        expected = _by_lines(text)
        if isinstance(expected, int):
            errors += 1
            with pytest.raises(ValueError, match=rf"^f:{expected}: columns:"):
                parse_conll(data, "f")
            continue
        conll = parse_conll(data, "f")
        assert isinstance(conll, ConllFile)
        assert [(s.tokens, s.tags, s.lines) for s in conll] == expected, repr(text)
        assert conll.texts() == [" ".join(tokens) for tokens, _, _ in expected]
        plain += as_bytes and _parse_plain(text.encode(), "f") is not None
    assert 100 < errors < 4900  # both kinds of text were tried
    assert plain > 100 or not as_bytes  # and both ways of reading bytes


def test_the_bytes_a_plain_file_splits_on_are_all_the_white_space_it_may_hold():
    """_parse_plain leaves to the text path every file holding other white space than
    space, tab, LF and CRLF: what str.split() and str.splitlines() split on."""
    others = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} - set(" \t\r\n")
    assert set(conll_module._OTHER_SPACE) == others
    assert {chr(c) for c in np.flatnonzero(conll_module._SPACE)} == set(" \t\r\n")
    for text in ["a\tO\rb\tO\n", "a\tO\n\x0cb\tO\n", "a\u3000O\n", "a\tO\n\udcff"]:
        assert _parse_plain(text.encode("utf-8", "surrogateescape"), "f") is None
    with pytest.raises(ValueError, match=r"^f:2: \(encoding\): not UTF-8 \(byte 0xff at column 3"):
        parse_conll(b"a\tO\nb\t\xff\n", "f")


def test_tags_of_one_hash_are_told_apart(monkeypatch):
    """Tags longer than 7 bytes are coded by a hash of their bytes; where two share a hash
    (forced here: each hash is then its tag's last bytes) they are still told apart."""
    monkeypatch.setattr(conll_module, "_HASH_FACTOR", np.uint64(0))
    text = "a\tB-corporation\nb\tI-corporation\nc\tB-location\n\nd\tB-xcorporation\ne\tO\n"
    conll = _parse_plain(text.encode(), "f")
    assert conll is not None
    assert [s.tags for s in conll] == [s.tags for s in parse_conll(text, "f")]
    assert len(conll.tag_names) == 5


def test_a_plain_file_and_its_text_give_the_same_entities():
    """The bytes and the text of the WNUT-17 files (emoji, accents, tabs) give the same
    sentences, texts and decoded entities; the bytes are read without the text path."""
    for path in [WNUT / "emerging.test.annotated", *(WNUT / "submissions").iterdir()]:
        data = path.read_bytes()
        from_bytes, from_text = _parse_plain(data, "f"), parse_conll(data.decode(), "f")
        assert from_bytes is not None and not data.isascii()
        assert from_bytes.texts() == from_text.texts() and len(from_bytes) == len(from_text)
        assert list(from_bytes) == list(from_text)
        for a, b in zip(from_bytes.entities(), from_text.entities(), strict=True):
            assert np.array_equal(a, b)


def test_the_whole_file_decodes_as_seqeval_with_character_offsets():
    """ConllFile.entities: every entity of every sentence at once, as seqeval's
    get_entities reads each sentence, with its first token and character offsets."""
    conll = read_conll(WNUT / "submissions" / "drexel_cci")
    sentence, token, starts, ends, labels = conll.entities()
    texts = conll.texts()
    expected = [(k, i, j + 1, label) for k, s in enumerate(conll)
                for label, i, j in get_entities(s.tags)]  # fmt: skip
    assert len(expected) > 300
    found = []
    for k, first, start, end, label in zip(sentence.tolist(), token.tolist(), starts, ends,
                                           labels, strict=True):  # fmt: skip
        offsets = token_offsets(conll[k].tokens)
        i = first - int(conll.bounds[k])
        j = next(n for n, (_, e) in enumerate(offsets) if e == end) + 1
        assert (offsets[i][0], texts[k][start:end]) == (start, " ".join(conll[k].tokens[i:j]))
        found.append((k, i, j, label))
    assert found == expected


def test_a_malformed_tag_is_named_with_its_line():
    conll = parse_conll("a\tO\nb\tB-X\n\nc\tPERSON\nd\tO\n", "f.conll")
    with pytest.raises(ValueError, match=r"^f\.conll:4: tag: malformed tag 'PERSON'"):
        conll.entities()


def test_token_offsets_of_all_texts_at_once_equal_each_texts():
    rng = random.Random(3)
    pieces = ["a", " ", "é", "\U0001f600", "\ud800", "  ", "bb"]  # a lone surrogate too
    for _ in range(3000):
        texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
                 for _ in range(rng.randint(0, 5))]  # fmt: skip
        expected = [[list(span) for span in token_offsets(text.split(" "))] for text in texts]
        offsets = TokenOffsets(range(len(texts)), *texts_token_offsets(texts))
        assert [offsets[k] for k in range(len(texts))] == expected


def _token_spans_by_dicts(gold, pred, tokens):  # noqa: ANN001, ANN202
    """token_spans as it was: a dict of the tokens' starts and ends per item."""
    first = {item: {s: i for i, (s, _) in enumerate(spans)} for item, spans in tokens.items()}
    after = {item: {e: i + 1 for i, (_, e) in enumerate(spans)} for item, spans in tokens.items()}
    gold, pred = set(gold), set(pred)
    on_characters = set()
    for item, start, end, _ in gold | pred:
        if start not in first.get(item, ()) or end not in after.get(item, ()):
            on_characters.add(item)

    def convert(spans):  # noqa: ANN001, ANN202
        return {
            span
            if span[0] in on_characters
            else (span[0], first[span[0]][span[1]], after[span[0]][span[2]], span[3])
            for span in spans
        }

    return convert(gold), convert(pred)


def test_token_spans_equal_per_token_dictionaries():
    """Also on tokens out of order or sharing offsets (the last one wins, as in a dict),
    items without tokens and spans off the token boundaries."""
    rng = random.Random(5)
    for _ in range(5000):
        tokens = {}
        for item in range(rng.randint(0, 4)):
            spans = [(rng.randint(0, 12), rng.randint(0, 12)) for _ in range(rng.randint(0, 6))]
            tokens[f"i{item}"] = sorted(spans) if rng.random() < 0.5 else spans
        gold, pred = ([(f"i{rng.randint(0, 5)}", rng.randint(0, 10), rng.randint(0, 13),
                        rng.choice("AB")) for _ in range(rng.randint(0, 6))]
                      for _ in range(2))  # fmt: skip
        expected = _token_spans_by_dicts(gold, pred, tokens)
        assert token_spans(gold, pred, tokens) == expected
        assert token_spans(gold, pred, TokenOffsets.of(tokens)) == expected


@pytest.mark.parametrize("unit", ["entity", "item"])
def test_strict_units_by_label_equal_one_call_per_label(unit):
    rng = random.Random(7)
    spans = [(f"s{rng.randint(0, 9)}", s, s + rng.randint(1, 3), rng.choice("ABC"))
             for s in (rng.randint(0, 20) for _ in range(60))]  # fmt: skip
    gold, pred = set(spans[:40]), set(spans[20:])
    items = [f"s{k}" for k in range(11)]
    overall, by_label = strict_units_by_label(gold, pred, unit, items=items)
    assert overall.tolist() == strict_units(gold, pred, unit, items=items).tolist()
    assert list(by_label) == ["A", "B", "C"]
    for label, rows in by_label.items():
        assert rows.tolist() == strict_units(gold, pred, unit, items=items, label=label).tolist()


def _sentence_rows(gold_tags: list[list[str]], pred_tags: list[list[str]]) -> dict:
    """Per-sentence (credit, n_pred, n_gold) rows of every family bench draws intervals
    for, from seqeval's entities (strict, overall and per type) and nervaluate's counts
    on each sentence alone (exact, partial, ent_type)."""
    rows: dict = {}
    for g_tags, p_tags in zip(gold_tags, pred_tags, strict=True):
        g, p = set(get_entities(g_tags)), set(get_entities(p_tags))
        for key, keep in [("strict", None), *((t, t) for t in WNUT_TYPES)]:
            gk, pk = ({e for e in side if keep is None or e[0] == keep} for side in (g, p))
            rows.setdefault(key, []).append((len(gk & pk), len(pk), len(gk)))
        overall = Evaluator([g_tags], [p_tags], tags=WNUT_TYPES, loader="list").evaluate()
        for scheme in ("exact", "partial", "ent_type"):
            c = overall["overall"][scheme]
            credit = c.correct + (0.5 * c.partial if scheme != "exact" else 0)
            rows.setdefault(scheme, []).append((credit, c.actual, c.possible))
    return {key: np.array(value, dtype=float) for key, value in rows.items()}


def test_a_wnut17_run_gives_the_intervals_of_per_sentence_counts(tmp_path):
    """A whole bench run on WNUT-17 (a shipped submission, default unit: a sentence):
    every P/R/F1 interval — strict overall and per type, exact, partial, ent_type —
    equals prf_bootstrap's (1000 resamples, seed 0) over per-sentence counts computed by
    seqeval and nervaluate, to the last digit."""
    submission = WNUT / "submissions" / "uh_ritual"
    done = subprocess.run(
        [BENCH, "+model=predictions", "model.format=conll", f"model.path={submission}",
         "dataset=wnut17", "task=ner", "cache.enabled=false", "progress=false",
         f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ner = json.loads((tmp_path / "run" / "result.json").read_text())["tasks"]["ner"]
    gold = [s.tags for s in read_conll(WNUT / "emerging.test.annotated")]
    pred = [s.tags for s in read_conll(submission)]
    rows = _sentence_rows(gold, pred)
    compared = 0
    for key, counts in rows.items():
        expected = prf_bootstrap(counts, 1000, seed=0, unit="cluster")
        for name, ci in expected.items():
            if key in WNUT_TYPES:
                got = ner["breakdown"]["per_label"].get(key, {}).get("ci95", {}).get(name)
                if got is None:  # a type neither side has: no interval
                    assert counts[:, 1:].sum() == 0
                    continue
            else:
                got = ner["metrics"][f"{key}_{name}"]["ci95"]
            assert got == ci.to_json(), (key, name)
            compared += 1
    assert compared >= 27


def _random_spans(rng: random.Random, items: list[str]) -> tuple[set, set]:
    spans = [(rng.choice(items), s, s + rng.randint(1, 4), rng.choice("ABC"))
             for s in (rng.randint(0, 20) for _ in range(rng.randint(0, 40)))]  # fmt: skip
    cut = rng.randint(0, len(spans))
    return set(spans[: cut + 5]), set(spans[cut:])


@pytest.mark.parametrize("unit", ["entity", "item", "cluster"])
def test_span_columns_score_as_the_sets_of_tuples(unit):
    """Issue 13: the NER task scores its spans as columns (SpanColumns, coded once); the
    strict units, the SemEval units and the token offsets equal those of the sets."""
    rng = random.Random(13)
    for _ in range(300):
        items = [f"s{k}" for k in rng.sample(range(20), rng.randint(1, 8))]  # any id order
        gold, pred = _random_spans(rng, items)
        segments = [(items[0], 0, 5, "a"), (items[0], 5, 30, "b")]
        clusters = Clusters(items, segments if rng.random() < 0.5 else ())
        columns = SpanColumns.pair(gold, pred, items)
        expected = strict_units_by_label(gold, pred, unit, items=items, clusters=clusters)
        found = strict_units_by_label(*columns, unit, items=items, clusters=clusters)
        assert found[0].tolist() == expected[0].tolist()
        assert {k: v.tolist() for k, v in found[1].items()} == {
            k: v.tolist() for k, v in expected[1].items()
        }
        expected_units = span_units(gold, pred, unit, items=items, clusters=clusters)
        found_units = span_units(*columns, unit, items=items, clusters=clusters)
        assert found_units.counts == expected_units.counts
        assert found_units.labels == expected_units.labels
        for scheme in ("strict", "exact", "partial", "ent_type"):
            assert np.array_equal(found_units.overall[scheme], expected_units.overall[scheme])
            assert np.array_equal(found_units.per_label[scheme], expected_units.per_label[scheme])
        texts = ["".join(rng.choice("ab  ") for _ in range(rng.randint(0, 25))) for _ in items]
        tokens = TokenOffsets(items, *texts_token_offsets(texts))
        as_sets = token_spans(gold, pred, tokens)
        as_columns = token_columns(*columns, tokens)
        for spans, found_columns in zip(as_sets, as_columns, strict=True):
            rows = found_columns.rows().tolist()
            assert {(items[i], s, e, found_columns.labels[c]) for i, s, e, c in rows} == spans
            assert len(rows) == len(spans)
