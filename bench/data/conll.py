"""CoNLL token files: strict reading and NER datasets built from them.

A file is one token per line, columns separated by tabs or spaces, the tag in
the last column; a blank line ends a sentence. CRLF line ends and a missing
final blank line are accepted; ``-DOCSTART-`` lines are skipped. A line with a
different number of columns than the file's first token line is an error that
names the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bench.data.dataset import Dataset
from bench.data.views import NerGold
from bench.predictions import TextItem
from bench.resources import resource_dir
from bench.text_files import read_utf8


class ConllError(ValueError):
    """A CoNLL file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class ConllSentence:
    line: int  # line number of the first token
    tokens: tuple[str, ...]
    columns: tuple[tuple[str, ...], ...]  # every column of every token line
    lines: tuple[int, ...] = ()  # line number of each token (empty: consecutive from ``line``)

    @property
    def tags(self) -> list[str]:
        return [row[-1] for row in self.columns]

    def line_of(self, index: int) -> int:
        """Line number of the ``index``-th token (0-based)."""
        return self.lines[index] if self.lines else self.line + index

    def entities(self, source: str = "<text>") -> list[tuple[int, int, str]]:
        """Token spans ``(start, end, type)`` of the entities (end exclusive), decoded as
        :func:`spans_from_tags`; a malformed tag is a :class:`ConllError` naming its line."""
        from bench.metrics.bio import decode  # conlleval / seqeval default mode

        tags = self.tags
        try:
            return decode(tags)
        except ValueError:
            for index, tag in enumerate(tags):
                try:
                    decode([tag])
                except ValueError as err:
                    raise ConllError(f"{source}:{self.line_of(index)}: tag: {err}") from None
            raise

    def text_and_offsets(self) -> tuple[str, list[tuple[int, int]]]:
        """The tokens joined by single spaces, and each token's character span."""
        return " ".join(self.tokens), token_offsets(self.tokens)


def token_offsets(tokens: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """Each token's character span in the tokens joined by single spaces."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return offsets


def sentence_id(number: int) -> str:
    """Item id of the ``number``-th sentence (1-based) of a CoNLL dataset."""
    return f"s{number:05d}"


def sentence_number(item_id: str) -> int | None:
    """Inverse of :func:`sentence_id`; None for an id of another form."""
    return int(item_id[1:]) if item_id[:1] == "s" and item_id[1:].isdigit() else None


def parse_conll(text: str, source: str = "<text>") -> list[ConllSentence]:
    """Sentences of a CoNLL text; errors name ``source`` and the line."""
    sentences: list[ConllSentence] = []
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    width: int | None = None
    for line_no, line in enumerate(text.splitlines(), 1):
        columns = tuple(line.split())
        if not columns:
            if rows:
                sentences.append(_sentence(rows, lines))
            rows, lines = [], []
            continue
        if columns[0] == "-DOCSTART-":
            continue
        width = width or len(columns)
        if len(columns) < 2 or len(columns) != width:
            raise ConllError(
                f"{source}:{line_no}: columns: expected {max(width, 2)} columns "
                f"(token … tag), got {len(columns)} in {line!r}"
            )
        rows.append(columns)
        lines.append(line_no)
    if rows:  # no final blank line
        sentences.append(_sentence(rows, lines))
    return sentences


def _sentence(rows: list[tuple[str, ...]], lines: list[int]) -> ConllSentence:
    return ConllSentence(lines[0], tuple(r[0] for r in rows), tuple(rows), tuple(lines))


def read_conll(path: str | Path) -> list[ConllSentence]:
    path = Path(path)
    if not path.is_file():
        raise ConllError(f"{path}: file not found")
    return parse_conll(read_utf8(path, ConllError), str(path))


def spans_from_tags(tags: list[str], offsets: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Character spans ``(start, end, type)`` of the entities in a tag sequence.

    Decoded as conlleval does (an ``I-X`` after ``O`` or another type starts an entity).
    """
    from bench.metrics.bio import decode  # conlleval / seqeval default mode

    return [(offsets[i][0], offsets[j - 1][1], label) for i, j, label in decode(tags)]


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
        items, spans = [], []
        for number, sentence in enumerate(self.sentences, 1):
            item_id = sentence_id(number)
            text, offsets = sentence.text_and_offsets()
            items.append(TextItem(item_id, text))
            for first, last, label in sentence.entities(str(self.file)):
                if label not in self.labels:  # an entity's tokens share its type: cite the first
                    raise ConllError(
                        f"{self.file}:{sentence.line_of(first)}: tag: unknown entity type {label!r}"
                    )
                spans.append((item_id, offsets[first][0], offsets[last - 1][1], label))
        return NerGold(tuple(items), tuple(spans), self.labels, tokenized=True)
