"""Orchestration of one run: load gold, build the adapter, predict, validate, score, write.

No scoring logic lives here; see ``bench.tasks`` and ``bench.metrics``.
"""

from __future__ import annotations

import math
import random
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from bench.adapters.base import TASKS, Adapter
from bench.cache import PredictionCache, adapter_code_sha256
from bench.data.dataset import Dataset
from bench.provenance import environment, fingerprint, scrub_secrets
from bench.report.files import json_text, write_jsonl_atomic, write_text_atomic
from bench.report.tables import (
    main_table,
    metrics_table,
    per_label_table,
    to_csv,
    to_markdown,
)
from bench.run_config import ConfigError, validate
from bench.tasks import TASKS as TASK_CLASSES
from bench.tasks.base import Bootstrap, Task

SCHEMA_VERSION = 1


def build(config: DictConfig, what: str) -> Any:
    """``instantiate(config)``, with Hydra's wrapper removed from the error message."""
    from hydra.errors import InstantiationException

    try:
        return instantiate(config)
    except InstantiationException as err:
        cause = err.__cause__ or err
        raise ConfigError(f"{what}: {type(cause).__name__}: {cause}") from cause


@dataclass
class RunOutcome:
    result: dict[str, Any]
    ok: bool


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def selected_tasks(task: str) -> list[str]:
    if task == "all":
        return list(TASKS)
    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of all, {', '.join(TASKS)}")
    return [task]


def _non_finite(node: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinite number in a config container."""
    if isinstance(node, float):
        return None if math.isfinite(node) else path
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return None
    for key, child in children:
        found = _non_finite(child, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def check_config(cfg: DictConfig) -> None:
    """Refuse bad run options up front (exit code 2), before any file is written: the
    schema (bench.run_config), then what depends on the tasks and the check."""
    validate(cfg)
    found = _non_finite(OmegaConf.to_container(cfg, resolve=True))
    if found:
        raise ConfigError(f"{found}: NaN or infinity is not a valid setting")
    for name in selected_tasks(cfg.task):
        unit, units = OmegaConf.select(cfg, f"bootstrap.unit.{name}"), TASK_CLASSES[name].units
        if unit not in units:
            raise ConfigError(
                f"bootstrap unit {unit!r} for {name}: expected one of {', '.join(units)}"
            )
    if cfg.get("check") is not None:
        from bench.report.check import CheckError, check_options

        try:
            check_options(cfg.check)
        except CheckError as err:
            raise ConfigError(str(err)) from None


def build_task(name: str, dataset: Dataset, adapter_name: str, cfg: DictConfig) -> Task:
    view = dataset.view(name)
    b = cfg.bootstrap
    bootstrap = Bootstrap(b.resamples, b.seed, b.alpha, b.unit[name]) if b.resamples > 0 else None
    if name == "toxicity":
        return TASK_CLASSES[name](view, adapter_name, bootstrap, threshold=cfg.toxicity.threshold)
    return TASK_CLASSES[name](view, adapter_name, bootstrap)


def _metric_json(value: Any, interval: Any) -> dict[str, Any]:
    out = value.to_json()
    if interval is not None:
        out["ci95"] = interval.to_json()
    return out


def predict(
    task: Task, adapter: Adapter, items: list, batch_size: int, cache: PredictionCache | None
) -> tuple[list[Any], dict[str, Any]]:
    """Predictions for ``items`` in order: from the cache where present, else from the
    adapter in batches, each batch validated and then cached before the next."""
    cached = cache.load() if cache else {}
    missing = [item for item in items if item.id not in cached]
    for i in range(0, len(missing), batch_size):
        batch = missing[i : i + batch_size]
        fresh = task.predict(adapter, batch)
        task.validate(batch, fresh)
        if cache:
            keep = [k for k, item in enumerate(batch)
                    if adapter.cacheable_prediction(task.name, item.id)]  # fmt: skip
            cache.append([batch[k].id for k in keep], [fresh[k] for k in keep])
        cached.update(zip((item.id for item in batch), fresh, strict=True))
    stats = {"path": str(cache.path), "hits": len(items) - len(missing)} if cache else {}
    return [cached[item.id] for item in items], stats | {"predicted": len(missing)}


def run_task(
    task: Task, adapter: Adapter, batch_size: int, cache: PredictionCache | None = None
) -> tuple[dict[str, Any], list]:
    """Predict (through the cache), validate, score; any error marks the task failed."""
    started = time.perf_counter()
    try:
        items = task.inputs()
        predictions, cache_stats = predict(task, adapter, items, batch_size, cache)
        adapter.end_task(task.name, items)
        task.validate(items, predictions)
        scored = task.score(items, predictions)
    except Exception as err:  # an adapter or a prediction failed: record it, go on
        message = f"{type(err).__name__}: {err}"
        return {
            "status": "failed",
            "error": message,
            "traceback": traceback.format_exc(limit=5),
            "seconds": round(time.perf_counter() - started, 3),
        }, []
    return {
        "status": "ok",
        "main_metrics": list(task.main_metrics),
        "metrics": {
            name: _metric_json(value, scored.intervals.get(name))
            for name, value in scored.metrics.items()
        },
        "counts": scored.counts,
        "breakdown": scored.breakdown,
        "predictions": cache_stats,
        "seconds": round(time.perf_counter() - started, 3),
    }, scored.samples


def run(cfg: DictConfig, preset: str, overrides: list[str], out_dir: Path) -> RunOutcome:
    """Run every selected task for the configured model and write the result files."""
    started_at = _now()
    check_config(cfg)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    dataset: Dataset = build(cfg.dataset, f"dataset {cfg.dataset.get('name', '?')}")
    adapter: Adapter = build(cfg.model, f"model {preset}")
    model_cfg = scrub_secrets(OmegaConf.to_container(cfg.model, resolve=True))
    built_identity = adapter.identity()  # before predicting: what identifies the model

    tasks: dict[str, Any] = {}
    samples: dict[str, list] = {}
    for name in selected_tasks(cfg.task):
        if name not in dataset.tasks:
            tasks[name] = {"status": "unsupported", "reason": f"{dataset.name} has no {name} gold"}
            continue
        if name not in adapter.tasks:
            tasks[name] = {"status": "unsupported", "reason": f"{preset} does not predict {name}"}
            continue
        task = build_task(name, dataset, preset, cfg)
        cache = None
        if cfg.cache.enabled and adapter.cacheable:
            key = {
                "model": model_cfg,
                "identity": built_identity,
                "code_sha256": adapter_code_sha256(adapter),
                "dataset_sha256": dataset.sha256,
            }
            cache = PredictionCache(cfg.cache.dir, name, key)
        tasks[name], samples[name] = run_task(task, adapter, cfg.batch_size, cache)

    result = {
        "schema_version": SCHEMA_VERSION,
        "model": {
            "preset": preset,
            "name": preset if cfg.get("name") is None else str(cfg.name),
            "target": model_cfg.get("_target_"),
            "params": {k: v for k, v in model_cfg.items() if k != "_target_"},
            "identity": adapter.identity(),  # after predicting: may add counts of failures
            "fingerprint": fingerprint({"config": model_cfg, "identity": built_identity}),
        },
        "dataset": dataset.describe(),
        "provenance": environment()
        | {
            "config": scrub_secrets(OmegaConf.to_container(cfg, resolve=True)),
            "overrides": overrides,
            "seed": cfg.seed,
            "started_at": started_at,
            "finished_at": _now(),
        },
        "tasks": tasks,
    }
    write_outputs(out_dir, result, samples)
    ok = all(t["status"] != "failed" for t in tasks.values())
    return RunOutcome(result, ok)


# What a run (and its +check) writes besides result.json: removed before a rerun writes.
# Temporary files (.NAME.XXXX.tmp) are those of an interrupted run's atomic writes.
_OUTPUT_FILES = ("samples/*.jsonl", "tables/*.md", "tables/*.csv", "check/junit.xml",
                 "check/report.md", ".*.tmp", "*/.*.tmp")  # fmt: skip


def write_outputs(out_dir: Path, result: dict[str, Any], samples: dict[str, list]) -> None:
    """Samples and tables first, ``result.json`` last: its presence marks a complete run.

    The result is serialised before anything is written, and the files an earlier run
    left in the same directory are removed first, so a failure part-way never leaves an
    old result beside new samples, nor a rerun of fewer tasks the old tasks' samples.
    """
    result_text = json_text(result)
    (out_dir / "result.json").unlink(missing_ok=True)
    for pattern in _OUTPUT_FILES:  # an earlier run's files must not outlive it
        for old in out_dir.glob(pattern):
            old.unlink()
    for task, rows in samples.items():
        write_jsonl_atomic(out_dir / "samples" / f"{task}.jsonl", rows)
    for name, (headers, rows) in {
        "main": main_table(result),
        "metrics": metrics_table(result),
        "ner_per_label": per_label_table(result),
    }.items():
        if rows:
            write_text_atomic(out_dir / "tables" / f"{name}.md", to_markdown(headers, rows))
            write_text_atomic(out_dir / "tables" / f"{name}.csv", to_csv(headers, rows))
    write_text_atomic(out_dir / "result.json", result_text)
