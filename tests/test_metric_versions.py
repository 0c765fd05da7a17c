"""Old and new numbers never mix: leaderboard, check and compare refuse runs scored under
different metric definitions (``tasks.<task>.metrics_version``, attribution's
``min_overlap``), in one line, and write nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench_config import run_model

from bench.tasks import TASKS

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH_REPORT, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def _as_version_1(source: Path, target: Path) -> Path:
    """A copy of a run as bench wrote it before metric versions (and min_overlap) existed."""
    shutil.copytree(source, target)
    path = target / "result.json"
    result = json.loads(path.read_text())
    for record in result["tasks"].values():
        record.pop("metrics_version", None)
        record.get("breakdown", {}).pop("min_overlap", None)
    path.write_text(json.dumps(result))
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, preset, *overrides in (
        ("oracle", "oracle"),
        ("rules", "rules"),
        ("lenient", "rules", "attribution.min_overlap=0.3"),
    ):
        out[name] = tmp_path_factory.mktemp(name)
        run_model(out[name], preset, "task=attribution", "bootstrap.resamples=0", *overrides)
    old = tmp_path_factory.mktemp("old")
    out["old"] = _as_version_1(out["rules"], old / "rules")
    out["old_oracle"] = _as_version_1(out["oracle"], old / "oracle")
    return out


def test_every_task_records_its_metrics_version(runs):
    assert all(isinstance(task.metrics_version, int) for task in TASKS.values())
    for name in ("oracle", "rules"):
        tasks = json.loads((runs[name] / "result.json").read_text())["tasks"]
        assert tasks["attribution"]["metrics_version"] == TASKS["attribution"].metrics_version
    assert TASKS["attribution"].metrics_version == 2


def _refused(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert "attribution: the runs were scored under different metric definitions" in line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_leaderboard_refuses_to_rank_a_version_1_run_with_a_version_2_run(runs, tmp_path):
    out = tmp_path / "board"
    done = _report("leaderboard", runs["oracle"], runs["old"], "--out", out, "--no-plots")
    line = _refused(
        done, f"version 1: {runs['old']}", f"version 2, min_overlap 0.5: {runs['oracle']}"
    )
    assert "rerunning them with this bench (metrics version 2" in line
    assert not out.exists()


def test_leaderboard_refuses_runs_with_different_min_overlap(runs, tmp_path):
    done = _report("leaderboard", runs["rules"], runs["lenient"], "--out", tmp_path / "b",
                   "--no-plots")  # fmt: skip
    _refused(done, "min_overlap 0.3", "min_overlap 0.5")


def test_check_refuses_to_gate_against_a_baseline_of_other_definitions(runs, tmp_path):
    junit = tmp_path / "junit.xml"
    done = _report("check", runs["old"], "--baseline", runs["oracle"], "--junit", junit)
    _refused(done, "version 1", "version 2", str(runs["oracle"]))


def test_compare_refuses_to_pair_runs_of_other_definitions(runs):
    _refused(_report("compare", runs["old"], runs["oracle"]), "version 1", "version 2")
    _refused(_report("compare", runs["rules"], runs["lenient"], "--all-metrics"), "min_overlap")


def test_runs_of_the_same_old_version_still_pair_on_their_primary_metric(runs):
    done = _report("compare", runs["old_oracle"], runs["old"], "--resamples", "50")
    assert done.returncode == 0, done.stderr
    assert "e2e_f1" in done.stdout
    # per item, their samples cannot be rescored under the current definitions
    done = _report("compare", runs["old_oracle"], runs["old"], "--all-metrics")
    assert done.returncode == 2
    assert "scored under metrics version 1" in done.stderr and "rerun it" in done.stderr
