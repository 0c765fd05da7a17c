"""The shipped gold validates, and every loader check fires on a tampered copy.

Each test alters one record of a copy of the gold (records are picked by their
properties, not by fixed line numbers, so adjudication of the gold does not break
the tests) and asserts that ``GoldError`` names ``file:line: field:``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bench.data.gold import GOLD_FILES, GoldError, load_dataset, load_gold
from bench.data.schema import DOCUMENT_IDS, TOXICITY_ATTRIBUTES

JSONL_FILES = tuple(name for name in GOLD_FILES if name.endswith(".jsonl"))
Record = dict[str, Any]
_LOCATION = re.compile(r"(?P<file>[^:\s]+):(?P<line>\d+): (?P<field>[^:]+): \S")


# ---------------------------------------------------------------------------- helpers


def raw_text(directory: Path) -> str:
    meta = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
    return (directory / meta["raw_file"]).read_bytes().decode("utf-8")


def records(directory: Path, name: str) -> list[tuple[int, Record]]:
    """``(line, record)`` of each non-blank line of a JSONL file."""
    lines = (directory / name).read_text(encoding="utf-8").splitlines()
    return [(no, json.loads(line)) for no, line in enumerate(lines, 1) if line.strip()]


def rewrite(directory: Path, name: str, line: int, record: Record | None) -> None:
    """Replace line ``line`` of ``name`` by ``record`` (drop it when None)."""
    path = directory / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = "" if record is None else json.dumps(record, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def edit(
    directory: Path,
    name: str,
    change: Callable[[Record], Any],
    pick: Callable[[Record], bool] = lambda record: True,
) -> int:
    """Apply ``change`` to the first record that ``pick`` accepts; return its line."""
    for line, record in records(directory, name):
        if pick(record):
            change(record)
            rewrite(directory, name, line, record)
            return line
    raise LookupError(f"no record of {name} fits the tampering")


def load_error(directory: Path) -> str:
    with pytest.raises(GoldError) as info:
        load_gold(directory)
    return str(info.value)


def assert_located(
    message: str, file: str, lines: int | set[int] | None = None, field: str | None = None
) -> None:
    """``message`` starts with ``file:line: field:`` (any line when ``lines`` is None)."""
    match = _LOCATION.match(message)
    assert match, f"no 'file:line: field:' in {message!r}"
    assert match["file"] == file, message
    if lines is not None:
        assert int(match["line"]) in ({lines} if isinstance(lines, int) else lines), message
    if field is not None:
        assert match["field"] == field, message


def set_fields(**values: Any) -> Callable[[Record], None]:
    return lambda record: record.update(values)


def set_span(text: str, start: int, end: int) -> Callable[[Record], None]:
    """Move a record's ``start``/``end`` and keep its ``text`` in step with the raw text."""

    def change(record: Record) -> None:
        record.update(start=start, end=end)
        if "text" in record:
            record["text"] = text[start:end]

    return change


def metadata_line(directory: Path, key: str) -> int:
    lines = (directory / "metadata.json").read_text(encoding="utf-8").splitlines()
    return next(no for no, line in enumerate(lines, 1) if f'"{key}"' in line)


# ---------------------------------------------------------------------------- shipped gold


def test_shipped_gold_passes_load_dataset() -> None:
    gold = load_dataset()
    assert [d.id for d in gold.documents] == sorted(DOCUMENT_IDS, key=DOCUMENT_IDS.index)
    assert gold.segments and gold.entities and gold.attributions and gold.speakers
    assert gold.boilerplate
    assert len(gold.files_sha256) == 64
    for entity in gold.entities:
        assert gold.raw_text[entity.start : entity.end] == entity.text


# ---------------------------------------------------------------------------- raw text


def test_raw_sha256_mismatch(gold_copy: Path) -> None:
    meta = json.loads((gold_copy / "metadata.json").read_text(encoding="utf-8"))
    raw = gold_copy / meta["raw_file"]
    raw.write_bytes(raw.read_bytes() + b"\n")
    message = load_error(gold_copy)
    assert meta["raw_file"] in message and "raw_sha256" in message
    assert_located(message, "metadata.json", metadata_line(gold_copy, "raw_sha256"), "raw_sha256")


# ---------------------------------------------------------------------------- spans


@pytest.mark.parametrize(
    ("name", "field", "make"),
    [
        ("entities.jsonl", "start/end", lambda n: {"end": n + 10}),
        ("segments.jsonl", "start/end", lambda n: {"end": n + 10}),
        ("boilerplate.jsonl", "start/end", lambda n: {"start": -3}),
        ("attributions.jsonl", "cue", lambda n: {"cue": [n, n + 4]}),
        ("attributions.jsonl", "content[0]", lambda n: {"content": [[-1, 5]]}),
    ],
)
def test_span_out_of_range(gold_copy: Path, name: str, field: str, make: Callable) -> None:
    line = edit(gold_copy, name, set_fields(**make(len(raw_text(gold_copy)))))
    assert_located(load_error(gold_copy), name, line, field)


@pytest.mark.parametrize(
    ("name", "field", "change"),
    [
        ("entities.jsonl", "start/end", lambda r: r.update(end=r["start"], text="")),
        ("segments.jsonl", "start/end", lambda r: r.update(start=r["end"], text="")),
        ("attributions.jsonl", "source", lambda r: r.update(source=[r["cue"][0]] * 2)),
    ],
)
def test_empty_span(gold_copy: Path, name: str, field: str, change: Callable) -> None:
    line = edit(gold_copy, name, change)
    assert_located(load_error(gold_copy), name, line, field)


@pytest.mark.parametrize("edge", ["start", "end"])
def test_entity_span_with_white_space_edge(gold_copy: Path, edge: str) -> None:
    text = raw_text(gold_copy)

    def pick(r: Record) -> bool:
        return text[r["start"] - 1].isspace() if edge == "start" else text[r["end"]].isspace()

    def change(r: Record) -> None:
        start, end = (r["start"] - 1, r["end"]) if edge == "start" else (r["start"], r["end"] + 1)
        set_span(text, start, end)(r)

    line = edit(gold_copy, "entities.jsonl", change, pick)
    assert_located(load_error(gold_copy), "entities.jsonl", line, "start/end")


def test_attribution_span_with_white_space_edge(gold_copy: Path) -> None:
    text = raw_text(gold_copy)
    line = edit(
        gold_copy,
        "attributions.jsonl",
        lambda r: r.update(cue=[r["cue"][0], r["cue"][1] + 1]),
        lambda r: text[r["cue"][1]].isspace(),
    )
    assert_located(load_error(gold_copy), "attributions.jsonl", line, "cue")


@pytest.mark.parametrize("name", ["entities.jsonl", "segments.jsonl", "boilerplate.jsonl"])
def test_text_differs_from_raw_text(gold_copy: Path, name: str) -> None:
    line = edit(gold_copy, name, lambda r: r.update(text=r["text"] + "x"))
    assert_located(load_error(gold_copy), name, line, "text")


def test_entity_without_text(gold_copy: Path) -> None:
    line = edit(gold_copy, "entities.jsonl", lambda r: r.pop("text"))
    assert_located(load_error(gold_copy), "entities.jsonl", line, "text")


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("entities.jsonl", "start", "4"),
        ("entities.jsonl", "end", True),
        ("segments.jsonl", "id", 7),
        ("attributions.jsonl", "content", "[[1, 2]]"),
        ("attributions.jsonl", "cue", [1, 2, 3]),
        ("documents.jsonl", "attributes", []),
        ("speakers.jsonl", "aliases", "Videgaray"),
    ],
)
def test_field_of_wrong_type(gold_copy: Path, name: str, field: str, value: Any) -> None:
    line = edit(gold_copy, name, set_fields(**{field: value}))
    assert_located(load_error(gold_copy), name, line, field)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("entities.jsonl", "label"),
        ("segments.jsonl", "doc_id"),
        ("attributions.jsonl", "source_entity"),
        ("documents.jsonl", "toxic"),
    ],
)
def test_missing_field(gold_copy: Path, name: str, field: str) -> None:
    line = edit(gold_copy, name, lambda r: r.pop(field))
    assert_located(load_error(gold_copy), name, line, field)


# ---------------------------------------------------------------------------- documents


@pytest.mark.parametrize(
    "name",
    [
        "entities.jsonl",
        "segments.jsonl",
        "attributions.jsonl",
    ],
)
def test_unknown_doc_id(gold_copy: Path, name: str) -> None:
    line = edit(gold_copy, name, set_fields(doc_id="appendix"))
    assert_located(load_error(gold_copy), name, line, "doc_id")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("entities.jsonl", "start/end"),
        ("segments.jsonl", "start/end"),
        ("attributions.jsonl", None),
    ],
)
def test_span_outside_its_document(gold_copy: Path, name: str, field: str | None) -> None:
    line = edit(gold_copy, name, set_fields(doc_id="comment-2"), lambda r: r["doc_id"] == "article")
    assert_located(load_error(gold_copy), name, line, field)


def test_unknown_document_id(gold_copy: Path) -> None:
    line = edit(gold_copy, "documents.jsonl", set_fields(id="appendix"))
    assert_located(load_error(gold_copy), "documents.jsonl", line, "id")


def test_overlapping_documents(gold_copy: Path) -> None:
    docs = records(gold_copy, "documents.jsonl")
    (line, first), (next_line, second) = sorted(docs, key=lambda pair: pair[1]["start"])[:2]
    rewrite(gold_copy, "documents.jsonl", line, {**first, "end": second["end"]})
    assert_located(load_error(gold_copy), "documents.jsonl", {line, next_line}, "start/end")


# ---------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("name", "field", "change"),
    [
        ("entities.jsonl", "label", set_fields(label="PERSONA")),
        ("entities.jsonl", "label", set_fields(label="person")),
        ("attributions.jsonl", "type", set_fields(type="rumour")),
    ],
)
def test_unknown_label(gold_copy: Path, name: str, field: str, change: Callable) -> None:
    line = edit(gold_copy, name, change)
    assert_located(load_error(gold_copy), name, line, field)


@pytest.mark.parametrize("name", ["segments.jsonl", "documents.jsonl"])
def test_unknown_toxicity_attribute(gold_copy: Path, name: str) -> None:
    line = edit(gold_copy, name, lambda r: r["attributes"].update(spam=0))
    assert_located(load_error(gold_copy), name, line, "attributes.spam")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("attributes", lambda r: r["attributes"].pop(TOXICITY_ATTRIBUTES[-1])),
        (f"attributes.{TOXICITY_ATTRIBUTES[0]}", lambda r: r["attributes"].update(
            {TOXICITY_ATTRIBUTES[0]: 2})),
        ("toxic", set_fields(toxic=2)),
        ("severity", set_fields(severity=4)),
    ],
)  # fmt: skip
def test_bad_toxicity_value(gold_copy: Path, field: str, change: Callable) -> None:
    line = edit(gold_copy, "segments.jsonl", change)
    assert_located(load_error(gold_copy), "segments.jsonl", line, field)


@pytest.mark.parametrize("name", ["segments.jsonl", "documents.jsonl"])
def test_unknown_identity(gold_copy: Path, name: str) -> None:
    line = edit(gold_copy, name, lambda r: r["identities"].append("martian"))
    assert_located(load_error(gold_copy), name, line, "identities")


# ---------------------------------------------------------------------------- entities


def test_overlapping_entities(gold_copy: Path) -> None:
    text = raw_text(gold_copy)
    located = sorted(records(gold_copy, "entities.jsonl"), key=lambda p: p[1]["start"])
    (line, first), (next_line, second) = next(
        (a, b) for a, b in pairwise(located) if a[1]["doc_id"] == b[1]["doc_id"]
    )
    set_span(text, first["start"], second["end"])(first)
    rewrite(gold_copy, "entities.jsonl", line, first)
    assert_located(load_error(gold_copy), "entities.jsonl", {line, next_line}, "start/end")


def test_duplicate_entity_is_an_overlap(gold_copy: Path) -> None:
    line, first = records(gold_copy, "entities.jsonl")[0]
    path = gold_copy / "entities.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(first) + "\n", "utf-8")
    last = len(records(gold_copy, "entities.jsonl"))
    assert_located(load_error(gold_copy), "entities.jsonl", {line, last}, "start/end")


# ---------------------------------------------------------------------------- attributions


def test_attribution_source_entity_not_in_speakers(gold_copy: Path) -> None:
    line = edit(gold_copy, "attributions.jsonl", set_fields(source_entity="nobody_at_all"))
    assert_located(load_error(gold_copy), "attributions.jsonl", line, "source_entity")


def test_attribution_of_a_removed_speaker(gold_copy: Path) -> None:
    speaker_line, speaker = records(gold_copy, "speakers.jsonl")[0]
    rewrite(gold_copy, "speakers.jsonl", speaker_line, None)
    line = next(
        no
        for no, r in records(gold_copy, "attributions.jsonl")
        if r["source_entity"] == speaker["id"]
    )
    assert_located(load_error(gold_copy), "attributions.jsonl", line, "source_entity")


def test_attribution_without_content(gold_copy: Path) -> None:
    line = edit(gold_copy, "attributions.jsonl", set_fields(content=[]))
    assert_located(load_error(gold_copy), "attributions.jsonl", line, "content")


def test_an_alias_of_two_speakers_is_refused(gold_copy: Path) -> None:
    """The scorer resolves a name through the normalised aliases: one naming two speakers
    would silently credit the first."""
    (_, first), (line, second) = records(gold_copy, "speakers.jsonl")[:2]
    alias = first["aliases"][-1]
    rewrite(gold_copy, "speakers.jsonl", line, {**second, "aliases": [*second["aliases"], alias]})
    message = load_error(gold_copy)
    assert_located(message, "speakers.jsonl", line, "aliases")
    assert f"{alias!r}" in message and first["id"] in message and second["id"] in message
    assert "\n" not in message


def test_speaker_without_aliases(gold_copy: Path) -> None:
    line = edit(gold_copy, "speakers.jsonl", set_fields(aliases=[]))
    assert_located(load_error(gold_copy), "speakers.jsonl", line, "aliases")


def test_speaker_alias_not_in_text(gold_copy: Path) -> None:
    line = edit(gold_copy, "speakers.jsonl", lambda r: r["aliases"].append("Nobody At All"))
    assert_located(load_error(gold_copy), "speakers.jsonl", line, "aliases")


# ---------------------------------------------------------------------------- segments


def test_overlapping_segments(gold_copy: Path) -> None:
    text = raw_text(gold_copy)
    located = sorted(records(gold_copy, "segments.jsonl"), key=lambda p: p[1]["start"])
    (line, first), (next_line, second) = next(
        (a, b) for a, b in pairwise(located) if a[1]["doc_id"] == b[1]["doc_id"]
    )
    set_span(text, first["start"], second["end"])(first)
    rewrite(gold_copy, "segments.jsonl", line, first)
    assert_located(load_error(gold_copy), "segments.jsonl", {line, next_line}, "start/end")


def _shrink_to_first_word(text: str) -> Callable[[Record], None]:
    def change(record: Record) -> None:
        end = record["start"] + len(text[record["start"] : record["end"]].split()[0])
        set_span(text, record["start"], end)(record)

    return change


def _has_two_words(r: Record) -> bool:
    return len(r["text"].split()) > 1


def test_document_text_left_uncovered_by_segments(gold_copy: Path) -> None:
    text = raw_text(gold_copy)
    edit(gold_copy, "segments.jsonl", _shrink_to_first_word(text), _has_two_words)
    message = load_error(gold_copy)
    assert "in no segment" in message
    assert_located(message, "segments.jsonl")


@pytest.mark.parametrize(
    "name", ["documents.jsonl", "segments.jsonl", "attributions.jsonl", "speakers.jsonl"]
)
def test_duplicate_id(gold_copy: Path, name: str) -> None:
    (_, first), (line, second) = records(gold_copy, name)[:2]
    rewrite(gold_copy, name, line, {**second, "id": first["id"]})
    assert_located(load_error(gold_copy), name, line, "id")


# ---------------------------------------------------------------------------- boilerplate


def test_non_space_text_outside_documents_and_boilerplate(gold_copy: Path) -> None:
    text = raw_text(gold_copy)
    edit(gold_copy, "boilerplate.jsonl", _shrink_to_first_word(text), _has_two_words)
    message = load_error(gold_copy)
    assert "no boilerplate" in message
    assert_located(message, "boilerplate.jsonl")


def test_boilerplate_inside_a_document(gold_copy: Path) -> None:
    segment = records(gold_copy, "segments.jsonl")[0][1]
    path = gold_copy / "boilerplate.jsonl"
    row = {k: segment[k] for k in ("start", "end", "text")}
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(row) + "\n", "utf-8")
    line = len(path.read_text(encoding="utf-8").splitlines())
    assert_located(load_error(gold_copy), "boilerplate.jsonl", line, "start/end")


# ---------------------------------------------------------------------------- files and JSON


@pytest.mark.parametrize("name", JSONL_FILES)
def test_malformed_json(gold_copy: Path, name: str) -> None:
    path = gold_copy / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(no for no, text in enumerate(lines, 1) if text.strip())
    lines[line - 1] = lines[line - 1].rstrip()[:-1] + "\n"  # drop the closing brace
    path.write_text("".join(lines), encoding="utf-8")
    assert_located(load_error(gold_copy), name, line, "(json)")


def test_json_line_that_is_not_an_object(gold_copy: Path) -> None:
    path = gold_copy / "entities.jsonl"
    path.write_text("[1, 2]\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert_located(load_error(gold_copy), "entities.jsonl", 1, "(json)")


def test_malformed_metadata_json(gold_copy: Path) -> None:
    path = gold_copy / "metadata.json"
    path.write_text(path.read_text(encoding="utf-8").rstrip()[:-1], encoding="utf-8")
    assert_located(load_error(gold_copy), "metadata.json")


def test_metadata_without_raw_sha256(gold_copy: Path) -> None:
    path = gold_copy / "metadata.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    del meta["raw_sha256"]
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    assert_located(load_error(gold_copy), "metadata.json", None, "raw_sha256")


def test_missing_raw_file(gold_copy: Path) -> None:
    meta = json.loads((gold_copy / "metadata.json").read_text(encoding="utf-8"))
    (gold_copy / meta["raw_file"]).unlink()
    assert meta["raw_file"] in load_error(gold_copy)


@pytest.mark.parametrize("name", GOLD_FILES)
def test_missing_gold_file(gold_copy: Path, name: str) -> None:
    (gold_copy / name).unlink()
    assert load_error(gold_copy).startswith(f"{name}: file missing")
