"""``+tracker=mlflow``: each run in MLflow, as a Hydra callback (conf/tracker/mlflow.yaml).

A job (a run, or one job of a sweep) is an MLflow run: its parameters (the flattened
config, secrets removed), every metric with its interval bounds (``ner.strict_f1``,
``ner.strict_f1.ci95_low``, ``ner.strict_f1.ci95_high``), tags (dataset name, version and
sha256, git revision, preset, task statuses) and result.json, tables/ and samples/ as
artifacts. A sweep is a parent run; its jobs' runs are nested under it. MLflow failing
never fails a run: it costs one warning line on stderr.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from bench.provenance import redact, scrub_secrets, secret_values
from bench.sweep import job_exit_code

PARENT_TAG = "mlflow.parentRunId"  # how MLflow nests a run under another
MAX_PARAM_LENGTH = 6000  # MLflow refuses longer parameter values
BATCH = {"params": 100, "metrics": 1000, "tags": 100}  # per log_batch call (MLflow's limits)
ARTIFACTS = ("result.json", "tables", "samples")


class MlflowTracker(Callback):
    """Hydra callback logging each job to MLflow (``tracker.tracking_uri``: any MLflow
    tracking URI; default ``$MLFLOW_TRACKING_URI``, else ``mlruns/`` in the current
    directory)."""

    def __init__(self) -> None:
        # Only ids and flags: a launcher may pickle the callback into its workers.
        self.sweep_run_id: str | None = None
        self.off = False  # the sweep's run could not be made: its jobs do not try (one warning)
        self.run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.sweep_run_id = _guarded(lambda: _start_sweep(config))
        self.off = self.sweep_run_id is None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_run_id = self.sweep_run_id
        if sweep_run_id is not None:
            _guarded(lambda: _end_sweep(config, sweep_run_id))

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.run_id = None if self.off else _guarded(lambda: _start_job(config, self.sweep_run_id))

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        run_id = self.run_id
        if run_id is not None:
            _guarded(lambda: _end_job(config, job_return, run_id))


def _guarded(action: Callable[[], str | None]) -> str | None:
    """``action()``, or None and one warning line if it raises."""
    try:
        return action()
    except Exception as err:  # MLflow down, refused, not installed: the run goes on
        message = " ".join(f"{type(err).__name__}: {err}".split())[:300]
        if isinstance(err, ImportError):
            message += " (pip install 'bench-nlp[mlflow]')"
        print(f"bench: warning: mlflow: {redact(message)}", file=sys.stderr)
        return None


def tracking_uri(config: DictConfig) -> str:
    """``tracker.tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``./mlruns``."""
    uri = OmegaConf.select(config, "tracker.tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
    return uri or (Path.cwd() / "mlruns").as_uri()


def _client(config: DictConfig) -> tuple[Any, str]:
    """An MlflowClient for the configured tracking URI and the id of the experiment."""
    uri = tracking_uri(config)
    if uri.startswith("file:") or "://" not in uri:
        # MLflow 3 asks for this opt-in to keep using a local folder (its file store)
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    # MLflow reads these per request; its defaults retry an unreachable server for minutes
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(config.tracker.request_timeout)
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(config.tracker.request_retries)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    name = OmegaConf.select(config, "tracker.experiment")
    experiment = client.get_experiment_by_name(name)
    return client, experiment.experiment_id if experiment else client.create_experiment(name)


def _start_sweep(config: DictConfig) -> str:
    client, experiment_id = _client(config)
    sweep_dir = Path(config.hydra.sweep.dir).resolve()
    tags = {
        "mlflow.runName": f"sweep {sweep_dir.name}",
        "bench.sweep_dir": str(sweep_dir),
        "bench.overrides": " ".join(config.hydra.overrides.task),
    }
    return client.create_run(experiment_id, tags=tags).info.run_id


def _end_sweep(config: DictConfig, run_id: str) -> None:
    """The sweep's run fails if one of its jobs' runs failed."""
    client, experiment_id = _client(config)
    jobs = client.search_runs([experiment_id], f"tags.`{PARENT_TAG}` = '{run_id}'")
    failed = any(job.info.status == "FAILED" for job in jobs)
    client.set_tag(run_id, "bench.status", "failed" if failed else "ok")
    client.set_terminated(run_id, "FAILED" if failed else "FINISHED")


def _start_job(config: DictConfig, sweep_run_id: str | None) -> str:
    client, experiment_id = _client(config)
    out_dir = Path(config.hydra.runtime.output_dir)
    tags = {
        "mlflow.runName": out_dir.name,
        "bench.run_dir": str(out_dir),
        "bench.preset": config.hydra.runtime.choices.get("model") or "none",
        "bench.overrides": " ".join(config.hydra.overrides.task),
    }
    if sweep_run_id is not None:
        tags[PARENT_TAG] = sweep_run_id
    run_id = client.create_run(experiment_id, tags=tags).info.run_id
    from mlflow.entities import Param

    params = [Param(k, v[:MAX_PARAM_LENGTH]) for k, v in sorted(flat_params(config).items())]
    _log(client, run_id, "params", params)
    return run_id


def _log(client: Any, run_id: str, kind: str, entries: list[Any]) -> None:
    """``client.log_batch`` of ``entries`` (params, metrics or tags), in batches MLflow takes."""
    size = BATCH[kind]
    for start in range(0, len(entries), size):
        client.log_batch(run_id, **{kind: entries[start : start + size]})


def flat_params(config: DictConfig) -> dict[str, str]:
    """The run's config (not Hydra's), resolved, secrets removed, flattened to dotted
    keys; lists are JSON."""
    run_config = OmegaConf.masked_copy(config, [str(k) for k in config if k != "hydra"])
    plain = OmegaConf.to_container(run_config, resolve=True)
    return dict(_flatten(scrub_secrets(plain, secret_values(plain))))


def _flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _flatten(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], node if isinstance(node, str) else json.dumps(node)


def _end_job(config: DictConfig, job_return: JobReturn, run_id: str) -> None:
    from mlflow.entities import Metric, RunTag

    client, _ = _client(config)
    out_dir = Path(config.hydra.runtime.output_dir)
    done = job_return.status == JobStatus.COMPLETED
    code = job_exit_code(job_return)
    tags = {"bench.status": "ok" if code == 0 else "failed", "bench.exit_code": str(code)}
    if not done:
        tags["bench.error"] = redact(" ".join(repr(job_return._return_value).split()))[:500]
    result_file = out_dir / "result.json"
    metrics: list[Any] = []
    if result_file.is_file():
        result = json.loads(result_file.read_text(encoding="utf-8"))
        tags |= result_tags(result)
        now = int(time.time() * 1000)
        metrics = [Metric(name, value, now, 0) for name, value in result_metrics(result).items()]
    _log(client, run_id, "metrics", metrics)
    _log(client, run_id, "tags", [RunTag(k, v) for k, v in tags.items()])
    for name in ARTIFACTS:
        path = out_dir / name
        if path.is_dir():
            client.log_artifacts(run_id, str(path), name)
        elif path.is_file():
            client.log_artifact(run_id, str(path))
    client.set_terminated(run_id, "FINISHED" if code == 0 else "FAILED")


def result_tags(result: dict[str, Any]) -> dict[str, str]:
    """Tags of a run from its result.json: dataset, model, source revision, task statuses."""
    dataset, model, git = result["dataset"], result["model"], result["provenance"]["git"]
    tags = {
        "bench.dataset": str(dataset["name"]),
        "bench.dataset.version": str(dataset["version"]),
        "bench.dataset.sha256": str(dataset["sha256"]),
        "bench.model": str(model["name"]),
        "bench.model.fingerprint": str(model["fingerprint"]),
        "bench.git.dirty": str(git.get("dirty")),
    }
    if git.get("commit"):
        tags["mlflow.source.git.commit"] = git["commit"]
    for task, record in result["tasks"].items():
        tags[f"bench.task.{task}"] = str(record["status"])
    return tags


def result_metrics(result: dict[str, Any]) -> dict[str, float]:
    """``<task>.<metric>`` and its ``.ci95_low`` / ``.ci95_high`` for every defined value."""
    metrics: dict[str, float] = {}
    for task, record in result["tasks"].items():
        for name, metric in record.get("metrics", {}).items():
            key = re.sub(r"[^\w./ -]", "_", f"{task}.{name}")
            interval = metric.get("ci95") or {}
            for suffix, value in (("", metric.get("value")), (".ci95_low", interval.get("low")),
                                  (".ci95_high", interval.get("high"))):  # fmt: skip
                if value is not None:
                    metrics[key + suffix] = float(value)
    return metrics
