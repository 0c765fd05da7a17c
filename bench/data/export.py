"""Exports of the gold: Hugging Face ``DatasetDict``, CoNLL BIO and JSONL, with their inverses.

Every export row carries ``doc_offset``, the global offset of its document in the raw
text; all other offsets in exports (``start``/``end``, token offsets, attribution spans)
are relative to the document text, i.e. ``text[start:end]`` of the row's document.
Adding ``doc_offset`` gives the global offsets of the gold records back.

A row has the same shape in every format ("row form"): lists of spans are lists of
dicts, class labels are strings. Only the Hugging Face export stores a list of dicts
column-wise (``Sequence`` of a dict) and class labels as integer ids (``ClassLabel``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.data.records import (
    Attribution,
    Document,
    Entity,
    GoldDataset,
    Segment,
    Span,
    ToxicityLabels,
)
from bench.data.schema import ATTRIBUTION_TYPES, ENTITY_LABELS, IDENTITIES, TOXICITY_ATTRIBUTES

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict, Features

CONFIGS: tuple[str, ...] = ("ner", "attribution", "toxicity_segment", "toxicity_document")
SPLIT = "test"
BIO_LABELS: tuple[str, ...] = ("O", *(f"{p}-{label}" for label in ENTITY_LABELS for p in "BI"))
_STRUCT_LISTS = ("entities", "attributions")  # list-of-dict columns, column-wise in HF

Row = dict[str, Any]

# ---------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
      ['’](?:s|re|ve|ll|d|m|t)(?![^\W_])  # clitic: Mexico|’s, they|’re, don|’t
    | (?:[^\W\d_]\.){2,}                  # initialism with its final period: U.S.
    | \d+(?:[.,]\d+)+                     # number with separators: 400,000  2.5
    | [^\W_]+                             # run of letters and digits: Mexico, 21
    | (?P<mark>\S)(?P=mark)*              # any other character, repeats grouped: $ - ???
    """,
    re.VERBOSE | re.IGNORECASE,
)


def tokenize(text: str) -> list[Span]:
    """Deterministic tokens of ``text`` as ``(start, end)`` offsets into ``text``.

    Every non-space character is in exactly one token and no token holds white space.
    Punctuation and symbols are tokens of their own (``$21`` → ``$`` ``21``,
    ``U.S.-Mexico`` → ``U.S.`` ``-`` ``Mexico``, ``F%&K`` → ``F`` ``%`` ``&`` ``K``),
    except that repeats of one mark are grouped (``???``); English clitics are split
    (``Mexico’s`` → ``Mexico`` ``’s``); initialisms keep their periods (``U.S.``),
    other abbreviations do not (``Sept.`` → ``Sept`` ``.``); numbers keep their
    separators (``400,000``).
    """
    return [m.span() for m in _TOKEN.finditer(text)]


# ---------------------------------------------------------------------------- BIO view


def bio_tags(tokens: list[Span], entities: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags of ``tokens`` for ``(start, end, label)`` entities in the same offsets.

    Raises ``ValueError`` if an entity boundary does not fall on a token boundary.
    """
    first = {start: i for i, (start, _) in enumerate(tokens)}
    last = {end: i for i, (_, end) in enumerate(tokens)}
    tags = ["O"] * len(tokens)
    for start, end, label in entities:
        if start not in first or end not in last or first[start] > last[end]:
            raise ValueError(f"entity [{start}, {end}) {label} is not on token boundaries")
        i, j = first[start], last[end]
        if any(tag != "O" for tag in tags[i : j + 1]):
            raise ValueError(f"entity [{start}, {end}) {label} overlaps another entity")
        tags[i : j + 1] = [f"B-{label}"] + [f"I-{label}"] * (j - i)
    return tags


def _entities_in(gold: GoldDataset, doc: Document) -> list[Entity]:
    return [e for e in gold.entities if e.doc_id == doc.id]


def _token_view(gold: GoldDataset, doc: Document) -> tuple[list[Span], list[str]]:
    tokens = tokenize(doc.text)
    local = [(e.start - doc.start, e.end - doc.start, e.label) for e in _entities_in(gold, doc)]
    return tokens, bio_tags(tokens, local)


# ---------------------------------------------------------------------------- rows


def _local(span: Span, doc: Document) -> list[int]:
    return [span[0] - doc.start, span[1] - doc.start]


def _ner_row(gold: GoldDataset, doc: Document) -> Row:
    tokens, tags = _token_view(gold, doc)
    return {
        "id": doc.id,
        "doc_offset": doc.start,
        "text": doc.text,
        "entities": [
            {
                "start": e.start - doc.start,
                "end": e.end - doc.start,
                "label": e.label,
                "text": e.text,
            }
            for e in _entities_in(gold, doc)
        ],
        "tokens": [doc.text[s:e] for s, e in tokens],
        "token_offsets": [[s, e] for s, e in tokens],
        "ner_tags": tags,
    }


def _attribution_row(gold: GoldDataset, doc: Document) -> Row:
    def surface(span: Span) -> str:
        return gold.raw_text[span[0] : span[1]]

    return {
        "id": doc.id,
        "doc_offset": doc.start,
        "text": doc.text,
        "attributions": [
            {
                "id": a.id,
                "type": a.type,
                "content": [_local(piece, doc) for piece in a.content],
                "content_text": [surface(piece) for piece in a.content],
                "cue": _local(a.cue, doc),
                "cue_text": surface(a.cue),
                "source": _local(a.source, doc),
                "source_text": surface(a.source),
                "source_entity": a.source_entity,
            }
            for a in gold.attributions
            if a.doc_id == doc.id
        ],
    }


def _toxicity_fields(labels: ToxicityLabels) -> Row:
    return {
        "toxic": labels.toxic,
        "severity": labels.severity,
        **{name: labels.attributes[name] for name in TOXICITY_ATTRIBUTES},
        "identities": list(labels.identities),
    }


def _segment_row(gold: GoldDataset, segment: Segment) -> Row:
    doc = gold.document(segment.doc_id)
    return {
        "id": segment.id,
        "doc_id": doc.id,
        "doc_offset": doc.start,
        "start": segment.start - doc.start,
        "end": segment.end - doc.start,
        "text": segment.text,
        **_toxicity_fields(segment.labels),
    }


def _document_row(doc: Document) -> Row:
    return {"id": doc.id, "doc_offset": doc.start, "text": doc.text, **_toxicity_fields(doc.labels)}


def to_rows(gold: GoldDataset, config: str) -> list[Row]:
    """The rows of one task config in row form (see the module docstring)."""
    if config == "ner":
        return [_ner_row(gold, doc) for doc in gold.documents]
    if config == "attribution":
        return [_attribution_row(gold, doc) for doc in gold.documents]
    if config == "toxicity_segment":
        return [_segment_row(gold, segment) for segment in gold.segments]
    if config == "toxicity_document":
        return [_document_row(doc) for doc in gold.documents]
    raise ValueError(f"unknown config {config!r}; expected one of {CONFIGS}")


# ---------------------------------------------------------------------------- Hugging Face


def features(config: str) -> Features:
    """The explicit ``datasets.Features`` of one task config."""
    from datasets import ClassLabel, Features, Sequence, Value

    span = Sequence(Value("int32"), length=2)
    base = {"id": Value("string"), "doc_offset": Value("int32"), "text": Value("string")}
    toxicity = {
        "toxic": Value("int8"),
        "severity": Value("int8"),
        **{name: Value("int8") for name in TOXICITY_ATTRIBUTES},
        "identities": Sequence(ClassLabel(names=list(IDENTITIES))),
    }
    if config == "ner":
        entity = {
            "start": Value("int32"),
            "end": Value("int32"),
            "label": ClassLabel(names=list(ENTITY_LABELS)),
            "text": Value("string"),
        }
        return Features(
            {
                **base,
                "entities": Sequence(entity),
                "tokens": Sequence(Value("string")),
                "token_offsets": Sequence(span),
                "ner_tags": Sequence(ClassLabel(names=list(BIO_LABELS))),
            }
        )
    if config == "attribution":
        attribution = {
            "id": Value("string"),
            "type": ClassLabel(names=list(ATTRIBUTION_TYPES)),
            "content": Sequence(span),
            "content_text": Sequence(Value("string")),
            "cue": span,
            "cue_text": Value("string"),
            "source": span,
            "source_text": Value("string"),
            "source_entity": Value("string"),
        }
        return Features({**base, "attributions": Sequence(attribution)})
    if config == "toxicity_segment":
        return Features(
            {
                "id": Value("string"),
                "doc_id": Value("string"),
                "doc_offset": Value("int32"),
                "start": Value("int32"),
                "end": Value("int32"),
                "text": Value("string"),
                **toxicity,
            }
        )
    if config == "toxicity_document":
        return Features({**base, **toxicity})
    raise ValueError(f"unknown config {config!r}; expected one of {CONFIGS}")


def _columns(items: list[Row], keys: Iterable[str]) -> dict[str, list[Any]]:
    return {key: [item[key] for item in items] for key in keys}


def to_dataset_dict(gold: GoldDataset, config: str) -> DatasetDict:
    """One task config as a ``DatasetDict`` with a single split ``"test"``.

    Offsets are relative to the row's document text; ``doc_offset`` is the document's
    global offset in the raw text. ``entities``/``attributions`` are ``Sequence``s of
    dicts, hence stored column-wise (a dict of lists) as usual in ``datasets``.
    """
    from datasets import Dataset, DatasetDict, DatasetInfo

    feats = features(config)
    rows = to_rows(gold, config)
    for row in rows:
        for key in _STRUCT_LISTS:
            if key in row:
                fields = feats[key] if isinstance(feats[key], dict) else feats[key].feature
                row[key] = _columns(row[key], fields)
    info = DatasetInfo(
        description=(
            f"{gold.name} {gold.version} ({config}); gold files sha256 {gold.files_sha256}. "
            "Offsets are relative to the document text; add doc_offset for raw-text offsets."
        ),
        features=feats,
        config_name=config,
    )
    return DatasetDict({SPLIT: Dataset.from_list(rows, features=feats, info=info)})


def _decode(feature: Any, value: Any) -> Any:
    """A stored value back in row form: class ids to names, nested lists recursed."""
    from datasets import ClassLabel

    if isinstance(feature, ClassLabel):
        return feature.int2str(value)
    if isinstance(feature, dict):
        return {key: _decode(sub, value[key]) for key, sub in feature.items()}
    inner = getattr(feature, "feature", None)  # List / Sequence
    if inner is None or value is None:
        return value
    if isinstance(inner, dict):  # datasets < 4: Sequence({...}) holds a dict of lists
        return {key: [_decode(sub, v) for v in value[key]] for key, sub in inner.items()}
    return [_decode(inner, v) for v in value]


def _rows_of(item: Row) -> list[Row]:
    """A column-wise dict of lists back to a list of dicts."""
    return [dict(zip(item, values, strict=True)) for values in zip(*item.values(), strict=True)]


def rows_from_dataset(dataset: Dataset) -> list[Row]:
    """The rows of an exported ``Dataset`` in row form (the inverse of its encoding)."""
    rows = [_decode(dataset.features, row) for row in dataset]
    for row in rows:
        for key in _STRUCT_LISTS:
            if key in row:
                row[key] = _rows_of(row[key])
    return rows


# ---------------------------------------------------------------------------- JSONL


def to_jsonl(gold: GoldDataset) -> dict[str, str]:
    """One JSONL text per task config (rows in row form, UTF-8 kept as is)."""
    return {
        config: "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in to_rows(gold, config))
        for config in CONFIGS
    }


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class TaskRecords:
    """Gold records recovered from an export, with global offsets."""

    documents: tuple[Document, ...] = ()
    segments: tuple[Segment, ...] = ()
    entities: tuple[Entity, ...] = ()
    attributions: tuple[Attribution, ...] = ()


def _labels(row: Row) -> ToxicityLabels:
    attributes = {name: row[name] for name in TOXICITY_ATTRIBUTES}
    return ToxicityLabels(row["toxic"], row["severity"], attributes, tuple(row["identities"]))


def _span(pair: list[int], offset: int) -> Span:
    return pair[0] + offset, pair[1] + offset


def _segment(row: Row) -> Segment:
    start, end = _span([row["start"], row["end"]], row["doc_offset"])
    return Segment(row["id"], row["doc_id"], start, end, row["text"], _labels(row))


def records_from_rows(rows_by_config: Mapping[str, list[Row]]) -> TaskRecords:
    """Records of the configs present in ``rows_by_config`` (missing ones stay empty).

    Records come in row order: documents and segments sorted by offset, entities by
    ``(start, end)``, attributions grouped by document.
    """
    get = rows_by_config.get
    documents = tuple(
        Document(r["id"], r["doc_offset"], r["doc_offset"] + len(r["text"]), r["text"], _labels(r))
        for r in get("toxicity_document", [])
    )
    segments = tuple(_segment(r) for r in get("toxicity_segment", []))
    entities = tuple(
        Entity(r["id"], *_span([e["start"], e["end"]], r["doc_offset"]), e["label"], e["text"])
        for r in get("ner", [])
        for e in r["entities"]
    )
    attributions = tuple(
        Attribution(
            a["id"],
            r["id"],
            a["type"],
            tuple(_span(piece, r["doc_offset"]) for piece in a["content"]),
            _span(a["cue"], r["doc_offset"]),
            _span(a["source"], r["doc_offset"]),
            a["source_entity"],
        )
        for r in get("attribution", [])
        for a in r["attributions"]
    )
    return TaskRecords(documents, segments, entities, attributions)


def from_jsonl(texts: Mapping[str, str]) -> TaskRecords:
    """Records from the JSONL texts of :func:`to_jsonl` (keyed by config)."""
    return records_from_rows(
        {
            config: [json.loads(line) for line in text.splitlines() if line.strip()]
            for config, text in texts.items()
        }
    )


def from_dataset_dicts(dicts: Mapping[str, DatasetDict]) -> TaskRecords:
    """Records from the ``DatasetDict``s of :func:`to_dataset_dict` (keyed by config)."""
    return records_from_rows({config: rows_from_dataset(dd[SPLIT]) for config, dd in dicts.items()})


# ---------------------------------------------------------------------------- CoNLL


def to_conll(gold: GoldDataset) -> str:
    """CoNLL IOB2: one ``token<TAB>tag`` line per token of :func:`tokenize`.

    One block per document in document order, blocks separated by one blank line; no
    ``-DOCSTART-`` lines, so every block is exactly one document (the ``ner`` export
    gives their ids and token offsets). Sentences are not split.
    """
    blocks = []
    for doc in gold.documents:
        tokens, tags = _token_view(gold, doc)
        lines = (f"{doc.text[s:e]}\t{tag}\n" for (s, e), tag in zip(tokens, tags, strict=True))
        blocks.append("".join(lines))
    return "\n".join(blocks)
