"""Config composition with Hydra's compose API."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from bench.adapters.base import Adapter
from bench.cli import CONF_DIR, model_presets


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def test_defaults_have_dataset_but_no_model():
    cfg = _compose()
    assert cfg.dataset.name == "seed_article"
    assert cfg.task == "all"
    assert "model" not in cfg


def test_every_model_preset_composes_and_instantiates():
    presets = model_presets()
    assert {"oracle", "empty", "rules"} <= set(presets)
    for preset in presets:
        cfg = _compose(f"+model={preset}")
        assert cfg.model._target_.startswith("bench.adapters.")
        if preset in {"oracle", "empty", "rules"}:
            adapter = instantiate(cfg.model)
            assert isinstance(adapter, Adapter)
            assert adapter.tasks


@pytest.mark.parametrize("task", ["ner", "attribution", "toxicity"])
def test_task_override(task):
    assert _compose("+model=empty", f"task={task}").task == task


def test_unknown_preset_is_refused():
    with pytest.raises(Exception, match="nonexistent"):
        _compose("+model=nonexistent")
