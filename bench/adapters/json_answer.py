"""The JSON object in a generated answer: code fences, ``<think>`` blocks and prose around it."""

from __future__ import annotations

import json
import re
from typing import Any


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
