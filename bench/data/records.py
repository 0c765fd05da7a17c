"""Typed, immutable records of the gold data.

All offsets are global Python ``str`` indices into the raw text, half-open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Span = tuple[int, int]


@dataclass(frozen=True)
class ToxicityLabels:
    toxic: int
    severity: int
    attributes: dict[str, int]
    identities: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    id: str
    start: int
    end: int
    text: str
    labels: ToxicityLabels


@dataclass(frozen=True)
class Segment:
    id: str
    doc_id: str
    start: int
    end: int
    text: str
    labels: ToxicityLabels


@dataclass(frozen=True)
class Entity:
    doc_id: str
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Attribution:
    id: str
    doc_id: str
    type: str
    content: tuple[Span, ...]
    cue: Span
    source: Span
    source_entity: str


@dataclass(frozen=True)
class Speaker:
    id: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class GoldDataset:
    """The whole gold: raw text, units and the labels of the three tasks."""

    name: str
    version: str
    raw_text: str
    raw_sha256: str
    documents: tuple[Document, ...]
    segments: tuple[Segment, ...]
    entities: tuple[Entity, ...]
    attributions: tuple[Attribution, ...]
    speakers: tuple[Speaker, ...]
    boilerplate: tuple[Span, ...]
    files_sha256: str = field(default="")
    raw_file: str = field(default="")  # the raw text's file name

    def document(self, doc_id: str) -> Document:
        return next(d for d in self.documents if d.id == doc_id)
