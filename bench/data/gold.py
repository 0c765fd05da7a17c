"""Load and validate the built-in gold dataset (stand-off JSONL over a raw text).

Every check reports ``file:line: field: problem``; nothing is silently fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

from bench.data.records import (
    Attribution,
    Document,
    Entity,
    GoldDataset,
    Segment,
    Span,
    Speaker,
    ToxicityLabels,
)
from bench.data.schema import (
    ATTRIBUTION_TYPES,
    DOCUMENT_IDS,
    ENTITY_LABELS,
    IDENTITIES,
    TOXICITY_ATTRIBUTES,
)
from bench.metrics.speakers import add_aliases
from bench.resources import resource_dir

GOLD_FILES = (
    "metadata.json",
    "documents.jsonl",
    "segments.jsonl",
    "entities.jsonl",
    "attributions.jsonl",
    "speakers.jsonl",
    "boilerplate.jsonl",
)


class _Range(NamedTuple):
    start: int
    end: int
    text: str


class GoldError(ValueError):
    """A gold file breaks the schema; the message names file, line and field."""


class _Record:
    """One JSON object of a JSONL file, with typed field access that reports its place."""

    def __init__(self, path: Path, line: int, data: dict[str, Any], text: str) -> None:
        self.path, self.line, self.data, self.text = path, line, data, text

    def fail(self, field: str, problem: str) -> ValueError:
        return GoldError(f"{self.path.name}:{self.line}: {field}: {problem}")

    def get(self, field: str, kind: type | tuple[type, ...]) -> Any:
        if field not in self.data:
            raise self.fail(field, "missing")
        value = self.data[field]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(field, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def span(self, field: str, value: Any = None) -> Span:
        """A half-open ``[start, end)`` span: in range, non-empty, no white space at its edges."""
        if value is None:
            value = self.get(field, list)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            raise self.fail(field, f"expected [start, end], got {value!r}")
        return self.check_span(field, value[0], value[1])

    def check_span(self, field: str, start: int, end: int) -> Span:
        if not 0 <= start < end <= len(self.text):
            raise self.fail(field, f"span [{start}, {end}) out of range or empty")
        surface = self.text[start:end]
        if surface != surface.strip():
            raise self.fail(field, f"span [{start}, {end}) starts or ends with white space")
        return start, end

    def start_end(self) -> Span:
        span = self.check_span("start/end", self.get("start", int), self.get("end", int))
        if "text" in self.data and self.data["text"] != self.text[span[0] : span[1]]:
            raise self.fail(
                "text",
                f"{self.data['text']!r} differs from raw text {self.text[span[0] : span[1]]!r}",
            )
        return span

    def one_of(self, field: str, allowed: tuple[str, ...]) -> str:
        value: str = self.get(field, str)
        if value not in allowed:
            raise self.fail(field, f"unknown value {value!r}")
        return value

    def toxicity(self) -> ToxicityLabels:
        toxic = self.get("toxic", int)
        if toxic not in (0, 1):
            raise self.fail("toxic", f"expected 0 or 1, got {toxic}")
        severity = self.get("severity", int)
        if severity not in (0, 1, 2, 3):
            raise self.fail("severity", f"expected 0-3, got {severity}")
        attributes = self.get("attributes", dict)
        for name, value in attributes.items():
            if name not in TOXICITY_ATTRIBUTES:
                raise self.fail(f"attributes.{name}", "unknown attribute")
            if value not in (0, 1) or isinstance(value, bool):
                raise self.fail(f"attributes.{name}", f"expected 0 or 1, got {value!r}")
        missing = set(TOXICITY_ATTRIBUTES) - set(attributes)
        if missing:
            raise self.fail("attributes", f"missing {sorted(missing)}")
        identities = self.get("identities", list)
        for identity in identities:
            if identity not in IDENTITIES:
                raise self.fail("identities", f"unknown identity {identity!r}")
        return ToxicityLabels(toxic, severity, dict(attributes), tuple(identities))


def _records(path: Path, text: str) -> Iterator[_Record]:
    if not path.is_file():
        raise GoldError(f"{path.name}: file missing in {path.parent}")
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                raise GoldError(f"{path.name}:{line_no}: (json): {err.msg}") from None
            if not isinstance(data, dict):
                raise GoldError(f"{path.name}:{line_no}: (json): expected an object")
            yield _Record(path, line_no, data, text)


def _unique(record: _Record, field: str, value: str, seen: set[str]) -> str:
    if value in seen:
        raise record.fail(field, f"duplicate id {value!r}")
    seen.add(value)
    return value


def sha256_file(path: Path) -> str:
    """sha256 of the file at ``path``, read in chunks (not held whole: a predictions file
    may hold gigabytes)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def gold_fingerprint(directory: Path, raw_file: str) -> str:
    """sha256 over the raw text and every gold file, in a fixed order."""
    digest = hashlib.sha256()
    for name in (raw_file, *GOLD_FILES):
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _metadata(directory: Path) -> _Record:
    """metadata.json as a record whose errors name the line of the offending key."""
    path = directory / "metadata.json"
    if not path.is_file():
        raise GoldError(f"metadata.json: file missing in {directory}")
    source = path.read_text(encoding="utf-8")
    try:
        data = json.loads(source)
    except json.JSONDecodeError as err:
        raise GoldError(f"metadata.json:{err.lineno}: (json): {err.msg}") from None
    if not isinstance(data, dict):
        raise GoldError("metadata.json:1: (json): expected an object")

    class _Meta(_Record):
        def fail(self, field: str, problem: str) -> GoldError:
            line = next(
                (no for no, row in enumerate(source.splitlines(), 1) if f'"{field}"' in row), 1
            )
            return GoldError(f"metadata.json:{line}: {field}: {problem}")

    return _Meta(path, 1, data, "")


def load_gold(directory: str | Path) -> GoldDataset:
    """Read, validate and return the gold dataset stored in ``directory``."""
    directory = Path(directory)
    meta = _metadata(directory)
    raw_file = meta.get("raw_file", str)
    expected_sha = meta.get("raw_sha256", str)
    raw_path = directory / raw_file
    if not raw_path.is_file():
        raise GoldError(f"{raw_file}: file missing in {directory}")
    raw_sha = sha256_file(raw_path)
    if raw_sha != expected_sha:
        raise meta.fail("raw_sha256", f"{raw_file} has sha256 {raw_sha}, expected {expected_sha}")
    text = raw_path.read_bytes().decode("utf-8")

    documents = _load_documents(directory / "documents.jsonl", text)
    segments = _load_segments(directory / "segments.jsonl", text, documents)
    boilerplate = _load_boilerplate(directory / "boilerplate.jsonl", text, documents)
    speakers = _load_speakers(directory / "speakers.jsonl", text)
    entities = _load_entities(directory / "entities.jsonl", text, documents)
    attributions = _load_attributions(
        directory / "attributions.jsonl", text, documents, {s.id for s in speakers}
    )
    return GoldDataset(
        name=meta.get("name", str),
        version=meta.get("version", str),
        raw_text=text,
        raw_sha256=raw_sha,
        documents=documents,
        segments=segments,
        entities=entities,
        attributions=attributions,
        speakers=speakers,
        boilerplate=boilerplate,
        files_sha256=gold_fingerprint(directory, raw_file),
        raw_file=raw_file,
    )


def _no_overlap(located: list[tuple[Any, _Record]], kind: str) -> None:
    """Records sorted by start must not overlap; report the later one."""
    located.sort(key=lambda pair: (pair[0].start, pair[0].end))
    for (before, _), (after, record) in pairwise(located):
        if after.start < before.end:
            name = getattr(before, "id", None) or getattr(before, "text", "")
            raise record.fail("start/end", f"overlaps {kind} {name!r}")


def _load_documents(path: Path, text: str) -> tuple[Document, ...]:
    seen: set[str] = set()
    located = []
    for r in _records(path, text):
        doc_id = _unique(r, "id", r.one_of("id", DOCUMENT_IDS), seen)
        start, end = r.start_end()
        located.append((Document(doc_id, start, end, text[start:end], r.toxicity()), r))
    _no_overlap(located, "document")
    return tuple(doc for doc, _ in located)


def _owner(r: _Record, documents: tuple[Document, ...], start: int, end: int) -> Document:
    doc_id = r.get("doc_id", str)
    doc = next((d for d in documents if d.id == doc_id), None)
    if doc is None:
        raise r.fail("doc_id", f"unknown document {doc_id!r}")
    if not doc.start <= start < end <= doc.end:
        raise r.fail("start/end", f"span [{start}, {end}) lies outside document {doc_id}")
    return doc


def _load_segments(path: Path, text: str, documents: tuple[Document, ...]) -> tuple[Segment, ...]:
    seen: set[str] = set()
    located = []
    for r in _records(path, text):
        seg_id = _unique(r, "id", r.get("id", str), seen)
        start, end = r.start_end()
        doc = _owner(r, documents, start, end)
        located.append((Segment(seg_id, doc.id, start, end, text[start:end], r.toxicity()), r))
    _no_overlap(located, "segment")
    for doc in documents:
        own = [(seg, r) for seg, r in located if seg.doc_id == doc.id]
        offset = _uncovered(text, doc.start, doc.end, [(seg.start, seg.end) for seg, _ in own])
        if offset is not None:
            record = _record_before(own, offset, path, text)
            raise record.fail(
                "start/end",
                f"non-space text at {offset} ({text[offset : offset + 20]!r}) of document "
                f"{doc.id} is in no segment",
            )
    return tuple(seg for seg, _ in located)


def _record_before(
    located: list[tuple[Any, _Record]], offset: int, path: Path, text: str
) -> _Record:
    """The record of the last span starting before ``offset`` (line 1 if there is none)."""
    before = [r for item, r in located if item.start <= offset]
    return before[-1] if before else _Record(path, 1, {}, text)


def _uncovered(text: str, start: int, end: int, spans: list[Span]) -> int | None:
    """The first non-space offset in ``[start, end)`` outside every span, or None."""
    mask = [False] * (end - start)
    for s, e in spans:
        for i in range(max(s, start), min(e, end)):
            mask[i - start] = True
    for i, inside in enumerate(mask):
        if not inside and not text[start + i].isspace():
            return start + i
    return None


def _load_boilerplate(path: Path, text: str, documents: tuple[Document, ...]) -> tuple[Span, ...]:
    """Page furniture: outside every document; with the documents it covers all the text."""
    located = []
    for r in _records(path, text):
        start, end = r.start_end()
        for doc in documents:
            if start < doc.end and doc.start < end:
                raise r.fail("start/end", f"boilerplate overlaps document {doc.id}")
        located.append((_Range(start, end, text[start:end]), r))
    located.sort(key=lambda pair: pair[0].start)
    spans = [(d.start, d.end) for d in documents] + [(b.start, b.end) for b, _ in located]
    offset = _uncovered(text, 0, len(text), spans)
    if offset is not None:
        raise _record_before(located, offset, path, text).fail(
            "start/end",
            f"non-space text at {offset} ({text[offset : offset + 20]!r}) is in no document "
            "and no boilerplate range",
        )
    return tuple((b.start, b.end) for b, _ in located)


def _load_speakers(path: Path, text: str) -> tuple[Speaker, ...]:
    """The speakers; an alias naming two of them (after normalisation) is refused."""
    seen: set[str] = set()
    speakers = []
    table: dict[str, str] = {}  # normalised alias -> speaker id, as the scorer resolves names
    for r in _records(path, text):
        speaker_id = _unique(r, "id", r.get("id", str), seen)
        aliases = r.get("aliases", list)
        if not aliases or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise r.fail("aliases", "expected a non-empty list of non-empty strings")
        for alias in aliases:
            if alias not in text:
                raise r.fail("aliases", f"{alias!r} does not occur in the raw text")
        try:
            add_aliases(table, speaker_id, aliases)
        except ValueError as err:
            raise r.fail("aliases", str(err)) from None
        speakers.append(Speaker(speaker_id, tuple(aliases)))
    return tuple(speakers)


def _load_entities(path: Path, text: str, documents: tuple[Document, ...]) -> tuple[Entity, ...]:
    located = []
    for r in _records(path, text):
        start, end = r.start_end()
        if "text" not in r.data:
            raise r.fail("text", "missing")
        doc = _owner(r, documents, start, end)
        label = r.one_of("label", ENTITY_LABELS)
        located.append((Entity(doc.id, start, end, label, r.data["text"]), r))
    _no_overlap(located, "entity")
    return tuple(entity for entity, _ in located)


def _load_attributions(
    path: Path, text: str, documents: tuple[Document, ...], speaker_ids: set[str]
) -> tuple[Attribution, ...]:
    seen: set[str] = set()
    attributions = []
    for r in _records(path, text):
        att_id = _unique(r, "id", r.get("id", str), seen)
        pieces = r.get("content", list)
        if not pieces:
            raise r.fail("content", "expected at least one [start, end] piece")
        content = tuple(r.span(f"content[{i}]", piece) for i, piece in enumerate(pieces))
        cue, source = r.span("cue"), r.span("source")
        doc_id = r.get("doc_id", str)
        if doc_id not in {d.id for d in documents}:
            raise r.fail("doc_id", f"unknown document {doc_id!r}")
        spans = [("cue", cue), ("source", source)]
        spans += [(f"content[{i}]", piece) for i, piece in enumerate(content)]
        for field, (start, end) in spans:
            try:
                _owner(r, documents, start, end)
            except GoldError as err:
                raise r.fail(field, str(err).rsplit(": ", 1)[-1]) from None
        entity = r.get("source_entity", str)
        if entity not in speaker_ids:
            raise r.fail("source_entity", f"{entity!r} is not in speakers.jsonl")
        attributions.append(
            Attribution(
                att_id,
                r.data["doc_id"],
                r.one_of("type", ATTRIBUTION_TYPES),
                content,
                cue,
                source,
                entity,
            )
        )
    return tuple(attributions)


def default_gold_dir() -> Path:
    """The seed-article gold shipped with bench."""
    return resource_dir("datasets") / "seed-article"


def load_dataset(path: str | Path | None = None) -> GoldDataset:
    """Load the gold at ``path``, or the built-in seed-article gold when ``path`` is None."""
    return load_gold(path if path is not None else default_gold_dir())
