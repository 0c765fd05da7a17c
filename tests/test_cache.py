"""The prediction cache: reruns call the model only for what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench_config import run_model

from bench.cache import PredictionCache
from bench.predictions import ToxicityPrediction

N_ITEMS = 43  # seed-article toxicity items: 40 segments + 3 documents


def _run(tmp_path: Path, out: str, **model):
    overrides = ("task=toxicity", "batch_size=10", f"cache.dir={tmp_path / 'cache'}")
    model = {"_target_": "adapters_for_tests.CountingToxicity", **model}
    return run_model(tmp_path / out, model, *overrides).result["tasks"]["toxicity"]


def _asked(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_a_rerun_calls_the_model_for_nothing_and_scores_the_same(tmp_path):
    log = tmp_path / "asked.log"
    first = _run(tmp_path, "a", log=str(log))
    assert first["predictions"]["hits"] == 0 and len(_asked(log)) == N_ITEMS
    second = _run(tmp_path, "b", log=str(log))
    assert second["predictions"] == {"path": first["predictions"]["path"], "hits": N_ITEMS,
                                     "predicted": 0}  # fmt: skip
    assert len(_asked(log)) == N_ITEMS
    assert first["metrics"] == second["metrics"]


def test_an_interrupted_run_resumes_with_the_missing_items_only(tmp_path):
    log, marker = tmp_path / "asked.log", tmp_path / "crashed"
    params = {"log": str(log), "crash_marker": str(marker), "crash_on_batch": 3}
    first = _run(tmp_path, "a", **params)
    assert first["status"] == "failed" and "interrupted" in first["error"]
    assert len(_asked(log)) == 20  # two batches of 10 were predicted and cached
    second = _run(tmp_path, "b", **params)
    assert second["status"] == "ok"
    assert second["predictions"]["hits"] == 20 and second["predictions"]["predicted"] == 23
    assert sorted(_asked(log)) == sorted(set(_asked(log)))  # nobody was asked twice


def test_a_change_of_parameters_misses_the_cache(tmp_path):
    _run(tmp_path, "a", log=str(tmp_path / "one.log"))
    other = _run(tmp_path, "b", log=str(tmp_path / "two.log"))
    assert other["predictions"]["hits"] == 0


def test_a_line_cut_short_is_ignored(tmp_path):
    cache = PredictionCache(tmp_path, "toxicity", {"model": "x"})
    cache.append(["a", "b"], [ToxicityPrediction(0.1), ToxicityPrediction(0.9)])
    with cache.path.open("a") as handle:
        handle.write('{"id": "c", "predic')
    assert cache.load() == {"a": ToxicityPrediction(0.1), "b": ToxicityPrediction(0.9)}


def test_two_processes_share_a_cache(tmp_path):
    env = os.environ | {
        "PYTHONPATH": str(Path(__file__).parent),
        "BENCH_CACHE_DIR": str(tmp_path / "cache"),
    }
    bench = str(Path(sys.executable).with_name("bench"))
    args = ["+model._target_=adapters_for_tests.CountingToxicity", "task=toxicity",
            "batch_size=3", "bootstrap.resamples=0"]  # fmt: skip
    procs = [
        subprocess.Popen(
            [bench, *args, f"+model.log={tmp_path / 'asked.log'}", f"hydra.run.dir={tmp_path / n}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for n in ("p1", "p2")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    [cache_file] = (tmp_path / "cache" / "toxicity").glob("*.jsonl")
    lines = cache_file.read_text().splitlines()
    assert all(json.loads(line)["id"] for line in lines)  # no interleaved writes
    assert {json.loads(line)["id"] for line in lines} == set(_asked(tmp_path / "asked.log"))
    third = subprocess.run(
        [bench, *args, f"+model.log={tmp_path / 'asked.log'}", f"hydra.run.dir={tmp_path / 'p3'}"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert third.returncode == 0
    result = json.loads((tmp_path / "p3" / "result.json").read_text())
    assert result["tasks"]["toxicity"]["predictions"]["hits"] == N_ITEMS
