"""``+tracker=mlflow``: real runs and sweeps of ``bench``, read back from a local MLflow store."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from test_cli import BENCH, bench, env

from bench.trackers.mlflow import flat_params

mlflow = pytest.importorskip("mlflow")

CHEAP = ("task=ner", "bootstrap.resamples=0")


@pytest.fixture
def store(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3: a local folder store


def runs(cwd: Path) -> list:
    """The runs of experiment ``bench`` in ``cwd/mlruns``, oldest first."""
    client = mlflow.tracking.MlflowClient(tracking_uri=(cwd / "mlruns").as_uri())
    [experiment] = [e for e in client.search_experiments() if e.name == "bench"]
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])


def artifacts(cwd: Path, run_id: str, folder: str | None = None) -> list[str]:
    client = mlflow.tracking.MlflowClient(tracking_uri=(cwd / "mlruns").as_uri())
    return sorted(a.path for a in client.list_artifacts(run_id, folder))


@pytest.mark.slow
def test_a_run_is_logged_with_params_metrics_intervals_tags_and_artifacts(tmp_path, store):
    done = bench(tmp_path, "+model=rules", "+tracker=mlflow", "task=ner",
                 "bootstrap.resamples=50", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mlflow" not in done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    [run] = runs(tmp_path)
    assert run.info.status == "FINISHED"
    f1 = result["tasks"]["ner"]["metrics"]["strict_f1"]
    assert run.data.metrics["ner.strict_f1"] == f1["value"]
    assert run.data.metrics["ner.strict_f1.ci95_low"] == f1["ci95"]["low"]
    assert run.data.metrics["ner.strict_f1.ci95_high"] == f1["ci95"]["high"]
    assert len(run.data.metrics) == 3 * len(result["tasks"]["ner"]["metrics"])
    params = run.data.params
    assert params["bootstrap.resamples"] == "50" and params["task"] == "ner"
    assert params["model._target_"] == result["model"]["target"]
    assert not any(key.startswith("hydra") for key in params)
    tags = run.data.tags
    assert tags["bench.preset"] == "rules" and tags["bench.task.ner"] == "ok"
    assert tags["bench.dataset"] == "seed_article"
    assert tags["bench.dataset.version"] == result["dataset"]["version"]
    assert tags["bench.dataset.sha256"] == result["dataset"]["sha256"]
    assert tags.get("mlflow.source.git.commit") == result["provenance"]["git"]["commit"]
    assert tags["bench.status"] == "ok"
    assert artifacts(tmp_path, run.info.run_id) == ["result.json", "samples", "tables"]
    assert "tables/main.md" in artifacts(tmp_path, run.info.run_id, "tables")
    assert artifacts(tmp_path, run.info.run_id, "samples") == ["samples/ner.jsonl"]


@pytest.mark.slow
def test_a_sweep_is_a_parent_run_with_one_nested_run_per_job(tmp_path, store):
    done = bench(tmp_path, "-m", "+model=rules,empty", "+tracker=mlflow", *CHEAP)
    assert done.returncode == 0, done.stderr
    parent, *jobs = runs(tmp_path)
    assert parent.info.status == "FINISHED" and "mlflow.parentRunId" not in parent.data.tags
    assert sorted(job.info.run_name for job in jobs) == ["0_rules", "1_empty"]
    for job in jobs:
        assert job.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert job.info.status == "FINISHED"
    f1 = {job.data.tags["bench.preset"]: job.data.metrics["ner.strict_f1"] for job in jobs}
    assert f1["empty"] == 0.0 and f1["rules"] > 0.5


@pytest.mark.slow
def test_a_failed_job_is_tagged_failed_and_fails_its_sweep(tmp_path, store):
    targets = "bench.adapters.baselines.EmptyAdapter,adapters_for_tests.OutOfRangeNer"
    done = bench(tmp_path, "-m", f"+model._target_={targets}", "+tracker=mlflow", *CHEAP)
    assert done.returncode == 1  # the exit code of the sweep, as without the tracker
    parent, *jobs = runs(tmp_path)
    assert parent.info.status == "FAILED"
    status = {job.data.params["model._target_"]: job for job in jobs}
    failed = status["adapters_for_tests.OutOfRangeNer"]
    assert failed.info.status == "FAILED"
    assert failed.data.tags["bench.status"] == "failed"
    assert failed.data.tags["bench.task.ner"] == "failed"
    assert failed.data.tags["bench.exit_code"] == "1"
    assert status["bench.adapters.baselines.EmptyAdapter"].data.tags["bench.status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("sweep", [(), ("-m", "seed=0,1")])
def test_mlflow_failing_costs_one_warning_line_and_not_the_run(tmp_path, sweep):
    done = bench(tmp_path, *sweep, "+model=empty", "+tracker=mlflow", *CHEAP,
                 "tracker.tracking_uri=nosuch://tracker")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [warning] = done.stderr.splitlines()
    assert warning.startswith("bench: warning: mlflow: ") and "nosuch://tracker" in warning
    assert len(list(tmp_path.glob("results/*/*/**/result.json"))) == (2 if sweep else 1)


@pytest.mark.slow
def test_without_mlflow_installed_a_warning_names_the_extra(tmp_path):
    shadow = tmp_path / "shadow" / "mlflow"  # an mlflow that cannot be imported
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'mlflow'\")\n")
    run_env = env()
    run_env["PYTHONPATH"] = f"{shadow.parent}:{run_env['PYTHONPATH']}"
    done = subprocess.run([BENCH, "+model=empty", "+tracker=mlflow", *CHEAP], cwd=tmp_path,
                          env=run_env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "bench: warning: mlflow: ModuleNotFoundError: No module named 'mlflow' "
        "(pip install 'bench-nlp[mlflow]')"
    ]


def test_params_are_the_run_config_flattened_without_secrets_nor_hydra():
    secret = "sk-live-0123456789abcdef"
    config = OmegaConf.create({
        "model": {"api_key": secret, "base_url": f"http://host/v1?token={secret}", "n": 3},
        "bootstrap": {"resamples": 10, "unit": {"ner": "entity"}},
        "labels": ["PER", "LOC"],
        "hydra": {"run": {"dir": "x"}},
    })  # fmt: skip
    params = flat_params(config)
    assert params == {
        "model.api_key": "***",
        "model.base_url": "http://host/v1?token=***",
        "model.n": "3",
        "bootstrap.resamples": "10",
        "bootstrap.unit.ner": "entity",
        "labels": '["PER", "LOC"]',
    }


@pytest.mark.slow
def test_a_tracking_server_that_never_answers_costs_bounded_time_and_one_warning(tmp_path):
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        done = bench(tmp_path, "+model=empty", "+tracker=mlflow", *CHEAP,
                     f"tracker.tracking_uri={uri}", "tracker.request_timeout=1",
                     "tracker.request_retries=0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [warning] = done.stderr.splitlines()
    assert warning.startswith("bench: warning: mlflow: ") and "timeout" in warning.lower()
