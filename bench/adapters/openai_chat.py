"""Adapter for OpenAI-compatible ``/v1/chat/completions`` servers (vLLM, llama.cpp, Ollama …).

One chat request per item, one prompt template per task (module constants
below), each asking for a single JSON object. Only the standard library is used
for HTTP.

**Requests.** ``temperature`` and ``seed`` are sent with every request and
recorded in :meth:`OpenAIChatAdapter.identity`. The API key is read from the
environment variable *named* by ``api_key_env`` at request time and sent as
``Authorization: Bearer``; it is never stored on the adapter, logged or
returned, and the key's value and any credential a server echoes back are redacted
(``***``) from every answer, error message and failure record. A redirect to another origin
(scheme, host or port) is refused, failing the task, so the key only ever goes to
``base_url``'s server. 429, 408, 5xx, connection errors and timeouts are retried up to
``max_retries`` times with exponential backoff (``backoff_base * 2**attempt``
seconds, at most ``backoff_max``); a ``Retry-After`` header (seconds or an HTTP
date) replaces the computed delay, also capped by ``backoff_max``. 401, 403 and
404 (bad key, unknown model or URL) fail the whole task at once: every item
would fail the same way. Other 4xx fail the item only. When *every* request of
a batch fails at the transport level the task fails too (``abort_when_all_fail``)
rather than scoring a dead server as an empty model.

**Served model.** What each response reports about the model (``model``,
``system_fingerprint``) is kept per item (:meth:`OpenAIChatAdapter.served_model`):
the same name may serve other weights tomorrow, so the prediction cache reuses an
answer only while the server reports the same.

**Failures.** An item whose request fails (``request``), whose answer is
refused (``refusal``: the message's ``refusal`` field or ``finish_reason`` =
``content_filter``), empty (``empty``), holds no valid JSON object with the
expected key after stripping code fences, ``<think>`` blocks and prose around it
(``parse``, or ``truncated`` when the answer hit ``max_tokens``), or whose
expected key breaks the schema (``schema``) gets a
:class:`~bench.predictions.PredictionFailure` with the prompt sent and the raw
answer, never a stand-in prediction: the runner counts it, leaves the item out
of scoring and does not cache it. An entity, quote, type or attribute dropped
from an otherwise usable answer is a ``part`` problem, listed in
:attr:`OpenAIChatAdapter.failures` (``task``, ``item_id``, ``scope``, ``reason``)
and summed up in one warning per task.

**Offsets.** Models return strings; they are mapped back to character offsets
in the item's text. Matching is done modulo normalisation: curly and straight
quote marks, primes and backticks are equal, dashes equal ``-``, ``…`` equals
``...``, and any run of whitespace equals one space.

- NER: every returned mention claims one occurrence of its text; mentions are
  placed longest text first (so ``Mexico`` cannot take the ``Mexico`` inside a
  returned ``Mexico City``), and mentions with the same text in the order
  returned. Each takes the *first occurrence in document order that overlaps no
  span claimed so far* and that starts and ends on word boundaries. So a
  mention returned three times maps to the first three free occurrences, in
  order; a mention returned once maps to its first free occurrence only (the
  prompt asks for one entry per mention). A mention without a free occurrence is
  a ``part`` failure.
- Attribution: a quote (surrounding quote marks stripped) claims the first
  occurrence in document order not already claimed *by an identical span*
  (different quotes may nest or overlap). If not found after normalisation, a
  case-insensitive search is tried, then, if the quote contains an ellipsis,
  its fragments are located in order and become the content pieces. Otherwise
  the quote is a ``part`` failure.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.adapters.base import TASKS, Adapter
from bench.data.schema import ATTRIBUTION_TYPES, ENTITY_LABELS, TOXICITY_ATTRIBUTES
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    PredictionFailure,
    Span,
    TextItem,
    ToxicityPrediction,
)
from bench.provenance import redact

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- prompts

SYSTEM_PROMPT = (
    "You are a careful annotator for an evaluation benchmark. "
    "Answer with exactly one JSON object and nothing else: no prose, no code fences."
)

_LABEL_HELP = {
    "PERSON": "people, including fictional",
    "NORP": "nationalities, religious or political groups",
    "FAC": "buildings, airports, highways, bridges",
    "ORG": "companies, agencies, institutions",
    "GPE": "countries, cities, states",
    "LOC": "non-GPE locations: mountain ranges, bodies of water, regions",
    "PRODUCT": "objects, vehicles, foods (not services)",
    "EVENT": "named hurricanes, battles, wars, sports events",
    "WORK_OF_ART": "titles of books, songs, reports",
    "LAW": "named documents made into laws, treaties, orders",
    "LANGUAGE": "any named language",
    "DATE": "absolute or relative dates or periods",
    "TIME": "times smaller than a day",
    "PERCENT": "percentages, including '%'",
    "MONEY": "monetary values, including unit",
    "QUANTITY": "measurements, as of weight or distance",
    "ORDINAL": "first, second …",
    "CARDINAL": "numerals that do not fall under another type",
}
_LABELS = "\n".join(f"- {label}: {_LABEL_HELP.get(label, '')}" for label in ENTITY_LABELS)

NER_PROMPT = f"""Find every named-entity mention in the document below.

Labels:
{_LABELS}

Rules:
- List the mentions in the order they appear in the document. When the same entity
  is mentioned several times, list it once per mention.
- "text" is the mention copied exactly, character for character, from the document.
- "label" is one of the labels above. Do not list a mention nested in a longer one.

Answer with JSON only, following this schema:
{{"entities": [{{"text": "<exact mention>", "label": "<LABEL>"}}]}}

<document>
{{text}}
</document>"""

_TYPES_HELP = {
    "direct": "a verbatim quotation inside quotation marks",
    "indirect": "reported speech or paraphrase, without quotation marks",
    "mixed": "reported speech containing a partial quotation",
}
_TYPES = "\n".join(f"- {t}: {_TYPES_HELP.get(t, '')}" for t in ATTRIBUTION_TYPES)

ATTRIBUTION_PROMPT = f"""Find every attribution in the document below: a passage reporting
what someone said, wrote or thought, together with who is reported as its source.

Types:
{_TYPES}

For each attribution give:
- "quote": the reported content copied exactly from the document, without the
  surrounding quotation marks, the speaker or the reporting verb ("said", "told").
- "speaker": the source, by the fullest name the document gives it (for example
  "Sean Spicer" rather than "he"; "a White House official" when unnamed).
- "type": one of the types above.

Answer with JSON only, following this schema:
{{"attributions": [{{"quote": "<exact text>", "speaker": "<name>", "type": "direct"}}]}}

<document>
{{text}}
</document>"""

_ATTRIBUTE_EXAMPLE = ", ".join(f'"{a}": 0.0' for a in TOXICITY_ATTRIBUTES)

TOXICITY_PROMPT = f"""Rate the toxicity of the text below. Toxic means rude, disrespectful or
unreasonable language likely to make someone leave a discussion.

Give "toxic": the probability, from 0 to 1, that the text is toxic, and "attributes":
a probability from 0 to 1 for each of {", ".join(TOXICITY_ATTRIBUTES)}.

Answer with JSON only, following this schema:
{{"toxic": 0.0, "attributes": {{{_ATTRIBUTE_EXAMPLE}}}}}

<text>
{{text}}
</text>"""

PROMPTS: dict[str, str] = {
    "ner": NER_PROMPT,
    "attribution": ATTRIBUTION_PROMPT,
    "toxicity": TOXICITY_PROMPT,
}
_EXPECTED_KEY = {"ner": "entities", "attribution": "attributions", "toxicity": "toxic"}


def prompt_sha256() -> str:
    """sha256 of the system prompt and the three templates (canonical JSON)."""
    data = {"system": SYSTEM_PROMPT, **PROMPTS}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def render(task: str, text: str) -> str:
    return PROMPTS[task].replace("{text}", text, 1)


# --------------------------------------------------------------------------- JSON


class ParseFailure(ValueError):
    """The answer holds no usable JSON object."""


_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def extract_json_object(content: str, key: str) -> dict[str, Any]:
    """The first JSON object holding ``key``: inside code fences first, then anywhere.

    Prose around the object and ``<think>…</think>`` blocks are ignored. Broken or
    truncated JSON is a :class:`ParseFailure`, never repaired.
    """
    content = _THINK.sub("", content)
    chunks = [m.group(1) for m in _FENCE.finditer(content)] + [content]
    decoder = json.JSONDecoder()
    error: str | None = None
    found_object = False
    for chunk in chunks:
        for match in re.finditer(r"\{", chunk):
            try:
                value, _ = decoder.raw_decode(chunk, match.start())
            except json.JSONDecodeError as err:
                error = error or f"invalid JSON: {err.msg} at char {err.pos}"
                continue
            if isinstance(value, dict):
                found_object = True
                if key in value:
                    return value
    if error:
        raise ParseFailure(error)
    if found_object:
        raise ParseFailure(f"JSON object without {key!r}")
    raise ParseFailure("no JSON object in the answer")


# --------------------------------------------------------------------------- offsets

_CHAR_MAP = {
    **dict.fromkeys("“”„‟«»″‶〝〞＂", '"'),
    **dict.fromkeys("‘’‚‛′‵`´＇", "'"),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    "…": "...",
    "\u00ad": "",
    "\u200b": "",
    "\ufeff": "",
}


def normalise_with_index(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index it came from."""
    chars: list[str] = []
    index: list[int] = []
    in_space = False
    for i, c in enumerate(text):
        if c.isspace():
            if not in_space:
                chars.append(" ")
                index.append(i)
            in_space = True
            continue
        in_space = False
        mapped = _CHAR_MAP.get(c, c)
        chars.extend(mapped)
        index.extend([i] * len(mapped))
    return "".join(chars), index


def normalise(text: str) -> str:
    return normalise_with_index(text)[0].strip()


def _lower_same_length(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Locator:
    """Finds strings returned by a model in one text, modulo :func:`normalise`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.index = normalise_with_index(text)
        self.lower = _lower_same_length(self.norm)

    def find_all(
        self, needle: str, *, start: int = 0, ignore_case: bool = False, words: bool = False
    ) -> list[Span]:
        """Original-text spans of the occurrences of ``needle`` at or after ``start``."""
        target = normalise(needle)
        if not target:
            return []
        haystack = self.lower if ignore_case else self.norm
        if ignore_case:
            target = _lower_same_length(target)
        spans: list[Span] = []
        pos = haystack.find(target)
        while pos != -1:
            end = pos + len(target)
            aligned = (pos == 0 or self.index[pos - 1] != self.index[pos]) and (
                end == len(self.index) or self.index[end] != self.index[end - 1]
            )
            span = (self.index[pos], self.index[end - 1] + 1)
            if aligned and span[0] >= start and (not words or self._on_word_boundaries(span)):
                spans.append(span)
            pos = haystack.find(target, pos + 1)
        return spans

    def _on_word_boundaries(self, span: Span) -> bool:
        s, e = span
        t = self.text
        return not (s > 0 and t[s - 1].isalnum() and t[s].isalnum()) and not (
            e < len(t) and t[e - 1].isalnum() and t[e].isalnum()
        )


def _overlaps(span: Span, others: Iterable[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def map_entities(
    text: str, mentions: list[tuple[str, str]]
) -> tuple[list[EntityPrediction], list[str]]:
    """(text, label) mentions to entity spans, by the rule in the module docstring."""
    locator = Locator(text)
    claimed: list[Span] = []
    placed: list[EntityPrediction] = []
    problems: list[str] = []
    order = sorted(range(len(mentions)), key=lambda i: -len(normalise(mentions[i][0])))
    for i in order:
        mention, label = mentions[i]
        spans = locator.find_all(mention, words=True)
        free = [s for s in spans if not _overlaps(s, claimed)]
        if not free:
            why = "not found" if not spans else f"all {len(spans)} occurrences already claimed"
            problems.append(f"entities[{i}] {mention!r}: {why}")
            continue
        claimed.append(free[0])
        placed.append(EntityPrediction(free[0][0], free[0][1], label))
    return sorted(placed, key=lambda e: (e.start, e.end)), problems


_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|…|\[\s*(?:\.\.\.|…)\s*\])\s*")


_DOUBLE_QUOTES = '"“”„‟«»'


def strip_quote_marks(quote: str) -> str:
    """Drop surrounding whitespace and the outer quotation marks a model added.

    A pair of outer marks goes; a lone outer mark goes only when the marks in the
    quote are unbalanced, so ``the order “emphasized …”`` (a mixed quote ending
    in a partial quotation) keeps its closing mark.
    """
    quote = quote.strip()
    if len(quote) >= 2 and quote[0] in _DOUBLE_QUOTES and quote[-1] in _DOUBLE_QUOTES:
        return quote[1:-1].strip()
    if sum(c in _DOUBLE_QUOTES for c in quote) % 2:
        if quote[0] in _DOUBLE_QUOTES:
            return quote[1:].lstrip()
        if quote[-1] in _DOUBLE_QUOTES:
            return quote[:-1].rstrip()
    if len(quote) >= 2 and quote[0] in "'‘" and quote[-1] in "'’":
        return quote[1:-1].strip()
    return quote


def locate_quote(
    locator: Locator, quote: str, claimed: set[tuple[Span, ...]]
) -> tuple[tuple[Span, ...] | None, str]:
    """Content pieces for ``quote`` (or None) and how they were found or why not."""
    stripped = strip_quote_marks(quote)
    if not stripped:
        return None, "empty quote"
    variants = [stripped] + ([quote.strip()] if quote.strip() != stripped else [])
    for how, ignore_case in (("normalised", False), ("case-insensitive", True)):
        for variant in variants:
            spans = locator.find_all(variant, ignore_case=ignore_case)
            free = [(s,) for s in spans if (s,) not in claimed]
            if free:
                return free[0], how
            if spans:
                return None, f"all {len(spans)} occurrences already claimed"
    quote = stripped
    fragments = [f for f in _ELLIPSIS.split(quote) if strip_quote_marks(f)]
    if len(fragments) > 1:
        pieces: list[Span] = []
        position = 0
        for fragment in fragments:
            found = locator.find_all(strip_quote_marks(fragment), start=position)
            if not found:
                return None, f"ellipsis fragment {fragment[:40]!r} not found"
            pieces.append(found[0])
            position = found[0][1]
        return tuple(pieces), "ellipsis fragments"
    return None, "not found verbatim or normalised"


# --------------------------------------------------------------------------- HTTP


class RequestFailure(RuntimeError):
    """One item's request failed for good (retries exhausted or a non-retryable status)."""


class Refusal(Exception):
    """The server answered with a refusal instead of content."""


class ServerConfigError(RuntimeError):
    """A response that every request would get (401, 403, 404, a redirect to another
    origin): fails the whole task."""


_RETRY_STATUS = {408, 429}
_FATAL_STATUS = {401, 403, 404}


def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, with the scheme's default port filled in."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{host}:{port}"


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, except that one to another origin is refused: urllib would
    send the ``Authorization`` header along to it."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        source, target = _origin(req.full_url), _origin(newurl)
        if source != target:
            fp.close()
            raise ServerConfigError(
                f"HTTP {code}: redirect from {source} to {target} refused: the API key is "
                f"only sent to the origin of model.base_url (set it to the server's own address)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Outcome:
    prediction: Any
    problems: list[str]  # parts of the answer dropped
    transport_failed: bool = False


# --------------------------------------------------------------------------- adapter


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
        if concurrency < 1 or max_retries < 0:
            raise ValueError("concurrency must be >= 1 and max_retries >= 0")
        self.tasks = frozenset(tasks)  # type: ignore[misc]  # per instance, not per class
        self.model = str(model)
        self.base_url = str(base_url).rstrip("/")
        self.api_key_env = api_key_env
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        self.json_mode = json_mode
        self.abort_when_all_fail = abort_when_all_fail
        self.failures: list[dict[str, str]] = []
        self._served: dict[tuple[str, str], dict[str, str]] = {}  # (task, item id) -> report
        parsed = urllib.parse.urlsplit(self.base_url)
        self._host = parsed.hostname or ""
        if parsed.port:
            self._host += f":{parsed.port}"
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parsed.hostname) else []
        self._opener = urllib.request.build_opener(*handlers, _SameOriginRedirects())

    # ---------------------------------------------------------------- protocol

    def identity(self) -> dict[str, Any]:
        return {
            "api": "openai-chat-completions",
            "base_url_host": self._host,
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
                    reason, self._redact(message), prompt, self._redact(raw) if raw else None
                )
                return _Outcome(record, [], transport)

            try:
                content, finish, self._served[task, item.id] = self._complete(task, item.text)
            except RequestFailure as err:
                return failed("request", str(err), transport=True)
            except Refusal as err:
                return failed("refusal", "the server refused to answer", str(err) or None)
            truncated = " (finish_reason=length)" if finish == "length" else ""
            if not content.strip():
                return failed("truncated" if truncated else "empty", "empty answer" + truncated)
            try:
                answer = extract_json_object(content, _EXPECTED_KEY[task])
            except ParseFailure as err:
                return failed("truncated" if truncated else "parse", str(err) + truncated, content)
            outcome = parse(item, answer)
            if isinstance(outcome.prediction, PredictionFailure):
                return failed(outcome.prediction.reason, outcome.prediction.message, content)
            return outcome

        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai-chat")
        try:
            futures = [pool.submit(work, item) for item in items]
            outcomes = [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

        for item, outcome in zip(items, outcomes, strict=True):
            for reason in outcome.problems:
                self.failures.append(
                    {
                        "task": task,
                        "item_id": item.id,
                        "scope": "part",
                        "reason": self._redact(reason),
                    }
                )
        if self.abort_when_all_fail and outcomes and all(o.transport_failed for o in outcomes):
            raise RuntimeError(
                f"every request of the batch failed ({len(outcomes)} items), "
                f"first: {outcomes[0].prediction.message}"
            )
        return [o.prediction for o in outcomes]

    def end_task(self, task: str, items: list[TextItem]) -> None:
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

    def _api_key(self) -> str | None:
        """Read at each use, never kept: the value of the variable named by api_key_env."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def _redact(self, message: str) -> str:
        """``message`` (which may quote the server) without the key or any credential."""
        key = self._api_key()
        return redact(message, [key] if key else [])

    def _request(self, payload: dict[str, Any]) -> urllib.request.Request:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(payload).encode(),
            headers=headers,
            method="POST",
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = retry_after if retry_after is not None else self.backoff_base * 2**attempt
        return max(0.0, min(delay, self.backoff_max))

    def _complete(self, task: str, text: str) -> tuple[str, str | None, dict[str, str]]:
        """The assistant message's content, finish reason and what the response says about
        the model (``model``, ``system_fingerprint``); retries as documented. A refusal (the
        message's ``refusal``, or ``finish_reason`` = ``content_filter``) raises
        :class:`Refusal`."""
        payload = self._payload(task, text)
        reason = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                with self._opener.open(self._request(payload), timeout=self.timeout) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as err:
                detail = _error_detail(err)
                if err.code in _FATAL_STATUS:
                    raise ServerConfigError(
                        self._redact(
                            f"HTTP {err.code} from {self._host} for model {self.model!r}: {detail}"
                        )
                    ) from None
                if err.code not in _RETRY_STATUS and err.code < 500:
                    raise RequestFailure(f"HTTP {err.code}: {detail}") from None
                reason = f"HTTP {err.code}"
                retry_after = _retry_after(err.headers)
            except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, resets
                cause = getattr(err, "reason", None) or err
                reason = f"{type(cause).__name__}: {cause}"
            if attempt == self.max_retries:
                raise RequestFailure(f"{reason} (after {attempt + 1} attempts)")
            _sleep(self._delay(attempt, retry_after))
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise RequestFailure(f"malformed response: {type(err).__name__}: {err}") from None
        refusal = choice["message"].get("refusal")
        refusal = refusal if isinstance(refusal, str) and refusal else None
        if refusal or choice.get("finish_reason") == "content_filter":
            raise Refusal(refusal or (content if isinstance(content, str) else ""))
        if content is None:
            content = ""  # an empty answer, failed by the caller
        if not isinstance(content, str):
            raise RequestFailure(f"no text content in the response ({content!r})")
        served = {
            k: self._redact(data[k])
            for k in ("model", "system_fingerprint")
            if isinstance(data.get(k), str)
        }
        # An answer quoting the key would carry it into predictions, samples and the cache.
        return self._redact(content), choice.get("finish_reason"), served


def _sleep(seconds: float) -> None:  # a seam for tests
    time.sleep(seconds)


def _error_detail(err: urllib.error.HTTPError) -> str:
    try:
        body = err.read(300).decode("utf-8", "replace")
    except Exception:  # the body is only for the message
        body = ""
    finally:
        err.close()
    return " ".join(body.split()) or str(err.reason)


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
