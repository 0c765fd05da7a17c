"""Millions of items without an object each: strings in one buffer (:class:`TextColumn`)
and the items of a dataset view as two such columns (:class:`TextItems`), handing out a
:class:`~bench.predictions.TextItem` only for the items asked for (a batch)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from bench.predictions import TextItem


class TextColumn(Sequence[str]):
    """Strings held as one UTF-8 buffer and the byte offset of each string's end:
    ~1 byte a character and 8 an entry, where a list holds ~60 bytes a string."""

    __slots__ = ("data", "ends")

    def __init__(self, data: bytes, ends: np.ndarray) -> None:
        self.data, self.ends = data, ends

    @classmethod
    def of(cls, strings: Sequence[str]) -> TextColumn:
        """The column of ``strings`` (read twice: the text, then each one's length)."""
        joined = "".join(strings)
        data = joined.encode()
        sizes = map(len, strings) if len(data) == len(joined) else (  # ASCII: bytes = chars
            len(s.encode()) for s in strings)  # fmt: skip
        return cls(data, np.cumsum(np.fromiter(sizes, np.int64, len(strings))))

    @classmethod
    def of_chunks(cls, chunks: Iterable[Sequence[str]]) -> TextColumn:
        """The column of the strings of ``chunks`` (one chunk held as strings at a time)."""
        return cls.joined([cls.of(chunk) for chunk in chunks])

    @classmethod
    def of_arrow(cls, strings: Any) -> TextColumn:
        """The column of an arrow ``string`` or ``large_string`` array (or chunked array)
        without nulls, read from its buffers (no Python string each)."""
        import pyarrow as pa

        if isinstance(strings, pa.ChunkedArray):
            return cls.joined([cls.of_arrow(chunk) for chunk in strings.chunks])
        wide = pa.types.is_large_string(strings.type)
        offsets = np.frombuffer(strings.buffers()[1], np.int64 if wide else np.int32)[
            strings.offset : strings.offset + len(strings) + 1
        ]
        buffer = strings.buffers()[2]  # None when every string is empty
        data = b"" if buffer is None else bytes(memoryview(buffer)[offsets[0] : offsets[-1]])
        return cls(data, (offsets[1:] - offsets[0]).astype(np.int64))

    @classmethod
    def joined(cls, parts: Sequence[TextColumn]) -> TextColumn:
        """The strings of ``parts``, one column after the other."""
        shift = np.cumsum([0, *(len(part.data) for part in parts)])[:-1]
        ends = [part.ends + offset for part, offset in zip(parts, shift.tolist(), strict=True)]
        data = b"".join(part.data for part in parts)
        return cls(data, np.concatenate(ends) if ends else np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.ends)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self.strings(*index.indices(len(self))[:2])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("string index out of range")
        start = int(self.ends[index - 1]) if index else 0
        return self.data[start : int(self.ends[index])].decode()

    def strings(self, start: int, stop: int) -> list[str]:
        """Strings ``start:stop`` (decoded together: one call, not one per string)."""
        if stop <= start:
            return []
        first = int(self.ends[start - 1]) if start else 0
        ends = (self.ends[start:stop] - first).tolist()
        piece = self.data[first : first + ends[-1]]
        if piece.isascii():
            text = piece.decode()
            return [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        return [piece[a:b].decode() for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), 100_000):
            yield from self.strings(start, min(start + 100_000, len(self)))

    def part(self, start: int, stop: int) -> TextColumn:
        """Strings ``start:stop`` as a column (one slice of the buffer)."""
        start, stop = max(start, 0), max(min(stop, len(self)), start)
        first = int(self.ends[start - 1]) if start else 0
        last = int(self.ends[stop - 1]) if stop > start else first
        return TextColumn(self.data[first:last], self.ends[start:stop] - first)

    def graphic(self) -> np.ndarray:
        """Whether each string holds a printable ASCII character other than the space (so
        that ``str.strip()`` leaves it non-empty); False says nothing."""
        raw = np.frombuffer(self.data, np.uint8)
        starts = np.concatenate([[0], self.ends[:-1]]).astype(np.int64)
        found = np.zeros(len(self), bool)
        some = self.ends > starts  # reduceat reads an empty string's next byte: left out
        if some.any():
            found[some] = np.logical_or.reduceat((raw > 0x20) & (raw < 0x7F), starts[some])
        return found

    def fixed(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """The strings' UTF-8 bytes as numpy bytes of ``width`` (NUL-padded) and whether each
        is held exactly (not longer than ``width``, no NUL, which numpy would drop)."""
        width = max(width, 1)
        starts = np.concatenate([[0], self.ends[:-1]]).astype(np.int64)
        sizes = self.ends - starts
        raw = np.frombuffer(self.data, np.uint8)
        nul = np.zeros(len(self), bool)
        nul[np.searchsorted(self.ends, np.flatnonzero(raw == 0), side="right")] = True
        out = np.zeros((len(self), width), np.uint8)
        for a in range(0, len(self), 1 << 16):  # bounded temporaries: 8 bytes a byte copied
            b = min(a + (1 << 16), len(self))
            kept = np.minimum(sizes[a:b], width)  # string i's first bytes go to row i
            within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
            rows = np.repeat(np.arange(b - a) * width, kept)
            out[a:b].reshape(-1)[rows + within] = raw[np.repeat(starts[a:b], kept) + within]
        return out.view(f"S{width}").reshape(-1), (sizes <= width) & ~nul

    def take(self, indices: np.ndarray) -> TextColumn:
        """The strings at ``indices``, in that order, as a column."""
        ends = self.ends
        starts = np.concatenate([[0], ends[:-1]])[indices]
        sizes = ends[indices] - starts
        new_ends = np.cumsum(sizes)
        # byte k of the result is byte starts[i] + (k - new start of i) of this buffer
        offset = np.repeat(starts - (new_ends - sizes), sizes)
        picked = np.frombuffer(self.data, np.uint8)[offset + np.arange(offset.size)]
        return TextColumn(picked.tobytes(), new_ends)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TextColumn):
            return self.data == other.data and np.array_equal(self.ends, other.ends)
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TextColumn({len(self)} strings, {len(self.data)} bytes)"


class TextItems(Sequence[TextItem]):
    """The items of a view: ids and texts as columns, a :class:`TextItem` made per item
    asked for. A subset (:meth:`take`) knows the ``positions`` of its items in the view it
    was taken from (its ``base``), so a task finds their gold without looking up ids."""

    __slots__ = ("_positions", "base", "ids", "texts")

    def __init__(
        self,
        ids: TextColumn,
        texts: TextColumn,
        base: TextItems | None = None,
        positions: np.ndarray | None = None,
    ) -> None:
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        self.ids, self.texts = ids, texts
        self.base = self if base is None else base
        self._positions = positions  # None: 0 … n−1, not held (80 MB at 10 M items)

    @property
    def positions(self) -> np.ndarray:
        """Where the items are in :attr:`base`."""
        return np.arange(len(self)) if self._positions is None else self._positions

    @classmethod
    def of(cls, items: Iterable[TextItem]) -> TextItems:
        items = list(items)
        return cls(TextColumn.of([i.id for i in items]), TextColumn.of([i.text for i in items]))

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> TextItem: ...
    @overload
    def __getitem__(self, index: slice) -> list[TextItem]: ...

    def __getitem__(self, index: int | slice) -> TextItem | list[TextItem]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[k] for k in range(start, stop, step)]
            return self.batch(start, stop)
        return TextItem(self.ids[index], self.texts[index])

    def batch(self, start: int, stop: int) -> list[TextItem]:
        """Items ``start:stop`` as objects (what an adapter is given)."""
        return list(map(TextItem, self.ids.strings(start, stop), self.texts.strings(start, stop)))

    def __iter__(self) -> Iterator[TextItem]:
        for start in range(0, len(self), 100_000):
            yield from self.batch(start, min(start + 100_000, len(self)))

    def part(self, start: int, stop: int) -> TextItems:
        """Items ``start:stop`` as columns (the usual batch: slices of the buffers)."""
        positions = (np.arange(start, stop) if self._positions is None
                     else self._positions[start:stop])  # fmt: skip
        return TextItems(self.ids.part(start, stop), self.texts.part(start, stop), self.base,
                         positions)  # fmt: skip

    def take(self, indices: np.ndarray | Sequence[int]) -> TextItems:
        """The items at ``indices`` (positions in this sequence), in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        positions = indices if self._positions is None else self._positions[indices]
        return TextItems(self.ids.take(indices), self.texts.take(indices), self.base, positions)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TextItems({len(self)} items)"


def take(items: Sequence[TextItem], indices: np.ndarray | Sequence[int]) -> Sequence[TextItem]:
    """The items at ``indices``, in that order: columns of :class:`TextItems` (which keep
    their positions in their view; consecutive indices, the usual batch, read as one
    slice), else a list."""
    indices = np.asarray(indices, dtype=np.int64)
    consecutive = indices.size > 0 and bool((np.diff(indices) == 1).all())
    if isinstance(items, TextItems):
        return (
            items.part(int(indices[0]), int(indices[-1]) + 1)
            if consecutive
            else items.take(indices)
        )
    if consecutive:
        return list(items[int(indices[0]) : int(indices[-1]) + 1])
    return [items[k] for k in indices.tolist()]
