"""Sweeps (``bench -m``) on Hydra's launchers: exit codes, what jobs return, the summary."""

from __future__ import annotations

import csv
import gc
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra._internal.utils import get_args_parser
from test_cli import BENCH, bench, env, no_run_folder

from bench import cli
from bench.metrics import bootstrap
from bench.report import compare, leaderboard
from bench.report.leaderboard import build_leaderboard

pytestmark = pytest.mark.slow

RAY_INSTALLED = importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
RAY_ABSENT = (
    "hydra-ray-launcher is not installed (bench[ray]); it is not in bench[test] because it "
    "requires cloudpickle<3, which takes joblib back to 1.5 (.ci/run tests it in a venv of its own)"
)
RAY = pytest.param("bench_ray", marks=pytest.mark.ray)
LAUNCHERS = [
    "basic",
    "joblib",
    "submitit_local",  # the SLURM launcher's code path (pickled jobs and results), one machine
    RAY,
]
CHEAP = ("task=ner", "bootstrap.resamples=0")


@pytest.fixture(autouse=True)
def _ray_installed_or_skip(request: pytest.FixtureRequest) -> None:
    """A test marked ``ray`` skips without the Ray launcher, or fails under
    BENCH_REQUIRE_RAY=1 (.ci/run's Ray venv, where a skip would hide that it did not run)."""
    if request.node.get_closest_marker("ray") is None or RAY_INSTALLED:
        return
    if os.environ.get("BENCH_REQUIRE_RAY") == "1":
        pytest.fail(f"BENCH_REQUIRE_RAY=1, but {RAY_ABSENT}")
    pytest.skip(RAY_ABSENT)


@pytest.mark.skipif(RAY_INSTALLED, reason="the Ray launcher is installed")
def test_bench_require_ray_turns_the_ray_tests_skips_into_errors(tmp_path):
    """What .ci/run's Ray venv relies on: there, a missing Ray launcher cannot pass as a skip."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rN", "-m", "ray", "-p", "no:cacheprovider",
         __file__],
        cwd=tmp_path, env=os.environ | {"BENCH_REQUIRE_RAY": "1"}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "2 errors" in done.stdout.splitlines()[-1]
    assert done.stdout.count(f"Failed: BENCH_REQUIRE_RAY=1, but {RAY_ABSENT}") == 2


def sweep_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *overrides: str) -> tuple:
    """Sweep in this process as ``bench -m`` does: (exit code, the jobs' ``JobReturn``s)."""
    monkeypatch.chdir(tmp_path)
    seen: list = []
    real = cli.exit_code
    monkeypatch.setattr(cli, "exit_code", lambda jobs: seen.extend(jobs) or real(jobs))
    code = cli._launch(get_args_parser().parse_args(["-m", *overrides]))
    return code, sorted(seen, key=lambda job: job.hydra_cfg.hydra.job.num)


def leaderboard_md(tmp_path: Path, *runs: Path) -> str:
    """``bench-report leaderboard RUN…``'s leaderboard.md."""
    out = tmp_path / "leaderboard"
    done = subprocess.run(
        [str(Path(BENCH).with_name("bench-report")), "leaderboard", *map(str, runs),
         "--out", str(out), "--no-plots"],
        env=env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (out / "leaderboard.md").read_text()


def summary_rows(sweep: Path, *columns: str) -> list[tuple[str, ...]]:
    rows = csv.DictReader((sweep / "summary.csv").open())
    return [tuple(row[c] for c in columns) for row in rows]


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_sweep_lists_its_failed_job_exits_non_zero_and_ranks_the_others(tmp_path, launcher):
    done = bench(tmp_path, "-m", f"hydra/launcher={launcher}", "+model=oracle,predictions,empty",
                 *CHEAP)  # fmt: skip
    assert done.returncode == 2, done.stderr  # +model=predictions without a path: refused
    assert (
        "bench: job #1 (+model=predictions task=ner bootstrap.resamples=0) failed: exit code 2"
        in done.stderr.splitlines()  # Ray relays its workers' lines at any time: not the last
    )
    [sweep] = (tmp_path / "results" / "multirun").iterdir()  # one, made by the launching bench
    assert sorted(p.parent.name for p in sweep.glob("*/result.json")) == ["0_oracle", "2_empty"]
    summary = (sweep / "summary.md").read_text()
    assert summary in done.stdout  # printed too
    # the leaderboard bench-report makes of the runs that exited 0
    assert leaderboard_md(tmp_path, sweep / "0_oracle", sweep / "2_empty") in summary
    failed = summary.split("## Failed jobs (not ranked)")[1]
    assert "| #1  | +model=predictions task=ner bootstrap.resamples=0 | exit code 2 | -" in failed
    assert summary_rows(sweep, "job", "exit_code", "model", "ner.rank", "folder") == [
        ("0", "0", "oracle", "", "0_oracle"),  # references: listed, never ranked
        ("2", "0", "empty", "", "2_empty"),
        ("1", "2", "", "", ""),  # refused: no folder
    ]


def test_a_sweep_over_datasets_ranks_the_runs_of_each_dataset(tmp_path):
    sweep = tmp_path / "sw"
    args = ("+model=oracle,empty", "dataset=seed_article,wnut17", f"hydra.sweep.dir={sweep}")
    done = bench(tmp_path, "-m", *args, *CHEAP)
    assert done.returncode == 0, done.stderr
    summary = (sweep / "summary.md").read_text()
    assert leaderboard_md(tmp_path, sweep / "1_oracle", sweep / "3_empty") in summary  # wnut17
    assert summary_rows(sweep, "job", "model", "ner.rank", "dataset") == [
        ("0", "oracle", "", "seed_article 1.0.0"),  # references: listed, never ranked
        ("2", "empty", "", "seed_article 1.0.0"),
        ("1", "oracle", "", "wnut17 emerging.test.annotated"),
        ("3", "empty", "", "wnut17 emerging.test.annotated"),
    ]


def test_the_summary_of_a_joblib_sweep_ranks_as_the_stacked_bootstrap_does(tmp_path, monkeypatch):
    """The summary's paired ROC-AUC tests (bootstrap.PAIRED_DIFFERENCES: each unit counted
    once for both runs) give the table, p-values and intervals of the bootstrap over the two
    runs' stacked units, to the last digit; and the launching process builds it with the
    gc thresholds of a job, though the jobs ran in joblib's workers."""
    sweep, seen = tmp_path / "sw", []

    def summary(sweep_dir, jobs):
        seen.append(gc.get_threshold())
        return cli_summary(sweep_dir, jobs)

    cli_summary, thresholds = cli.write_summary, gc.get_threshold()
    monkeypatch.setattr(cli, "write_summary", summary)
    gc.set_threshold(700, 10, 10)  # Python's defaults
    try:
        code, jobs = sweep_jobs(tmp_path, monkeypatch, "hydra/launcher=joblib",
                                "+model=rules,profanity_check", "dataset=madlibs", "limit=3000",
                                "task=toxicity", "seed=0,1", "bootstrap.resamples=0",
                                f"hydra.sweep.dir={sweep}")  # fmt: skip
    finally:
        gc.set_threshold(*thresholds)
    assert code == 0 and seen == [cli.RUN_GC_THRESHOLDS]
    runs = [str(Path(job.hydra_cfg.hydra.runtime.output_dir)) for job in jobs]

    def tables() -> tuple[str, str, list]:
        text = cli_summary(sweep, jobs)
        board = build_leaderboard(runs)
        tests = [(e.name, e.cells["toxicity"].rank, e.cells["toxicity"].vs_above)
                 for e in board.entries]  # fmt: skip
        return text, (sweep / "summary.csv").read_text(), tests

    fast = tables()
    monkeypatch.setattr(bootstrap, "PAIRED_DIFFERENCES", {})
    assert tables() == fast
    tests = [vs_above for _, _, vs_above in fast[2] if vs_above]
    assert len(tests) == 3 and {t["n_units"] for t in tests} == {3000}
    # profanity_check vs the rules: a real difference; each preset vs its other seed: none
    assert sorted(t["difference"] == 0.0 for t in tests) == [False, True, True]
    assert min(t["p_value"] for t in tests) < 0.05 and max(t["p_value"] for t in tests) == 1.0


def test_the_summary_does_not_compute_the_per_label_ner_intervals_it_does_not_show(
    tmp_path, monkeypatch
):
    sweep = tmp_path / "sw"
    code, jobs = sweep_jobs(tmp_path, monkeypatch, "+model=rules,oracle", *CHEAP,
                            f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert code == 0
    printed = (sweep / "summary.md").read_text()
    assert "| 1 | rules | NER       |" in printed

    def refuse(*args, **kwargs):
        raise AssertionError("the summary computed the per-label NER intervals")

    monkeypatch.setattr(leaderboard, "ner_label_f1", refuse)
    assert cli.write_summary(sweep, jobs) == printed


def _corrupt_gold(samples: Path, line: int) -> str:
    """Line ``line`` of an NER samples file given a ``gold`` that is not a list; the one
    line a report reading it says."""
    lines = samples.read_text().splitlines()
    row = json.loads(lines[line - 1])
    row["gold"] = "x"
    lines[line - 1] = json.dumps(row)
    samples.write_text("\n".join(lines) + "\n")
    return f"{samples}:{line}: gold: expected a list, got 'x'"


def test_a_corrupt_samples_file_the_summary_ranks_with_is_one_line_on_stderr(
    tmp_path, monkeypatch, capsys
):
    sweep = tmp_path / "sw"
    code, jobs = sweep_jobs(tmp_path, monkeypatch, "+model=rules", "seed=0,1", *CHEAP,
                            f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert code == 0
    said = _corrupt_gold(sweep / "1_rules" / "samples" / "ner.jsonl", 2)
    capsys.readouterr()
    text = cli.write_summary(sweep, jobs)
    assert capsys.readouterr().err.splitlines() == [
        f"bench: summary: seed_article 1.0.0: not ranked: {said}"
    ]
    assert f"## Not ranked: seed_article 1.0.0\n\n{said}\n" in text


def test_a_run_ranked_alone_is_summed_up_from_its_result_and_reports_refuse_its_bad_samples(
    tmp_path, monkeypatch
):
    """The summary reads no samples file it does not pair (a sweep of one model and the
    reference runs; reading them all could cost more than the jobs at scale); a report
    that reads a corrupt one refuses it in one line naming the file, line and field."""
    sweep = tmp_path / "sw"
    code, jobs = sweep_jobs(tmp_path, monkeypatch, "+model=rules,oracle,empty", *CHEAP,
                            f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert code == 0
    said = _corrupt_gold(sweep / "0_rules" / "samples" / "ner.jsonl", 3)
    read = []
    monkeypatch.setattr(compare, "_read_json_lines", lambda path: read.append(path) or [])
    assert "| 1 | rules | NER       |" in cli.write_summary(sweep, jobs)
    assert read == []
    done = subprocess.run(
        [str(Path(BENCH).with_name("bench-report")), "leaderboard", str(sweep / "0_rules"),
         "--out", str(tmp_path / "board"), "--no-plots"],
        env=env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"bench-report leaderboard: {said}"]
    assert not (tmp_path / "board").exists()


def test_a_sweep_whose_every_job_is_refused_leaves_no_folder(tmp_path):
    done = bench(tmp_path, "-m", "+model=predictions", "task=ner,toxicity")
    assert done.returncode == 2
    assert not list(tmp_path.glob("results/multirun/*"))
    assert "summary" not in done.stdout


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", RAY])  # pickled both ways
def test_jobs_return_their_exit_code_and_main_metrics(tmp_path, monkeypatch, launcher):
    code, jobs = sweep_jobs(tmp_path, monkeypatch, f"hydra/launcher={launcher}",
                            "+model=oracle,empty", "task=ner", "bootstrap.resamples=0")  # fmt: skip
    assert code == 0
    assert [job.return_value for job in jobs] == [
        {"exit_code": 0, "metrics": {f"ner.strict_{m}": v for m in ("precision", "recall", "f1")}}
        for v in (1.0, 0.0)
    ]


def test_sweep_objective_makes_each_job_return_that_metric_as_a_float(tmp_path, monkeypatch):
    objective = "sweep.objective=toxicity.roc_auc"
    code, jobs = sweep_jobs(tmp_path, monkeypatch, "+model=oracle,empty", "task=toxicity",
                            objective, "bootstrap.resamples=0")  # fmt: skip
    assert code == 0
    values = [job.return_value for job in jobs]
    assert [float(v) for v in values] == [1.0, 0.5]  # what Optuna reads
    result = json.loads((Path(jobs[1].hydra_cfg.hydra.runtime.output_dir) / "result.json")
                        .read_text())  # fmt: skip
    assert result["tasks"]["toxicity"]["metrics"]["roc_auc"]["value"] == 0.5
    assert values[1].outcome["exit_code"] == 0
    assert values[1].outcome["metrics"]["toxicity.roc_auc"] == 0.5


def test_an_unknown_objective_metric_fails_the_job_with_nan(tmp_path, monkeypatch, capsys):
    code, jobs = sweep_jobs(tmp_path, monkeypatch, "+model=oracle", "task=toxicity",
                            "sweep.objective=toxicity.roc", "bootstrap.resamples=0")  # fmt: skip
    assert code == 2
    assert math.isnan(jobs[0].return_value)
    err = capsys.readouterr().err
    assert "bench: sweep.objective=toxicity.roc: task toxicity has no metric roc (its" in err
    assert "bench: job #0 (+model=oracle task=toxicity sweep.objective=toxicity.roc" in err


def test_a_malformed_objective_is_refused_before_the_run(tmp_path):
    done = bench(tmp_path, "+model=oracle", "sweep.objective=roc_auc", "hydra.run.dir=out")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "bench: ConfigError: sweep.objective='roc_auc': expected TASK.METRIC, TASK one of "
        "ner, attribution, toxicity"
    )
    assert not (tmp_path / "out").exists()


def test_the_slurm_preset_extends_hydras_submitit_slurm_launcher(tmp_path):
    args = ("hydra/launcher=bench_slurm", "hydra.launcher.partition=gpu")
    done = bench(tmp_path, "+model=empty", *args, "--cfg", "hydra", "-p", "hydra.launcher")
    assert done.returncode == 0, done.stderr
    lines = set(done.stdout.splitlines())
    target = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert f"_target_: {target}" in lines
    assert {"timeout_min: 240", "max_num_timeout: 3", "partition: gpu"} <= lines


@pytest.mark.skipif(RAY_INSTALLED, reason="the Ray launcher is installed")
@pytest.mark.parametrize("launcher", ["ray", "bench_ray"])
def test_a_launcher_not_installed_names_the_extra_that_installs_it(tmp_path, launcher):
    done = bench(tmp_path, "-m", f"hydra/launcher={launcher}", "+model=empty", *CHEAP)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("bench: In 'hydra/")
    assert line.endswith(""" (a Hydra plugin: pip install "bench-nlp[ray]" (from a source """
                         """checkout: pip install ".[ray]"))""")  # fmt: skip
    assert no_run_folder(tmp_path)
