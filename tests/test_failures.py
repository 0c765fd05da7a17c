"""Items a model did not answer are counted and reported, never scored as a stand-in value.

A real chat server on 127.0.0.1 (the helpers of test_adapters_openai) answers some or
all items with text that holds no JSON; the runner, the ``bench`` command, the printed
table, the leaderboard and the check must all say so.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench_config import compose_config, run_model
from test_adapters_openai import KEY, MODEL, FakeServer, Reply, Seen, ok

from bench.report.check import check
from bench.report.compare import CompareError, Run, compare_task
from bench.report.leaderboard import build_leaderboard
from bench.report.render.csv_table import csv_table
from bench.report.render.markdown import to_markdown_text
from bench.report.tables import main_table
from bench.runner import build

BENCH = str(Path(sys.executable).with_name("bench"))
Script = Callable[[Seen, int], Reply]
GARBAGE = "I am not able to rate that text."


@pytest.fixture
def serve(monkeypatch) -> Iterator[Callable[[Script], FakeServer]]:
    """Start chat servers on 127.0.0.1 (closed after the test); the key in the environment."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    servers: list[FakeServer] = []

    def start(script: Script) -> FakeServer:
        servers.append(FakeServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@functools.cache
def toxicity_texts() -> tuple[str, ...]:
    """The texts of the seed article's toxicity items (segments and documents), in order."""
    dataset = build(compose_config(model="empty").dataset, "dataset")
    return tuple(item.text for item in dataset.view("toxicity").items)


def half_garbage() -> Script:
    """A server script: garbage for every other toxicity item, the gold answer else."""
    bad = set(toxicity_texts()[1::2])  # here: Hydra's compose is not for server threads
    return lambda seen, n: Reply(content=GARBAGE) if seen.text in bad else ok(seen)


def n_bad() -> int:
    bad = set(toxicity_texts()[1::2])
    return sum(text in bad for text in toxicity_texts())


def chat_overrides(server, *more: str) -> list[str]:
    return [f"model.base_url='{server.base_url}'", f"model.model={MODEL}",
            "model.backoff_base=0", "bootstrap.resamples=0", *more]  # fmt: skip


def chat_run(out: Path, server, *more: str) -> dict:
    outcome = run_model(out, "openai_chat", *chat_overrides(server, *more))
    assert json.loads((out / "result.json").read_text()) == outcome.result
    return outcome.result


def samples(run_dir: Path, task: str) -> list[dict]:
    lines = (run_dir / "samples" / f"{task}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def bench(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH, *args], cwd=cwd, env=dict(os.environ), capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


# --------------------------------------------------------------------------- bench command


@pytest.mark.slow
def test_a_server_answering_garbage_fails_the_task_and_bench_exits_1(serve, tmp_path):
    server = serve(lambda seen, n: Reply(content=GARBAGE))
    done = bench(tmp_path, "+model=openai_chat", "task=toxicity", "hydra.run.dir=out",
                 *chat_overrides(server))  # fmt: skip
    assert done.returncode == 1, done.stderr
    n = len(toxicity_texts())
    assert "roc_auc" not in done.stdout and "| ok" not in done.stdout
    assert "| toxicity | -" in done.stdout and "| failed |" in done.stdout
    [line] = done.stderr.splitlines()  # one line for the task, none per item
    assert line.startswith(f"bench: task toxicity failed: {n}/{n} items failed (parse: {n})")
    assert "no item was answered" in line and "parse: no JSON object in the answer" in line

    result = json.loads((tmp_path / "out" / "result.json").read_text())
    record = result["tasks"]["toxicity"]
    assert record["status"] == "failed" and "metrics" not in record
    assert record["failures"] | {"rate": None} == {
        "count": n, "n": n, "rate": None, "by_reason": {"parse": n},
        "max_failure_rate": 0.0, "scored_items": 0,
    }  # fmt: skip
    rows = samples(tmp_path / "out", "toxicity")
    assert len(rows) == n and all(row["failure"]["reason"] == "parse" for row in rows)
    assert all(row["failure"]["raw"] == GARBAGE for row in rows)
    assert all("<text>" in row["failure"]["prompt"] for row in rows)


@pytest.mark.slow
def test_allowed_failures_show_as_degraded_with_one_warning(serve, tmp_path):
    server = serve(half_garbage())
    k, n = n_bad(), len(toxicity_texts())
    done = bench(tmp_path, "+model=openai_chat", "task=toxicity", "hydra.run.dir=out",
                 *chat_overrides(server, "max_failure_rate=0.5"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    label = f"degraded ({k}/{n} failed)"
    assert "| roc_auc " in done.stdout and label in done.stdout
    assert "| ok" not in done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench: warning: task toxicity degraded: {k}/{n} failed (parse: {k})")

    out = tmp_path / "out"
    record = json.loads((out / "result.json").read_text())["tasks"]["toxicity"]
    assert record["status"] == "ok"
    assert record["failures"] == {
        "count": k, "n": n, "rate": k / n, "by_reason": {"parse": k},
        "max_failure_rate": 0.5, "scored_items": n - k,
    }  # fmt: skip
    # the answered items are scored, and only they: the gold answers rank perfectly
    assert record["metrics"]["roc_auc"]["value"] == 1.0
    assert sum(record["counts"][f"{level}s"] for level in ("segment", "document")) == n - k
    rows = samples(out, "toxicity")
    failed = [row for row in rows if "failure" in row]
    assert len(rows) == n and len(failed) == k
    assert {row["failure"]["raw"] for row in failed} == {GARBAGE}
    bad = set(toxicity_texts()[1::2])
    assert all(any(t in row["failure"]["prompt"] for t in bad) for row in failed)
    assert all("score" not in row for row in failed)
    assert label in (out / "tables" / "main.md").read_text()


# --------------------------------------------------------------------------- the runner


def test_more_failures_than_allowed_fail_the_task(serve, tmp_path):
    k, n = n_bad(), len(toxicity_texts())
    result = chat_run(tmp_path, serve(half_garbage()), "task=toxicity",
                      f"max_failure_rate={(k - 1) / n}")  # fmt: skip
    record = result["tasks"]["toxicity"]
    assert record["status"] == "failed" and record["failures"]["count"] == k
    assert f"{k}/{n} items failed (parse: {k}): more than max_failure_rate=" in record["error"]
    assert all(row[-1] == "failed" for row in main_table(result)[1])


def test_a_failed_document_is_left_out_of_ner_gold_and_predictions(serve, tmp_path):
    from test_adapters_openai import gold

    broken = gold().document("comment-2").text

    def script(seen: Seen, n: int) -> Reply:
        return Reply(content="```json\n{oops\n```") if seen.text == broken else ok(seen)

    result = chat_run(tmp_path, serve(script), "task=ner", "max_failure_rate=0.5")
    record = result["tasks"]["ner"]
    assert record["failures"]["by_reason"] == {"parse": 1}
    assert record["metrics"]["strict_recall"]["value"] == 1.0  # not a miss of comment-2's gold
    expected = sum(e.doc_id != "comment-2" for e in gold().entities)
    assert record["counts"]["gold_entities"] == expected and record["counts"]["items"] == 2
    [failed] = [row for row in samples(tmp_path, "ner") if "failure" in row]
    assert failed["id"] == "comment-2" and failed["failure"]["raw"] == "```json\n{oops\n```"
    assert main_table(result)[1][0][-1] == "degraded (1/3 failed)"


def test_failed_items_are_not_cached_and_a_rerun_asks_only_for_them(serve, tmp_path):
    healed, failing = False, half_garbage()
    server = serve(lambda seen, n: ok(seen) if healed else failing(seen, n))
    first = chat_run(tmp_path / "a", server, "task=toxicity", "max_failure_rate=0.5")
    assert first["tasks"]["toxicity"]["failures"]["count"] == n_bad()
    asked, healed = len(server.seen), True
    second = chat_run(tmp_path / "b", server, "task=toxicity", "max_failure_rate=0.5")
    assert len(server.seen) - asked == n_bad()  # the others came from the cache
    record = second["tasks"]["toxicity"]
    assert record["failures"]["count"] == 0
    assert record["predictions"]["hits"] == len(toxicity_texts()) - n_bad()
    assert main_table(second)[1][0][-1] == "ok"


def test_a_key_echoed_in_an_answer_is_not_written_with_the_failure(serve, tmp_path):
    server = serve(lambda seen, n: Reply(content=f"Your key {KEY} has no JSON for you."))
    result = chat_run(tmp_path, server, "task=toxicity")
    assert result["tasks"]["toxicity"]["status"] == "failed"
    rows = samples(tmp_path, "toxicity")
    assert {row["failure"]["raw"] for row in rows} == {"Your key *** has no JSON for you."}
    assert KEY not in (tmp_path / "samples" / "toxicity.jsonl").read_text()


def test_max_failure_rate_must_be_a_rate(tmp_path):
    with pytest.raises(ValueError, match=r"max_failure_rate=1\.5: expected a number in \[0, 1\]"):
        run_model(tmp_path, "empty", "max_failure_rate=1.5")
    assert not (tmp_path / "result.json").exists()


def test_a_missing_prediction_in_a_file_is_a_failed_item(tmp_path):
    dataset = build(compose_config(model="empty").dataset, "dataset")
    items = dataset.view("toxicity").items
    folder = tmp_path / "predictions"
    folder.mkdir()
    rows = [json.dumps({"id": item.id, "score": 0.5}) for item in items[1:]]
    (folder / "toxicity.jsonl").write_text("\n".join(rows) + "\n")
    result = run_model(tmp_path / "run", "predictions", f"model.path={folder}",
                       "max_failure_rate=0.1", "bootstrap.resamples=0").result  # fmt: skip
    record = result["tasks"]["toxicity"]
    assert record["status"] == "ok" and record["failures"]["by_reason"] == {"missing": 1}
    [failed] = [row for row in samples(tmp_path / "run", "toxicity") if "failure" in row]
    assert failed["id"] == items[0].id
    assert failed["failure"]["message"] == (
        f"{folder / 'toxicity.jsonl'}: id: no prediction for item {items[0].id!r}"
    )


# --------------------------------------------------------------------------- reports


@pytest.fixture(scope="module")
def report_runs(tmp_path_factory) -> dict[str, Path]:
    """An ok run of a perfect server, a degraded one and one whose every answer is garbage."""
    root = tmp_path_factory.mktemp("failure-runs")
    os.environ["OPENAI_API_KEY"] = KEY
    servers = {
        "perfect": (FakeServer(lambda seen, n: ok(seen)), ()),
        "degraded": (FakeServer(half_garbage()), ("max_failure_rate=0.5",)),
        "garbage": (FakeServer(lambda seen, n: Reply(content=GARBAGE)), ()),
    }
    try:
        for name, (server, more) in servers.items():
            chat_run(root / name, server, "task=toxicity", f"name={name}",
                     "bootstrap.resamples=50", *more)  # fmt: skip
    finally:
        for server, _ in servers.values():
            server.close()
        del os.environ["OPENAI_API_KEY"]
    return {name: root / name for name in servers}


def test_the_leaderboard_shows_degraded_unranked_and_never_ranks_garbage(report_runs):
    board = build_leaderboard([str(p) for p in report_runs.values()], n_resamples=50)
    cells = {e.name: e.cells["toxicity"] for e in board.entries}
    label = f"degraded ({n_bad()}/{len(toxicity_texts())} failed)"
    assert (cells["perfect"].status, cells["perfect"].rank) == ("ok", 1)
    assert (cells["degraded"].status, cells["degraded"].rank) == ("degraded", None)
    assert cells["degraded"].label == label and cells["degraded"].value == 1.0
    assert (cells["garbage"].status, cells["garbage"].rank) == ("failed", None)
    assert [e.name for e in board.entries][0] == "perfect"
    markdown = to_markdown_text(board, [])
    [row] = [line for line in markdown.splitlines() if "| degraded " in line]
    assert "1.000" in row and label in row
    headers, rows = csv_table(board)
    status = {row[1]: row[headers.index("toxicity.status")] for row in rows}
    assert status == {"perfect": "ok", "degraded": label, "garbage": "failed"}


@pytest.mark.slow
def test_bench_report_leaderboard_writes_degraded_in_every_format(report_runs, tmp_path):
    done = subprocess.run(
        [str(Path(BENCH).with_name("bench-report")), "leaderboard", *map(str, report_runs.values()),
         "--out", str(tmp_path), "--resamples", "50", "--no-plots"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    label = f"degraded ({n_bad()}/{len(toxicity_texts())} failed)"
    for name in ("leaderboard.md", "leaderboard.csv", "index.html", "leaderboard.tex"):
        assert label in (tmp_path / name).read_text(), name
    data = json.loads((tmp_path / "leaderboard.json").read_text())
    assert [row["model"] for row in data["tasks"]["toxicity"]["ranking"]] == ["perfect"]
    models = {m["name"]: m["tasks"]["toxicity"] for m in data["models"]}
    assert models["degraded"]["status"] == "degraded" and models["degraded"]["value"] == 1.0
    assert models["degraded"]["reason"] == f"{n_bad()}/{len(toxicity_texts())} failed"


def test_the_check_says_the_run_is_degraded(report_runs):
    report = check(report_runs["degraded"], report_runs["perfect"], resamples=50)
    assert report.passed  # roc_auc 1.0 on the answered items, as the baseline's
    text = report.render()
    assert f"run toxicity: degraded ({n_bad()}/{len(toxicity_texts())} failed)" in text
    assert "no paired test" in text


def test_a_degraded_task_is_not_paired_with_a_full_one(report_runs):
    runs = [Run.load(report_runs[name]) for name in ("degraded", "perfect")]
    with pytest.raises(CompareError, match=r"task toxicity is degraded \(\d+/43 failed\)"):
        compare_task(*runs, "toxicity", n_resamples=50)
