"""Compose bench's config in tests as the ``bench`` command does, run it in-process, and
copy a run folder with an edited result.json."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from bench.cli import CONF_DIR
from bench.result import Result
from bench.runner import build, build_task, run
from bench.tasks.base import Task


def compose_config(*overrides: str, model: str | dict[str, Any] | None = None) -> DictConfig:
    """The composed config; ``model`` is a preset name or an adapter config (``_target_`` …)."""
    preset = [f"+model={model}"] if isinstance(model, str) else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*preset, *overrides])
    OmegaConf.set_struct(cfg, False)
    if isinstance(model, dict):
        cfg.model = model
    return cfg


def run_model(
    out_dir: Path, model: str | dict[str, Any], *overrides: str, preset: str | None = None
) -> Result:
    """Run ``model`` into ``out_dir``; ``preset`` names it (default: the preset or class name)."""
    name = preset or (model if isinstance(model, str) else model["_target_"].rsplit(".", 1)[-1])
    return run(compose_config(*overrides, model=model), name, list(overrides), out_dir)


def shipped_task(dataset: str, task: str) -> Task:
    """``task`` of the shipped ``dataset``, as the runner builds it (``.inputs()``: its items)."""
    cfg = compose_config(f"dataset={dataset}")
    return build_task(task, build(cfg.dataset, dataset), "test", cfg)


def copy_run(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the run folder ``source`` at ``target``, its result.json changed by ``edit``."""
    shutil.copytree(source, target)
    result = json.loads((target / "result.json").read_text())
    edit(result)
    (target / "result.json").write_text(json.dumps(result, indent=2))
    return target
