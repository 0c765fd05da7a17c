"""The JSON object in a generated answer (bench.adapters.json_answer)."""

from __future__ import annotations

import pytest

from bench.adapters.json_answer import extract_json_object


def test_json_extraction():
    assert extract_json_object('x {"a": 1} {"toxic": 1} y', "toxic") == {"toxic": 1}
    for content, message in [
        ('{"toxic": 0.5', "invalid JSON"),
        ("I cannot help with that.", "no JSON object"),
        ('{"score": 0.5}', "without 'toxic'"),
    ]:
        with pytest.raises(ValueError, match=message):
            extract_json_object(content, "toxic")
