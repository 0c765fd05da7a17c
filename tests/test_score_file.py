"""A toxicity.jsonl of plain ``{"id", "score"}`` lines is read as columns (issue 13: ten
million of them fit); it answers, names lines and refuses unknown ids exactly as the
record-by-record reader does, which still reads every other file."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
from bench_config import shipped_task

from bench.adapters.predictions import PredictionsAdapter, PredictionsFileError
from bench.runner import run_task
from bench.tasks.base import PredictionRecordError


def _write(folder, rows, blank_line=False):
    folder.mkdir()
    text = "".join(json.dumps(row) + "\n" for row in rows) + ("\n" if blank_line else "")
    (folder / "toxicity.jsonl").write_text(text)
    return PredictionsAdapter(str(folder))


def _rows(items, seed=3):
    rows = [{"id": item.id, "score": round(random.Random(k).random(), 4) if k % 7 else k % 2}
            for k, item in enumerate(items) if k != 5]  # fmt: skip  # item 5: no prediction
    random.Random(seed).shuffle(rows)
    return rows


def test_columns_answer_as_the_records(tmp_path):
    items = list(shipped_task("hatecheck", "toxicity").inputs())
    rows = _rows(items)
    columns, records = _write(tmp_path / "a", rows), _write(tmp_path / "b", rows, blank_line=True)
    assert columns._score_file() is not None and records._score_file() is None
    answers = columns.predict_toxicity(items)
    moved = [replace(p, message=p.message.replace("/a/", "/b/")) if p in answers[5:6] else p
             for p in answers]  # fmt: skip
    assert moved == records.predict_toxicity(items)
    assert answers[5].reason == "missing"
    lines = [str(columns.source_of("toxicity", item.id)) for item in items[:50]]
    assert [line.replace("/a/", "/b/") for line in lines] == [
        str(records.source_of("toxicity", item.id)) for item in items[:50]
    ]
    line_of_first = next(k for k, row in enumerate(rows, 1) if row["id"] == items[0].id)
    assert lines[5] == "None" and lines[0].endswith(f"toxicity.jsonl:{line_of_first}")
    assert columns.source_of("toxicity", "no-such-item") is None
    columns.end_task("toxicity", items)
    unknown = [*rows, {"id": "zz-unknown", "score": 0.5}, {"id": "a-unknown", "score": 0.5}]
    columns, records = _write(tmp_path / "c", unknown), _write(tmp_path / "d", unknown, True)
    with pytest.raises(PredictionsFileError) as from_columns:
        columns.end_task("toxicity", items)
    with pytest.raises(PredictionsFileError) as from_records:
        records.end_task("toxicity", items)
    assert str(from_columns.value).replace("/c/", "/d/") == str(from_records.value)
    assert "unknown item 'a-unknown' (2 unknown)" in str(from_columns.value)


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "x", "score": 0.5, "attributes": {"insult": 0.1}}',
        '{"id": "x", "score": "0.5"}',
        '{"id": "x"}',
        '{"id": 3, "score": 0.5}',
        '{"id": "x", "score": true}',
        '{"id": "case-1", "score": 0.5}',
    ],  # fmt: skip
)
def test_any_other_line_is_read_record_by_record(tmp_path, line):
    rows = [{"id": "case-1", "score": 0.25}, {"id": "case-2", "score": 0.75}]
    adapter = _write(tmp_path / "f", rows)
    with (tmp_path / "f" / "toxicity.jsonl").open("a") as handle:
        handle.write(line + "\n")
    assert adapter._score_file() is None


def test_a_bad_score_is_named_by_its_line(tmp_path):
    task = shipped_task("hatecheck", "toxicity")
    rows = [{"id": item.id, "score": 0.5} for item in task.inputs()]
    rows[2]["score"] = 1.5
    adapter = _write(tmp_path / "p", rows)
    assert adapter._score_file() is not None
    with pytest.raises(PredictionRecordError) as refused:  # the run is refused, not the task
        run_task(task, adapter, None)
    path = tmp_path / "p" / "toxicity.jsonl"
    assert str(refused.value) == (
        f"{path}:3: test: toxicity item {rows[2]['id']!r}: score: "
        "expected a probability in [0, 1], got 1.5"
    )


def test_a_run_reads_the_columns_without_an_object_per_item(tmp_path, monkeypatch):
    """run_task asks the columns for each batch's scores as arrays (ids looked up at once)
    and scores them as the records' predictions, the missing item a failed one."""
    rows = _rows(shipped_task("hatecheck", "toxicity").inputs())
    columns, records = _write(tmp_path / "a", rows), _write(tmp_path / "b", rows, True)
    by_records = run_task(shipped_task("hatecheck", "toxicity"), records, None, None, 0.01)
    monkeypatch.setattr(PredictionsAdapter, "predict_toxicity", None)  # objects: not asked
    by_columns = run_task(shipped_task("hatecheck", "toxicity"), columns, None, None, 0.01)
    assert by_columns[0]["status"] == "ok", by_columns[0].get("error")
    assert by_columns[0]["failures"]["count"] == 1
    for record, samples in (by_columns, by_records):
        record.pop("seconds")
        [failed] = [row for row in samples if "failure" in row]
        failed["failure"]["message"] = failed["failure"]["message"].replace("/a/", "/b/")
    assert by_columns[0] == by_records[0]
    assert list(by_columns[1]) == list(by_records[1])


def test_the_columns_are_let_go_before_the_task_scores(tmp_path):
    """At 10 M items the file's columns (~0.3 GB) would sit beside the scoring's arrays:
    the adapter drops them once the task has its answers, and reads them again if asked."""
    task = shipped_task("hatecheck", "toxicity")
    adapter = _write(tmp_path / "a", _rows(task.inputs()))
    held_while_scoring = []
    score = task.score
    task.score = lambda *args: held_while_scoring.append(adapter._scores) or score(*args)
    first, _ = run_task(task, adapter, None, None, 0.01)
    assert first["status"] == "ok", first.get("error")
    assert held_while_scoring == [False]
    again, _ = run_task(shipped_task("hatecheck", "toxicity"), adapter, None, None, 0.01)
    first.pop("seconds"), again.pop("seconds")
    assert again == first


def test_the_files_are_hashed_once_for_the_identity(tmp_path, monkeypatch):
    import hashlib

    import bench.adapters.predictions as predictions

    adapter = _write(tmp_path / "a", [{"id": "x", "score": 0.5}])
    hashed = []
    monkeypatch.setattr(predictions, "sha256_file", lambda path: hashed.append(path) or "h")
    assert adapter.identity()["sha256"] == adapter.identity()["sha256"] == {"toxicity.jsonl": "h"}
    assert hashed == [tmp_path / "a" / "toxicity.jsonl"]  # asked twice (before, after), read once
    monkeypatch.undo()
    data = (tmp_path / "a" / "toxicity.jsonl").read_bytes()
    fresh = PredictionsAdapter(str(tmp_path / "a")).identity()["sha256"]
    assert fresh == {"toxicity.jsonl": hashlib.sha256(data).hexdigest()}


def test_unknown_ids_are_looked_up_only_where_no_item_found_them(tmp_path, monkeypatch):
    """end_task looks every item up again only when some line was not answered: a full
    file costs no second lookup, and an unknown id is still named."""
    from bench.adapters.score_file import ScoreFile

    items = list(shipped_task("hatecheck", "toxicity").inputs())
    rows = [{"id": item.id, "score": 0.5} for item in items]
    looked_up = []
    rows_of = ScoreFile.rows
    monkeypatch.setattr(ScoreFile, "rows", lambda self, ids: looked_up.append(len(ids))
                        or rows_of(self, ids))  # fmt: skip
    complete, _ = run_task(
        shipped_task("hatecheck", "toxicity"), _write(tmp_path / "a", rows), None
    )
    assert complete["status"] == "ok", complete.get("error")
    assert sum(looked_up) == len(items)  # the batches' lookups only
    extra = [*rows, {"id": "zz-unknown", "score": 0.5}]
    with pytest.raises(PredictionsFileError, match=r"unknown item 'zz-unknown' \(1 unknown\)"):
        run_task(shipped_task("hatecheck", "toxicity"), _write(tmp_path / "b", extra), None)
