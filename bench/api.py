"""``bench.evaluate``: a run from Python, without Hydra or YAML of one's own.

The run options are the ``bench`` command's (conf/config.yaml, checked by the same schema,
bench/run_config.py), given as keyword arguments, a dot written ``__``:
``seed=1``, ``limit=50``, ``bootstrap__resamples=200``, ``toxicity__threshold=0.3``,
``cache__enabled=False``. The run itself is the command's (:func:`bench.runner.evaluate`).
Heavy modules are imported on the first call only, so ``import bench`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from bench.result import Result

# Run options bench.evaluate takes otherwise: ``tasks=``; a check runs on a saved folder.
_NOT_OPTIONS = {
    "task": "give the tasks as tasks=(…)",
    "check": "check a saved run with bench-report check",
}


def evaluate(
    model: Any = None,
    dataset: Any = "seed_article",
    tasks: str | Sequence[str] | None = None,
    *,
    ner: Callable[[list[str]], Sequence[Any]] | None = None,
    attribution: Callable[[list[str]], Sequence[Any]] | None = None,
    toxicity: Callable[[list[str]], Sequence[Any]] | None = None,
    **options: Any,
) -> Result:
    """Score a model on a dataset, as ``bench +model=… dataset=…`` does, and return the
    :class:`~bench.result.Result` (``.metrics``, ``.intervals``, ``.table()``, ``.samples``,
    ``.save(dir)``: the command's files).

    ``model``: an :class:`~bench.adapters.base.Adapter` instance or a preset name
    (conf/model/, its parameters as ``model__NAME=…``); or, instead, one function per task
    (``ner=``, ``attribution=``, ``toxicity=``; see :mod:`bench.adapters.callables`).
    ``dataset``: a dataset name (conf/dataset/, parameters as ``dataset__NAME=…``) or a built
    :class:`~bench.data.dataset.Dataset`. ``tasks``: None (every task, as ``task=all``), one
    task, or all three. A bad option raises :class:`~bench.run_config.ConfigError` naming it.
    Models given as Python objects are not cached (bench cannot tell two of them apart).
    """
    from omegaconf.errors import OmegaConfBaseException

    from bench.adapters.base import Adapter
    from bench.adapters.callables import CallableAdapter
    from bench.data.dataset import Dataset
    from bench.run_config import ConfigError, describe
    from bench.runner import evaluate as run

    functions = {"ner": ner, "attribution": attribution, "toxicity": toxicity}
    functions = {task: f for task, f in functions.items() if f is not None}
    overrides = [f"task={_task_option(tasks)}"] if tasks is not None else []
    adapter: Adapter | None = None
    if functions and model is not None:
        raise ConfigError("model: give a model or functions (ner=, attribution=, toxicity=)")
    if functions:
        adapter = CallableAdapter(**functions)
        preset, record = "functions", _target(adapter) | adapter.names()
    elif isinstance(model, Adapter):
        adapter, preset, record = model, type(model).__name__, _target(model)
    elif isinstance(model, str):
        preset, record = model, None
        overrides.insert(0, f"+model={model}")
    else:
        raise ConfigError(
            f"model={model!r}: expected an Adapter, a preset name, or functions "
            "(ner=, attribution=, toxicity=)"
        )
    built: Dataset | None = None
    if isinstance(dataset, Dataset):
        built = dataset
    elif isinstance(dataset, str):
        overrides.append(f"dataset={dataset}")
    else:
        raise ConfigError(f"dataset={dataset!r}: expected a dataset name or a Dataset")
    settings = _settings(options, model_options=record is None, dataset_options=built is None)
    cfg = _compose(overrides, settings)
    if record is not None:
        cfg.model = record
    if built is not None:
        cfg.dataset = _target(built) | {"name": built.name}
    recorded = overrides + [f"{key}={value}" for key, value in settings.items()]
    try:
        return run(cfg, preset, recorded, adapter=adapter, dataset=built)
    except OmegaConfBaseException as err:  # e.g. a preset's mandatory parameter not given
        raise ConfigError(describe(err)) from None


def _task_option(tasks: str | Sequence[str]) -> str:
    """``tasks`` as the run option ``task`` (all or one task)."""
    from bench.adapters.base import TASKS
    from bench.run_config import ConfigError

    chosen = [tasks] if isinstance(tasks, str) else list(tasks)
    if set(chosen) == set(TASKS) or chosen == ["all"]:
        return "all"
    if len(chosen) != 1:
        raise ConfigError(f"tasks={tasks!r}: expected one task, all of {TASKS}, or None")
    return chosen[0]


def _target(thing: object) -> dict[str, str]:
    """The record of a Python object's class (result.json's ``model.target``)."""
    return {"_target_": f"{type(thing).__module__}.{type(thing).__qualname__}"}


def _settings(
    options: dict[str, Any], *, model_options: bool, dataset_options: bool
) -> dict[str, Any]:
    """``options`` by dotted key (``bootstrap__resamples`` → ``bootstrap.resamples``)."""
    from bench.run_config import ConfigError

    settings = {}
    for key, value in options.items():
        dotted = key.replace("__", ".")
        group = dotted.split(".")[0]
        if group in _NOT_OPTIONS:
            raise ConfigError(f"{key}: not an option of bench.evaluate: {_NOT_OPTIONS[group]}")
        if (group == "model" and not model_options) or (group == "dataset" and not dataset_options):
            raise ConfigError(
                f"{key}: the {group}'s parameters apply to a {group} named by preset, "
                f"not to a Python object (set them when building it)"
            )
        settings[dotted] = str(value) if isinstance(value, PathLike) else value
    return settings


def _compose(overrides: list[str], settings: dict[str, Any]) -> DictConfig:
    """conf/config.yaml composed with ``overrides`` (Hydra's compose API), then each setting
    set; the run checks the result against the schema."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from bench.cli import CONF_DIR
    from bench.plugins import register_search_path
    from bench.run_config import ConfigError, describe

    register_search_path()  # presets of installed packages, as for the command
    try:
        with _aside_caller_hydra(), initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
    except MissingConfigException as err:  # an unknown preset or dataset
        group, _, name = str(err.missing_cfg_file).partition("/")
        raise ConfigError(
            f"{group}={name!r}: not found; available: {', '.join(err.options or [])}"
        ) from None
    except HydraException as err:
        raise ConfigError(" ".join(str(err).split())) from None
    OmegaConf.set_struct(cfg, False)  # unknown keys are refused by the schema, by name
    for key, value in settings.items():
        try:
            OmegaConf.update(cfg, key, value, merge=False)
        except OmegaConfBaseException as err:  # a value of the wrong type, a typo in a group
            err.full_key = err.full_key or key
            raise ConfigError(describe(err)) from None
    return cfg


@contextmanager
def _aside_caller_hydra() -> Iterator[None]:
    """Hydra's global state of a caller's own app (``@hydra.main``, ``initialize``) set aside
    while bench composes its config, and put back after: Hydra allows one at a time."""
    from hydra.core.global_hydra import GlobalHydra

    callers = GlobalHydra.instance().hydra
    GlobalHydra.instance().clear()
    try:
        yield
    finally:
        GlobalHydra.instance().clear()
        if callers is not None:
            GlobalHydra.instance().initialize(callers)
