"""A predictions file of plain toxicity scores read as columns: ten million
``{"id", "score"}`` lines without a dict, a record and a ``"path:line"`` string each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_ID_BYTES = 64  # longer ids: the record-by-record reader (ids are held at this width)


class ScoreFile:
    """Every line of ``path`` is ``{"id": string, "score": number}`` (no blank line, no
    other field, no duplicate id): the scores in file order and the ids sorted, to find
    an id's line with a binary search."""

    def __init__(self, path: Path, ids: np.ndarray, scores: np.ndarray) -> None:
        self.path, self.scores = path, scores
        self.order = np.argsort(ids, kind="stable")
        self.sorted = ids[self.order]

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
        fixed = np.concatenate([_fixed(chunk, max(width, 1)) for chunk in ids.chunks])
        found = cls(path, fixed, scores.to_numpy())
        del table, ids, scores, fixed
        pa.default_memory_pool().release_unused()  # arrow's allocator keeps freed memory
        if len(found.sorted) > 1 and bool((found.sorted[1:] == found.sorted[:-1]).any()):
            return None  # a duplicate id: named by the record reader
        return found

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """The row (0-based line) of each id, −1 for an id the file lacks."""
        width = self.sorted.dtype.itemsize
        encoded = [i.encode() for i in ids]
        keys = np.array(encoded, dtype=f"S{width}")
        fits = np.fromiter(map(len, encoded), np.int64, len(encoded)) <= width
        fits &= np.fromiter((b"\x00" not in e for e in encoded), bool, len(encoded))
        at = np.searchsorted(self.sorted, keys).clip(max=len(self.sorted) - 1)
        hit = fits & (self.sorted[at] == keys)
        return np.where(hit, self.order[at], -1)

    def unknown(self, ids: Sequence[str]) -> list[str]:
        """The file's ids that are not among ``ids``, sorted."""
        known = np.zeros(len(self.sorted), bool)
        for start in range(0, len(ids), 1 << 20):
            rows = self.rows(ids[start : start + (1 << 20)])
            known[rows[rows >= 0]] = True
        missing = np.sort(self.sorted[~known[self.order]])
        return [i.decode() for i in missing.tolist()]


def _fixed(strings: Any, width: int) -> np.ndarray:
    """An arrow string array as numpy bytes of ``width`` (NUL-padded), read from its
    buffers a million strings at a time (no Python string each)."""
    out = np.zeros((len(strings), width), np.uint8)
    for start in range(0, len(strings), 1 << 20):
        part = strings.slice(start, 1 << 20)
        offsets = np.frombuffer(part.buffers()[1], np.int32)[
            part.offset : part.offset + len(part) + 1
        ]
        data = np.frombuffer(part.buffers()[2], np.uint8)
        lengths = np.diff(offsets)
        rows = np.repeat(np.arange(start, start + len(part)), lengths)
        columns = np.arange(lengths.sum()) - np.repeat(offsets[:-1] - offsets[0], lengths)
        out[rows, columns] = data[offsets[0] : offsets[-1]]
    return out.view(f"S{width}").reshape(-1)
