"""Datasets in the formats people already have, read with Hugging Face ``datasets``.

``path`` is a data file (``.json``/``.jsonl``, ``.csv``, ``.parquet``), a folder
written by ``save_to_disk``, a folder of data files, or a Hub id. A Hub id is
loaded as ``datasets`` loads it (from the Hub, or from the local cache under
``HF_DATASETS_OFFLINE=1``); bench never forces a download.

Each task reads the columns its mapping names (conf/dataset/hf.yaml):

- NER: ``ner.tokens`` + ``ner.tags`` (a ``ClassLabel`` sequence, integers indexing
  ``ner.tag_names``, or tag strings), decoded as conlleval does or, with
  ``ner.scheme``, strictly in that scheme (:func:`bench.metrics.bio.decode`); or
  ``text`` + ``ner.spans``, a list of ``{start, end, label}`` per row.
- toxicity: ``text`` + ``toxicity.label``, and optional ``toxicity.identities`` and
  ``toxicity.attributes`` columns: 0/1 or booleans, or, with ``toxicity.threshold``,
  probabilities (true from the threshold on, as Civil Comments is read). An empty
  identity cell is "not annotated": the row is not in that group.
- attribution: ``text`` + ``attribution.records``, a list per row of records in the
  format of bench's prediction files (``{content, speaker, cue, source, type}``,
  offsets into the row's text); each distinct speaker is a speaker id.

An item's id is the ``id`` column's value, else its row number: ``s00001`` on a
token dataset (as a CoNLL file's sentences, so CoNLL prediction files align) and
``row-00001`` otherwise (as madlibs). The dataset's identity (``sha256``) is its
files' sha256, or for a Hub id its revision. A bad value is one line naming the
data, the row (1-based) and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from bench.data.conll import sentence_id, token_offsets
from bench.data.dataset import Dataset
from bench.data.gold import _Record, sha256_file
from bench.data.schema import ATTRIBUTION_TYPES, TOXICITY_ATTRIBUTES
from bench.data.views import (
    AttributionGold,
    NerGold,
    ToxicityGold,
    membership_codes,
    toxicity_gold,
)
from bench.items import TextColumn, TextItems
from bench.metrics.attribution import AttributionRecord
from bench.metrics.bio import SCHEMES, Mode, decode
from bench.metrics.speakers import add_aliases
from bench.predictions import TextItem

CHUNK_ROWS = 1 << 20  # rows read into Python objects at a time


def _row_id(number: int) -> str:
    """The id of row ``number`` (1-based) of data without an id column, as madlibs'."""
    return f"row-{number:05d}"


def _row_ids(first: int, stop: int) -> TextColumn:
    """:func:`_row_id` of rows ``first`` to ``stop - 1``, written digit by digit with arrays
    (no Python string each): a block per number of digits, the numbers rising."""
    blocks = []
    while first < stop:
        width = max(5, len(str(first)))
        end = min(stop, 10**width)
        numbers = np.arange(first, end, dtype=np.uint32)  # unsigned 32 bits: fast division
        digits = numbers[:, None] // 10 ** np.arange(width - 1, -1, -1, dtype=np.uint32) % 10
        text = np.empty((numbers.size, 4 + width), np.uint8)
        text[:, :4] = np.frombuffer(b"row-", np.uint8)
        text[:, 4:] = digits + ord("0")
        blocks.append(TextColumn(text.tobytes(), np.arange(1, numbers.size + 1) * (4 + width)))
        first = end
    return TextColumn.joined(blocks)


_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
_HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")
_SAVED = ("state.json", "dataset_dict.json")  # what save_to_disk writes in its folder


class HfDataError(ValueError):
    """The data or its column mapping is unusable; the message names data, row and field."""


@dataclass(frozen=True)
class NerColumns:
    tokens: str | None = None
    tags: str | None = None
    tag_names: list[str] | None = None  # the tag of each integer, when not a ClassLabel
    scheme: str | None = None  # None: conlleval's reading; else one of bio.SCHEMES (strict)
    spans: str | None = None
    labels: list[str] | None = None  # None: the tag names' types, or the types found


@dataclass(frozen=True)
class ToxicityColumns:
    label: str | None = None
    threshold: float | None = None  # None: 0/1 values; else probabilities, true from it on
    identities: list[str] | None = None
    attributes: list[str] | None = None


@dataclass(frozen=True)
class AttributionColumns:
    records: str | None = None


class _Row(_Record):
    """A value (or a record within a value) of one row; errors name the data and row."""

    def __init__(self, source: str, row: int, data: Any, text: str = "", prefix: str = "") -> None:
        super().__init__(Path(source), row, data, text)
        self.source, self.prefix = source, prefix

    def fail(self, field: str, problem: str) -> HfDataError:
        return HfDataError(f"{self.source}: row {self.line}: {self.prefix}{field}: {problem}")


def _plain(node: Any) -> Any:
    """A Hydra node (DictConfig, ListConfig) as plain Python; anything else as it is."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node


def _columns(kind: type, options: Mapping[str, Any] | None, group: str) -> Any:
    """The column mapping of one task; an unknown key is an error naming it."""
    options = _plain(options) or {}
    known = [spec.name for spec in fields(kind)]
    for key in options:
        if key not in known:
            raise HfDataError(
                f"dataset.{group}.{key}: unknown option (expected one of {', '.join(known)})"
            )
    return kind(**options)


def _loading_error(where: str, err: BaseException) -> str:
    """One line: what ``datasets`` raised and, when it wraps one, the error it wraps."""
    cause = err
    while cause.__cause__ is not None:
        cause = cause.__cause__
    line = f"{where}: {type(err).__name__}: {err}"
    if cause is not err:
        line += f"; {type(cause).__name__}: {cause}"
    if isinstance(err, ConnectionError):
        line += " (offline and not in the local cache?)"
    return " ".join(line.split())


class HfDataset(Dataset):
    """A dataset read with ``datasets`` and a declared column mapping per task."""

    def __init__(
        self,
        path: str,
        name: str = "hf",
        split: str = "test",
        version: str | None = None,
        subset: str | None = None,
        revision: str | None = None,
        id: str | None = None,
        text: str = "text",
        ner: Mapping[str, Any] | None = None,
        toxicity: Mapping[str, Any] | None = None,
        attribution: Mapping[str, Any] | None = None,
    ) -> None:
        self.name, self.split, self.source = name, split, str(path)
        self.id_column, self.text_column = id, text
        self.ner_columns = _columns(NerColumns, ner, "ner")
        self.toxicity_columns = _columns(ToxicityColumns, toxicity, "toxicity")
        self.attribution_columns = _columns(AttributionColumns, attribution, "attribution")
        configured = {
            "ner": self.ner_columns.tags or self.ner_columns.spans,
            "toxicity": self.toxicity_columns.label,
            "attribution": self.attribution_columns.records,
        }
        self.tasks = frozenset(task for task, column in configured.items() if column)  # type: ignore[misc]  # per instance, not per class
        if not self.tasks:
            raise HfDataError(
                f"dataset: no task mapped (set dataset.ner.tags or dataset.ner.spans, "
                f"dataset.toxicity.label or dataset.attribution.records) for {path}"
            )
        self.hub: dict[str, str] = {}
        self.version = version or Path(self.source).name  # a Hub id's: its revision (below)
        self.data = self._load(path, subset, revision)
        self.version = version or self.hub.get("revision") or self.version
        self.rows = len(self.data)
        for task in sorted(self.tasks):  # every error before any model is called
            self.view(task)
        del self.data  # the views hold all the tasks need: let the arrow table (mapped) go

    # ------------------------------------------------------------------ loading

    def _load(self, path: str, subset: str | None, revision: str | None) -> Any:
        """The split, with ``files`` and ``sha256`` set from what it was read from."""
        import datasets

        datasets.disable_progress_bars()
        location = Path(path)
        try:
            if location.is_file():
                if location.suffix not in _BUILDERS:
                    raise HfDataError(
                        f"{path}: unknown data file type {location.suffix!r} "
                        f"(expected one of {', '.join(_BUILDERS)})"
                    )
                self._identify({location.name: location})
                builder = _BUILDERS[location.suffix]
                return datasets.load_dataset(
                    builder, data_files={self.split: str(location)}, split=self.split
                )
            if location.is_dir() and any((location / name).is_file() for name in _SAVED):
                return self._load_saved(location)
            if location.is_dir():
                return self._load_folder(location, subset)
            if location.suffix in _BUILDERS or not _HUB_ID.fullmatch(path):
                raise HfDataError(f"{path}: not found (expected a data file, a folder or a Hub id)")
            return self._load_hub(path, subset, revision)
        except HfDataError:
            raise
        except Exception as err:  # datasets raises many kinds; each is the user's data's
            raise HfDataError(_loading_error(f"{path} (split {self.split!r})", err)) from None

    def _load_folder(self, folder: Path, subset: str | None) -> Any:
        """A folder of data files (e.g. a Hub dataset's clone): the files of the split."""
        import datasets

        builder = datasets.load_dataset_builder(str(folder), subset)
        files = (builder.config.data_files or {}).get(self.split)
        if not files:
            raise HfDataError(f"{folder}: no data files of split {self.split!r}")
        root = folder.resolve()
        self._identify({Path(f).relative_to(root).as_posix(): Path(f) for f in files})
        builder.download_and_prepare()
        return builder.as_dataset(split=self.split)

    def _load_hub(self, hub_id: str, subset: str | None, revision: str | None) -> Any:
        """A Hub dataset, identified by its revision (the commit ``datasets`` resolved)."""
        import datasets

        builder = datasets.load_dataset_builder(hub_id, subset, revision=revision)
        self.hub = {"hub_id": hub_id, "revision": str(builder.hash)}
        self.files = {}
        identity = [hub_id, subset, self.split, builder.hash]
        self.sha256 = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
        builder.download_and_prepare()
        return builder.as_dataset(split=self.split)

    def _load_saved(self, folder: Path) -> Any:
        """A ``save_to_disk`` folder: one dataset, or the split of a dataset dict."""
        import datasets

        loaded = datasets.load_from_disk(str(folder))
        if isinstance(loaded, datasets.DatasetDict):
            if self.split not in loaded:
                raise HfDataError(
                    f"{folder}: split {self.split!r} not found (splits: {', '.join(loaded)})"
                )
            loaded, folder = loaded[self.split], folder / self.split
        files = sorted(p for p in folder.iterdir() if p.is_file())
        self._identify({p.name: p for p in files})
        return loaded

    def _identify(self, files: dict[str, Path]) -> None:
        """``files`` and ``sha256``: one file's sha256, or one over every file's name and hash.
        (Not :meth:`verify`: the user's data is never a shipped dataset, and may be binary.)"""
        self.files = {name: sha256_file(path) for name, path in sorted(files.items())}
        if len(self.files) == 1:
            (self.sha256,) = self.files.values()
        else:
            listing = json.dumps(sorted(self.files.items())).encode()
            self.sha256 = hashlib.sha256(listing).hexdigest()

    # ------------------------------------------------------------------ columns and rows

    def _column_names(self, column: str, field: str) -> None:
        """Refuse a column the data lacks."""
        if column not in self.data.column_names:
            raise HfDataError(
                f"{self.source}: {field}: no column {column!r} "
                f"(columns: {', '.join(self.data.column_names)})"
            )

    def _column(self, column: str, field: str) -> list[Any]:
        self._column_names(column, field)
        values: list[Any] = self.data.select_columns([column]).to_dict()[column]
        return values

    def _ids(self, tokenized: bool) -> list[str]:
        """Each row's item id: the id column's value, else its row number."""
        if self.id_column is None:
            number = sentence_id if tokenized else _row_id
            return [number(n) for n in range(1, self.rows + 1)]
        ids: list[str] = []
        seen: dict[str, int] = {}
        for row, value in enumerate(self._column(self.id_column, "id"), 1):
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise _Row(self.source, row, {}).fail(
                    self.id_column, f"expected an id, got {value!r}"
                )
            item_id = str(value)
            if not item_id.strip() or item_id in seen:
                problem = (
                    "empty" if not item_id.strip() else f"duplicate id (also row {seen[item_id]})"
                )
                raise _Row(self.source, row, {}).fail(self.id_column, problem)
            seen[item_id] = row
            ids.append(item_id)
        return ids

    def _texts(self) -> list[str]:
        return [text for chunk in self._text_chunks() for text in chunk]

    def _text_chunks(self) -> Iterator[list[str]]:
        """The texts, :data:`CHUNK_ROWS` rows at a time, each a non-empty string."""
        self._column_names(self.text_column, "text")
        column = self.data.select_columns([self.text_column])
        for start in range(0, self.rows, CHUNK_ROWS):
            texts = column[start : start + CHUNK_ROWS][self.text_column]
            for row, text in enumerate(texts, start + 1):
                if not isinstance(text, str) or not text.strip():
                    raise _Row(self.source, row, {}).fail(
                        self.text_column, f"expected a non-empty string, got {text!r}"
                    )
            yield texts

    def _text_items(self) -> TextItems:
        """The items as columns, built a chunk of rows at a time (no list of every text)."""
        if self.id_column is None:
            ids = TextColumn.joined([_row_ids(start + 1, min(start + CHUNK_ROWS, self.rows) + 1)
                                     for start in range(0, self.rows, CHUNK_ROWS)])  # fmt: skip
        else:
            plain = self._plain_strings(self.id_column, "id", distinct=True)
            ids = TextColumn.of(self._ids(tokenized=False)) if plain is None else plain
        texts = self._plain_strings(self.text_column, "text")
        return TextItems(ids, TextColumn.of_chunks(self._text_chunks()) if texts is None else texts)

    def _plain_strings(self, column: str, field: str, distinct: bool = False) -> TextColumn | None:
        """``column`` read from arrow's buffers when each value is plainly a non-empty string
        (a printable ASCII character other than the space, or non-blank once decoded) — or,
        with ``distinct`` (an id column), an integer, as ``str`` writes it, and no value
        twice; None otherwise, and the row-by-row reader names the row."""
        import pyarrow as pa
        import pyarrow.compute as pc

        self._column_names(column, field)
        values = self.data.with_format("arrow")[column]
        if distinct and pa.types.is_integer(values.type):
            values = pc.cast(values, pa.large_string())  # "-12": str()'s digits
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return None
        if values.null_count:
            return None
        if distinct and pc.count_distinct(values).as_py() != len(values):
            return None
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        parts = []
        for chunk in chunks:
            for start in range(0, len(chunk), 1 << 16):
                part = TextColumn.of_arrow(chunk.slice(start, 1 << 16))
                doubtful = np.flatnonzero(~part.graphic()).tolist()
                if not all(part[k].strip() for k in doubtful):
                    return None
                parts.append(part)
        return TextColumn.joined(parts)

    # ------------------------------------------------------------------ NER

    def ner(self) -> NerGold:
        columns = self.ner_columns
        if columns.tags and columns.spans:
            raise HfDataError(
                "dataset.ner: map tags (token layout) or spans (text layout), not both"
            )
        return self._ner_tokens() if columns.tags else self._ner_spans()

    def _tag_names(self) -> list[str] | None:
        """The tag of each integer: the column's ClassLabel names, else ``ner.tag_names``."""
        feature = getattr(self.data.features.get(self.ner_columns.tags), "feature", None)
        names = getattr(feature, "names", None) or self.ner_columns.tag_names
        return None if names is None else list(names)

    def _ner_tokens(self) -> NerGold:
        columns = self.ner_columns
        if columns.tokens is None:
            raise HfDataError(
                "dataset.ner.tokens: not set (the column of token lists for the tags)"
            )
        if columns.scheme is not None and columns.scheme not in SCHEMES:
            raise HfDataError(
                f"dataset.ner.scheme: {columns.scheme!r}: expected null (conlleval's reading) "
                f"or one of {', '.join(SCHEMES)}"
            )
        names = self._tag_names()
        declared = self._declared_labels(names)
        mode: Mode = "strict" if columns.scheme else "default"
        tokens_column = self._column(columns.tokens, "ner.tokens")
        tags_column = self._column(columns.tags, "ner.tags")
        items, spans, found = [], [], set()
        rows = zip(self._ids(tokenized=True), tokens_column, tags_column, strict=True)
        for row, (item_id, tokens, tags) in enumerate(rows, 1):
            place = _Row(self.source, row, {})
            if not isinstance(tokens, list) or not tokens:
                raise place.fail(
                    columns.tokens, f"expected a non-empty list of tokens, got {tokens!r}"
                )
            for i, token in enumerate(tokens):
                if not isinstance(token, str) or not token or any(c.isspace() for c in token):
                    raise place.fail(
                        f"{columns.tokens}[{i}]",
                        f"expected a token without white space, got {token!r}",
                    )
            if not isinstance(tags, list) or len(tags) != len(tokens):
                got = len(tags) if isinstance(tags, list) else repr(tags)
                raise place.fail(
                    columns.tags, f"expected {len(tokens)} tags (one per token), got {got}"
                )
            strings = [
                self._tag(place, f"{columns.tags}[{i}]", t, names) for i, t in enumerate(tags)
            ]
            for i, tag in enumerate(strings):  # a tag outside the scheme, named by its index
                try:
                    decode([tag], mode=mode, scheme=columns.scheme)
                except ValueError as err:
                    raise place.fail(f"{columns.tags}[{i}]", str(err)) from None
            offsets = token_offsets(tokens)
            for first, last, label in decode(strings, mode=mode, scheme=columns.scheme):
                if declared is not None and label not in declared:
                    raise place.fail(
                        f"{columns.tags}[{first}]",
                        f"entity type {label!r} is not one of {', '.join(declared)}",
                    )
                found.add(label)
                spans.append((item_id, offsets[first][0], offsets[last - 1][1], label))
            items.append(TextItem(item_id, " ".join(tokens)))
        labels = declared if declared is not None else tuple(sorted(found))
        return NerGold(tuple(items), tuple(spans), labels, tokenized=True)

    def _declared_labels(self, names: list[str] | None) -> tuple[str, ...] | None:
        """``ner.labels``, else the entity types of the tag names, else None (those found)."""
        if self.ner_columns.labels is not None:
            return tuple(self.ner_columns.labels)
        if names is None:
            return None
        types: dict[str, None] = {}
        for name in names:
            try:
                types |= {label: None for _, _, label in decode([name])}
            except ValueError as err:
                raise HfDataError(
                    f"{self.source}: tag names of {self.ner_columns.tags}: {err}"
                ) from None
        return tuple(types)

    @staticmethod
    def _tag(place: _Row, field: str, tag: Any, names: list[str] | None) -> str:
        if names is None:
            if not isinstance(tag, str):
                raise place.fail(
                    field, f"expected a tag string (or set dataset.ner.tag_names), got {tag!r}"
                )
            return tag
        if isinstance(tag, bool) or not isinstance(tag, int) or not 0 <= tag < len(names):
            raise place.fail(field, f"expected a tag number in [0, {len(names)}), got {tag!r}")
        return names[tag]

    def _ner_spans(self) -> NerGold:
        column, declared = self.ner_columns.spans, self.ner_columns.labels
        items, spans, found = [], [], set()
        values = self._column(column, "ner.spans")
        rows = zip(self._ids(tokenized=False), self._texts(), values, strict=True)
        for row, (item_id, text, entities) in enumerate(rows, 1):
            if not isinstance(entities, list):
                raise _Row(self.source, row, {}).fail(
                    column, f"expected a list of {{start, end, label}}, got {entities!r}"
                )
            for i, entity in enumerate(entities):
                place = _Row(self.source, row, entity, text, f"{column}[{i}].")
                if not isinstance(entity, dict):
                    raise place.fail("", f"expected {{start, end, label}}, got {entity!r}")
                start, end = place.check_span(
                    "start/end", place.get("start", int), place.get("end", int)
                )
                label = place.get("label", str)
                if declared is not None and label not in declared:
                    raise place.fail("label", f"{label!r} is not one of {', '.join(declared)}")
                found.add(label)
                spans.append((item_id, start, end, label))
            items.append(TextItem(item_id, text))
        labels = tuple(declared) if declared is not None else tuple(sorted(found))
        return NerGold(tuple(items), tuple(spans), labels)

    # ------------------------------------------------------------------ toxicity

    def toxicity(self) -> ToxicityGold:
        import pyarrow as pa

        columns = self.toxicity_columns
        threshold = columns.threshold
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise HfDataError(
                f"dataset.toxicity.threshold={threshold!r}: expected a number in [0, 1]"
            )
        for name in columns.attributes or ():
            if name not in TOXICITY_ATTRIBUTES:
                raise HfDataError(
                    f"dataset.toxicity.attributes: {name!r} is not an attribute bench scores "
                    f"(expected columns named {', '.join(TOXICITY_ATTRIBUTES)})"
                )
        items = self._text_items()
        label = self._flags(columns.label, "toxicity.label", threshold)
        groups = {n: self._flags(n, "toxicity.identities", threshold, empty=False)
                  for n in columns.identities or ()}  # fmt: skip
        attributes = {n: self._flags(n, "toxicity.attributes", threshold)
                      for n in columns.attributes or ()}  # fmt: skip
        pa.default_memory_pool().release_unused()  # the casts' memory: arrow's allocator keeps it
        if label is None or any(v is None for v in (*groups.values(), *attributes.values())):
            self._first_bad_flag(
                columns.label, columns.identities or [], columns.attributes or [], threshold
            )
        return toxicity_gold(
            items,
            label,  # type: ignore[arg-type]  # checked above
            ("row",),
            identities=membership_codes(groups, self.rows),  # type: ignore[arg-type]
            attributes=attributes,  # type: ignore[arg-type]
        )

    def _flags(
        self, column: str, field: str, threshold: float | None, empty: bool | None = None
    ) -> np.ndarray | None:
        """:meth:`_flag` of every row of a boolean or numeric column, told with arrays; None
        when some value is not plainly valid (or the column is of another type): then
        :meth:`_first_bad_flag` names it."""
        import pyarrow as pa

        self._column_names(column, field)
        values = self.data.with_format("arrow")[column]
        kind = values.type
        if not (pa.types.is_boolean(kind) or pa.types.is_integer(kind)
                or pa.types.is_floating(kind)):  # fmt: skip
            return None
        try:
            numbers = values.cast(pa.float64()).to_numpy(zero_copy_only=False)  # null: NaN
        except pa.ArrowInvalid:  # an integer a float cannot hold: out of range
            return None
        missing = np.isnan(numbers)
        if pa.types.is_boolean(kind):
            valid = ~missing
        elif threshold is None:
            valid = (numbers == 0) | (numbers == 1)
        else:
            valid = (numbers >= 0) & (numbers <= 1)
        flags = numbers >= (0.5 if threshold is None or pa.types.is_boolean(kind) else threshold)
        if empty is not None:
            valid |= missing
            flags[missing] = empty
        return flags if bool(valid.all()) else None

    def _first_bad_flag(
        self, label: str, identities: list[str], attributes: list[str], threshold: float | None
    ) -> None:
        """Raise the error of the first row (then column) whose value :meth:`_flag` refuses."""
        labels = self._column(label, "toxicity.label")
        groups = {n: self._column(n, "toxicity.identities") for n in identities}
        scores = {n: self._column(n, "toxicity.attributes") for n in attributes}
        for index in range(self.rows):
            row = index + 1
            self._flag(row, label, labels[index], threshold)
            for name, values in groups.items():
                self._flag(row, name, values[index], threshold, empty=False)
            for name, values in scores.items():
                self._flag(row, name, values[index], threshold)
        raise AssertionError("a column is not plainly valid, yet no row is refused")

    def _flag(
        self, row: int, column: str, value: Any, threshold: float | None, empty: bool | None = None
    ) -> bool:
        """A 0/1 or boolean value, or with ``threshold`` a probability, as a flag; an empty
        value is ``empty`` (identities: not annotated) or, when that is None, an error."""
        place = _Row(self.source, row, {})
        if value is None or (isinstance(value, float) and value != value):  # NaN: an empty CSV cell
            if empty is None:
                raise place.fail(column, "missing value")
            return empty
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if threshold is None and value in (0, 1):
                return bool(value)
            if threshold is not None and 0.0 <= value <= 1.0:
                return value >= threshold
        expected = "0 or 1 (probabilities: set dataset.toxicity.threshold)" if threshold is None \
            else "a probability in [0, 1] or a boolean"  # fmt: skip
        raise place.fail(column, f"expected {expected}, got {value!r}")

    # ------------------------------------------------------------------ attribution

    def attribution(self) -> AttributionGold:
        column = self.attribution_columns.records
        values = self._column(column, "attribution.records")
        items, records, speakers = [], [], {}
        table: dict[str, str] = {}  # normalised name -> speaker, as the scorer resolves names
        rows = zip(self._ids(tokenized=False), self._texts(), values, strict=True)
        for row, (item_id, text, found) in enumerate(rows, 1):
            if not isinstance(found, list):
                raise _Row(self.source, row, {}).fail(
                    column, f"expected a list of records, got {found!r}"
                )
            for i, record in enumerate(found):
                place = _Row(self.source, row, record, text, f"{column}[{i}].")
                if not isinstance(record, dict):
                    raise place.fail("", f"expected an attribution record, got {record!r}")
                records.append(self._attribution(place, item_id))
                speaker = records[-1].speaker
                if speaker is not None and speaker not in speakers:
                    try:
                        add_aliases(table, speaker, ())
                    except ValueError as err:
                        raise place.fail("speaker", str(err)) from None
                    speakers[speaker] = ()
            items.append(TextItem(item_id, text))
        return AttributionGold(tuple(items), tuple(records), tuple(speakers.items()))

    @staticmethod
    def _attribution(place: _Row, item_id: str) -> AttributionRecord:
        """One record ``{content, speaker, cue, source, type}``; all but content may be null."""
        pieces = place.get("content", list)
        if not pieces:
            raise place.fail("content", "expected at least one [start, end] piece")
        data = place.data
        return AttributionRecord(
            item_id,
            tuple(place.span(f"content[{k}]", piece) for k, piece in enumerate(pieces)),
            place.get("speaker", str) if data.get("speaker") is not None else None,
            place.span("cue", data["cue"]) if data.get("cue") is not None else None,
            place.span("source", data["source"]) if data.get("source") is not None else None,
            place.one_of("type", ATTRIBUTION_TYPES) if data.get("type") is not None else None,
        )

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"split": self.split, "rows": self.rows} | self.hub
