"""The OpenAI-compatible HTTP transport, against a real scripted server on 127.0.0.1.

The first tests go through the adapter (what an item's record says); the last ones
drive :class:`ChatTransport` on its own.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import test_adapters_openai
from test_adapters_openai import KEY, MODEL, Reply, Seen, adapter, gold, ok, segments

from bench.adapters.openai_transport import (
    ChatTransport,
    Completion,
    Refusal,
    RequestFailure,
    ServerConfigError,
)
from bench.adapters.prompts import render
from bench.predictions import PredictionFailure

serve = test_adapters_openai.serve  # the fixture: a scripted chat server on 127.0.0.1


# --------------------------------------------------------------------------- retries


def test_429_is_retried_honouring_retry_after(serve):
    def throttled_once(seen: Seen, n: int) -> Reply:
        return Reply(429, headers={"Retry-After": "0.3"}) if n == 1 else ok(seen)

    server = serve(throttled_once)
    model = adapter(server, backoff_base=0.0, max_retries=3)
    started = time.perf_counter()
    [tox] = model.predict_toxicity(segments(1))
    assert time.perf_counter() - started >= 0.3
    assert len(server.seen) == 2 and model.failures == []
    assert tox.score in (0.1, 0.9)


def test_429_without_retry_after_backs_off_exponentially(serve, monkeypatch):
    import bench.adapters.openai_transport as module

    sleeps: list[float] = []
    monkeypatch.setattr(module, "_sleep", sleeps.append)
    server = serve(lambda seen, n: Reply(429) if n <= 3 else ok(seen))
    model = adapter(server, backoff_base=0.5, backoff_max=1.5, max_retries=3)
    model.predict_toxicity(segments(1))
    assert sleeps == [0.5, 1.0, 1.5]  # base * 2**attempt, capped by backoff_max
    assert model.failures == []


def test_500_until_retries_are_exhausted_fails_that_item_only(serve):
    bad = gold().segments[1].text

    server = serve(lambda seen, n: Reply(500) if seen.text == bad else ok(seen))
    model = adapter(server, max_retries=2)
    items = segments(4)
    predictions = model.predict_toxicity(items)
    failure = predictions[1]
    assert isinstance(failure, PredictionFailure) and failure.reason == "request"
    assert "HTTP 500" in failure.message and "3 attempts" in failure.message
    assert failure.raw is None and bad in failure.prompt
    assert all(p.score in (0.1, 0.9) for i, p in enumerate(predictions) if i != 1)
    assert sum(s.text == bad for s in server.seen) == 3


def test_timeout_is_retried_then_recorded(serve):
    slow = gold().segments[0].text
    server = serve(
        lambda seen, n: Reply(content="{}", delay=3.0) if seen.text == slow else ok(seen)
    )
    model = adapter(server, timeout=0.2, max_retries=1)
    started = time.perf_counter()
    predictions = model.predict_toxicity(segments(3))
    assert time.perf_counter() - started < 2.5
    failure = predictions[0]
    assert isinstance(failure, PredictionFailure) and failure.reason == "request"
    assert "timed out" in failure.message and "2 attempts" in failure.message
    assert predictions[1].score in (0.1, 0.9)


def test_concurrency_limit_is_respected(serve):
    server = serve(lambda seen, n: Reply(content='{"toxic": 0.2}', delay=0.1))
    model = adapter(server, concurrency=3)
    model.predict_toxicity(segments(12))
    assert server.max_active == 3
    assert len(server.seen) == 12


# --------------------------------------------------------------------------- the transport alone


def payload(text: str = "hello") -> dict[str, object]:
    return {"model": MODEL, "messages": [{"role": "user", "content": render("toxicity", text)}]}


def transport(server: test_adapters_openai.FakeServer, **kw: float) -> ChatTransport:
    return ChatTransport(server.base_url, **{"backoff_base": 0.0, "max_retries": 0} | kw)


def test_the_key_is_read_at_each_request_and_redacted_from_answers(serve, monkeypatch):
    server = serve(lambda seen, n: Reply(content=f"my key is {KEY}"))
    chat = transport(server)
    assert chat.complete(payload()) == Completion("my key is ***", "stop", {"model": MODEL})
    assert server.seen[0].headers["Authorization"] == f"Bearer {KEY}"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-rotated-0123456789")
    with pytest.raises(ServerConfigError) as err:  # the server still expects the old key
        chat.complete(payload())
    assert str(err.value).startswith(f"HTTP 401 from {chat.host} for model {MODEL!r}: ")
    assert server.seen[1].headers["Authorization"] == "Bearer sk-rotated-0123456789"


def test_a_refusal_raises_refusal_with_what_the_server_said(serve):
    answers = {
        "a": Reply(content=None, refusal="I can't help with that."),
        "b": Reply(content="Sorry.", finish_reason="content_filter"),
    }
    chat = transport(serve(lambda seen, n: answers[seen.text]))
    for text, said in [("a", "I can't help with that."), ("b", "Sorry.")]:
        with pytest.raises(Refusal, match=said):
            chat.complete(payload(text))


def test_a_retry_after_date_is_honoured_and_capped_by_backoff_max(serve, monkeypatch):
    import bench.adapters.openai_transport as module

    sleeps: list[float] = []
    monkeypatch.setattr(module, "_sleep", sleeps.append)
    now = datetime.now(UTC)
    later = email.utils.format_datetime(now + timedelta(hours=1), usegmt=True)
    earlier = email.utils.format_datetime(now - timedelta(hours=1), usegmt=True)
    script = {1: Reply(503, headers={"Retry-After": later}),
              2: Reply(429, headers={"Retry-After": earlier})}  # fmt: skip
    server = serve(lambda seen, n: script.get(n) or Reply(content='{"toxic": 0.2}'))
    answer = transport(server, max_retries=2, backoff_base=0.5, backoff_max=2.0).complete(payload())
    assert answer.content == '{"toxic": 0.2}'
    assert sleeps == [2.0, 0.0]  # an hour, capped; a date past


def test_another_4xx_fails_at_once_with_the_server_message(serve):
    server = serve(lambda seen, n: Reply(400, content="context too long"))
    with pytest.raises(RequestFailure, match="HTTP 400: .*context too long"):
        transport(server, max_retries=3).complete(payload())
    assert len(server.seen) == 1


def test_a_same_origin_307_is_followed_with_the_key_and_the_body(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    received: list[tuple[str, str | None, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Authorization"), body))
            moved = self.path.startswith("/old/")
            answer = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}
            data = b"" if moved else json.dumps(answer).encode()
            self.send_response(307 if moved else 200)
            if moved:
                self.send_header("Location", self.path.removeprefix("/old"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        chat = ChatTransport(f"http://127.0.0.1:{httpd.server_address[1]}/old/v1")
        assert chat.complete(payload()).content == "{}"
    finally:
        httpd.shutdown()
        httpd.server_close()
    sent = json.dumps(payload()).encode()
    assert received == [
        ("/old/v1/chat/completions", f"Bearer {KEY}", sent),
        ("/v1/chat/completions", f"Bearer {KEY}", sent),
    ]
