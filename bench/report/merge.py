"""The shards of one run (:mod:`bench.shard`) checked and scored together as one run.

:func:`merge` loads the shards as data (:meth:`bench.report.compare.Run.load`), checks
that they are every shard ``0 … count-1`` once, of the same model (``model.fingerprint``),
dataset (``dataset``: name, version, sha256 and files) and run options (the config but
``shard`` and ``cache``, which may differ between machines), with no task failed; rebuilds
the gold from bench's own preset of the dataset (:func:`bench.report.gold.rebuild_gold`;
for the user's own files, ``dataset=hf``, from the data the user names with ``--data``)
and checks its sha256; checks that each shard's predictions are exactly its slice of the
items, disjoint from the others' and together all of them. It then scores the union
through the predictions adapter with the run core (:func:`bench.runner.evaluate`), so the
result is the unsharded run's: same metrics, intervals, counts, samples and failed items
(a shard's failed items are explicit records of its predictions files). Nothing from a
shard is instantiated: the adapter reads JSON, the dataset is bench's preset.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report.compare import CompareError, Run
from bench.report.gold import GoldError, OwnFiles, rebuild_gold
from bench.result import Result

# config keys the shards of one run may differ in: the slice, and where each cached
NOT_COMPARED = ("shard", "cache")


class MergeError(ValueError):
    """The shards cannot be merged (exit 2); the message names the file and field."""


def shard_dirs(paths: Sequence[Path]) -> list[Path]:
    """The run folders ``paths`` name: a run folder (holding result.json), or a sweep
    folder whose sub-folders holding one are taken."""
    found: list[Path] = []
    for path in paths:
        if (path / "result.json").is_file():
            found.append(path)
        elif path.is_dir():
            runs = sorted(p.parent for p in path.glob("*/result.json"))
            if not runs:
                raise MergeError(f"{path}: no result.json in it or in its sub-folders")
            found += runs
        else:
            raise MergeError(f"{path}: not found")
    return found


def _index(run: Run) -> tuple[int, int]:
    shard = run.result.get("shard")
    where = run.directory / "result.json"
    if not isinstance(shard, dict):
        raise MergeError(f"{where}: shard: not a shard (bench … shard.index=I shard.count=N)")
    index, count = shard.get("index"), shard.get("count")
    if not (
        isinstance(index, int)
        and not isinstance(index, bool)
        and isinstance(count, int)
        and not isinstance(count, bool)
        and 0 <= index < count
    ):
        raise MergeError(f"{where}: shard: expected 0 <= index < count, got {shard!r}")
    return index, count


def load_shards(paths: Sequence[Path]) -> list[Run]:
    """The shards in ``paths``, by index: each of ``0 … count-1`` exactly once."""
    by_index: dict[int, Run] = {}
    count = None
    for directory in shard_dirs(paths):
        try:
            run = Run.load(directory, shard=True)
        except CompareError as err:
            raise MergeError(str(err)) from None
        index, n = _index(run)
        if count is not None and n != count:
            first = next(iter(by_index.values())).directory
            raise MergeError(
                f"{directory / 'result.json'}: shard.count: {n}, but {count} in {first}"
            )
        if index in by_index:
            raise MergeError(
                f"{directory / 'result.json'}: shard.index: {index} again "
                f"(also {by_index[index].directory})"
            )
        count, by_index[index] = n, run
    missing = [str(k) for k in range(count or 0) if k not in by_index]
    if missing:
        raise MergeError(
            f"shard.index {', '.join(missing)} of shard.count={count}: missing "
            f"(found {', '.join(str(r.directory) for r in by_index.values())})"
        )
    return [by_index[k] for k in range(len(by_index))]


def _difference(a: Any, b: Any, where: str) -> str | None:
    """The dotted path of the first field in which ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{where}.{key}"
            found = _difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    return None if a == b else where


def _interpolation(value: Any, where: str) -> str | None:
    """The field holding a ``${…}`` string (a run records its config resolved)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return where if isinstance(value, str) and "${" in value else None
    return next((bad for k, v in items if (bad := _interpolation(v, f"{where}.{k}"))), None)


def _config(run: Run) -> dict[str, Any]:
    """The run options of ``run`` (``provenance.config``), checked plain."""
    where = run.directory / "result.json"
    provenance = run.result.get("provenance")
    config = provenance.get("config") if isinstance(provenance, dict) else None
    if not isinstance(config, dict):
        raise MergeError(f"{where}: provenance.config: missing or not an object")
    bad = _interpolation(config, "provenance.config")
    if bad:
        raise MergeError(f"{where}: {bad}: an interpolation (${{…}}): refused")
    return config


def check_same_run(shards: list[Run]) -> None:
    """The shards are of one run: model, dataset, options and task records alike, and no
    task failed in any."""
    first = shards[0]
    fields = {
        "model.fingerprint": lambda r: r.result["model"].get("fingerprint"),
        "dataset": lambda r: r.result["dataset"],
        "provenance.config": lambda r: {
            k: v for k, v in _config(r).items() if k not in NOT_COMPARED
        },
        "tasks": lambda r: {
            t: (rec.get("status"), rec.get("metrics_version"))
            for t, rec in r.result["tasks"].items()
        },
    }
    for run in shards:
        where = run.directory / "result.json"
        for task, record in run.result["tasks"].items():
            if record.get("status") == "failed":
                raise MergeError(
                    f"{where}: tasks.{task}: failed in this shard ({record.get('error')}); "
                    "run the shard again"
                )
        for name, get in fields.items():
            differs = _difference(get(run), get(first), name)
            if differs:
                raise MergeError(f"{where}: {differs}: differs from {first.directory}'s")


def _items_by_task(shards: list[Run], dataset: Any, cfg: Any) -> dict[str, Sequence[Any]]:
    """Each sharded task's items (the model inputs), from the rebuilt gold."""
    from bench.runner import build_task

    preset = shards[0].result["model"]["preset"]
    return {
        task: build_task(task, dataset, preset, cfg).inputs()
        for task, record in shards[0].result["tasks"].items()
        if record.get("status") == "shard"
    }


def check_predictions(shards: list[Run], items_by_task: dict[str, Sequence[Any]]) -> None:
    """Each shard's predictions files hold the items result.json records, no item is in
    two shards, and each item is in the shard its slice puts it in."""
    from bench.adapters.predictions import PredictionsAdapter, PredictionsFileError
    from bench.shard import ids_sha256, shard_of

    for task, items in items_by_task.items():
        owner: dict[str, int] = {}
        for index, run in enumerate(shards):
            path = run.directory / "predictions" / f"{task}.jsonl"
            if not path.is_file():
                raise MergeError(f"{path}: not found")
            try:
                ids = list(PredictionsAdapter(str(path.parent)).records(task))
            except PredictionsFileError as err:
                raise MergeError(str(err)) from None
            if ids_sha256(ids) != run.result["tasks"][task].get("ids_sha256"):
                raise MergeError(
                    f"{path}: id: not the items of {run.directory / 'result.json'} "
                    f"(tasks.{task}.ids_sha256)"
                )
            for item_id in ids:
                if item_id in owner:
                    raise MergeError(
                        f"{path}: id: item {item_id!r} also in shard {owner[item_id]} "
                        f"({shards[owner[item_id]].directory})"
                    )
                owner[item_id] = index
        missing = [item.id for item in items if item.id not in owner]
        if missing:
            raise MergeError(f"{task}: item {missing[0]!r} in no shard ({len(missing)} missing)")
        for item, expected in zip(items, shard_of(items, len(shards)), strict=True):
            if owner[item.id] != expected:
                path = shards[owner[item.id]].directory / "predictions" / f"{task}.jsonl"
                raise MergeError(
                    f"{path}: id: item {item.id!r} belongs to shard {expected}, "
                    f"not {owner[item.id]} (a shard of another slicing)"
                )
        unknown = set(owner) - {item.id for item in items}
        if unknown:
            raise MergeError(f"{task}: item {sorted(unknown)[0]!r}: not an item of the dataset")


def _dataset(shards: list[Run], data: str | None) -> Any:
    """The gold, from bench's own preset (or, for the user's own files, from ``data``), with
    the name, version and sha256 the shards record."""
    from bench.data.hf import HfDataError

    first = shards[0]
    where = first.directory / "result.json"
    try:
        dataset = rebuild_gold(where, first.result, data)
    except GoldError as err:
        raise MergeError(str(err)) from None
    except OwnFiles as err:
        raise MergeError(
            f"{where}: provenance.config.dataset: {err}: name the data the shards read "
            "(their dataset.path) with --data PATH"
        ) from None
    except FileNotFoundError as err:
        raise MergeError(f"{where}: provenance.config.dataset: cannot rebuild: {err}") from None
    except HfDataError as err:
        raise MergeError(f"--data {data}: {err}") from None
    recorded = first.result["dataset"]
    differs = ("dataset.sha256" if dataset.sha256 != recorded.get("sha256")
               else _difference(dataset.describe(), recorded, "dataset"))  # fmt: skip
    if differs and data is not None:
        raise MergeError(f"{where}: {differs}: differs from that of --data {data}")
    if differs:
        raise MergeError(
            f"{where}: dataset.sha256: {recorded.get('sha256')!r} is not the sha256 of "
            f"bench's {dataset.name} {dataset.version} ({dataset.sha256})"
        )
    return dataset


def _union(shards: list[Run], tasks: Sequence[str], directory: Path) -> None:
    """The shards' predictions files of each task, concatenated into ``directory``."""
    from bench.text_files import read_utf8

    for task in tasks:
        parts = [read_utf8(r.directory / "predictions" / f"{task}.jsonl", MergeError)
                 for r in shards]  # fmt: skip
        text = "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts)
        (directory / f"{task}.jsonl").write_text(text, encoding="utf-8")


def merge(paths: Sequence[Path], data: str | None = None) -> Result:
    """The run the shards in ``paths`` make together, scored; :class:`MergeError` if they
    are not all the shards of one run. ``data``: for shards of the user's own files
    (``dataset=hf``), the file, folder or Hub id they read. Nothing is written."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from bench.adapters.predictions import PredictionsAdapter
    from bench.run_config import ConfigError
    from bench.runner import check_config, evaluate

    shards = load_shards(paths)
    check_same_run(shards)
    first = shards[0]
    config = copy.deepcopy(_config(first))
    config["shard"] = {"index": None, "count": None}
    options = copy.deepcopy(config)
    if isinstance(options.get("cache"), dict):  # else refused by check_config
        options["cache"]["enabled"] = False  # nothing to cache
    where = first.directory / "result.json"
    try:
        cfg = OmegaConf.create(options)
        check_config(cfg)
    except (ConfigError, OmegaConfBaseException) as err:
        raise MergeError(f"{where}: provenance.config: {err}") from None
    dataset = _dataset(shards, data)
    items_by_task = _items_by_task(shards, dataset, cfg)
    check_predictions(shards, items_by_task)
    preset = first.result["model"]["preset"]
    recorded = first.result["provenance"].get("overrides")
    overrides = [str(o) for o in (recorded if isinstance(recorded, list) else [])
                 if not str(o).lstrip("+").startswith("shard.")]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        _union(shards, list(items_by_task), Path(tmp))
        merged = evaluate(cfg, preset, overrides, adapter=PredictionsAdapter(tmp), dataset=dataset)
    result = merged.result
    result["model"] = first.result["model"]
    result["provenance"] |= {
        "config": config,
        "overrides": overrides,
        "merged": {"shards": [str(r.directory) for r in shards], "count": len(shards)},
    }
    for task in items_by_task:
        stats = [r.result["tasks"][task].get("predictions") or {} for r in shards]
        result["tasks"][task]["predictions"] = {
            key: sum(s.get(key, 0) for s in stats)
            for key in ("hits", "predicted")
            if any(key in s for s in stats)
        }
    return Result(result, merged.samples)
