"""Config composition with Hydra's compose API."""

from __future__ import annotations

import pytest
from bench_config import compose_config
from hydra.utils import instantiate

from bench.adapters.base import Adapter
from bench.cli import model_presets


def test_defaults_have_dataset_but_no_model():
    cfg = compose_config()
    assert cfg.dataset.name == "seed_article"
    assert cfg.task == "all"
    assert cfg.model is None


def test_every_model_preset_composes_and_instantiates():
    presets = model_presets()
    assert {"oracle", "empty", "rules"} <= set(presets)
    for preset in presets:
        cfg = compose_config(f"+model={preset}")
        assert cfg.model._target_.startswith("bench.adapters.")
        if preset in {"oracle", "empty", "rules"}:
            adapter = instantiate(cfg.model)
            assert isinstance(adapter, Adapter)
            assert adapter.tasks


@pytest.mark.parametrize("task", ["ner", "attribution", "toxicity"])
def test_task_override(task):
    assert compose_config("+model=empty", f"task={task}").task == task


def test_unknown_preset_is_refused():
    with pytest.raises(Exception, match="nonexistent"):
        compose_config("+model=nonexistent")
