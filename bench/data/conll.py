"""CoNLL token files: strict reading and NER datasets built from them.

A file is one token per line, columns separated by tabs or spaces, the tag in
the last column; a blank line ends a sentence. CRLF line ends and a missing
final blank line are accepted; ``-DOCSTART-`` lines are skipped. A line with a
different number of columns than the file's first token line is an error that
names the file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, overload

import numpy as np

from bench.data.dataset import Dataset
from bench.data.views import NerGold
from bench.predictions import TextItem, UnusableInput
from bench.resources import resource_dir
from bench.text_files import decode_utf8


class ConllError(UnusableInput):
    """A CoNLL file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class ConllSentence:
    line: int  # line number of the first token
    tokens: tuple[str, ...]
    tags: list[str]
    lines: tuple[int, ...] = ()  # line number of each token (empty: consecutive from ``line``)

    def line_of(self, index: int) -> int:
        """Line number of the ``index``-th token (0-based)."""
        return self.lines[index] if self.lines else self.line + index

    def entities(self, source: str = "<text>") -> list[tuple[int, int, str]]:
        """Token spans ``(start, end, type)`` of the entities (end exclusive), decoded as
        conlleval does (:func:`bench.metrics.bio.decode`: an ``I-X`` after ``O`` or another
        type starts an entity); a malformed tag is a :class:`ConllError` naming its line."""
        from bench.metrics.bio import decode  # conlleval / seqeval default mode

        try:
            return decode(self.tags)
        except ValueError:
            raise _tag_error(self.tags, self.line_of, source) from None


def _tag_error(tags: Sequence[str], line_of: Callable[[int], int], source: str) -> ConllError:
    """The error of the first of ``tags`` that does not decode alone, naming its line."""
    from bench.metrics.bio import decode

    bad: dict[str, str] = {}
    for tag in set(tags):
        try:
            decode([tag])
        except ValueError as err:
            bad[tag] = str(err)
    index = next(i for i, tag in enumerate(tags) if tag in bad)
    return ConllError(f"{source}:{line_of(index)}: tag: {bad[tags[index]]}")


class ConllFile(Sequence[ConllSentence]):
    """The sentences of a CoNLL text, held as flat columns: every token in file order as
    its ``starts[i]:ends[i]`` in ``text`` (the tokens joined by single spaces), every tag
    as its code in ``tag_names``, the line of each token, and ``bounds`` (sentence ``k``
    is tokens ``bounds[k]:bounds[k + 1]``). Indexing gives a :class:`ConllSentence`; the
    whole-file methods do the per-token work with numpy, once."""

    def __init__(
        self,
        source: str,
        text: str,
        starts: np.ndarray,
        ends: np.ndarray,
        tag_codes: np.ndarray,
        tag_names: list[str],
        lines: np.ndarray,
        bounds: np.ndarray,
    ) -> None:
        # int32 where the values fit: a large file's columns are held to the end of a run
        narrow = (
            np.int32 if max(len(text), int(lines[-1]) if len(lines) else 0) < 2**31 else np.int64
        )
        self.source, self.text = source, text
        self.starts, self.ends = starts.astype(narrow), ends.astype(narrow)
        self.tag_codes, self.tag_names = tag_codes.astype(np.int32), tag_names
        self.lines, self.bounds = lines.astype(narrow), bounds

    @classmethod
    def of_tokens(
        cls, source: str, tokens: list[str], tags: list[str], lines: np.ndarray, bounds: np.ndarray
    ) -> ConllFile:
        """The file of these tokens and tags."""
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
        ends = np.cumsum(lengths + 1) - 1
        names = list(dict.fromkeys(tags))
        code = {tag: k for k, tag in enumerate(names)}
        codes = np.fromiter(map(code.__getitem__, tags), np.int64, len(tags))
        return cls(source, " ".join(tokens), ends - lengths, ends, codes, names, lines, bounds)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @overload
    def __getitem__(self, index: int) -> ConllSentence: ...
    @overload
    def __getitem__(self, index: slice) -> list[ConllSentence]: ...

    def __getitem__(self, index: int | slice) -> ConllSentence | list[ConllSentence]:
        if isinstance(index, slice):
            return [self[k] for k in range(len(self))[index]]
        k = range(len(self))[index]  # IndexError past the end
        a, b = int(self.bounds[k]), int(self.bounds[k + 1])
        lines = tuple(self.lines[a:b].tolist())
        text, spans = (
            self.text,
            zip(self.starts[a:b].tolist(), self.ends[a:b].tolist(), strict=True),
        )
        tokens = tuple(text[start:end] for start, end in spans)
        return ConllSentence(lines[0], tokens, self.tags(a, b), lines)

    def tags(self, start: int = 0, stop: int | None = None) -> list[str]:
        """The tags of tokens ``start:stop`` (default: all)."""
        return list(map(self.tag_names.__getitem__, self.tag_codes[start:stop].tolist()))

    def line(self, k: int) -> int:
        """Line number of sentence ``k``'s first token."""
        return int(self.lines[self.bounds[k]])

    def texts(self) -> list[str]:
        """Each sentence's tokens joined by single spaces."""
        text, bounds = self.text, self.bounds
        firsts, lasts = self.starts[bounds[:-1]].tolist(), self.ends[bounds[1:] - 1].tolist()
        return [text[a:b] for a, b in zip(firsts, lasts, strict=True)]

    def entities(self) -> tuple[np.ndarray, np.ndarray, list[int], list[int], list[str]]:
        """Every entity, decoded as :meth:`ConllSentence.entities`, as columns: its sentence, its
        first token (an index into the file's tokens), its start and end character in the
        sentence's text, and its type. A malformed tag is a :class:`ConllError` naming
        its line."""
        from bench.metrics.bio import decode_coded_columns  # conlleval / seqeval default mode

        try:
            sentence, first, last, labels = decode_coded_columns(
                self.tag_codes, self.tag_names, np.diff(self.bounds)
            )
        except ValueError:
            raise _tag_error(self.tags(), lambda i: int(self.lines[i]), self.source) from None
        token = self.bounds[sentence] + first
        base = self.starts[self.bounds[sentence]]
        return (sentence, token, (self.starts[token] - base).tolist(),
                (self.ends[token + (last - first) - 1] - base).tolist(), labels)  # fmt: skip


def token_offsets(tokens: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """Each token's character span in the tokens joined by single spaces."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return offsets


def texts_token_offsets(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`token_offsets` of each text split on single spaces, for all the texts at
    once, as columns: every token's start and end, and each text's number of tokens. The
    spaces of the texts joined by one are found in their code points (``str`` indices)
    with numpy."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    counts = np.array([text.count(" ") + 1 for text in texts], dtype=np.int64)
    joined = " ".join(texts)
    code_points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.append(np.flatnonzero(code_points == 32), len(code_points))
    del code_points
    starts = np.concatenate(([0], ends[:-1] + 1))
    steps = np.fromiter(map(len, texts), np.int64, len(texts)) + 1
    base = np.repeat(np.cumsum(steps) - steps, counts)  # where each token's text starts
    return starts - base, ends - base, counts


def sentence_id(number: int) -> str:
    """Item id of the ``number``-th sentence (1-based) of a CoNLL dataset."""
    return f"s{number:05d}"


def sentence_number(item_id: str) -> int | None:
    """Inverse of :func:`sentence_id`; None for an id of another form."""
    return int(item_id[1:]) if item_id[:1] == "s" and item_id[1:].isdigit() else None


def parse_conll(text: str | bytes, source: str = "<text>") -> ConllFile:
    """Sentences of a CoNLL text; errors name ``source`` and the line.

    Whole-text splits instead of a loop over lines: ``text.split()`` is every line's
    ``line.split()`` laid end to end (each line end is white space), so the number of
    columns of each line locates its first (token) and last (tag) column there. A file's
    ``bytes`` whose only white space is spaces, tabs and line ends (``\n``, ``\r\n``)
    are split with numpy, without a string per line or column (:func:`_parse_plain`);
    other bytes are decoded first (a byte that is not UTF-8 is a :class:`ConllError`).
    """
    if isinstance(text, bytes):
        found = _parse_plain(text, source)
        if found is not None:
            return found
        text = decode_utf8(text, source, ConllError)
    lines = text.splitlines()
    widths = np.array([len(line.split()) for line in lines], dtype=np.int64)
    fields = text.split()

    def docstart(firsts: np.ndarray) -> np.ndarray:
        return np.array([fields[i] == "-DOCSTART-" for i in firsts.tolist()], dtype=bool)

    has_docstart = "-DOCSTART-" in text
    rows, first, width, bad = _token_lines(widths, docstart if has_docstart else None)
    if bad is not None:
        raise ConllError(
            f"{source}:{bad + 1}: columns: expected {max(width, 2)} columns "
            f"(token … tag), got {widths[bad]} in {lines[bad]!r}"
        )
    if has_docstart:
        tokens = [fields[i] for i in first.tolist()]
        tags = [fields[i] for i in (first + width - 1).tolist()]
    else:  # ``fields`` holds the token lines only, ``width`` columns each
        tokens, tags = fields[::width], fields[width - 1 :: width]
    return ConllFile.of_tokens(source, tokens, tags, rows + 1, _sentence_bounds(widths, rows))


def _token_lines(
    widths: np.ndarray, docstart: Callable[[np.ndarray], np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, int, int | None]:
    """From each line's number of columns: the lines (0-based) holding a token, the index
    of each such line's first column among all the columns, their number of columns, and
    the first of them with a number unlike the first's or below 2 (None: none).
    ``docstart`` tells which of some first columns are ``-DOCSTART-`` (None: none is)."""
    first = np.cumsum(widths) - widths  # index among the columns of each line's first
    rows = np.flatnonzero(widths)
    if docstart is not None:
        rows = rows[~docstart(first[rows])]
    width = int(widths[rows[0]]) if len(rows) else 2
    bad = np.flatnonzero((widths[rows] < 2) | (widths[rows] != width))
    return rows, first[rows], width, int(rows[bad[0]]) if len(bad) else None


def _sentence_bounds(widths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Where each sentence starts among the token lines ``rows``, then their number: a
    sentence ends at a blank line (a -DOCSTART- line does not end one)."""
    blanks_before = np.cumsum(widths == 0)[rows]
    starts = np.flatnonzero(np.diff(blanks_before, prepend=-1))
    return np.append(starts, len(rows)).astype(np.int64)


# The bytes a plain file splits on: space, tab, CR (before LF only) and LF.
_SPACE = np.isin(np.arange(256), [9, 10, 13, 32])
# What else str.split() and str.splitlines() take for white space or a line end: the other
# ASCII ones, and the others (UTF-8) of "".isspace()
_OTHER_SPACE = "".join(map(chr, [0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0, 0x1680,
                                  *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F,
                                  0x3000]))  # fmt: skip
_OTHER_SPACE_UTF8 = tuple(char.encode() for char in _OTHER_SPACE)  # the 6 ASCII ones first


def _parse_plain(data: bytes, source: str) -> ConllFile | None:
    """:func:`parse_conll` of ``data`` read as bytes, or None where the text path must read
    it: other white space than :data:`_SPACE`, a byte that is not UTF-8, or a bad line
    (whose error the text path gives)."""
    ascii_only = data.isascii()
    others = _OTHER_SPACE_UTF8[:6] if ascii_only else _OTHER_SPACE_UTF8
    if any(char in data for char in others) or data.count(b"\r") != data.count(b"\r\n"):
        return None
    if not ascii_only:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    b = np.frombuffer(data, dtype=np.uint8)
    edges = np.flatnonzero(np.diff(_SPACE[b], prepend=True, append=True))
    starts, ends = edges[0::2], edges[1::2]  # each column's bytes, in file order
    line_ends = np.append(np.flatnonzero(b == 10), len(b))  # a last line without LF
    n_lines = len(line_ends) - 1 + (len(b) > 0 and b[-1] != 10)
    widths = np.diff(np.searchsorted(starts, line_ends[:n_lines]), prepend=0)
    del line_ends
    docstart = partial(_docstart, data, starts, ends) if b"-DOCSTART-" in data else None
    rows, first, width, bad = _token_lines(widths, docstart)
    if bad is not None:
        return None
    if len(first) * width == len(starts):  # every column is a token line's: no copies
        columns: list[Any] = [slice(0, None, width), slice(width - 1, None, width)]
    else:
        columns = [first, first + width - 1]
    del first
    codes, tag_names = _distinct(data, starts[columns[1]], ends[columns[1]])
    text, char_starts, char_ends = _joined(b, starts[columns[0]], ends[columns[0]], ascii_only)
    del edges, starts, ends
    bounds = _sentence_bounds(widths, rows)
    return ConllFile(source, text, char_starts, char_ends, codes, tag_names, rows + 1, bounds)


def _docstart(data: bytes, starts: np.ndarray, ends: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """Which of the columns ``firsts`` (bytes ``starts[i]:ends[i]`` of ``data``) are
    ``-DOCSTART-``."""
    found: np.ndarray = ends[firsts] - starts[firsts] == 10
    maybe = np.flatnonzero(found)
    found[maybe] = [data[a : a + 10] == b"-DOCSTART-" for a in starts[firsts[maybe]].tolist()]
    return found


def _joined(
    b: np.ndarray, starts: np.ndarray, ends: np.ndarray, ascii_only: bool
) -> tuple[str, np.ndarray, np.ndarray]:
    """The pieces ``b[starts[i]:ends[i]]`` (each followed by a white space byte) joined by
    single spaces, decoded, and each piece's start and end (characters) there."""
    inside = np.zeros(len(b) + 1, dtype=np.int8)
    inside[starts], inside[ends] = 1, -1
    keep = np.cumsum(inside[:-1], dtype=np.int8).view(bool)
    del inside
    keep[ends[:-1]] = True  # the byte after a piece: a space between it and the next
    joined = b[keep]
    del keep
    lengths = ends - starts
    piece_ends = np.cumsum(lengths + 1) - 1
    joined[piece_ends[:-1]] = 32
    piece_starts = piece_ends - lengths
    if not ascii_only:  # bytes to characters: a character is one byte not 10xxxxxx
        characters = np.concatenate(([0], np.cumsum((joined & 0xC0) != 0x80)))
        piece_starts, piece_ends = characters[piece_starts], characters[piece_ends]
    return joined.tobytes().decode("utf-8"), piece_starts, piece_ends


def _distinct(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A code for each piece ``data[starts[i]:ends[i]]`` (any order of codes), and the
    decoded piece of each code. A piece of up to 7 bytes is its own key (its bytes and
    length in 64 bits); longer ones are hashed 8 bytes at a time, and the hash checked
    against their bytes."""
    padded = np.frombuffer(data + bytes(8), dtype=np.uint8)
    words = np.ndarray((len(data),), dtype="<u8", buffer=padded, strides=(1,))  # 8 bytes at i
    lengths, last = ends - starts, max(len(data) - 1, 0)
    longest = int(lengths.max(initial=0))

    def word(at: np.ndarray, k: int) -> np.ndarray:  # bytes k … k + 7 of each piece
        return _first_bytes(words[np.minimum(at + k, last)], lengths - k)

    key = lengths.astype(np.uint64) << np.uint64(56)
    for k in range(0, longest, 8):  # a collision is caught below
        key = key * _HASH_FACTOR ^ word(starts, k)
    distinct = np.unique(key)
    codes = np.searchsorted(distinct, key)
    del key
    firsts = np.empty(len(distinct), dtype=np.int64)
    firsts[codes] = np.arange(len(codes))  # a piece of each code
    if longest > 7:
        same = lengths == lengths[firsts][codes]
        firsts_at = starts[firsts][codes]
        for k in range(0, longest, 8):
            same &= word(starts, k) == word(firsts_at, k)
        if not same.all():  # two pieces of one hash: code them in Python
            pieces = [data[a:e] for a, e in zip(starts.tolist(), ends.tolist(), strict=True)]
            names = list(dict.fromkeys(pieces))
            code = {piece: k for k, piece in enumerate(names)}
            codes = np.fromiter(map(code.__getitem__, pieces), np.int64, len(pieces))
            return codes, [name.decode("utf-8") for name in names]
    shown = zip(starts[firsts].tolist(), ends[firsts].tolist(), strict=True)
    return codes, [data[a:e].decode("utf-8") for a, e in shown]


_HASH_FACTOR = np.uint64(0x100000001B3)  # FNV-1's prime
# the low n bytes of a little-endian word (n = 0 … 8)
_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)


def _first_bytes(words: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Each word's first ``n`` bytes (``n`` clipped to 0 … 8), the rest zero."""
    first: np.ndarray = words & _LOW_BYTES[np.minimum(np.maximum(n, 0), 8)]
    return first


def read_conll(path: str | Path) -> ConllFile:
    path = Path(path)
    if not path.is_file():
        raise ConllError(f"{path}: file not found")
    return parse_conll(path.read_bytes(), str(path))


class ConllNer(Dataset):
    """An NER test set in CoNLL format (e.g. WNUT-17), one item per sentence."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner"})

    def __init__(
        self, name: str, file: str, labels: list[str], path: str | None = None, version: str = ""
    ) -> None:
        directory = Path(path) if path else resource_dir("datasets") / name
        self.file = directory / file
        self.name, self.version = name, version
        self.labels = tuple(labels)
        self.sentences = read_conll(self.file)
        self.verify({file: self.file})
        self.sha256 = self.files[file]

    def ner(self) -> NerGold:
        conll = self.sentences
        ids = [sentence_id(number) for number in range(1, len(conll) + 1)]
        items = tuple(map(TextItem, ids, conll.texts()))
        sentence, token, starts, ends, labels = conll.entities()
        unknown = next((k for k, label in enumerate(labels) if label not in self.labels), None)
        if unknown is not None:  # an entity's tokens share its type: cite the first
            raise ConllError(
                f"{self.file}:{conll.lines[token[unknown]]}: tag: unknown entity type "
                f"{labels[unknown]!r}"
            )
        spans = zip(map(ids.__getitem__, sentence.tolist()), starts, ends, labels, strict=True)
        return NerGold(items, tuple(spans), self.labels, tokenized=True)
