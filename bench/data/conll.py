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
from pathlib import Path
from typing import ClassVar, overload

import numpy as np

from bench.data.dataset import Dataset
from bench.data.views import NerGold
from bench.predictions import TextItem, UnusableInput
from bench.resources import resource_dir
from bench.text_files import read_utf8


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
    """The sentences of a CoNLL text, held as flat columns: every token and tag in file
    order, the line of each token, and ``bounds`` (sentence ``k`` is tokens
    ``bounds[k]:bounds[k + 1]``). Indexing gives a :class:`ConllSentence`; the
    whole-file methods do the per-token work with numpy, once."""

    def __init__(
        self, source: str, tokens: list[str], tags: list[str], lines: np.ndarray, bounds: np.ndarray
    ) -> None:
        self.source, self.tokens, self.tags = source, tokens, tags
        self.lines, self.bounds = lines, bounds

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
        return ConllSentence(lines[0], tuple(self.tokens[a:b]), self.tags[a:b], lines)

    def line(self, k: int) -> int:
        """Line number of sentence ``k``'s first token."""
        return int(self.lines[self.bounds[k]])

    def texts(self) -> list[str]:
        """Each sentence's tokens joined by single spaces."""
        tokens, bounds = self.tokens, self.bounds.tolist()
        return [" ".join(tokens[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def entities(self) -> tuple[np.ndarray, np.ndarray, list[int], list[int], list[str]]:
        """Every entity, decoded as :meth:`ConllSentence.entities`, as columns: its sentence, its
        first token (an index into :attr:`tokens`), its start and end character in the
        sentence's text, and its type. A malformed tag is a :class:`ConllError` naming
        its line."""
        from bench.metrics.bio import decode_columns  # conlleval / seqeval default mode

        tags, bounds = self.tags, self.bounds.tolist()
        try:
            sentence, first, last, labels = decode_columns(
                [tags[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            )
        except ValueError:
            raise _tag_error(tags, lambda i: int(self.lines[i]), self.source) from None
        lengths = np.fromiter(map(len, self.tokens), np.int64, len(self.tokens))
        ends = np.cumsum(lengths + 1) - 1  # in all the sentences' texts joined by spaces
        starts = ends - lengths
        token = self.bounds[sentence] + first
        base = starts[self.bounds[sentence]]
        return (sentence, token, (starts[token] - base).tolist(),
                (ends[token + (last - first) - 1] - base).tolist(), labels)  # fmt: skip


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


def parse_conll(text: str, source: str = "<text>") -> ConllFile:
    """Sentences of a CoNLL text; errors name ``source`` and the line.

    Whole-text splits instead of a loop over lines: ``text.split()`` is every line's
    ``line.split()`` laid end to end (each line end is white space), so the number of
    columns of each line locates its first (token) and last (tag) column there.
    """
    lines = text.splitlines()
    widths = np.array([len(line.split()) for line in lines], dtype=np.int64)
    fields = text.split()
    first = np.cumsum(widths) - widths  # index in ``fields`` of each line's first column
    rows = np.flatnonzero(widths)
    docstart = "-DOCSTART-" in text
    if docstart:
        rows = rows[[fields[i] != "-DOCSTART-" for i in first[rows].tolist()]]
    width = int(widths[rows[0]]) if len(rows) else 2
    bad = np.flatnonzero((widths[rows] < 2) | (widths[rows] != width))
    if len(bad):
        line = int(rows[bad[0]])
        raise ConllError(
            f"{source}:{line + 1}: columns: expected {max(width, 2)} columns "
            f"(token … tag), got {widths[line]} in {lines[line]!r}"
        )
    if docstart:
        tokens = [fields[i] for i in first[rows].tolist()]
        tags = [fields[i] for i in (first[rows] + widths[rows] - 1).tolist()]
    else:  # ``fields`` holds the token lines only, ``width`` columns each
        tokens, tags = fields[::width], fields[width - 1 :: width]
    # a sentence ends at a blank line (a -DOCSTART- line does not end one)
    blanks_before = np.cumsum(widths == 0)[rows]
    starts = np.flatnonzero(np.diff(blanks_before, prepend=-1))
    bounds = np.append(starts, len(rows)).astype(np.int64)
    return ConllFile(source, tokens, tags, rows + 1, bounds)


def read_conll(path: str | Path) -> ConllFile:
    path = Path(path)
    if not path.is_file():
        raise ConllError(f"{path}: file not found")
    return parse_conll(read_utf8(path, ConllError), str(path))


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
