"""Rows of a ``samples/<task>.jsonl`` file held as columns: millions of scored items
without a dict each, written as JSON Lines chunk by chunk (:func:`jsonl_chunks`); or as
dicts whose strings are all pieces of known texts (:class:`TextPieces`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # what json.dumps(..., ensure_ascii=False) uses
from typing import Any, overload

import numpy as np

ROWS_PER_CHUNK = 100_000


@dataclass(frozen=True)
class Coded:
    """A column of few distinct strings: ``names[codes[i]]`` is row i's value."""

    codes: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)


Column = Sequence[str] | Coded | np.ndarray  # strings (a list, a TextColumn), coded strings,
# or bool/int/float numbers


def _values(column: Column, start: int, stop: int) -> list[Any]:
    """Rows ``start:stop`` of a column as the Python values of its rows."""
    if isinstance(column, Coded):
        return [column.names[k] for k in column.codes[start:stop].tolist()]
    if isinstance(column, np.ndarray):
        return column[start:stop].tolist()
    return list(column[start:stop])


def _json_texts(column: Column, start: int, stop: int) -> list[str]:
    """Rows ``start:stop`` of a column as ``json.dumps(value, ensure_ascii=False)`` gives
    them; NaN and infinities are refused (``ValueError``), as ``allow_nan=False`` does."""
    if isinstance(column, Coded):
        names = [encode_basestring(name) for name in column.names]
        return list(map(names.__getitem__, column.codes[start:stop].tolist()))
    if not isinstance(column, np.ndarray):
        return list(map(encode_basestring, column[start:stop]))
    part = column[start:stop]
    if part.dtype == bool:
        return list(map(("false", "true").__getitem__, part.tolist()))
    if part.dtype.kind == "f":
        if not np.isfinite(part).all():
            raise ValueError("Out of range float values are not JSON compliant")
        return list(map(float.__repr__, part.tolist()))
    return list(map(int.__repr__, part.tolist()))


class ColumnRows(Sequence[dict[str, Any]]):
    """Rows ``{name: value}`` of equal-length ``columns``, then the ``extra`` rows (dicts,
    e.g. the failed items). Iterating yields each row as a dict; ``rows + [dict, …]``
    appends extra rows."""

    def __init__(self, columns: Mapping[str, Column], extra: Sequence[dict[str, Any]] = ()):
        lengths = {len(column) for column in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths {sorted(lengths)}")
        self.columns = dict(columns)
        self.extra = list(extra)
        self.n_columnar = lengths.pop() if lengths else 0

    def __len__(self) -> int:
        return self.n_columnar + len(self.extra)

    def _chunks(self, rows: Callable[[int, int], Iterable[Any]]) -> Iterator[Any]:
        for start in range(0, self.n_columnar, ROWS_PER_CHUNK):
            yield from rows(start, min(start + ROWS_PER_CHUNK, self.n_columnar))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = list(self.columns)

        def rows(start: int, stop: int) -> Iterator[dict[str, Any]]:
            values = [_values(column, start, stop) for column in self.columns.values()]
            return (dict(zip(names, row, strict=True)) for row in zip(*values, strict=True))

        yield from self._chunks(rows)
        yield from self.extra

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        if index >= self.n_columnar:
            return self.extra[index - self.n_columnar]
        return {name: _values(c, index, index + 1)[0] for name, c in self.columns.items()}

    def __add__(self, other: Sequence[dict[str, Any]]) -> ColumnRows:
        return ColumnRows(self.columns, [*self.extra, *other])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, compared by rows

    def __repr__(self) -> str:
        return f"ColumnRows({len(self)} rows: {', '.join(self.columns)})"

    def map_strings(
        self,
        strings: Callable[[Sequence[str]], Sequence[str]],
        rows: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    ) -> ColumnRows:
        """A copy with every string column passed through ``strings`` (a whole column, or
        a coded column's names, at once) and the extra rows through ``rows``."""
        columns = {
            name: Coded(c.codes, tuple(strings(list(c.names)))) if isinstance(c, Coded)
            else c if isinstance(c, np.ndarray) else strings(c)
            for name, c in self.columns.items()
        }  # fmt: skip
        return ColumnRows(columns, rows(self.extra))

    def json_chunks(self) -> Iterator[str]:
        """The rows as JSON Lines text, in chunks of :data:`ROWS_PER_CHUNK` lines, each line
        what ``json.dumps(row, ensure_ascii=False, allow_nan=False)`` gives."""
        keys = [json.dumps(name, ensure_ascii=False).replace("%", "%%") for name in self.columns]
        template = "{" + ", ".join(f"{key}: %s" for key in keys) + "}\n"

        def text(start: int, stop: int) -> Iterator[str]:
            texts = [_json_texts(column, start, stop) for column in self.columns.values()]
            yield "".join(map(template.__mod__, zip(*texts, strict=True)))

        yield from self._chunks(text)
        yield from _dumped(self.extra)


class TextPieces(list[dict[str, Any]]):
    """Sample rows (dicts) each of whose strings is a substring of one of ``texts`` (an
    item's text or id, a label or a segment name of the dataset), so
    :func:`bench.provenance.scrub_secrets` can check ``texts`` once instead of walking
    every row: a secret or credential in a piece is in its text too."""

    def __init__(self, rows: Iterable[dict[str, Any]], texts: Iterable[str]) -> None:
        super().__init__(rows)
        self.texts = list(texts)


SampleRows = list[dict[str, Any]] | ColumnRows
"""A task's sample rows: dicts (a :class:`TextPieces` for NER), or columns read as rows."""


def _dumped(rows: Iterable[Any]) -> Iterator[str]:
    """JSON Lines of ``rows`` (any JSON values), :data:`ROWS_PER_CHUNK` lines a chunk."""
    chunk: list[str] = []
    for row in rows:
        chunk.append(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def jsonl_chunks(rows: Iterable[Any]) -> Iterator[str]:
    """``rows`` as JSON Lines text in chunks: a :class:`ColumnRows` formatted column by
    column, anything else one ``json.dumps`` per row."""
    return rows.json_chunks() if isinstance(rows, ColumnRows) else _dumped(rows)
