"""Batches sized for the model: the runner asks each adapter in the batching it prefers
(``batch_size`` overrides the size), restores input order, and records what it used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_config import shipped_task

BENCH = str(Path(sys.executable).with_name("bench"))
ITEMS = shipped_task("seed_article", "toxicity").inputs()
TEXT_LENGTHS = {item.id: len(item.text) for item in ITEMS}


def _bench(tmp_path: Path, name: str, *overrides: str) -> dict:
    path = [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]  # the test adapters
    env = os.environ | {"PYTHONPATH": os.pathsep.join(path)}
    args = [BENCH, "task=toxicity", "bootstrap.resamples=0", "cache.enabled=false",
            f"hydra.run.dir={tmp_path / name}", *overrides]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / name / "result.json").read_text())["tasks"]["toxicity"]


@pytest.mark.parametrize(("overrides", "size"), [((), 3), (("batch_size=5",), 5)])
def test_length_sorted_batches_are_scored_in_input_order(tmp_path, overrides, size):
    log = tmp_path / "calls.log"
    model = ["+model._target_=adapters_for_tests.LengthSortedToxicity", f"+model.log={log}"]
    sorted_run = _bench(tmp_path, "sorted", *model, *overrides)
    calls = [line.split() for line in log.read_text().splitlines()]
    asked = [item_id for call in calls for item_id in call]
    assert sorted(asked) == sorted(TEXT_LENGTHS)
    assert [len(call) for call in calls[:-1]] == [size] * (len(calls) - 1)
    lengths = [TEXT_LENGTHS[item_id] for item_id in asked]
    assert lengths == sorted(lengths) and lengths != [TEXT_LENGTHS[i] for i in TEXT_LENGTHS]
    assert sorted_run["predictions"]["batching"] == {
        "size": size, "sort_by_length": True, "inside": {}
    }  # fmt: skip
    # the same scores asked in dataset order: a score given to the wrong item would show
    in_order = _bench(tmp_path, "in_order", "+model._target_=adapters_for_tests.CountingToxicity",
                      f"+model.log={tmp_path / 'other.log'}")  # fmt: skip
    assert in_order["predictions"]["batching"]["sort_by_length"] is False
    assert sorted_run["metrics"] == in_order["metrics"]
    assert sorted_run["counts"] == in_order["counts"]


def test_vectorised_adapters_take_large_batches_unless_overridden(tmp_path):
    preferred = _bench(tmp_path, "preferred", "+model=rules")
    assert preferred["predictions"]["batching"] == {
        "size": 4096, "sort_by_length": False, "inside": {}
    }  # fmt: skip
    chosen = _bench(tmp_path, "chosen", "+model=rules", "batch_size=7")
    assert chosen["predictions"]["batching"]["size"] == 7
    assert chosen["metrics"] == preferred["metrics"]
