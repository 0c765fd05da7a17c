"""Issue 13: sample rows held as columns (millions of scored items without a dict each) read
and write exactly as the list of dicts they stand for."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import sample_rows
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


@pytest.mark.parametrize("chunk", [1, 3, 100_000])
def test_written_lines_are_those_json_dumps_writes(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(sample_rows, "ROWS_PER_CHUNK", chunk)
    rows, expected = _rows()
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
