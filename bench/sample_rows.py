"""Rows of a ``samples/<task>.jsonl`` file held as columns: millions of scored items
without a dict each, written as JSON Lines chunk by chunk (:func:`jsonl_chunks`): any
task's (:class:`ColumnRows`) and NER's, whose lists of spans and tokens are columns too
(:class:`NerRows`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
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


_ESCAPED = re.compile(r'[\x00-\x1f"\\]')  # what encode_basestring changes (json.encoder)


def _plain_strings(column: Column, start: int, stop: int) -> list[str] | None:
    """Rows ``start:stop`` of a string column when JSON holds each as it is between quotes
    (no quote, backslash or control character: one scan of the chunk), else None."""
    if isinstance(column, Coded | np.ndarray):
        return None
    strings = column[start:stop]
    return None if _ESCAPED.search("".join(strings)) else list(strings)


def _interleaved(separators: list[str], values: list[list[str]], rows: int) -> str:
    """``separators[0] + values[0][i] + separators[1] + … + separators[-1]`` for each row i,
    joined: every piece laid in one list by strided assignment, then one join (faster
    than a %-template per row)."""
    width = len(separators) + len(values)
    pieces: list[str | None] = [None] * (rows * width)
    for k, separator in enumerate(separators):
        pieces[2 * k :: width] = [separator] * rows
    for k, column in enumerate(values):
        pieces[2 * k + 1 :: width] = column
    return "".join(pieces)  # type: ignore[arg-type]  # every None replaced


class _ChunkedRows(Sequence[dict[str, Any]]):
    """Rows held as columns (:meth:`_rows` and :meth:`_json` of a range of them), then
    the ``extra`` rows (dicts, e.g. the failed items). Iterating yields each row as a
    dict; ``rows + [dict, …]`` appends extra rows; ``json_chunks`` writes them."""

    extra: list[dict[str, Any]]

    @property
    def n_columnar(self) -> int:
        raise NotImplementedError

    def _rows(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        """Columnar rows ``start:stop`` as dicts."""
        raise NotImplementedError

    def _json(self, start: int, stop: int) -> str:
        """Columnar rows ``start:stop`` as JSON Lines."""
        raise NotImplementedError

    def with_extra(self, extra: Sequence[dict[str, Any]]) -> Any:
        """These columnar rows, then ``extra``."""
        raise NotImplementedError

    def _ranges(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.n_columnar, ROWS_PER_CHUNK):
            yield start, min(start + ROWS_PER_CHUNK, self.n_columnar)

    def __len__(self) -> int:
        return self.n_columnar + len(self.extra)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start, stop in self._ranges():
            yield from self._rows(start, stop)
        yield from self.extra

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(len(self))[index]  # IndexError past the end
        if index >= self.n_columnar:
            return self.extra[index - self.n_columnar]
        return next(self._rows(index, index + 1))

    def __add__(self, other: Sequence[dict[str, Any]]) -> Any:
        return self.with_extra([*self.extra, *other])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, compared by rows

    def json_chunks(self) -> Iterator[str]:
        """The rows as JSON Lines text, in chunks of :data:`ROWS_PER_CHUNK` lines, each line
        what ``json.dumps(row, ensure_ascii=False, allow_nan=False)`` gives."""
        for start, stop in self._ranges():
            yield self._json(start, stop)
        yield from _dumped(self.extra)


class ColumnRows(_ChunkedRows):
    """Rows ``{name: value}`` of equal-length ``columns``, then the ``extra`` rows (dicts,
    e.g. the failed items)."""

    def __init__(self, columns: Mapping[str, Column], extra: Sequence[dict[str, Any]] = ()):
        lengths = {len(column) for column in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths {sorted(lengths)}")
        self.columns = dict(columns)
        self.extra = list(extra)
        self._n = lengths.pop() if lengths else 0

    @property
    def n_columnar(self) -> int:
        return self._n

    def _rows(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        names = list(self.columns)
        values = [_values(column, start, stop) for column in self.columns.values()]
        return (dict(zip(names, row, strict=True)) for row in zip(*values, strict=True))

    def with_extra(self, extra: Sequence[dict[str, Any]]) -> ColumnRows:
        return ColumnRows(self.columns, extra)

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

    def _json(self, start: int, stop: int) -> str:
        keys = [json.dumps(name, ensure_ascii=False) for name in self.columns]
        separators = ["{" + f"{keys[0]}: ", *(f", {key}: " for key in keys[1:]), "}\n"]
        values = []
        for k, column in enumerate(self.columns.values()):
            plain = _plain_strings(column, start, stop)
            if plain is None:
                values.append(_json_texts(column, start, stop))
                continue
            separators[k], separators[k + 1] = separators[k] + '"', '"' + separators[k + 1]
            values.append(plain)  # their quotes: in the separators around them
        return _interleaved(separators, values, stop - start)


class NerRows(_ChunkedRows):
    """``samples/ner.jsonl`` rows held as columns, then the ``extra`` rows (dicts, e.g. the
    failed items). Row i is item ``ids[i]``: its gold and predicted spans ``[start, end,
    label, text]`` (``gold``/``pred``: distinct ``(row, start, end, label code)`` rows
    sorted, the label a code into ``labels``, the text a piece of ``item_texts[row]``),
    tp/fp/fn, strict F1, its tokens ``[start, end]`` (``tokens``: every token's start and
    end, and each row's first token then the end, or None off a token dataset) and its
    segments ``[start, end, name]`` where it has some.

    Every string of a columnar row is a piece of one of :attr:`texts`, so
    :func:`bench.provenance.scrub_secrets` can check those once instead of walking every
    row: a secret or credential in a piece is in its text too."""

    def __init__(
        self,
        ids: Sequence[str],
        item_texts: Sequence[str],
        labels: Sequence[str],
        gold: np.ndarray,
        pred: np.ndarray,
        tokens: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        segments: Mapping[str, list[list[Any]]],
        extra: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.ids, self.item_texts, self.labels = list(ids), item_texts, tuple(labels)
        self.gold, self.pred, self.tokens, self.segments = gold, pred, tokens, segments
        self.extra = list(extra)
        n = len(self.ids)
        self.bounds = [np.searchsorted(spans[:, 0], np.arange(n + 1)) for spans in (gold, pred)]
        n_gold, n_pred = (np.diff(bounds) for bounds in self.bounds)
        both = np.concatenate((gold, pred))  # a span in both sets: two equal rows
        both = both[np.lexsort(both.T[::-1])]
        same = (both[1:] == both[:-1]).all(axis=1)
        tp = np.bincount(both[1:][same, 0], minlength=n)
        self.counts = np.column_stack((tp, n_pred - tp, n_gold - tp))
        self.f1 = _f1(tp, n_pred, n_gold)

    @property
    def texts(self) -> list[str]:
        """Every string a columnar row can hold a piece of: an item's text or id, a label,
        a segment's name."""
        names = {row[2] for rows in self.segments.values() for row in rows}
        return list(map(str, [*self.item_texts, *self.ids, *self.labels, *names]))

    def keys(self) -> set[str]:
        """The keys of the columnar rows."""
        keys = {"id", "gold", "pred", "tp", "fp", "fn", "strict_f1"}
        optional = {"tokens": self.tokens, "segments": self.segments}
        return keys | {key for key, held in optional.items() if held}

    @property
    def n_columnar(self) -> int:
        return len(self.ids)

    def _spans(self, which: int, start: int, stop: int, as_json: bool) -> list[Any]:
        """Each of rows ``start:stop``'s gold (``which`` 0) or predicted spans: a list of
        ``[start, end, label, text]`` lists, or its JSON text."""
        spans, bounds = (self.gold, self.pred)[which], self.bounds[which]
        lo, hi = int(bounds[start]), int(bounds[stop])
        rows, starts, ends, codes = spans[lo:hi].T.tolist() if hi > lo else ([],) * 4
        texts, cuts = self.item_texts, (bounds[start : stop + 1] - lo).tolist()
        if not as_json:
            found = [[s, e, self.labels[c], texts[r][s:e]]
                     for r, s, e, c in zip(rows, starts, ends, codes, strict=True)]  # fmt: skip
            return [found[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        names = list(map(encode_basestring, self.labels))
        shown = [_SPAN % (s, e, names[c], encode_basestring(texts[r][s:e]))
                 for r, s, e, c in zip(rows, starts, ends, codes, strict=True)]  # fmt: skip
        return ["[" + ", ".join(shown[a:b]) + "]" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]

    def _tokens(self, start: int, stop: int) -> tuple[list[int], list[int]]:
        """The flat ``start, end, start, end …`` of rows ``start:stop``'s tokens, and where
        each row's run of them starts and ends in it."""
        starts, ends, bounds = self.tokens  # type: ignore[misc]
        lo, hi = int(bounds[start]), int(bounds[stop])
        flat = np.column_stack((starts[lo:hi], ends[lo:hi])).ravel().tolist()
        return flat, (2 * (bounds[start : stop + 1] - lo)).tolist()

    def _rows(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        gold, pred = (self._spans(which, start, stop, as_json=False) for which in (0, 1))
        counts, f1 = self.counts[start:stop].tolist(), self.f1[start:stop].tolist()
        tokens = self._tokens(start, stop) if self.tokens else None
        for i, item_id in enumerate(self.ids[start:stop]):
            tp, fp, fn = counts[i]
            row = {"id": item_id, "gold": gold[i], "pred": pred[i], "tp": tp, "fp": fp,
                   "fn": fn, "strict_f1": f1[i]}  # fmt: skip
            if tokens:
                flat, cuts = tokens
                pairs = flat[cuts[i] : cuts[i + 1]]
                row["tokens"] = [list(pair) for pair in zip(pairs[::2], pairs[1::2], strict=True)]
            if segments := self.segments.get(item_id):
                row["segments"] = [list(segment) for segment in segments]
            yield row

    def with_extra(self, extra: Sequence[dict[str, Any]]) -> NerRows:
        """These columnar rows, then ``extra``."""
        copy = object.__new__(NerRows)
        copy.__dict__.update(self.__dict__, extra=list(extra))
        return copy

    def __repr__(self) -> str:
        return f"NerRows({len(self)} rows)"

    def _json(self, start: int, stop: int) -> str:
        template = _NER_ROW % (', "tokens": %s' if self.tokens else "")
        gold, pred = (self._spans(which, start, stop, as_json=True) for which in (0, 1))
        counts = self.counts[start:stop].tolist()
        columns = [list(map(encode_basestring, self.ids[start:stop])), gold, pred,
                   *zip(*counts, strict=True), self.f1[start:stop].tolist()]  # fmt: skip
        if self.tokens:
            flat, cuts = self._tokens(start, stop)
            columns.append([_pairs(b - a) % tuple(flat[a:b])
                            for a, b in zip(cuts[:-1], cuts[1:], strict=True)])  # fmt: skip
        columns.append([', "segments": ' + json.dumps(segments, ensure_ascii=False)
                        if (segments := self.segments.get(item_id)) else ""
                        for item_id in self.ids[start:stop]])  # fmt: skip
        return "".join(map(template.__mod__, zip(*columns, strict=True)))


# JSON as %-formats: a span (its strings already JSON), a row (its tokens, if any, then
# its segments, if any, at the end)
_SPAN = "[%d, %d, %s, %s]"
_NER_ROW = (
    '{"id": %%s, "gold": %%s, "pred": %%s, "tp": %%d, "fp": %%d, "fn": %%d, '
    '"strict_f1": %%r%s%%s}\n'
)


@lru_cache(maxsize=1024)
def _pairs(n_numbers: int) -> str:
    """The JSON of a list of ``n_numbers / 2`` pairs of integers, as a %-format."""
    return "[" + ", ".join(["[%d, %d]"] * (n_numbers // 2)) + "]"


def _f1(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> np.ndarray:
    """:func:`bench.metrics.values.precision_recall_f1`'s F1 of each row, by the same
    operations in the same order (so to the last bit)."""

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=np.zeros(len(a)), where=b != 0)

    precision, recall = ratio(tp, n_pred), ratio(tp, n_gold)
    return ratio(2 * precision * recall, precision + recall)


SampleRows = list[dict[str, Any]] | ColumnRows | NerRows
"""A task's sample rows: dicts, or columns read as rows."""


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
    return rows.json_chunks() if isinstance(rows, _ChunkedRows) else _dumped(rows)
