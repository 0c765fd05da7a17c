"""The OpenAI-compatible chat adapter against a real local HTTP server, scripted per test."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from bench_config import compose_config

from bench.adapters.openai_chat import OpenAIChatAdapter
from bench.adapters.openai_transport import ServerConfigError
from bench.adapters.prompts import prompt_sha256
from bench.data.gold import load_dataset
from bench.predictions import PredictionFailure, TextItem
from bench.runner import run

KEY = "sk-test-0123456789-very-secret"
MODEL = "test-model"


@functools.cache
def gold():
    return load_dataset(None)


# --------------------------------------------------------------------------- the server


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message, or the error message of a non-200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    refusal: str | None = None  # the message's refusal field, when given
    finish_reason: str = "stop"


@dataclass
class Seen:
    """One request as received: headers, body and which task/text it asked about."""

    headers: dict[str, str]
    body: dict[str, Any]
    task: str
    text: str


def _task_and_text(prompt: str) -> tuple[str, str]:
    match = re.search(r"<(document|text)>\n(.*)\n</\1>", prompt, re.DOTALL)
    assert match, "prompt without a delimited text"
    if match.group(1) == "text":
        return "toxicity", match.group(2)
    return ("ner" if '"entities"' in prompt else "attribution"), match.group(2)


def gold_answer(task: str, text: str) -> dict[str, Any]:
    """What a perfect model would say, found by looking the prompt's text up in the gold."""
    g = gold()
    if task == "toxicity":
        unit = next(u for u in (*g.segments, *g.documents) if u.text == text)
        return {"toxic": 0.9 if unit.labels.toxic else 0.1, "attributes": {"insult": 0.2}}
    doc = next(d for d in g.documents if d.text == text)
    if task == "ner":
        entities = sorted((e for e in g.entities if e.doc_id == doc.id), key=lambda e: e.start)
        return {"entities": [{"text": e.text, "label": e.label} for e in entities]}
    aliases = {s.id: s.aliases[0] if s.aliases else s.id for s in g.speakers}
    return {
        "attributions": [
            {
                # direct quotes come back wrapped in quotation marks, as models do
                "quote": ("“{}”" if a.type == "direct" else "{}").format(
                    " ... ".join(g.raw_text[s:e] for s, e in a.content)
                ),
                "speaker": aliases[a.source_entity],
                "type": a.type,
            }
            for a in g.attributions
            if a.doc_id == doc.id
        ]
    }


def ok(seen: Seen) -> Reply:
    return Reply(content=json.dumps(gold_answer(seen.task, seen.text)))


class FakeServer:
    """``/v1/chat/completions`` on 127.0.0.1, answering with ``script(seen, n)``."""

    def __init__(self, script: Callable[[Seen, int], Reply], key: str | None = KEY) -> None:
        self.script = script
        self.key = key
        self.seen: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # client gave up (timeouts)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
            task, text = _task_and_text(body["messages"][-1]["content"])
            seen = Seen(dict(h.headers), body, task, text)
            with self._lock:
                self.seen.append(seen)
                n = sum(s.text == text and s.task == task for s in self.seen)
            if h.path != "/v1/chat/completions":
                reply = Reply(404)
            elif self.key and h.headers.get("Authorization") != f"Bearer {self.key}":
                reply = Reply(401)
            else:
                reply = self.script(seen, n)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status == 200:
                payload = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content}
                            | ({"refusal": reply.refusal} if reply.refusal else {}),
                            "finish_reason": reply.finish_reason,
                        }
                    ],
                }
            else:
                payload = {"error": {"message": reply.content or f"scripted {reply.status}"}}
        finally:
            # A request stops counting as active before its answer is written: the client
            # may send its next request the moment it has read this one, and that must not
            # overlap with this handler's bookkeeping.
            with self._lock:
                self.active -= 1
        data = json.dumps(payload).encode()
        h.send_response(reply.status)
        for name, value in {"Content-Type": "application/json", **reply.headers}.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    servers: list[FakeServer] = []

    def start(script: Callable[[Seen, int], Reply] = lambda seen, n: ok(seen), **kw: Any):
        servers.append(FakeServer(script, **kw))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def adapter(server: FakeServer, **kw: Any) -> OpenAIChatAdapter:
    params = {"backoff_base": 0.0, "max_retries": 2, "timeout": 5.0, "concurrency": 4} | kw
    return OpenAIChatAdapter(model=MODEL, base_url=server.base_url, **params)


def documents() -> list[TextItem]:
    return [TextItem(d.id, d.text) for d in gold().documents]


def segments(n: int | None = None) -> list[TextItem]:
    return [TextItem(s.id, s.text) for s in gold().segments[:n]]


def gold_entities(doc_id: str) -> set[tuple[int, int, str]]:
    d = gold().document(doc_id)
    return {
        (e.start - d.start, e.end - d.start, e.label) for e in gold().entities if e.doc_id == doc_id
    }


# --------------------------------------------------------------------------- the protocol


def test_gold_answers_map_back_to_gold_offsets(serve):
    server = serve()
    model = adapter(server)
    docs = documents()
    ner = model.predict_ner(docs)
    for d, entities in zip(docs, ner, strict=True):
        assert {(e.start, e.end, e.label) for e in entities} == gold_entities(d.id)
    attributions = model.predict_attribution(docs)
    starts = {d.id: d.start for d in gold().documents}
    for d, atts in zip(docs, attributions, strict=True):
        expected = [
            tuple((s - starts[d.id], e - starts[d.id]) for s, e in a.content)
            for a in gold().attributions
            if a.doc_id == d.id
        ]
        assert [a.content for a in atts] == expected
        assert all(a.speaker and a.type for a in atts)
    [tox] = model.predict_toxicity(segments(1))
    assert tox.score in (0.1, 0.9) and tox.attributes == {"insult": 0.2}
    assert model.failures == []

    request = server.seen[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == MODEL and body["temperature"] == 0 and body["seed"] == 0
    assert body["max_tokens"] == 4096 and body["stream"] is False
    assert body["messages"][0]["role"] == "system"
    ner_prompt = next(s for s in server.seen if s.task == "ner").body["messages"][1]["content"]
    assert "WORK_OF_ART" in ner_prompt and '{"entities": [' in ner_prompt
    att_prompt = next(s for s in server.seen if s.task == "attribution").body["messages"][1]
    assert "indirect" in att_prompt["content"] and '"speaker"' in att_prompt["content"]
    tox_prompt = next(s for s in server.seen if s.task == "toxicity").body["messages"][1]
    assert "identity_attack" in tox_prompt["content"]


def test_identity_records_the_setup_but_never_the_key(serve):
    model = adapter(serve(), temperature=0.0, seed=7)
    identity = model.identity()
    assert identity["base_url_host"].startswith("127.0.0.1:")
    assert identity["model"] == MODEL
    assert identity["prompt_sha256"] == prompt_sha256() and len(prompt_sha256()) == 64
    assert identity["temperature"] == 0.0 and identity["seed"] == 7
    model.predict_toxicity(segments(2))
    assert KEY not in json.dumps(identity, default=str)
    assert KEY not in repr(vars(model))
    assert model.api_key_env == "OPENAI_API_KEY"


def test_fenced_json_with_prose_is_parsed(serve):
    def fenced(seen: Seen, n: int) -> Reply:
        body = json.dumps(gold_answer(seen.task, seen.text), indent=2)
        return Reply(content=f"<think>{{not json}}</think>Sure! Here it is:\n```json\n{body}\n```\n"
                     "Let me know if {you} need more.")  # fmt: skip

    model = adapter(serve(fenced))
    docs = documents()
    for d, entities in zip(docs, model.predict_ner(docs), strict=True):
        assert {(e.start, e.end, e.label) for e in entities} == gold_entities(d.id)
    assert model.failures == []


def test_broken_json_is_a_recorded_failure_of_that_item_only(serve):
    def broken_for_comment_1(seen: Seen, n: int) -> Reply:
        if seen.text == gold().document("comment-1").text:
            return Reply(content='{"entities": [{"text": "Mexico", "label": "GPE"}, {"text": ')
        return ok(seen)

    model = adapter(serve(broken_for_comment_1))
    docs = documents()
    ner = model.predict_ner(docs)
    failure = ner[1]
    assert isinstance(failure, PredictionFailure) and failure.reason == "parse"
    assert "invalid JSON" in failure.message
    assert failure.raw.startswith('{"entities": [{"text": "Mexico"')
    assert docs[1].text in failure.prompt and '"entities"' in failure.prompt
    assert all(isinstance(x, list) and x for x in (ner[0], ner[2]))
    assert model.failures == []  # no part of an answer dropped


def test_schema_problems_drop_parts_and_are_recorded(serve):
    def sloppy(seen: Seen, n: int) -> Reply:
        if seen.task == "toxicity":
            return Reply(content='{"toxic": "very", "attributes": {}}')
        return Reply(
            content=json.dumps(
                {
                    "entities": [
                        {"text": "Mexico", "label": "gpe"},
                        {"text": "Mexico", "label": "VILLAIN"},
                        {"text": "Atlantis", "label": "GPE"},
                    ]
                }
            )
        )

    model = adapter(serve(sloppy))
    text = "Mexico and Mexico."
    [entities] = model.predict_ner([TextItem("x", text)])
    assert [(e.start, e.end, e.label) for e in entities] == [(0, 6, "GPE")]
    reasons = [f["reason"] for f in model.failures]
    assert any("unknown label 'VILLAIN'" in r for r in reasons)
    assert any("'Atlantis': not found" in r for r in reasons)
    assert {f["scope"] for f in model.failures} == {"part"} and len(model.failures) == 2
    [tox] = model.predict_toxicity([TextItem("y", "hello")])
    assert isinstance(tox, PredictionFailure) and tox.reason == "schema"
    assert "not a probability" in tox.message and tox.raw == '{"toxic": "very", "attributes": {}}'
    assert len(model.failures) == 2


def test_empty_refused_and_truncated_answers_are_failed_items_with_their_reason(serve):
    answers = {
        "a": Reply(content=""),
        "b": Reply(content=None, refusal="I can't help with that."),
        "c": Reply(content="Sorry.", finish_reason="content_filter"),
        "d": Reply(content='{"toxic": 0.', finish_reason="length"),
        "e": Reply(content="I think it is fine."),
        "f": Reply(content='{"toxic": 0.25}'),
    }
    model = adapter(serve(lambda seen, n: answers[seen.text]))
    predictions = model.predict_toxicity([TextItem(k, k) for k in answers])
    failures = [(p.reason, p.raw) if isinstance(p, PredictionFailure) else p.score
                for p in predictions]  # fmt: skip
    assert failures == [
        ("empty", None),
        ("refusal", "I can't help with that."),
        ("refusal", "Sorry."),
        ("truncated", '{"toxic": 0.'),
        ("parse", "I think it is fine."),
        0.25,
    ]
    assert "<text>\nd\n</text>" in predictions[3].prompt


def test_a_wrong_key_fails_the_task_not_each_item(serve, monkeypatch):
    server = serve()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with pytest.raises(ServerConfigError, match="HTTP 401") as err:
        adapter(server).predict_toxicity(segments(3))
    assert "sk-wrong" not in str(err.value)


def test_a_dead_server_fails_the_batch():
    dead = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = dead.server_address[1]
    dead.server_close()  # nothing listens on the port any more
    model = OpenAIChatAdapter(
        model=MODEL, base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff_base=0.0
    )
    with pytest.raises(RuntimeError, match="every request of the batch failed"):
        model.predict_toxicity(segments(2))


# --------------------------------------------------------------------------- offsets


def test_quotes_match_modulo_quote_marks_and_whitespace(serve):
    text = "“We won’t  accept\nit,” he said. “Fine.” She said: “Fine.” Then “a … b”."

    def answer(seen: Seen, n: int) -> Reply:
        quotes = ['"We won\'t accept it,"', "Fine.", "Fine.", "Fine.", "a ... b", "never said"]
        rows = [{"quote": q, "speaker": "Someone", "type": "direct"} for q in quotes]
        rows[0]["type"] = "quoted"
        return Reply(content=json.dumps({"attributions": rows}))

    model = adapter(serve(answer))
    [atts] = model.predict_attribution([TextItem("x", text)])
    found = [text[a.content[0][0] : a.content[0][1]] for a in atts]
    assert found == ["We won’t  accept\nit,", "Fine.", "Fine.", "a … b"]
    assert atts[1].content != atts[2].content  # identical quotes: successive occurrences
    assert atts[0].type is None and atts[1].type == "direct"
    reasons = [f["reason"] for f in model.failures]
    assert len(reasons) == 3
    assert "unknown type 'quoted'" in reasons[0]
    assert "occurrences already claimed" in reasons[1]
    assert "'never said': not found" in reasons[2]


# --------------------------------------------------------------------------- the runner


def _cfg(base_url: str, *overrides: str):
    return compose_config(
        f"model.base_url='{base_url}'", f"model.model={MODEL}", "model.backoff_base=0",
        *overrides, model="openai_chat",
    )  # fmt: skip


def test_runner_with_the_preset_scores_a_perfect_server_perfectly(serve, tmp_path):
    server = serve()
    outcome = run(_cfg(server.base_url), "openai_chat", [], tmp_path)
    assert outcome.ok
    tasks = outcome.result["tasks"]
    assert {t: r["status"] for t, r in tasks.items()} == dict.fromkeys(
        ("ner", "attribution", "toxicity"), "ok"
    )
    assert tasks["ner"]["metrics"]["strict_f1"]["value"] == 1.0
    assert tasks["attribution"]["metrics"]["content_exact_f1"]["value"] == 1.0
    assert tasks["attribution"]["metrics"]["source_accuracy"]["value"] == 1.0
    assert tasks["toxicity"]["metrics"]["roc_auc"]["value"] == 1.0
    text = (tmp_path / "result.json").read_text()
    assert KEY not in text
    identity = json.loads(text)["model"]["identity"]
    assert identity["model"] == MODEL and identity["seed"] == 0
    assert all(seen.headers["Authorization"] == f"Bearer {KEY}" for seen in server.seen)
