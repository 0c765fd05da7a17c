"""The ``bench`` console script, run in a subprocess from a directory outside the repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = str(Path(sys.executable).with_name("bench"))
TESTS_DIR = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


def bench(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # the test helpers' folder first, then any path the caller set (e.g. a worktree's code)
    path = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)
    env = os.environ | {"PYTHONPATH": path, "HYDRA_FULL_ERROR": "1"}
    return subprocess.run(
        [BENCH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_run_from_outside_the_repo_writes_results_under_cwd(tmp_path):
    done = bench(tmp_path, "+model=oracle")
    assert done.returncode == 0, done.stderr
    assert "strict_f1" in done.stdout and "1.0000" in done.stdout
    [result_file] = list((tmp_path / "results" / "runs").glob("*oracle/result.json"))
    result = json.loads(result_file.read_text())
    assert result["tasks"]["ner"]["metrics"]["strict_f1"]["value"] == 1.0
    assert (result_file.parent / "tables" / "main.md").is_file()


def test_a_named_run_gets_its_own_folder_and_a_bad_option_exits_2(tmp_path):
    args = ("+model=empty", "task=toxicity", "bootstrap.resamples=0")
    done = bench(tmp_path, *args, "name=team a/1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("model: team a/1 (preset empty)")
    [folder] = (tmp_path / "results" / "runs").iterdir()
    assert folder.name.endswith("_team_a_1")
    bad = bench(tmp_path, *args, "toxicity.threshold=abc", "hydra.run.dir=bad")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "bench: ConfigError: toxicity.threshold='abc': expected a number in [0, 1]"
    ]
    assert not (tmp_path / "bad" / "result.json").exists()


def test_without_model_lists_presets_and_fails(tmp_path):
    done = bench(tmp_path)
    assert done.returncode == 2
    assert "+model=NAME" in done.stderr
    for preset in ("empty", "oracle", "rules"):
        assert preset in done.stderr
    assert not list(tmp_path.glob("results/runs/*/result.json"))


def test_failed_task_gives_exit_code_one_and_keeps_other_tasks(tmp_path):
    done = bench(tmp_path, "+model._target_=adapters_for_tests.OutOfRangeNer", "hydra.run.dir=out")
    assert done.returncode == 1
    assert "task ner failed" in done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["tasks"]["ner"]["status"] == "failed"
    assert result["tasks"]["toxicity"]["status"] == "ok"


def test_multirun_over_presets(tmp_path):
    done = bench(tmp_path, "-m", "+model=oracle,empty", "task=ner", "hydra.sweep.dir=sweep")
    assert done.returncode == 0, done.stderr
    results = sorted((tmp_path / "sweep").glob("*/result.json"))
    assert [json.loads(p.read_text())["model"]["preset"] for p in results] == ["oracle", "empty"]


def test_corrupted_gold_is_refused_without_result_files(tmp_path):
    from bench.data.gold import default_gold_dir

    gold = tmp_path / "gold"
    shutil.copytree(default_gold_dir(), gold)
    raw = next(gold.glob("*.txt"))
    raw.write_text(raw.read_text(encoding="utf-8") + " ", encoding="utf-8")
    done = bench(tmp_path, "+model=rules", f"dataset.path={gold}", "hydra.run.dir=out")
    assert done.returncode == 2
    assert "sha256" in done.stderr and raw.name in done.stderr
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_jsonl_prediction_file_that_is_not_utf8_fails_its_task_naming_file_and_line(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    path = folder / "toxicity.jsonl"
    path.write_bytes(b'{"id": "article-01", "score": 0.5}\n{"id": "article-02", "x": "caf\xe9"}\n')
    done = bench(tmp_path, "+model=predictions", f"model.path={folder}", "hydra.run.dir=out")
    assert done.returncode == 1  # like any malformed predictions file: its task fails
    assert "Traceback" not in done.stderr and "UnicodeDecodeError" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"bench: task toxicity failed: PredictionsFileError: {path}:2: (encoding): not UTF-8 "
        "(byte 0xe9 at column 31); save the file as UTF-8"
    ]


def test_a_conll_prediction_file_that_is_not_utf8_exits_two_naming_file_and_line(tmp_path):
    path = tmp_path / "submission.conll"
    path.write_bytes(b"-DOCSTART- O\n\nJoh\xf1 B-person\nsays O\n")
    args = ("+model=predictions", f"model.path={path}", "model.format=conll", "dataset=wnut17")
    done = bench(tmp_path, *args, "hydra.run.dir=out")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"bench: ConfigError: model predictions: ConllError: {path}:3: (encoding): not UTF-8 "
        "(byte 0xf1 at column 4); save the file as UTF-8"
    ]
    assert not (tmp_path / "out" / "result.json").exists()


def test_unknown_preset_exits_two(tmp_path):
    done = bench(tmp_path, "+model=nonexistent")
    assert done.returncode == 2
    assert "Could not find 'model/nonexistent'" in done.stderr


def test_missing_mandatory_parameter_exits_two_in_one_line(tmp_path):
    done = bench(tmp_path, "+model=predictions", "hydra.run.dir=out")
    assert done.returncode == 2
    [line] = [line for line in done.stderr.splitlines() if line.startswith("bench:")]
    assert "model.path" in line
    assert not (tmp_path / "out" / "result.json").exists()
