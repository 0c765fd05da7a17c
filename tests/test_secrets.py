"""The API key never leaves the process: no run file, report or terminal line holds it.

Real local servers on 127.0.0.1 (from test_adapters_openai) and the real ``bench`` and
``bench-report`` commands; every file they write is searched for the key's value.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import test_adapters_openai
from bench_config import compose_config, run_model
from test_adapters_openai import (
    KEY,
    MODEL,
    Reply,
    Seen,
    adapter,
    gold,
    gold_answer,
    ok,
    segments,
)
from test_cli import bench

from bench.adapters.openai_transport import ServerConfigError
from bench.predictions import PredictionFailure
from bench.provenance import redact, scrub_secrets, secret_overrides, secret_values
from bench.runner import run
from bench.sample_rows import NerRows

serve = test_adapters_openai.serve  # the fixture: a scripted chat server on 127.0.0.1
BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
ECHO = f"Incorrect API key provided: {KEY}. You sent Authorization: Bearer {KEY}"


def files_holding_the_key(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]


def openai_run(cwd: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``bench`` against ``base_url``; ``args`` go first (``-m`` must precede the overrides)."""
    return bench(
        cwd, *args, "+model=openai_chat", f"model.model={MODEL}", f"model.base_url='{base_url}'",
        "model.backoff_base=0", "model.max_retries=0", "bootstrap.resamples=0",
        "hydra.run.dir=run",
    )  # fmt: skip


class Recorder:
    """Any method, any path on 127.0.0.1: records the headers, answers 200."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self) -> None:
                recorder.headers.append(dict(self.headers))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                data = b'{"choices": [{"message": {"content": "{\\"toxic\\": 0.1}"}}]}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


# --------------------------------------------------------------------------- redaction


def test_redact_removes_secret_values_and_credentials_of_any_header():
    text = f'{KEY} {{"Authorization": "Bearer {KEY}x"}} authorization: Basic dXNlcg== x-api-key: k1'
    assert redact(text, [KEY]) == (
        '*** {"Authorization": "Bearer ***"} authorization: Basic *** x-api-key: ***'
    )
    assert redact("Bearer abcd-1234, and more", []) == "Bearer ***, and more"
    assert redact("GET /?access_token=abc&n=1 max_tokens=9", []) == (
        "GET /?access_token=***&n=1 max_tokens=9"
    )
    assert redact("a bearer of news; Bearer 1234", []) == "a bearer of news; Bearer 1234"
    assert redact("short key: abc", ["abc"]) == "short key: abc"  # too short to be told apart
    assert redact(f"{KEY}{KEY}. Cut: {KEY[:12]}", [KEY]) == "******. Cut: ***"


def test_scrub_secrets_by_key_name_and_by_value():
    data = {"api_key": "x", "params": [f"model.base_url=u?k={KEY}"], "n": 3, "ok": True}
    assert scrub_secrets(data, [KEY]) == {
        "api_key": "***", "params": ["model.base_url=u?k=***"], "n": 3, "ok": True,
    }  # fmt: skip


def test_scrub_secrets_keeps_lists_of_numbers_and_redacts_everything_else():
    """Issue 16: NER samples hold a [start, end] list per token; scrubbing keeps such lists
    as they are (no call, no copy per list) and still reaches every string beside them."""
    tokens = [[0, 3], [4, 9], [10, 12.5], [13, None]]
    rows = [{"id": "s1", "tokens": tokens, "gold": [[0, 3, "PER", f"key {KEY}"]],
             "mixed": [[1, 2], [3, f"Bearer {KEY}"]], "token": "x"}]  # fmt: skip
    [row] = scrub_secrets(rows, [KEY])
    assert row["tokens"] is tokens
    assert row == {"id": "s1", "tokens": tokens, "gold": [[0, 3, "PER", "key ***"]],
                   "mixed": [[1, 2], [3, "Bearer ***"]], "token": "***"}  # fmt: skip
    assert scrub_secrets((1, (2, 3)), []) == [1, [2, 3]]  # tuples still come back as lists
    assert redact("token=x", []) == "token=***"  # the shortest text redact changes


def _pieces(text: str, start: int, end: int, **extra: Any) -> NerRows:
    """One NER row whose predicted span is ``text[start:end]`` (then ``extra`` as a row)."""
    no_gold, pred = np.zeros((0, 4), dtype=np.int64), np.array([[0, start, end, 0]])
    tokens = (np.array([0]), np.array([1]), np.array([0, 1]))
    rows = NerRows(["s1"], [text], ["PER"], no_gold, pred, tokens, {})
    return rows + [extra] if extra else rows


@pytest.mark.parametrize(
    ("pieces", "secrets"),
    [
        (_pieces("Ms Smith said so", 3, 8), [KEY]),  # nothing to redact: the fast path
        (_pieces("xBearer abcdefghijkl", 1, 20), []),  # a piece starts a word its text does not
        (_pieces("xauthorization: abcdefgh", 1, 24), []),
        (_pieces(f"the key is {KEY}!", 11, 11 + len(KEY)), [KEY]),  # a secret value
        (_pieces(f"the key is {KEY[:9]}", 11, 20), [KEY]),  # a secret cut short
        (_pieces("mytoken=abcdefgh", 0, 16), []),
        (_pieces("Ms Smith said so", 3, 8, api_key="x"), []),  # a secret-looking key
    ],
    ids=["clean", "bearer-in-piece", "authorization-in-piece", "secret", "secret-head",
         "assignment", "secret-key"],
)  # fmt: skip
def test_rows_of_text_pieces_are_scrubbed_as_any_rows(pieces, secrets):
    """Issue 16: NER sample rows (NerRows: every string a piece of the item texts) are
    checked through their texts once instead of walked; the result is the walk's."""
    walked = scrub_secrets(list(pieces), secrets)
    assert scrub_secrets(pieces, secrets) == walked
    if walked == list(pieces):
        assert scrub_secrets(pieces, secrets) is pieces  # not walked: returned as it is
    else:
        assert "***" in json.dumps(walked)


def test_secret_values_come_from_the_environment_variables_named_in_the_config(monkeypatch):
    monkeypatch.setenv("MY_KEY", KEY)
    monkeypatch.setenv("HOME_DIR", "/home/someone")
    config = {"model": {"api_key_env": "MY_KEY", "path_env": "HOME_DIR", "token": "t" * 12}}
    assert sorted(secret_values(config)) == sorted([KEY, "t" * 12])
    monkeypatch.delenv("MY_KEY")
    assert secret_values(config) == ["t" * 12]


def test_secret_overrides_finds_secret_keys_whatever_the_prefix():
    args = ["-m", "+model=openai_chat", "model.api_key_env=MY_KEY", "name=token",
            "++model.api_key=a", "hydra.job.env_set.OPENAI_API_KEY=b", "+x.password=c"]  # fmt: skip
    assert secret_overrides(args) == [
        "model.api_key",
        "hydra.job.env_set.OPENAI_API_KEY",
        "x.password",
    ]


def test_a_run_masks_secret_values_in_overrides_and_config(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_KEY", KEY)
    service = {"api_key_env": "MY_SERVICE_KEY", "url": f"http://h/?k={KEY}"}
    cfg = compose_config(
        model={"_target_": "adapters_for_tests.ConfiguredEmpty", "service": service}
    )
    outcome = run(cfg, "empty", [f"+note=is {KEY}", "+x.token=abc"], tmp_path)
    provenance = outcome.result["provenance"]
    assert provenance["overrides"] == ["+note=is ***", "+x.token=***"]
    assert provenance["config"]["model"]["service"] == {
        "api_key_env": "MY_SERVICE_KEY",
        "url": "http://h/?k=***",
    }
    assert files_holding_the_key(tmp_path) == []


# --------------------------------------------------------------------------- the adapter


def test_a_key_echoed_in_error_bodies_is_redacted_from_errors_records_and_logs(serve, caplog):
    def echo(seen: Seen, n: int) -> Reply:
        if seen.task == "ner":
            return Reply(401, content=ECHO)
        return Reply(400, content=ECHO) if seen.text == gold().segments[0].text else ok(seen)

    model = adapter(serve(echo))
    with pytest.raises(ServerConfigError, match="HTTP 401") as err:
        model.predict_ner([segments(1)[0]])
    assert KEY not in str(err.value) and "Bearer ***" in str(err.value)
    with caplog.at_level(logging.WARNING):
        predictions = model.predict_toxicity(segments(3))
    [failure] = [p for p in predictions if isinstance(p, PredictionFailure)]
    assert failure.message == f"HTTP 400: {json.dumps({'error': {'message': ECHO}})}".replace(
        KEY, "***"
    )
    assert KEY not in caplog.text


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_cross_origin_redirect_is_refused_and_never_carries_the_key(serve, recorder, status):
    server = serve(lambda seen, n: Reply(status, headers={"Location": recorder.origin + "/v1"}))
    model = adapter(server)
    with pytest.raises(ServerConfigError) as err:
        model.predict_toxicity(segments(2))
    origin = server.base_url.removesuffix("/v1")
    assert f"redirect from {origin} to {recorder.origin} refused" in str(err.value)
    assert recorder.headers == []


# --------------------------------------------------------------------------- bench, end to end


@pytest.mark.slow
def test_no_run_file_report_or_output_holds_the_key(serve, tmp_path, monkeypatch):
    """401, 400 and 200 answers all echo the key; the run, its cache and leaderboard hide it."""
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))

    def echo(seen: Seen, n: int) -> Reply:
        if seen.task == "ner":
            return Reply(401, content=ECHO)
        if seen.text == gold().segments[0].text:
            return Reply(400, content=ECHO)
        if seen.text == gold().segments[1].text:
            return Reply(content=f"I cannot rate this. {ECHO}")
        answer = gold_answer(seen.task, seen.text)
        for row in answer.get("attributions", []):
            row["speaker"] = KEY  # kept verbatim in the samples and the cache today
        return Reply(content=json.dumps(answer))

    done = openai_run(tmp_path, serve(echo).base_url)
    assert done.returncode == 1, done.stderr
    assert "task ner failed" in done.stderr and "HTTP 401" in done.stderr
    assert KEY not in done.stdout + done.stderr
    run = tmp_path / "run"
    assert json.loads((run / "result.json").read_text())["tasks"]["ner"]["status"] == "failed"
    assert {p.name for p in run.iterdir()} >= {"result.json", ".hydra", "cli.log", "samples"}
    assert files_holding_the_key(run) == []

    oracle = run_model(tmp_path / "oracle", "oracle", "bootstrap.resamples=0").result
    assert oracle["tasks"]["ner"]["status"] == "ok"  # so the board has a NER column
    board = subprocess.run(
        [BENCH_REPORT, "leaderboard", str(run), str(tmp_path / "oracle"),
         "--out", str(tmp_path / "board"), "--no-plots"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert board.returncode == 0, board.stderr
    assert (tmp_path / "board" / "index.html").is_file()
    assert "HTTP 401" in (tmp_path / "board" / "index.html").read_text()
    assert KEY not in board.stdout + board.stderr
    assert list((tmp_path / "cache").rglob("*.jsonl"))
    assert files_holding_the_key(tmp_path) == []


@pytest.mark.slow
def test_a_sweep_folder_holds_no_key(serve, tmp_path):
    server = serve(lambda seen, n: Reply(401, content=ECHO))
    args = ("-m", "task=ner,toxicity", "hydra.sweep.dir=sweep")
    done = openai_run(tmp_path, server.base_url, *args)
    assert done.returncode == 1 and "HTTP 401" in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert len(list((tmp_path / "sweep").glob("*/result.json"))) == 2
    assert (tmp_path / "sweep" / "multirun.yaml").is_file()
    assert files_holding_the_key(tmp_path) == []


@pytest.mark.slow
def test_a_redirect_to_another_origin_fails_the_run_loudly(serve, recorder, tmp_path):
    server = serve(lambda seen, n: Reply(302, headers={"Location": recorder.origin + "/v1"}))
    done = openai_run(tmp_path, server.base_url, "task=toxicity")
    assert done.returncode == 1
    origin = server.base_url.removesuffix("/v1")
    assert f"redirect from {origin} to {recorder.origin} refused" in done.stderr
    assert recorder.headers == []
    assert files_holding_the_key(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("model.api_key=" + KEY,),
        ("+model.api_key=" + KEY,),
        ("++model.api_key=" + KEY,),
        ("hydra.job.env_set.OPENAI_API_KEY=" + KEY,),
        ("-m", f"+model.api_key={KEY},other", "hydra.sweep.dir=sweep"),
    ],
    ids=["override", "append", "force", "env_set", "multirun"],
)
def test_a_key_on_the_command_line_is_refused_before_anything_is_written(
    serve, tmp_path, monkeypatch, args
):
    monkeypatch.delenv("OPENAI_API_KEY")
    server = serve(key=None)
    done = openai_run(tmp_path, server.base_url, *args)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "command line" in line and "OPENAI_API_KEY" in line and "api_key_env" in line
    assert KEY not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []
    assert server.seen == []
