"""The rule baseline's word lists (lexicon.json), loaded once."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path


@cache
def lexicon() -> dict[str, list[str]]:
    data = json.loads((Path(__file__).parent / "lexicon.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def alternation(words: list[str]) -> str:
    """A regex alternation of ``words``, longest first so that prefixes do not win."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
