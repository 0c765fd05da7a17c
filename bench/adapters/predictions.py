"""Scores precomputed outputs: the route for submissions from people who cannot share a model.

Formats (nothing in a file is ever executed; only JSON and text are parsed):

- ``jsonl``: ``path`` is a folder with ``ner.jsonl``, ``attribution.jsonl`` and/or
  ``toxicity.jsonl`` (the tasks present are the tasks supported), one line per item:
  ``{"id", "entities": [{"start", "end", "label"}]}``,
  ``{"id", "attributions": [{"content": [[s, e], ...], "speaker", "cue", "source", "type"}]}``,
  ``{"id", "score", "attributes": {...}}``. Offsets index the item's text.
  A record ``{"id", "failure": {"reason", "message", "prompt", "raw"}}`` is an item the
  model failed (a :class:`~bench.predictions.PredictionFailure`, as a shard writes it:
  ``prompt`` and ``raw`` may be null).
- ``conll``: ``path`` is a CoNLL file (token … predicted tag; e.g. a shared-task
  system output) aligned sentence by sentence and token by token with the
  dataset's items, whose text is their tokens joined by spaces. With
  ``align="position"`` a sentence whose tokens differ from the gold's (a
  submission that normalised them, ``gt`` → ``get``) is scored by position, as
  conlleval does, provided it has the gold's number of tokens; the differing
  tokens are counted in :meth:`PredictionsAdapter.identity` and reported once
  on stderr.

Every item must have exactly one prediction. An item without one is a failed
item (``missing``, counted against ``max_failure_rate`` like a model's unanswered
item); a duplicate or unknown id, a token that differs from the gold, or a
malformed record is an error naming the file, line and field. So is a record the
task rejects (an unknown label, a score outside [0, 1] …):
:meth:`PredictionsAdapter.source_of` gives the task the file and line of each
item's record (for CoNLL, the line of the entity's first token). Such an error is
an :class:`~bench.predictions.UnusableInput`: the run is refused (``bench`` exits 2
and writes no result).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.adapters.base import LARGE_BATCH, TASKS, Adapter, Batching
from bench.adapters.score_file import ScoreFile
from bench.data.conll import ConllError, ConllSentence, read_conll, sentence_number, token_offsets
from bench.data.gold import sha256_file
from bench.items import TextItems
from bench.predictions import (
    NO_ATTRIBUTES,
    AttributionPrediction,
    EntityPrediction,
    PredictionFailure,
    TextItem,
    ToxicityPrediction,
    ToxicityScores,
    UnusableInput,
)
from bench.text_files import read_utf8


class PredictionsFileError(UnusableInput):
    """A predictions file is malformed; the message names file, line and field."""


def _span(value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise PredictionsFileError(f"{where}: expected [start, end], got {value!r}")
    return value[0], value[1]


def _entity(record: dict[str, Any], where: str) -> EntityPrediction:
    try:
        start, end, label = record["start"], record["end"], record["label"]
    except (KeyError, TypeError):
        raise PredictionsFileError(f"{where}: expected {{start, end, label}}") from None
    return EntityPrediction(start, end, label)


def _attribution(record: dict[str, Any], where: str) -> AttributionPrediction:
    if not isinstance(record, dict) or not isinstance(record.get("content"), list):
        raise PredictionsFileError(f"{where}.content: expected a list of [start, end]")
    content = tuple(_span(p, f"{where}.content[{i}]") for i, p in enumerate(record["content"]))
    return AttributionPrediction(
        content=content,  # type: ignore[arg-type]
        speaker=record.get("speaker"),
        cue=_span(record.get("cue"), f"{where}.cue"),
        source=_span(record.get("source"), f"{where}.source"),
        type=record.get("type"),
    )


def _toxicity(record: dict[str, Any], where: str) -> ToxicityPrediction:
    if "score" not in record:
        raise PredictionsFileError(f"{where}: score: missing")
    attributes = record.get("attributes", {})
    if not isinstance(attributes, dict):
        raise PredictionsFileError(f"{where}: attributes: expected an object")
    return ToxicityPrediction(record["score"], attributes or NO_ATTRIBUTES)


def _entities(rows: list[Any], where: str) -> list[EntityPrediction]:
    return [_entity(row, f"{where}[{i}]") for i, row in enumerate(rows)]


def _attributions(rows: list[Any], where: str) -> list[AttributionPrediction]:
    return [_attribution(row, f"{where}[{i}]") for i, row in enumerate(rows)]


def _failure(record: Any, where: str) -> PredictionFailure:
    if not isinstance(record, dict) or set(record) - {"reason", "message", "prompt", "raw"}:
        raise PredictionsFileError(f"{where}: expected {{reason, message, prompt, raw}}")
    for key in ("reason", "message", "prompt", "raw"):
        value = record.get(key)
        if not isinstance(value, str) and not (value is None and key in ("prompt", "raw")):
            raise PredictionsFileError(f"{where}.{key}: expected a string")
    return PredictionFailure(record["reason"], record["message"], record.get("prompt"),
                             record.get("raw"))  # fmt: skip


# task -> (field holding the list of predictions, or None for one record; parser)
_PARSERS: dict[str, tuple[str | None, Callable[[Any, str], Any]]] = {
    "ner": ("entities", _entities),
    "attribution": ("attributions", _attributions),
    "toxicity": (None, _toxicity),
}
RECORD_FIELDS = {task: field for task, (field, _) in _PARSERS.items()}


class PredictionsAdapter(Adapter):
    """Reads predictions from files instead of calling a model."""

    tasks: ClassVar[frozenset[str]] = frozenset()
    cacheable: ClassVar[bool] = False
    preferred_batching: ClassVar[Batching] = Batching(LARGE_BATCH)

    def __init__(self, path: str, format: str = "jsonl", align: str = "strict") -> None:
        self.path = Path(path)
        if format not in ("jsonl", "conll"):
            raise PredictionsFileError(f"format: expected jsonl or conll, got {format!r}")
        if align not in ("strict", "position"):
            raise PredictionsFileError(f"align: expected strict or position, got {align!r}")
        if align == "position" and format != "conll":
            raise PredictionsFileError("align: position applies to format=conll only")
        self.format, self.align = format, align
        self._digests: dict[str, str] | None = None  # each file's sha256 (identity)
        if not self.path.exists():
            raise PredictionsFileError(f"{self.path}: not found")
        if format == "conll":
            self.tasks = frozenset({"ner"})  # type: ignore[misc]  # per instance, not per class
            self.sentences = read_conll(self.path)
            self._by_sentence: tuple[list[str], list[list[EntityPrediction]]] | None = None
            self._differing: dict[int, int] = {}  # sentence number -> tokens unlike the gold's
            self._aligned: dict[str, int] | None = None  # set once the file has been scored
            return
        self.tasks = frozenset(t for t in TASKS if (self.path / f"{t}.jsonl").is_file())  # type: ignore[misc]  # per instance, not per class
        if not self.tasks:
            raise PredictionsFileError(f"{self.path}: no ner/attribution/toxicity.jsonl")
        self._records: dict[str, dict[str, Any]] = {}
        self._sources: dict[str, dict[str, str]] = {}  # task -> item id -> "path:line"
        self._scores: ScoreFile | None | bool = False  # toxicity as columns; False: not read

    def _score_file(self) -> ScoreFile | None:
        """toxicity.jsonl as columns when every line is a plain ``{"id", "score"}`` record
        (read once); else None, and :meth:`records` reads it record by record."""
        if self._scores is False:
            self._scores = ScoreFile.read(self.path / "toxicity.jsonl")
        return self._scores  # type: ignore[return-value]

    def records(self, task: str) -> dict[str, Any]:
        """The parsed predictions of ``task`` by item id (read on first use)."""
        if task not in self._records:
            self._sources[task] = {}
            self._records[task] = self._read_jsonl(task, self._sources[task])
        return self._records[task]

    def source_of(self, task: str, item_id: str, element: int | None = None) -> str | None:
        """``"path:line"`` of the record holding the prediction for ``item_id``; in a CoNLL
        file, the line of the ``element``-th entity's first token (else the sentence's)."""
        if self.format == "conll":
            number = sentence_number(item_id)
            if number is None or not 0 < number <= len(self.sentences):
                return None
            sentence = self.sentences[number - 1]
            entities = sentence.entities() if element is not None else []
            if element is None or not 0 <= element < len(entities):
                return f"{self.path}:{sentence.line}"
            return f"{self.path}:{sentence.line_of(entities[element][0])}"
        scores = self._score_file() if task == "toxicity" else None
        if scores is not None:
            [row] = scores.rows([item_id]).tolist()
            return f"{scores.path}:{row + 1}" if row >= 0 else None
        return self._sources.get(task, {}).get(item_id)

    def _read_jsonl(self, task: str, sources: dict[str, str]) -> dict[str, Any]:
        """Predictions by item id; ``sources`` receives each id's ``"path:line"``."""
        path = self.path / f"{task}.jsonl"
        field, parse = _PARSERS[task]
        out: dict[str, Any] = {}
        for line_no, line in enumerate(read_utf8(path, PredictionsFileError).splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise PredictionsFileError(f"{where}: (json): {err.msg}") from None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise PredictionsFileError(f"{where}: id: expected an object with a string id")
            if record["id"] in out:
                raise PredictionsFileError(f"{where}: id: duplicate id {record['id']!r}")
            sources[record["id"]] = where
            if "failure" in record:
                out[record["id"]] = _failure(record["failure"], f"{where}: failure")
            elif field is None:
                out[record["id"]] = parse(record, where)
            elif not isinstance(record.get(field), list):
                raise PredictionsFileError(f"{where}: {field}: expected a list")
            else:
                out[record["id"]] = parse(record[field], f"{where}: {field}")
        return out

    def _lookup(self, task: str, items: list[TextItem]) -> list[Any]:
        """The file's prediction of each item; an item without one is a failed item."""
        if task == "toxicity" and self._score_file() is not None:  # from the columns
            return list(self.predict_toxicity_scores(TextItems.of(items)))  # type: ignore[arg-type]
        predictions = self.records(task)
        return [
            predictions[item.id] if item.id in predictions else self._missing(task, item.id)
            for item in items
        ]

    def _missing(self, task: str, item_id: str) -> PredictionFailure:
        return PredictionFailure(
            "missing", f"{self.path / f'{task}.jsonl'}: id: no prediction for item {item_id!r}"
        )

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        if self.format == "jsonl":
            return self._lookup("ner", documents)
        return [self._conll_entities(item) for item in documents]

    def _conll_entities(self, item: TextItem) -> list[EntityPrediction]:
        number = sentence_number(item.id)
        if number is None or not 0 < number <= len(self.sentences):
            raise ConllError(
                f"{self.path}: sentences: the file has {len(self.sentences)} sentences, "
                f"none for item {item.id!r}"
            )
        texts, entities = self._decoded()
        if texts and texts[number - 1] == item.text:  # the gold's tokens: decoded already
            return list(entities[number - 1])
        sentence = self.sentences[number - 1]
        gold = item.text.split(" ")
        pairs = zip(sentence.tokens, gold, strict=False)
        differing = [i for i, (token, gold_token) in enumerate(pairs) if token != gold_token]
        if len(sentence.tokens) != len(gold) or (differing and self.align == "strict"):
            raise ConllError(self._mismatch(sentence, number, gold, differing))
        if differing:
            self._differing[number] = len(differing)
        offsets = token_offsets(gold)  # the gold's characters, whatever the submitted tokens
        return [
            EntityPrediction(offsets[i][0], offsets[j - 1][1], label)
            for i, j, label in sentence.entities(str(self.path))
        ]

    def _decoded(self) -> tuple[list[str], list[list[EntityPrediction]]]:
        """Each sentence's text (its tokens joined by spaces) and entities, in offsets of
        that text, decoded for the whole file at once; none when a tag is malformed (the
        sentences are then decoded one by one, and the one holding it fails)."""
        if self._by_sentence is None:
            conll = self.sentences
            by_sentence: list[list[EntityPrediction]] = [[] for _ in range(len(conll))]
            try:
                sentence, _, starts, ends, labels = conll.entities()
            except ConllError:
                self._by_sentence = [], by_sentence
                return self._by_sentence
            for k, start, end, label in zip(sentence.tolist(), starts, ends, labels, strict=True):
                by_sentence[k].append(EntityPrediction(start, end, label))
            self._by_sentence = conll.texts(), by_sentence
        return self._by_sentence

    def _mismatch(
        self, sentence: ConllSentence, number: int, gold: list[str], differing: list[int]
    ) -> str:
        """The error for a sentence unlike the gold's: its first differing token."""
        tokens = sentence.tokens
        first = differing[0] if differing else min(len(tokens), len(gold))
        # past the submitted sentence's last token: the line that ended it
        line = sentence.line_of(first) if first < len(tokens) else sentence.line_of(first - 1) + 1
        end = "the end of the sentence"
        submitted = repr(tokens[first]) if first < len(tokens) else end
        expected = repr(gold[first]) if first < len(gold) else end
        hint = ""
        if len(tokens) == len(gold):  # only the tokens differ
            hint = "; model.align=position scores it by position"
        elif self.align == "position":
            hint = "; model.align=position needs the gold's number of tokens"
        return (
            f"{self.path}:{line}: token: sentence {number} differs from the gold at token "
            f"{first + 1}: {submitted}, gold {expected} "
            f"({len(tokens)} tokens, gold {len(gold)}){hint}"
        )

    def end_task(self, task: str, items: Sequence[TextItem]) -> None:
        """Every prediction in the file must belong to an item of the dataset."""
        if self.format == "conll":
            if len(self.sentences) != len(items):
                raise ConllError(
                    f"{self.path}: sentences: {len(self.sentences)} sentences, "
                    f"the dataset has {len(items)}"
                )
            if self.align == "position":
                self._aligned = {
                    "tokens_differing": sum(self._differing.values()),
                    "sentences_differing": len(self._differing),
                }
                if self._differing:
                    print(
                        f"bench: warning: {self.path}: {self._aligned['tokens_differing']} tokens "
                        f"in {len(self._differing)} sentences differ from the gold; scored by "
                        "position (model.align=position)",
                        file=sys.stderr,
                    )
            return
        scores = self._score_file() if task == "toxicity" else None
        if scores is not None:
            ids = items.ids if isinstance(items, TextItems) else [item.id for item in items]
            unknown = scores.unknown(ids)
            self._scores = False  # answered: not held while the task scores (read again if asked)
        else:
            unknown = sorted(set(self.records(task)) - {item.id for item in items})
        if unknown:
            raise PredictionsFileError(
                f"{self.path / f'{task}.jsonl'}: id: unknown item {unknown[0]!r} "
                f"({len(unknown)} unknown)"
            )

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        return self._lookup("attribution", documents)

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return self._lookup("toxicity", items)

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores | None:
        """The scores of a plain ``{"id", "score"}`` file (:class:`ScoreFile`), looked up
        for the whole batch at once; None for any other file (read record by record)."""
        scores = self._score_file() if "toxicity" in self.tasks else None
        if scores is None:
            return None
        rows = scores.answer(items.ids)
        missing = np.flatnonzero(rows < 0).tolist()
        return ToxicityScores(
            np.where(rows >= 0, scores.scores[rows], np.nan),
            failures={k: self._missing("toxicity", items.ids[k]) for k in missing},
        )

    def identity(self) -> dict[str, Any]:
        if self._digests is None:  # once: asked before and after predicting
            files = [self.path] if self.path.is_file() else sorted(self.path.glob("*.jsonl"))
            self._digests = {f.name: sha256_file(f) for f in files}
        identity = {"path": str(self.path), "format": self.format, "sha256": dict(self._digests)}
        if self.format == "conll" and self._aligned is not None:
            identity["aligned_by_position"] = self._aligned  # tokens unlike the gold's
        return identity
