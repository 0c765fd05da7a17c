"""A predictions file of plain toxicity scores read as columns: ten million
``{"id", "score"}`` lines without a dict, a record and a ``"path:line"`` string each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.items import TextColumn

MAX_ID_BYTES = 64  # longer ids: the record-by-record reader (ids are held at this width)


class ScoreFile:
    """Every line of ``path`` is ``{"id": string, "score": number}`` (no blank line, no
    other field, no duplicate id): the scores in file order and the ids sorted, to find
    an id's line with a binary search."""

    def __init__(self, path: Path, ids: np.ndarray, scores: np.ndarray) -> None:
        self.path, self.scores = path, scores
        self.order = np.argsort(ids, kind="stable")
        self.sorted = ids[self.order]
        self.answered = np.zeros(len(scores), bool)  # rows :meth:`answer` has found

    @classmethod
    def read(cls, path: Path) -> ScoreFile | None:
        """The file as columns; None unless every line is a plain record as above (the
        record-by-record reader then reads it, and names any bad line)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.json as pj

        with path.open("rb") as handle:  # a blank line would shift the line numbers
            tail = b"\n"
            while chunk := handle.read(1 << 24):
                if b"\n\n" in tail + chunk or b"\r" in chunk:
                    return None
                tail = chunk[-1:]
        schema = pa.schema([("id", pa.string()), ("score", pa.float64())])
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        try:
            table = pj.read_json(path, parse_options=options)
        except (pa.ArrowInvalid, OSError):
            return None
        ids, scores = table.column("id"), table.column("score")
        if ids.null_count or scores.null_count or len(ids) == 0:
            return None
        width = int(pc.max(pc.binary_length(ids)).as_py())
        if width > MAX_ID_BYTES or pc.any(pc.match_substring(ids, "\x00")).as_py():
            return None  # numpy fixed-width bytes drop trailing NULs
        fixed = TextColumn.of_arrow(ids).fixed(width)[0]
        found = cls(path, fixed, scores.to_numpy())
        del table, ids, scores, fixed
        pa.default_memory_pool().release_unused()  # arrow's allocator keeps freed memory
        if len(found.sorted) > 1 and bool((found.sorted[1:] == found.sorted[:-1]).any()):
            return None  # a duplicate id: named by the record reader
        return found

    def rows(self, ids: Sequence[str] | TextColumn) -> np.ndarray:
        """The row (0-based line) of each id, −1 for an id the file lacks."""
        column = ids if isinstance(ids, TextColumn) else TextColumn.of(ids)
        keys, exact = column.fixed(self.sorted.dtype.itemsize)
        at = np.searchsorted(self.sorted, keys).clip(max=len(self.sorted) - 1)
        hit = exact & (self.sorted[at] == keys)
        return np.where(hit, self.order[at], -1)

    def answer(self, ids: Sequence[str] | TextColumn) -> np.ndarray:
        """:meth:`rows`, remembered: the rows found are among the ids :meth:`unknown` is
        asked about (the items of the task being answered)."""
        rows = self.rows(ids)
        self.answered[rows[rows >= 0]] = True
        return rows

    def unknown(self, ids: Sequence[str] | TextColumn) -> list[str]:
        """The file's ids that are not among ``ids`` (the task's items, which :meth:`answer`
        was asked about), sorted: looked up only when some row was not answered (e.g. an
        item answered from the prediction cache)."""
        known = self.answered.copy()
        if known.all():
            return []
        column = ids if isinstance(ids, TextColumn) else TextColumn.of(ids)
        for start in range(0, len(column), 1 << 16):
            rows = self.rows(column.part(start, start + (1 << 16)))
            known[rows[rows >= 0]] = True
        missing = np.sort(self.sorted[~known[self.order]])
        return [i.decode() for i in missing.tolist()]
