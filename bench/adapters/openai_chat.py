"""Adapter for OpenAI-compatible ``/v1/chat/completions`` servers (vLLM, llama.cpp, Ollama …).

One chat request per item, one prompt template per task
(:mod:`bench.adapters.prompts`), each asking for a single JSON object, sent by
:class:`~bench.adapters.openai_transport.ChatTransport` (retries, backoff,
redirect refusal, key handling and redaction are documented there).
``temperature`` and ``seed`` are sent with every request and recorded in
:meth:`OpenAIChatAdapter.identity`. A
:class:`~bench.adapters.openai_transport.ServerConfigError` (401, 403, 404,
a redirect to another origin) fails the whole task at once. When *every* request
of a batch fails at the transport level the task fails too
(``abort_when_all_fail``) rather than scoring a dead server as an empty model.

**Served model.** What each response reports about the model (``model``,
``system_fingerprint``) is kept per item (:meth:`OpenAIChatAdapter.served_model`):
the same name may serve other weights tomorrow, so the prediction cache reuses an
answer only while the server reports the same.

**Failures.** An item whose request fails (``request``), whose answer is
refused (``refusal``: the message's ``refusal`` field or ``finish_reason`` =
``content_filter``), empty (``empty``), holds no valid JSON object with the
expected key (:mod:`bench.adapters.json_answer`: ``parse``, or ``truncated`` when
the answer hit ``max_tokens``), or whose expected key breaks the schema
(``schema``) gets a :class:`~bench.predictions.PredictionFailure` with the prompt
sent and the raw answer, never a stand-in prediction: the runner counts it, leaves
the item out of scoring and does not cache it. An entity, quote, type or attribute
dropped from an otherwise usable answer (:mod:`bench.adapters.align` maps the
returned strings back to character offsets) is a ``part`` problem, listed in
:attr:`OpenAIChatAdapter.failures` (``task``, ``item_id``, ``scope``, ``reason``)
and summed up in one warning per task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.adapters.align import Locator, locate_quote, map_entities
from bench.adapters.base import TASKS, Adapter
from bench.adapters.json_answer import ParseFailure, extract_json_object
from bench.adapters.openai_transport import ChatTransport, Refusal, RequestFailure
from bench.adapters.prompts import EXPECTED_KEY, SYSTEM_PROMPT, prompt_sha256, render
from bench.data.schema import ATTRIBUTION_TYPES, ENTITY_LABELS, TOXICITY_ATTRIBUTES
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    PredictionFailure,
    Span,
    TextItem,
    ToxicityPrediction,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Outcome:
    prediction: Any
    problems: list[str]  # parts of the answer dropped
    transport_failed: bool = False


class OpenAIChatAdapter(Adapter):
    """Any OpenAI-compatible chat server; see the module docstring for the rules."""

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key_env: str | None = "OPENAI_API_KEY",
        temperature: float = 0.0,
        seed: int | None = 0,
        max_tokens: int | None = 4096,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        concurrency: int = 4,
        tasks: Iterable[str] = TASKS,
        json_mode: bool = False,
        abort_when_all_fail: bool = True,
    ) -> None:
        tasks = [str(t) for t in tasks]
        unknown = sorted(set(tasks) - set(TASKS))
        if unknown:
            raise ValueError(f"tasks: unknown {unknown}; expected a subset of {list(TASKS)}")
        if not model:
            raise ValueError("model: the served model name is required")
        self.tasks = frozenset(tasks)  # type: ignore[misc]  # per instance, not per class
        self.model = str(model)
        self.api_key_env = api_key_env
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.json_mode = json_mode
        self.abort_when_all_fail = abort_when_all_fail
        self.failures: list[dict[str, str]] = []
        self._served: dict[tuple[str, str], dict[str, str]] = {}  # (task, item id) -> report
        self._transport = ChatTransport(
            base_url, api_key_env, timeout, max_retries, backoff_base, backoff_max, concurrency
        )

    # ---------------------------------------------------------------- protocol

    def identity(self) -> dict[str, Any]:
        return {
            "api": "openai-chat-completions",
            "base_url_host": self._transport.host,
            "model": self.model,
            "prompt_sha256": prompt_sha256(),
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "json_mode": self.json_mode,
        }

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return self._predict("ner", documents, self._parse_ner)

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return self._predict("attribution", documents, self._parse_attribution)

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return self._predict("toxicity", items, self._parse_toxicity)

    # ---------------------------------------------------------------- parsing

    @staticmethod
    def _parse_ner(item: TextItem, answer: dict[str, Any]) -> _Outcome:
        raw = answer["entities"]
        if not isinstance(raw, list):
            return _Outcome(PredictionFailure("schema", "'entities' is not a list"), [])
        problems: list[str] = []
        mentions: list[tuple[str, str]] = []
        for i, entry in enumerate(raw):
            text = entry.get("text") if isinstance(entry, dict) else None
            label = entry.get("label") if isinstance(entry, dict) else None
            label = label.strip().upper() if isinstance(label, str) else label
            if not isinstance(text, str) or not text.strip():
                problems.append(f"entities[{i}]: no text")
            elif label not in ENTITY_LABELS:
                problems.append(f"entities[{i}] {text!r}: unknown label {label!r}")
            else:
                mentions.append((text, label))
        entities, missing = map_entities(item.text, mentions)
        problems += missing
        return _Outcome(entities, problems)

    @staticmethod
    def _parse_attribution(item: TextItem, answer: dict[str, Any]) -> _Outcome:
        raw = answer["attributions"]
        if not isinstance(raw, list):
            return _Outcome(PredictionFailure("schema", "'attributions' is not a list"), [])
        locator = Locator(item.text)
        claimed: set[tuple[Span, ...]] = set()
        problems: list[str] = []
        out: list[AttributionPrediction] = []
        for i, entry in enumerate(raw):
            quote = entry.get("quote") if isinstance(entry, dict) else None
            if not isinstance(quote, str):
                problems.append(f"attributions[{i}]: no quote")
                continue
            content, how = locate_quote(locator, quote, claimed)
            if content is None:
                problems.append(f"attributions[{i}] {quote[:60]!r}: {how}")
                continue
            claimed.add(content)
            speaker = entry.get("speaker")
            if speaker is not None and not isinstance(speaker, str):
                problems.append(f"attributions[{i}]: speaker {speaker!r} dropped")
                speaker = None
            kind = entry.get("type")
            kind = kind.strip().lower() if isinstance(kind, str) else kind
            if kind is not None and kind not in ATTRIBUTION_TYPES:
                problems.append(f"attributions[{i}]: unknown type {kind!r} dropped")
                kind = None
            out.append(
                AttributionPrediction(
                    content=content, speaker=(speaker or "").strip() or None, type=kind
                )
            )
        return _Outcome(out, problems)

    @staticmethod
    def _parse_toxicity(item: TextItem, answer: dict[str, Any]) -> _Outcome:
        score = _probability(answer["toxic"])
        if score is None:
            reason = f"'toxic' is not a probability: {answer['toxic']!r}"
            return _Outcome(PredictionFailure("schema", reason[:200]), [])
        problems: list[str] = []
        attributes: dict[str, float] = {}
        raw = answer.get("attributes") or {}
        if not isinstance(raw, dict):
            problems.append("'attributes' is not an object")
            raw = {}
        for name, value in raw.items():
            p = _probability(value)
            if name not in TOXICITY_ATTRIBUTES:
                problems.append(f"attributes.{name}: unknown attribute dropped")
            elif p is None:
                problems.append(f"attributes.{name}: not a probability {value!r}")
            else:
                attributes[name] = p
        return _Outcome(ToxicityPrediction(score, attributes), problems)

    # ---------------------------------------------------------------- machinery

    def _predict(
        self,
        task: str,
        items: list[TextItem],
        parse: Callable[[TextItem, dict[str, Any]], _Outcome],
    ) -> list[Any]:
        def work(item: TextItem) -> _Outcome:
            prompt = render(task, item.text)

            def failed(
                reason: str, message: str, raw: str | None = None, transport: bool = False
            ) -> _Outcome:  # written to samples/: without the key, should a server echo it
                record = PredictionFailure(
                    reason,
                    self._transport.redact(message),
                    prompt,
                    self._transport.redact(raw) if raw else None,
                )
                return _Outcome(record, [], transport)

            try:
                answer = self._transport.complete(self._payload(task, item.text))
            except RequestFailure as err:
                return failed("request", str(err), transport=True)
            except Refusal as err:
                return failed("refusal", "the server refused to answer", str(err) or None)
            self._served[task, item.id] = answer.served
            content = answer.content
            truncated = " (finish_reason=length)" if answer.finish_reason == "length" else ""
            if not content.strip():
                return failed("truncated" if truncated else "empty", "empty answer" + truncated)
            try:
                found = extract_json_object(content, EXPECTED_KEY[task])
            except ParseFailure as err:
                return failed("truncated" if truncated else "parse", str(err) + truncated, content)
            outcome = parse(item, found)
            if isinstance(outcome.prediction, PredictionFailure):
                return failed(outcome.prediction.reason, outcome.prediction.message, content)
            return outcome

        outcomes = self._transport.map(work, items)

        for item, outcome in zip(items, outcomes, strict=True):
            for reason in outcome.problems:
                self.failures.append(
                    {
                        "task": task,
                        "item_id": item.id,
                        "scope": "part",
                        "reason": self._transport.redact(reason),
                    }
                )
        if self.abort_when_all_fail and outcomes and all(o.transport_failed for o in outcomes):
            raise RuntimeError(
                f"every request of the batch failed ({len(outcomes)} items), "
                f"first: {outcomes[0].prediction.message}"
            )
        return [o.prediction for o in outcomes]

    def end_task(self, task: str, items: Sequence[TextItem]) -> None:
        """One warning for the parts of answers dropped in ``task`` (none per item)."""
        dropped = [f for f in self.failures if f["task"] == task]
        if dropped:
            log.warning(
                "%s: %s: %d entities, quotes, types or attributes dropped from %d answers "
                "(first: item %r: %s)", self.model, task, len(dropped),
                len({f["item_id"] for f in dropped}), dropped[0]["item_id"], dropped[0]["reason"],
            )  # fmt: skip

    def served_model(self, task: str, item_id: str) -> dict[str, str] | None:
        """The ``model`` and ``system_fingerprint`` of the response to ``item_id``, where given."""
        return self._served.get((task, item_id))

    def _payload(self, task: str, text: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": render(task, text)},
            ],
            "temperature": self.temperature,
            "stream": False,
        }
        if self.seed is not None:
            payload["seed"] = self.seed
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        if self.json_mode:
            payload["response_format"] = {"type": "json_object"}
        return payload


def _probability(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value or not 0.0 <= value <= 1.0:
        return None
    return float(value)
