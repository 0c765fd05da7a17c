"""HTTP transport to an OpenAI-compatible ``/v1/chat/completions`` server (httpx).

The API key is read from the environment variable *named* by ``api_key_env`` at
request time and sent as ``Authorization: Bearer``; it is never stored, logged or
returned, and the key's value and any credential a server echoes back are redacted
(``***``) from every answer and error message (:meth:`ChatTransport.redact` does the
same for the caller's own messages). A redirect within the origin is followed (307
and 308 keep the method and body); one to another origin (scheme, host or port) is
refused with :class:`ServerConfigError`, so the key only ever goes to ``base_url``'s
server. A loopback ``base_url`` is reached without the environment's proxy. 429,
408, 5xx, connection errors and timeouts are retried up to ``max_retries`` times
with exponential backoff (``backoff_base * 2**attempt`` seconds, at most
``backoff_max``); a ``Retry-After`` header (seconds or an HTTP date) replaces the
computed delay, also capped by ``backoff_max``. 401, 403 and 404 (bad key, unknown
model or URL) raise :class:`ServerConfigError`: every request would fail the same
way. Other 4xx, and retries exhausted, raise :class:`RequestFailure`. At most
``concurrency`` requests are in flight (:meth:`ChatTransport.map`).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from bench.provenance import redact

_T = TypeVar("_T")
_R = TypeVar("_R")


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


def _refuse_cross_origin_redirect(response: httpx.Response) -> None:
    """A redirect to another origin raises :class:`ServerConfigError` before it is
    followed: the request would carry the ``Authorization`` header there."""
    if not response.has_redirect_location:
        return
    target = response.request.url.join(response.headers["Location"])
    source, target_origin = _origin(str(response.request.url)), _origin(str(target))
    if source != target_origin:
        raise ServerConfigError(
            f"HTTP {response.status_code}: redirect from {source} to {target_origin} refused: "
            f"the API key is only sent to the origin of model.base_url (set it to the "
            f"server's own address)"
        )


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
class Completion:
    """One answer: the assistant message's content, its finish reason and what the
    response says about the model (``model``, ``system_fingerprint``), all redacted."""

    content: str
    finish_reason: str | None
    served: dict[str, str]


class ChatTransport:
    """Posts chat-completion payloads to ``base_url``; see the module docstring for the rules."""

    def __init__(
        self,
        base_url: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        concurrency: int = 4,
    ) -> None:
        if concurrency < 1 or max_retries < 0:
            raise ValueError("concurrency must be >= 1 and max_retries >= 0")
        self.url = f"{str(base_url).rstrip('/')}/chat/completions"
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        parsed = urllib.parse.urlsplit(self.url)
        self.host = parsed.hostname or ""
        if parsed.port:
            self.host += f":{parsed.port}"
        self._client = httpx.Client(
            timeout=timeout,  # per connect, read, write and pool wait
            follow_redirects=True,
            event_hooks={"response": [_refuse_cross_origin_redirect]},
            trust_env=not _is_loopback(parsed.hostname),  # no proxy for a local server
        )

    def _api_key(self) -> str | None:
        """Read at each use, never kept: the value of the variable named by api_key_env."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def redact(self, message: str) -> str:
        """``message`` (which may quote the server) without the key or any credential."""
        key = self._api_key()
        return redact(message, [key] if key else [])

    def map(self, work: Callable[[_T], _R], items: list[_T]) -> list[_R]:
        """``work`` applied to each item, at most ``concurrency`` at a time, in order."""
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai-chat")
        try:
            futures = [pool.submit(work, item) for item in items]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = retry_after if retry_after is not None else self.backoff_base * 2**attempt
        return max(0.0, min(delay, self.backoff_max))

    def _post(self, payload: dict[str, Any]) -> bytes:
        """The response body to ``payload``, retried as documented."""
        reason = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                response = self._client.post(
                    self.url, content=json.dumps(payload).encode(), headers=self._headers()
                )
            except httpx.RequestError as err:  # connection errors, timeouts, resets
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.is_success:
                    return response.content
                status, detail = response.status_code, _error_detail(response)
                if status in _FATAL_STATUS:
                    raise ServerConfigError(
                        self.redact(
                            f"HTTP {status} from {self.host} for model "
                            f"{payload.get('model')!r}: {detail}"
                        )
                    )
                if status not in _RETRY_STATUS and status < 500:
                    raise RequestFailure(f"HTTP {status}: {detail}")
                reason = f"HTTP {status}"
                retry_after = _retry_after(response.headers)
            if attempt == self.max_retries:
                break
            _sleep(self._delay(attempt, retry_after))
        raise RequestFailure(f"{reason} (after {self.max_retries + 1} attempts)")

    def complete(self, payload: dict[str, Any]) -> Completion:
        """The server's answer to one chat-completion ``payload``. A refusal (the message's
        ``refusal``, or ``finish_reason`` = ``content_filter``) raises :class:`Refusal`."""
        body = self._post(payload)
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
            k: self.redact(data[k])
            for k in ("model", "system_fingerprint")
            if isinstance(data.get(k), str)
        }
        # An answer quoting the key would carry it into predictions, samples and the cache.
        return Completion(self.redact(content), choice.get("finish_reason"), served)


def _sleep(seconds: float) -> None:  # a seam for tests
    time.sleep(seconds)


def _error_detail(response: httpx.Response) -> str:
    """The start of an error response's body, on one line (else its reason phrase)."""
    body = response.content[:300].decode("utf-8", "replace")
    return " ".join(body.split()) or response.reason_phrase
