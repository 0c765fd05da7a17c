"""The prediction cache: reruns call the model only for what is missing."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bench_config import run_model
from filelock import FileLock

from bench.cache import PredictionCache, adapter_code_sha256, parse_duration
from bench.predictions import ToxicityPrediction

N_ITEMS = 43  # seed-article toxicity items: 40 segments + 3 documents


def _run(tmp_path: Path, out: str, **model):
    overrides = ("task=toxicity", "batch_size=10", f"cache.dir={tmp_path / 'cache'}")
    model = {"_target_": "adapters_for_tests.CountingToxicity", **model}
    return run_model(tmp_path / out, model, *overrides).result["tasks"]["toxicity"]


def _env() -> dict[str, str]:
    """The environment of a ``bench`` subprocess: the test adapters importable too."""
    path = [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    return os.environ | {"PYTHONPATH": os.pathsep.join(p for p in path if p)}


def _asked(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_a_rerun_calls_the_model_for_nothing_and_scores_the_same(tmp_path):
    log = tmp_path / "asked.log"
    first = _run(tmp_path, "a", log=str(log))
    assert first["predictions"]["hits"] == 0 and len(_asked(log)) == N_ITEMS
    second = _run(tmp_path, "b", log=str(log))
    assert second["predictions"] == {"path": first["predictions"]["path"], "hits": N_ITEMS,
                                     "predicted": 0, "batching": {"size": 10,
                                     "sort_by_length": False, "inside": {}}}  # fmt: skip
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


def _predictions(cache: PredictionCache) -> dict:
    return {item_id: entry.prediction for item_id, entry in cache.load().items()}


def test_a_line_cut_short_is_ignored(tmp_path):
    cache = PredictionCache(tmp_path, "toxicity", {"model": "x"})
    cache.append(["a", "b"], [ToxicityPrediction(0.1), ToxicityPrediction(0.9)], [None, None])
    with cache.path.open("a") as handle:
        handle.write('{"id": "c", "predic')
    assert _predictions(cache) == {"a": ToxicityPrediction(0.1), "b": ToxicityPrediction(0.9)}


def test_two_processes_share_a_cache(tmp_path):
    env = _env() | {"BENCH_CACHE_DIR": str(tmp_path / "cache")}
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


# ----------------------------------------------------------------------------- summary


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("bench")), *args, "bootstrap.resamples=0"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_printed_summary_says_how_many_predictions_came_from_the_cache(tmp_path):
    args = ["+model._target_=adapters_for_tests.CountingToxicity", "task=toxicity",
            f"+model.log={tmp_path / 'asked.log'}", f"cache.dir={tmp_path / 'cache'}"]  # fmt: skip
    first = _bench(tmp_path, *args, "hydra.run.dir=a")
    assert first.returncode == 0, first.stderr
    assert f"from cache: toxicity 0/{N_ITEMS}" in first.stdout.splitlines()
    second = _bench(tmp_path, *args, "hydra.run.dir=b")
    assert f"from cache: toxicity {N_ITEMS}/{N_ITEMS}" in second.stdout.splitlines()
    off = _bench(tmp_path, *args, "cache.enabled=false", "hydra.run.dir=c")
    assert off.returncode == 0 and "from cache" not in off.stdout


# ----------------------------------------------------------------------------- expiry


def _age_entries(cache_dir: Path, seconds: float) -> None:
    [path] = (cache_dir / "toxicity").glob("*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(r | {"time": r["time"] - seconds}) + "\n" for r in records))


def test_max_age_expires_older_entries(tmp_path):
    log = str(tmp_path / "asked.log")
    _run(tmp_path, "a", log=log)
    _age_entries(tmp_path / "cache", 2 * 3600)  # written two hours ago
    kept = run_model(tmp_path / "b", {"_target_": "adapters_for_tests.CountingToxicity",
                     "log": log}, "task=toxicity", f"cache.dir={tmp_path / 'cache'}",
                     "cache.max_age=3h").result["tasks"]["toxicity"]  # fmt: skip
    assert kept["predictions"]["hits"] == N_ITEMS
    expired = run_model(tmp_path / "c", {"_target_": "adapters_for_tests.CountingToxicity",
                        "log": log}, "task=toxicity", f"cache.dir={tmp_path / 'cache'}",
                        "cache.max_age=3600").result["tasks"]["toxicity"]  # fmt: skip
    assert expired["predictions"] == kept["predictions"] | {"hits": 0, "predicted": N_ITEMS}
    assert len(_asked(Path(log))) == 2 * N_ITEMS


@pytest.mark.parametrize("value", ["soon", "-5", "12x", "1.5.2h"])
def test_a_bad_max_age_exits_2_naming_the_key(tmp_path, value):
    done = _bench(tmp_path, "+model._target_=adapters_for_tests.CountingToxicity",
                  f"+model.log={tmp_path / 'log'}", f"cache.max_age={value}",
                  "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 2
    assert "cache.max_age" in done.stderr and not (tmp_path / "out" / "result.json").exists()


def test_durations():
    assert [parse_duration(v) for v in ("3600", 90, "30m", "12h", "7d", "2w", None)] == [
        3600, 90, 1800, 43200, 604800, 1209600, None]  # fmt: skip


def test_a_change_in_any_module_of_the_adapter_misses_the_cache(tmp_path, monkeypatch):
    package = tmp_path / "split_adapter"
    package.mkdir()
    files = {
        "__init__.py": "",
        "align.py": "def align(text):\n    return text\n",
        "other.py": "def unrelated():\n    return 1\n",
        "adapter.py": "from split_adapter.align import align\n\nclass Adapter:\n    pass\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        for name in ("split_adapter.adapter", "split_adapter.other"):
            importlib.import_module(name)
        adapter = sys.modules["split_adapter.adapter"].Adapter()
        before = adapter_code_sha256(adapter)
        (package / "other.py").write_text("def unrelated():\n    return 2\n")
        assert adapter_code_sha256(adapter) == before  # a module the adapter does not use
        (package / "align.py").write_text("def align(text):\n    return text.strip()\n")
        assert adapter_code_sha256(adapter) != before
    finally:
        for name in [m for m in sys.modules if m.startswith("split_adapter")]:
            del sys.modules[name]


# ----------------------------------------------------------------------------- served models


class ChatServer:
    """A local OpenAI-compatible server reporting ``model`` and ``system_fingerprint`` as set;
    it answers every task with an empty or constant prediction and counts requests."""

    def __init__(self) -> None:
        self.model, self.fingerprint, self.requests = "served-model-v1", "fp-1", 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                server.requests += 1
                answer = (
                    {"entities": []}
                    if '"entities"' in prompt
                    else ({"attributions": []} if '"attributions"' in prompt else {"toxic": 0.2})
                )
                data = json.dumps({
                    "model": server.model, "system_fingerprint": server.fingerprint,
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {
                        "role": "assistant", "content": json.dumps(answer)}}],
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def chat_server():
    server = ChatServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _served_run(tmp_path: Path, server: ChatServer, out: str) -> dict:
    return run_model(tmp_path / out, "openai_chat", "task=toxicity", "bootstrap.resamples=0",
                     f"cache.dir={tmp_path / 'cache'}", f"model.base_url={server.url}",
                     "model.model=served-model").result["tasks"]["toxicity"]  # fmt: skip


@pytest.mark.parametrize("change", ["model", "fingerprint"])
def test_a_served_model_that_changes_behind_its_name_misses_the_cache(
    tmp_path, chat_server, change
):
    assert _served_run(tmp_path, chat_server, "a")["predictions"]["hits"] == 0
    assert chat_server.requests == N_ITEMS
    # the same server again: one item is asked to learn what it serves, the rest is cached
    same = _served_run(tmp_path, chat_server, "b")["predictions"]
    assert (same["hits"], same["predicted"], chat_server.requests) == (N_ITEMS - 1, 1, N_ITEMS + 1)
    setattr(chat_server, change, "served-model-v2" if change == "model" else "fp-2")
    changed = _served_run(tmp_path, chat_server, "c")["predictions"]
    assert (changed["hits"], changed["predicted"]) == (0, N_ITEMS)
    assert chat_server.requests == 2 * N_ITEMS + 1
    report = {"model": chat_server.model, "system_fingerprint": chat_server.fingerprint}
    assert changed["served"] == [report]  # recorded in result.json
    [path] = (tmp_path / "cache" / "toxicity").glob("*.jsonl")
    assert json.loads(path.read_text().splitlines()[-1])["served"] == report


# ----------------------------------------------------------------------------- unusable cache


def test_a_cache_that_cannot_be_written_warns_once_and_the_run_goes_on(tmp_path, chat_server):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file: nothing can be created under it, even by root\n")
    cache_dir = blocker / "cache"
    done = _bench(tmp_path, "+model=openai_chat", f"model.base_url={chat_server.url}",
                  "model.model=served-model", f"cache.dir={cache_dir}",
                  "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(cache_dir) in warnings[0], done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert {t: r["status"] for t, r in result["tasks"].items()} == dict.fromkeys(
        ("ner", "attribution", "toxicity"), "ok")  # fmt: skip
    assert chat_server.requests == 3 + 3 + N_ITEMS


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_full_disk_is_a_warning_not_an_error(tmp_path, capsys):
    cache = PredictionCache(tmp_path, "toxicity", {"model": "x"})
    cache.path.parent.mkdir(parents=True)
    cache.path.symlink_to("/dev/full")  # every write fails with ENOSPC
    cache.append(["a"], [ToxicityPrediction(0.1)], [None])
    cache.append(["b"], [ToxicityPrediction(0.2)], [None])
    [line] = capsys.readouterr().err.splitlines()
    assert str(tmp_path) in line and "No space left" in line and not cache.usable


# ----------------------------------------------------------------------------- locking


def test_appends_wait_for_the_cross_platform_lock(tmp_path):
    cache = PredictionCache(tmp_path, "toxicity", {"model": "x"})
    cache.append(["a"], [ToxicityPrediction(0.1)], [None])
    held = FileLock(f"{cache.path}.lock")
    held.acquire()
    writer = threading.Thread(target=cache.append, args=(["b"], [ToxicityPrediction(0.2)], [None]))
    writer.start()
    writer.join(0.5)
    assert writer.is_alive() and set(_predictions(cache)) == {"a"}  # waiting for the lock
    held.release()
    writer.join(10)
    assert set(_predictions(cache)) == {"a", "b"}


def test_a_cached_prediction_is_validated_as_a_fresh_one(tmp_path):
    """A cache file may be stale or edited: its predictions pass the task's checks too."""
    log = str(tmp_path / "asked.log")
    _run(tmp_path, "a", log=log)
    [path] = (tmp_path / "cache").rglob("*.jsonl")
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["prediction"]["score"] = 7.0  # out of [0, 1]
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    second = _run(tmp_path, "b", log=log)
    assert second["status"] == "failed"
    assert f"item {record['id']!r}" in second["error"] and "score" in second["error"]
