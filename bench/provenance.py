"""Where a run came from: versions, source revision, secrets removed from configs and messages."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import metadata
from itertools import chain
from typing import Any

from bench.items import TextColumn
from bench.revision import source_revision
from bench.sample_rows import ColumnRows, NerRows
from bench.version import __version__

_SECRET_KEY = re.compile(r"(api_?key|token|secret|password)$", re.IGNORECASE)
_SECRET_ENV = re.compile(r"(api_?key|token|secret|password)_env$", re.IGNORECASE)
# A credential: the value of an Authorization or API-key header or field, or of an assignment
# to a secret-looking name (``x.token=…``, ``?password=…``), or a token after "Bearer"
# (case-sensitive, 8+ characters, so "a bearer of news" stays).
_CREDENTIAL = re.compile(
    r"""(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?
        |\b[\w-]*api[-_]?key["']?\s*[:=]\s*["']?
        |\b[\w.-]*(?:token|secret|password)=)[^\s"',;}&]+
        |((?-i:\bBearer)\s+)[\w.~+/=-]{8,}""",
    re.IGNORECASE | re.VERBOSE,
)
# _CREDENTIAL without its word boundaries: it matches a text wherever _CREDENTIAL matches
# a piece of it (a piece may start a word where the whole text does not: "xBearer …").
_CREDENTIAL_IN_PIECES = re.compile(_CREDENTIAL.pattern.replace(r"\b", ""), _CREDENTIAL.flags)
# Each alternative of _CREDENTIAL needs one of these words, in any case: lower case once
# the four non-ASCII letters re.IGNORECASE matches to ASCII ones (İ ı ſ K) are folded.
_CREDENTIAL_WORDS = ("authorization", "key", "token", "secret", "password", "bearer")
_TO_ASCII = str.maketrans("\u0130\u0131\u017f\u212a", "iisk")
# Shorter secret values are not told apart from ordinary words ("failed", "ollama").
_MIN_SECRET_LENGTH = 8
# The shortest text redact can change: "token=x" (every other credential, and a secret's
# first _MIN_SECRET_LENGTH characters, are longer).
_SHORTEST_CREDENTIAL = 7
_PACKAGES = ("datasets", "evaluate", "hydra-core", "numpy", "omegaconf", "scikit-learn", "scipy")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each secret value, and any credential (an ``Authorization`` or API-key
    header, a ``…token=`` or ``…password=`` assignment, a ``Bearer`` token), replaced by
    ``***``.

    A secret's first characters followed by less than all of it (a message cut short
    inside the secret) are replaced too.
    """
    if len(text) < _SHORTEST_CREDENTIAL:  # labels, ids, most entity texts
        return text
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = _mask(text, secret)
    return _CREDENTIAL.sub(lambda m: (m[1] or m[2]) + "***", text)


def _mask(text: str, secret: str) -> str:
    """``text`` with each run of the secret's first characters onwards replaced by ``***``."""
    head = secret[:_MIN_SECRET_LENGTH]
    kept: list[str] = []
    done = 0
    while (start := text.find(head, done)) != -1:
        end = start + len(head)
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        kept += [text[done:start], "***"]
        done = end
    return "".join(kept) + text[done:]


def scrub_secrets(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with the values of secret-looking keys (``api_key``, ``token`` …)
    replaced by ``"***"`` and every string passed through :func:`redact` (a list of
    numbers only is kept as it is)."""
    redacted = _Redacted(secrets)  # samples repeat their labels and entity texts

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return redacted[value]
        if isinstance(value, NerRows):  # its strings are pieces of its texts
            if _pieces_hold_nothing(value, redacted.secrets):
                return value.with_extra(scrub(value.extra)) if value.extra else value
            return scrub(list(value))
        if isinstance(value, ColumnRows):  # samples of millions of items, held as columns
            return value.map_strings(lambda texts: _redact_all(texts, redacted.secrets), scrub)
        if isinstance(value, dict):
            return {k: "***" if _secret_key(k) else v if type(v) in _NUMBERS else scrub(v)
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list | tuple):
            # NER samples hold millions of short lists: [start, end] per token (kept as
            # they are), [start, end, label, text] per span; no call per list for them
            kinds = set(map(type, value))
            if kinds <= _NUMBERS:
                return value if type(value) is list else list(value)
            if kinds == {list}:
                inner = set(map(type, chain.from_iterable(value)))
                if inner <= _NUMBERS:
                    return value
                if inner <= _NUMBERS | {str}:
                    return [[redacted[x] if type(x) is str else x for x in v] for v in value]
            return [v if type(v) in _NUMBERS else scrub(v) for v in value]
        return value

    return scrub(value)


class _Redacted(dict[str, str]):
    """:func:`redact` of each string, computed once."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def __missing__(self, text: str) -> str:
        self[text] = done = redact(text, self.secrets)
        return done


_NUMBERS = frozenset((int, float, bool, type(None)))


def _redact_all(texts: Sequence[str], secrets: list[str]) -> Sequence[str]:
    """:func:`redact` of each of ``texts``, skipped when their concatenation holds nothing
    to redact (a credential or a secret's head found in one text is found there too; a
    :class:`TextColumn` is its buffer, where a match across two texts only costs the
    slow path)."""
    joined = texts.data.decode() if isinstance(texts, TextColumn) else "\n".join(texts)
    heads = [s[:_MIN_SECRET_LENGTH] for s in secrets if len(s) >= _MIN_SECRET_LENGTH]
    if any(head in joined for head in heads) or _may_hold_credential(joined):
        return [redact(text, secrets) for text in texts]
    return texts


def _pieces_hold_nothing(rows: NerRows, secrets: list[str]) -> bool:
    """Whether scrubbing the columnar ``rows`` would leave them as they are: no
    secret-looking key, and their texts hold no secret's head and nothing
    :data:`_CREDENTIAL` could match in a piece of them."""
    if any(map(_secret_key, rows.keys())):
        return False
    joined = "\n".join(rows.texts)
    if any(s[:_MIN_SECRET_LENGTH] in joined for s in secrets if len(s) >= _MIN_SECRET_LENGTH):
        return False
    folded = joined.translate(_TO_ASCII).lower()
    if not any(word in folded for word in _CREDENTIAL_WORDS):
        return True
    return _CREDENTIAL_IN_PIECES.search(joined) is None


def _may_hold_credential(text: str) -> bool:
    """Whether :data:`_CREDENTIAL` matches ``text``, first told by the words its
    alternatives need (far faster than the search on millions of item ids)."""
    folded = text.translate(_TO_ASCII).lower()
    if not any(word in folded for word in _CREDENTIAL_WORDS):
        return False
    return _CREDENTIAL.search(text) is not None


@lru_cache(maxsize=4096)
def _secret_key(key: Any) -> bool:
    return bool(_SECRET_KEY.search(str(key)))


def secret_values(config: Any) -> list[str]:
    """The secrets a resolved config refers to: the values of secret-looking keys and of the
    environment variables named by keys such as ``api_key_env``."""
    if isinstance(config, list):
        return [s for v in config for s in secret_values(v)]
    if not isinstance(config, dict):
        return []
    found: list[str] = []
    for key, value in config.items():
        if isinstance(value, str) and _SECRET_KEY.search(str(key)):
            found.append(value)
        elif isinstance(value, str) and _SECRET_ENV.search(str(key)):
            if os.environ.get(value):
                found.append(os.environ[value])
        else:
            found += secret_values(value)
    return found


def secret_overrides(args: Iterable[str]) -> list[str]:
    """The keys of the command-line overrides among ``args`` that set a secret-looking key
    (``model.api_key=…``, ``hydra.job.env_set.OPENAI_API_KEY=…``)."""
    keys = (arg.split("=", 1)[0].lstrip("+~") for arg in args if "=" in arg)
    return [key for key in keys if _SECRET_KEY.search(key)]


def fingerprint(data: Any) -> str:
    """sha256 of the canonical JSON of ``data``."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict[str, Any]:
    return {
        "bench_version": __version__,
        "git": source_revision(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
    }
