"""Orchestration of one run: load gold, build the adapter, predict, validate, score
(:func:`evaluate`, also behind ``bench.evaluate``); the command's :func:`run` also writes.

No scoring logic lives here; see ``bench.tasks`` and ``bench.metrics``.
"""

from __future__ import annotations

import json
import math
import random
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

import bench.progress as progress
from bench.adapters.base import TASKS, Adapter, Batching
from bench.cache import PredictionCache, adapter_code_sha256, parse_duration, served_key
from bench.data.dataset import Dataset
from bench.items import TextItems, take
from bench.limit import limited
from bench.metrics.bootstrap import SharedResamples
from bench.predictions import PredictionFailure, TextItem, UnusableInput
from bench.provenance import environment, fingerprint, scrub_secrets, secret_values
from bench.result import Result
from bench.robustness import Scored, perturbations_of, robustness
from bench.run_config import ConfigError, validate
from bench.sample_rows import SampleRows
from bench.shard import ids_sha256, prediction_record, shard_items
from bench.tasks import TASKS as TASK_CLASSES
from bench.tasks.attribution import AttributionTask
from bench.tasks.base import Answers, Bootstrap, Task
from bench.tasks.toxicity import ToxicityTask

SCHEMA_VERSION = 1


def build(config: DictConfig, what: str) -> Any:
    """``instantiate(config)``, with Hydra's wrapper removed from the error message."""
    from hydra.errors import InstantiationException

    try:
        return instantiate(config)
    except InstantiationException as err:
        cause = err.__cause__ or err
        hint = _local_module_hint(cause)
        raise ConfigError(f"{what}: {type(cause).__name__}: {cause}{hint}") from cause


def _local_module_hint(error: BaseException) -> str:
    """A hint when a ``_target_``'s missing module is a folder or file in the current
    directory: the ``bench`` command, like any console script, does not import from there
    (and must not: a folder of untrusted files could then supply a missing module)."""
    missing: BaseException | None = error
    while missing is not None and not isinstance(missing, ModuleNotFoundError):
        missing = missing.__cause__
    if not isinstance(missing, ModuleNotFoundError) or not missing.name:
        return ""
    top = missing.name.split(".")[0]
    if not (Path(top).is_dir() or Path(f"{top}.py").is_file()):
        return ""
    return (
        f" ({top!r} is in the current directory, which the bench command does not import "
        f"from: run it as PYTHONPATH=. bench …, or install your package)"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def selected_tasks(task: str) -> list[str]:
    if task == "all":
        return list(TASKS)
    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of all, {', '.join(TASKS)}")
    return [task]


def check_something_to_score(
    task: str, dataset: Dataset, preset: str, model_tasks: frozenset[str] | None = None
) -> None:
    """Refuse a run in which no selected task has both gold and, once the adapter is
    built (``model_tasks``), a model that predicts it: it would score nothing. The
    dataset is checked before the adapter is built, so that no model is loaded in vain;
    the model's tasks are known only once it is (some adapters learn them from their
    files or options)."""
    scorable = [t for t in selected_tasks(task) if t in dataset.tasks]
    if model_tasks is not None:
        scorable = [t for t in scorable if t in model_tasks]
    if scorable:
        return
    what = f"dataset {dataset.name} has gold for {_listed(dataset.tasks)}"
    if model_tasks is not None:
        what = f"model {preset} predicts {_listed(model_tasks)}, {what}"
    raise ConfigError(f"nothing to score: {what} (task={task})")


def _listed(tasks: frozenset[str]) -> str:
    return ", ".join(t for t in TASKS if t in tasks) or "no task"


def _non_finite(node: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinite number in a config container."""
    if isinstance(node, float):
        return None if math.isfinite(node) else path
    children: Iterable[tuple[Any, Any]]
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
    if cfg.limit is None and cfg.limit_seed is not None:
        raise ConfigError(f"limit_seed={cfg.limit_seed}: a seeded sample needs limit=N")
    found = _non_finite(OmegaConf.to_container(cfg, resolve=True))
    if found:
        raise ConfigError(f"{found}: NaN or infinity is not a valid setting")
    for name in selected_tasks(cfg.task):
        unit, units = OmegaConf.select(cfg, f"bootstrap.unit.{name}"), TASK_CLASSES[name].units
        if unit not in units:
            raise ConfigError(
                f"bootstrap unit {unit!r} for {name}: expected one of {', '.join(units)}"
            )
    index, count = OmegaConf.select(cfg, "shard.index"), OmegaConf.select(cfg, "shard.count")
    if (index is None) != (count is None):
        raise ConfigError(f"shard.index={index}, shard.count={count}: set both or neither")
    if count is not None and index >= count:
        raise ConfigError(f"shard.index={index}: expected an integer in [0, shard.count={count})")
    if count is not None and (cfg.limit is not None or cfg.get("check") is not None):
        raise ConfigError(
            "shard: a shard scores nothing, so limit and +check do not apply "
            "(merge the shards with bench-report merge, then check the run)"
        )
    if count is not None and cfg.get("perturb") is not None:
        raise ConfigError(
            "shard: a shard scores nothing, so +perturb does not apply (run it unsharded)"
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
    bootstrap = (
        Bootstrap(b.resamples, b.seed, b.alpha, b.unit[name], b.method, b.analytic_above)
        if b.resamples > 0
        else None
    )
    if name == "toxicity":
        gold = dataset.view("toxicity")  # the view above (built once), typed as toxicity gold
        return ToxicityTask(gold, adapter_name, bootstrap, threshold=cfg.toxicity.threshold)
    if name == "attribution":
        min_overlap = cfg.attribution.min_overlap
        return AttributionTask(view, adapter_name, bootstrap, min_overlap=min_overlap)
    return TASK_CLASSES[name](view, adapter_name, bootstrap)


def _metric_json(value: Any, interval: Any) -> dict[str, Any]:
    out = value.to_json()
    if interval is not None:
        out["ci95"] = interval.to_json()
    return out


def batching(adapter: Adapter, task: str, batch_size: int | None) -> Batching:
    """The adapter's preferred batching for ``task``, its size overridden by the run
    option ``batch_size`` unless that is None."""
    preferred = adapter.batching(task)
    return preferred if batch_size is None else replace(preferred, size=batch_size)


def predict(
    task: Task,
    adapter: Adapter,
    items: Sequence[TextItem],
    batch_size: int | None,
    cache: PredictionCache | None,
) -> tuple[Answers, dict[str, Any]]:
    """Validated predictions for ``items`` in order (:meth:`Task.answers`: columns for
    toxicity): from the cache where present (validated once: a cache file may be stale or
    edited), else from the adapter in batches (:func:`batching`; sorted by text length
    where the adapter asks), each batch validated and then cached before the next. A
    :class:`PredictionFailure` is returned but never cached, so a rerun asks again.

    A cached answer of a served model counts only if the server reported the same model
    (id, ``system_fingerprint``) for an answer in this run; when every item is cached,
    the first is asked again to learn what the server runs now.
    """
    cached = cache.load() if cache else {}
    n = len(items)
    answers = task.answers(n)
    fresh = np.zeros(n, bool)
    reported: set[str | None] = {None}  # what the server said about the model, as served_key
    ids: Sequence[str] = items.ids if isinstance(items, TextItems) else [i.id for i in items]
    todo: Sequence[int] = (
        [k for k, item_id in enumerate(ids) if item_id not in cached] if cached else range(n)
    )
    if not todo and any(entry.served is not None for entry in cached.values()):
        todo = range(min(n, 1))
    used = batching(adapter, task.name, batch_size)
    serves = type(adapter).served_model is not Adapter.served_model  # else None for all
    while todo:
        if used.sort_by_length:  # answers are kept by position: the order asked does not matter
            todo = sorted(todo, key=lambda k: len(items[k].text))
        for positions in progress.batches(todo, used.size, f"{task.name}: predict"):
            batch = take(items, positions)
            predicted = task.predict(adapter, batch)
            task.validate(batch, predicted)
            if cache:
                keep = [k for k, p in enumerate(predicted) if not isinstance(p, PredictionFailure)]
                kept = [batch[k].id for k in keep]
                cache.append(kept, [predicted[k] for k in keep],
                             [adapter.served_model(task.name, i) for i in kept])  # fmt: skip
            answers.put(positions, predicted)
            fresh[positions] = True
            if serves:
                reported |= {served_key(adapter.served_model(task.name, i.id)) for i in batch}
        todo = [k for k in np.flatnonzero(~fresh).tolist()
                if served_key(cached[ids[k]].served) not in reported]  # fmt: skip
    predicted_n = int(fresh.sum())
    stats = {"path": str(cache.path), "hits": n - predicted_n} if cache else {}
    if len(reported) > 1:
        stats["served"] = [json.loads(key) for key in sorted(k for k in reported if k is not None)]
    from_cache = np.flatnonzero(~fresh)
    for start in range(0, from_cache.size, _CACHED_CHUNK):
        chunk = from_cache[start : start + _CACHED_CHUNK]
        batch = take(items, chunk)
        predicted = [cached[item.id].prediction for item in batch]
        task.validate(batch, predicted)
        answers.put(chunk, predicted)
    return answers, stats | {"predicted": predicted_n, "batching": used.to_json()}


_CACHED_CHUNK = 100_000  # cached predictions validated and collected this many at a time


FAILURE_TEXT_CHARS = 2000  # of the prompt and raw answer kept per failed item in samples/


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= FAILURE_TEXT_CHARS:
        return text
    return text[:FAILURE_TEXT_CHARS] + f" … [{len(text) - FAILURE_TEXT_CHARS} more characters]"


def _failure_row(item_id: str, failure: PredictionFailure) -> dict[str, Any]:
    """The ``samples/<task>.jsonl`` row of a failed item (prompt and answer clipped)."""
    return {
        "id": item_id,
        "failure": {
            "reason": failure.reason,
            "message": _clip(failure.message),
            "prompt": _clip(failure.prompt),
            "raw": _clip(failure.raw),
        },
    }


def _failure_summary(
    failed: dict[str, PredictionFailure], n: int, max_rate: float
) -> dict[str, Any]:
    """``tasks.<task>.failures`` of result.json: how many of the ``n`` items failed, why,
    and how many were scored (failed items are left out of every metric)."""
    by_reason: dict[str, int] = {}
    for failure in failed.values():
        by_reason[failure.reason] = by_reason.get(failure.reason, 0) + 1
    return {
        "count": len(failed),
        "n": n,
        "rate": len(failed) / n if n else 0.0,
        "by_reason": dict(sorted(by_reason.items())),
        "max_failure_rate": max_rate,
        "scored_items": n - len(failed),
    }


def _too_many_failures(failed: dict[str, PredictionFailure], summary: dict[str, Any]) -> str:
    """The error of a task failed by its failed items (one line)."""
    reasons = ", ".join(f"{reason}: {k}" for reason, k in summary["by_reason"].items())
    limit = (
        "no item was answered"
        if summary["scored_items"] == 0
        else f"more than max_failure_rate={summary['max_failure_rate']} allows"
    )
    item_id, first = next(iter(failed.items()))
    message = " ".join(first.message.split())[:300]
    return (
        f"{summary['count']}/{summary['n']} items failed ({reasons}): {limit}; "
        f"first: item {item_id!r}: {first.reason}: {message}"
    )


def _predict_items(
    task: Task,
    adapter: Adapter,
    select: Callable[[Sequence[TextItem]], Sequence[TextItem]],
    batch_size: int | None,
    cache: PredictionCache | None,
) -> tuple[Sequence[TextItem], Answers, dict[str, Any]]:
    """The ``select``ed items of the task, their validated predictions (through the cache)
    and the cache statistics; the adapter's end of task sees every item."""
    every_item = task.inputs()
    items = select(every_item)
    answers, cache_stats = predict(task, adapter, items, batch_size, cache)
    adapter.end_task(task.name, every_item)
    return items, answers, cache_stats


def _failed(items: Sequence[TextItem], answers: Answers) -> dict[str, PredictionFailure]:
    """The failed items' failures by item id, in item order."""
    return {items[k].id: answers.failures[k] for k in sorted(answers.failures)}


def _failed_task(err: Exception, started: float) -> dict[str, Any]:
    """The record of a task an adapter or a prediction failed (the run goes on)."""
    return {
        "status": "failed",
        "error": f"{type(err).__name__}: {err}",
        "traceback": traceback.format_exc(limit=5),
        "seconds": round(time.perf_counter() - started, 3),
    }


def run_task(
    task: Task,
    adapter: Adapter,
    batch_size: int | None,
    cache: PredictionCache | None = None,
    max_failure_rate: float = 0.0,
    limit: int | None = None,
    limit_seed: int | None = None,
) -> tuple[dict[str, Any], SampleRows]:
    """Predict (through the cache), validate, score; any error marks the task failed.

    Items the adapter could not predict (:class:`PredictionFailure`) are left out of
    scoring and recorded in the samples; more than ``max_failure_rate`` of them, or no
    answered item at all, fails the task. With ``limit``, only the :func:`limited` items
    are predicted and scored."""
    started = time.perf_counter()
    try:
        items, answers, cache_stats = _predict_items(
            task, adapter, lambda every: limited(every, limit, limit_seed), batch_size, cache
        )
        failed = _failed(items, answers)
        failures = _failure_summary(failed, len(items), max_failure_rate)
        failure_rows = [_failure_row(item_id, f) for item_id, f in failed.items()]
        if failed and (failures["rate"] > max_failure_rate or not failures["scored_items"]):
            return {
                "status": "failed",
                "error": _too_many_failures(failed, failures),
                "failures": failures,
                "predictions": cache_stats,
                "seconds": round(time.perf_counter() - started, 3),
            }, failure_rows
        keep = np.arange(len(items))
        if failed:  # left out of scoring
            keep = np.setdiff1d(keep, np.fromiter(answers.failures, np.int64))
            items = take(items, keep)
        predictions = answers.take(keep)
        del answers
        with progress.stage(f"{task.name}: intervals", "interval"):
            scored = task.score(items, predictions)
    except UnusableInput:  # the user's predictions file: the run is refused
        raise
    except Exception as err:  # an adapter or a prediction failed: record it, go on
        return _failed_task(err, started), []
    return {
        "status": "ok",
        "metrics_version": task.metrics_version,
        "main_metrics": list(task.main_metrics),
        "metrics": {
            name: _metric_json(value, scored.intervals.get(name))
            for name, value in scored.metrics.items()
        },
        "counts": scored.counts,
        "breakdown": scored.breakdown,
        "failures": failures,
        "predictions": cache_stats,
        "seconds": round(time.perf_counter() - started, 3),
    }, scored.samples + failure_rows if failure_rows else scored.samples  # kept as its type


def run_shard_task(
    task: Task,
    adapter: Adapter,
    batch_size: int | None,
    cache: PredictionCache | None,
    index: int,
    count: int,
) -> tuple[dict[str, Any], list, list]:
    """Predict (through the cache) and validate shard ``index`` of ``count`` of the task's
    items (:func:`bench.shard.shard_items`), without scoring: the task's record (status
    ``shard``), the failed items' samples rows, and the predictions-file records."""
    started = time.perf_counter()
    try:
        items, predictions, cache_stats = _predict_items(
            task, adapter, lambda every: shard_items(every, index, count), batch_size, cache
        )
    except UnusableInput:  # as in run_task
        raise
    except Exception as err:  # as in run_task: the task failed, the run goes on
        return _failed_task(err, started), [], []
    failed = _failed(items, predictions)
    return (
        {
            "status": "shard",
            "metrics_version": task.metrics_version,
            "items": len(items),
            "ids_sha256": ids_sha256(item.id for item in items),
            "failures": {"count": len(failed), "n": len(items)},
            "predictions": cache_stats,
            "seconds": round(time.perf_counter() - started, 3),
        },
        [_failure_row(item_id, f) for item_id, f in failed.items()],
        [prediction_record(task.name, i.id, p) for i, p in zip(items, predictions, strict=True)],
    )


def evaluate(
    cfg: DictConfig,
    preset: str,
    overrides: list[str],
    *,
    adapter: Adapter | None = None,
    dataset: Dataset | None = None,
) -> Result:
    """Check the options, build the dataset and the model (unless given: ``bench.evaluate``
    passes Python objects, with ``cfg.model`` and ``cfg.dataset`` recording them) and run
    every selected task; nothing is written (see :meth:`Result.save`)."""
    started_at = _now()
    check_config(cfg)
    progress.configure(cfg.progress)
    max_age = parse_duration(cfg.cache.get("max_age"))
    perturbations = perturbations_of(cfg)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    if dataset is None:
        dataset = build(cfg.dataset, f"dataset {cfg.dataset.get('name', '?')}")
    check_something_to_score(cfg.task, dataset, preset)
    if adapter is None:
        adapter = build(cfg.model, f"model {preset}")
    check_something_to_score(cfg.task, dataset, preset, adapter.tasks)
    model_cfg = scrub_secrets(OmegaConf.to_container(cfg.model, resolve=True))
    built_identity = adapter.identity()  # before predicting: what identifies the model

    def cache_for(name: str, data: Dataset, model: Adapter) -> PredictionCache | None:
        """The prediction cache of task ``name`` on ``data`` (keyed by its sha256)."""
        if not (cfg.cache.enabled and model.cacheable):
            return None
        key = {
            "model": model_cfg,
            "identity": built_identity,
            "code_sha256": adapter_code_sha256(model),
            "dataset_sha256": data.sha256,
        }
        return PredictionCache(cfg.cache.dir, name, key, max_age)

    def score(name: str, data: Dataset, model: Adapter) -> Scored:
        """Task ``name`` scored on ``data`` (the original or the perturbed dataset)."""
        task = build_task(name, data, preset, cfg)
        cache = cache_for(name, data, model)
        record, rows = run_task(
            task, model, cfg.batch_size, cache, cfg.max_failure_rate, cfg.limit, cfg.limit_seed
        )
        return record, rows, task.draws

    tasks: dict[str, Any] = {}
    samples: dict[str, SampleRows] = {}
    draws: dict[str, SharedResamples | None] = {}  # what each task's intervals were drawn from
    predicted: dict[str, list] = {}  # a shard's predictions-file records
    shard = OmegaConf.select(cfg, "shard.count") is not None
    for name in selected_tasks(cfg.task):
        if name not in dataset.tasks:
            tasks[name] = {"status": "unsupported", "reason": f"{dataset.name} has no {name} gold"}
            continue
        if name not in adapter.tasks:
            tasks[name] = {"status": "unsupported", "reason": f"{preset} does not predict {name}"}
            continue
        if shard:
            task = build_task(name, dataset, preset, cfg)
            tasks[name], samples[name], predicted[name] = run_shard_task(
                task,
                adapter,
                cfg.batch_size,
                cache_for(name, dataset, adapter),
                cfg.shard.index,
                cfg.shard.count,
            )
            continue
        tasks[name], samples[name], draws[name] = score(name, dataset, adapter)

    robust = {  # +perturb: the tasks scored again on each perturbed dataset
        key: robustness(cfg, perturbation, dataset, adapter, tasks, samples, draws, score)
        for key, perturbation in perturbations.items()
    }

    config = OmegaConf.to_container(cfg, resolve=True)
    secrets = secret_values(config)  # kept out of errors, tracebacks, samples and overrides
    described = dataset.describe()
    if cfg.limit is not None:  # a quick try: reports refuse it beside full runs
        described["limit"] = {"n": cfg.limit, "seed": cfg.limit_seed}
    result = {
        "schema_version": SCHEMA_VERSION,
        "model": {
            "preset": preset,
            "name": preset if cfg.get("name") is None else str(cfg.name),
            "target": model_cfg.get("_target_"),
            "params": {k: v for k, v in model_cfg.items() if k != "_target_"},
            "identity": adapter.identity(),
            "fingerprint": fingerprint({"config": model_cfg, "identity": built_identity}),
        }
        | ({"reference": adapter.reference} if adapter.reference else {}),
        "dataset": described,
        "provenance": environment()
        | {
            "config": config,
            "overrides": overrides,
            "seed": cfg.seed,
            "started_at": started_at,
            "finished_at": _now(),
        },
        "tasks": tasks,
    }
    if shard:  # what bench-report merge checks (bench/report/merge.py)
        result["shard"] = {"index": cfg.shard.index, "count": cfg.shard.count}
    if robust:
        result["robustness"] = robust
    return Result(
        scrub_secrets(result, secrets),
        scrub_secrets(samples, secrets),
        scrub_secrets(predicted, secrets),
    )


def run(cfg: DictConfig, preset: str, overrides: list[str], out_dir: Path) -> Result:
    """The ``bench`` command's run: :func:`evaluate` the composed config, write the files."""
    result = evaluate(cfg, preset, overrides)
    result.save(out_dir)
    return result
