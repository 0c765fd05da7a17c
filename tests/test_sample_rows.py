"""Issue 13: sample rows held as columns (millions of scored items without a dict each) read
and write exactly as the list of dicts they stand for."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import sample_rows
from bench.items import TextColumn
from bench.metrics.spans import TokenOffsets
from bench.metrics.values import precision_recall_f1
from bench.provenance import redact, scrub_secrets
from bench.report.files import write_jsonl_atomic
from bench.sample_rows import Coded, ColumnRows

IDS = ["a", 'quote " and \\ backslash', "tab\there", "café ☕", "ctrl \x01", "line\u2028sep", "7"]
SCORES = [0.0, 1.0, 0.1 + 0.2, 1e-7, 0.5, 1 / 3, 0.999999]


def _rows() -> tuple[ColumnRows, list[dict]]:
    """Rows of every column kind, two extra rows after them, and the dicts they stand for."""
    levels = np.array([0, 1, 0, 0, 1, 0, 1])
    gold = np.array([1, 0, 0, 1, 1, 0, 1], dtype=np.int64)
    correct = np.array(SCORES) >= 0.5
    columns = {"id": IDS, "level": Coded(levels, ("segment", "doc \"x\"")), "gold": gold,
               "score": np.array(SCORES), "correct": correct}  # fmt: skip
    extra = [{"id": "f", "failure": {"reason": "parse", "message": "bad"}}, {"id": "g"}]
    expected = [
        {"id": i, "level": ("segment", 'doc "x"')[lv], "gold": g, "score": s, "correct": c}
        for i, lv, g, s, c in zip(
            IDS, levels.tolist(), gold.tolist(), SCORES, correct.tolist(), strict=True
        )  # fmt: skip
    ]
    return ColumnRows(columns) + extra, expected + extra


@pytest.mark.parametrize("ids", [list, TextColumn.of])
@pytest.mark.parametrize("chunk", [1, 3, 100_000])
def test_written_lines_are_those_json_dumps_writes(tmp_path, monkeypatch, chunk, ids):
    """Chunks of plain ids (written between quotes as they are) and of ids JSON escapes."""
    monkeypatch.setattr(sample_rows, "ROWS_PER_CHUNK", chunk)
    rows, expected = _rows()
    rows.columns["id"] = ids(IDS)
    write_jsonl_atomic(tmp_path / "rows.jsonl", rows)
    write_jsonl_atomic(tmp_path / "dicts.jsonl", expected)
    text = (tmp_path / "rows.jsonl").read_text(encoding="utf-8")
    assert text == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in expected)
    assert text == (tmp_path / "dicts.jsonl").read_text(encoding="utf-8")


def test_rows_read_as_the_dicts_they_stand_for():
    rows, expected = _rows()
    assert list(rows) == expected and rows == expected and len(rows) == len(expected)
    assert [rows[k] for k in range(-len(rows), len(rows))] == expected + expected
    assert rows[2:9:3] == expected[2:9:3]
    assert [type(v) for v in rows[0].values()] == [str, str, int, float, bool]
    with pytest.raises(IndexError):
        rows[len(rows)]


def test_a_non_finite_value_is_refused_and_leaves_no_file(tmp_path):
    rows = ColumnRows({"id": ["a", "b"], "score": np.array([0.5, np.nan])})
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_jsonl_atomic(tmp_path / "rows.jsonl", rows)
    assert list(tmp_path.iterdir()) == []


def test_columns_of_unequal_length_are_refused():
    with pytest.raises(ValueError, match="unequal lengths"):
        ColumnRows({"id": ["a", "b"], "score": np.array([0.5])})


@pytest.mark.parametrize(
    "text",
    [
        "x.token=abcdef123",
        "x.ſecret=abcdef123",
        "authorİzation: Basic abcdef",
        "KEY-KEY",
        "sk-0123456789-tail",
        "Bearer abcdefgh1234",
    ],  # fmt: skip
)
def test_scrubbing_rows_redacts_each_string_as_redact_does(text):
    """The columns are searched at once; whatever one string holds is redacted in it, with
    the letters re.IGNORECASE matches to ASCII ones (ſ for s, İ for i) too."""
    secrets = ["sk-0123456789-secret"]
    ids = [f"item-{k}" for k in range(50)] + [text]
    rows = ColumnRows({"id": ids, "level": Coded(np.zeros(51, np.int64), (text,))})
    rows += [{"id": "f", "failure": {"message": text}}]
    scrubbed = scrub_secrets(rows, secrets)
    redacted = redact(text, secrets)
    assert redacted != text or text == "KEY-KEY"  # the credentials are all found
    assert scrubbed[-2] == {"id": redacted, "level": redacted}
    assert scrubbed[-1] == {"id": "f", "failure": {"message": redacted}}
    assert [row["id"] for row in scrubbed[:50]] == ids[:50]


def test_scrubbing_rows_without_anything_to_redact_keeps_them():
    ids = [f"item-{k}" for k in range(1000)]
    scrubbed = scrub_secrets(ColumnRows({"id": ids}), ["sk-0123456789-secret"])
    assert scrubbed.columns["id"] is ids


def _ner_rows(seed: int) -> tuple[sample_rows.NerRows, list[dict]]:
    """Random NER rows (awkward texts and labels, tokens, segments on some items, two
    extra rows) and the dicts they stand for, built one item at a time."""
    rng = np.random.default_rng(seed)
    labels = ["LOC", 'Q"uote', "é", "PER"]
    texts = [" ".join(rng.choice(["a", "bb", "café", "\\", '"q"', "☕x", "\x01"], n))
             for n in rng.integers(1, 9, 12)]  # fmt: skip
    ids = [f"s{k}" for k in range(len(texts))]

    def spans() -> np.ndarray:
        found = set()
        for row in rng.integers(0, len(texts), 25).tolist():
            start = int(rng.integers(0, len(texts[row])))
            end = int(rng.integers(start + 1, len(texts[row]) + 1))
            found.add((row, start, end, int(rng.integers(0, len(labels)))))
        return np.array(sorted(found), dtype=np.int64).reshape(-1, 4)

    gold, pred = spans(), spans()
    gold = np.concatenate((gold, pred[::3]))  # some correct
    gold = np.unique(gold, axis=0)
    tokens = {ids[k]: [[s, s + len(t)] for s, t in _offsets(text)] for k, text in enumerate(texts)}
    segments = {ids[1]: [[0, 2, "p1"], [2, 9, "c\u2028"]], ids[7]: [[0, 4, "head"]]}
    expected = []
    for k, (item_id, text) in enumerate(zip(ids, texts, strict=True)):
        g, p = ([[s, e, labels[c], text[s:e]] for r, s, e, c in sorted(spans.tolist()) if r == k]
                for spans in (gold, pred))  # fmt: skip
        tp = sum(1 for span in p if span in g)
        f1 = precision_recall_f1(tp, len(p), len(g))[2]
        row = {"id": item_id, "gold": g, "pred": p, "tp": tp, "fp": len(p) - tp,
               "fn": len(g) - tp, "strict_f1": f1, "tokens": tokens[item_id]}  # fmt: skip
        expected.append(row | ({"segments": segments[item_id]} if item_id in segments else {}))
    offsets = TokenOffsets.of(tokens)
    columns = (offsets.starts, offsets.ends, offsets.bounds)
    rows = sample_rows.NerRows(ids, texts, labels, gold, pred, columns, segments)
    extra = [{"id": "f", "failure": {"reason": "parse", "message": "bad"}}]
    return rows + extra, expected + extra


def _offsets(text: str) -> list[tuple[int, str]]:
    tokens, start = [], 0
    for token in text.split(" "):
        tokens.append((start, token))
        start += len(token) + 1
    return tokens


@pytest.mark.parametrize("chunk", [1, 5, 100_000])
def test_ner_rows_read_and_write_as_the_dicts_they_stand_for(tmp_path, monkeypatch, chunk):
    """Issue 13: NER's rows (spans and tokens held as columns, not a dict and lists per
    item) read as their dicts and are written as ``json.dumps`` writes these."""
    monkeypatch.setattr(sample_rows, "ROWS_PER_CHUNK", chunk)
    for seed in range(5):
        rows, expected = _ner_rows(seed)
        assert list(rows) == expected and rows == expected and len(rows) == len(expected)
        assert [rows[k] for k in range(-len(rows), len(rows))] == expected + expected
        write_jsonl_atomic(tmp_path / "rows.jsonl", rows)
        text = (tmp_path / "rows.jsonl").read_text(encoding="utf-8")
        assert text == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in expected)
        assert "segments" in text and all(r["fp"] or r["fn"] or r["tp"] for r in expected[:3])


def test_ner_rows_strict_f1_is_that_of_precision_recall_f1_to_the_last_bit():
    counts = [(tp, n_pred, n_gold) for n_pred in range(40) for n_gold in range(40)
              for tp in range(min(n_pred, n_gold) + 1)]  # fmt: skip
    tp, n_pred, n_gold = (np.array(column) for column in zip(*counts, strict=True))
    expected = [precision_recall_f1(*row)[2] for row in counts]
    assert sample_rows._f1(tp, n_pred, n_gold).tolist() == expected
