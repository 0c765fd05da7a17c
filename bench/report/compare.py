"""Paired comparison of two runs on the same gold, from their ``samples/`` files.

:func:`compare_task` compares each task on its primary metric, with the units paired
across runs (the leaderboard and the regression check use it):

- ner, ``strict_f1``: a unit is a cluster (:mod:`bench.metrics.clusters`: a gold
  segment the samples record, or an item without any), paired by id, contributing the
  (tp, predicted, gold) of the spans starting in it to each run;
- attribution, ``e2e_f1``: a unit is a cluster, contributing the gold quotes starting
  in it and each run's spurious predictions starting in it;
- toxicity, ``roc_auc``: a unit is an item of the main level, paired by id.

:mod:`bench.report.compare_items` tests (nearly) every other metric, on the same units.
The test is a paired bootstrap (difference, interval, p-value) or approximate
randomisation (difference, p-value); see :mod:`bench.metrics.bootstrap`. On fewer
than :data:`MIN_UNITS` units it is not attempted (:func:`paired_test`). A ROC-AUC
(toxicity's primary metric, and any ``*roc_auc`` of :mod:`bench.report.compare_items`) on
more than ``analytic_above`` items is tested by DeLong's test for correlated ROC curves
instead of the bootstrap (:func:`bench.metrics.analytic.delong_paired_test`: a sort per
run instead of a thousand resamples), as scoring switches to its analytic intervals; the
randomisation test is kept whatever the size.

A result file is data: :meth:`Run.load` reads it as JSON, resolves nothing (a
``${oc.env:…}`` string stays a string) and refuses any ``_target_`` but the string
recording the class bench built at the top of ``provenance.config.dataset`` and
``provenance.config.model``, and, deeper, a registered dataset's class (the oracle's
``model.dataset``); no report instantiates or imports anything from it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np

from bench.metrics.analytic import ANALYTIC_ABOVE, delong_paired_test
from bench.metrics.bias import BIAS_AUCS
from bench.metrics.bootstrap import (
    PairedTest,
    StatisticBuilder,
    approximate_randomization,
    f1_statistic,
    paired_bootstrap,
    roc_auc_statistic,
)
from bench.metrics.clusters import Clusters, cluster_sums
from bench.metrics.spans import strict_units
from bench.report.gold import registered_classes
from bench.report.robustness import changes
from bench.report.tables import degraded
from bench.tasks import TASKS

PRIMARY_METRIC = {"ner": "strict_f1", "attribution": "e2e_f1", "toxicity": "roc_auc"}

MIN_UNITS = 20
"""The fewest resampled units behind a p-value, an interval of a difference or a
significance decision (compare, check, leaderboard ties): on fewer — the seed
article's three documents — resampling cannot tell a difference from noise."""

NOT_ATTEMPTED = "not attempted"
"""How a test on fewer than :data:`MIN_UNITS` units begins its ``undefined``."""

MAX_CLUSTERS = 10_000_000
"""The most clusters a result.json may record for a paired test (a count from a stranger
is bounded before any array is made)."""


class CompareError(ValueError):
    """The runs cannot be compared (missing or malformed files, different gold, failed task);
    a malformed file is named with its line (JSON) or field."""


# task -> fields every line of samples/<task>.jsonl has (those the reports read), with
# their JSON types; attribution's gold/pred, when not null, hold _QUOTE_FIELDS.
_SAMPLE_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "ner": {"id": (str,), "gold": (list,), "pred": (list,)},
    "attribution": {
        "id": (str,), "gold": (dict, type(None)), "pred": (dict, type(None)),
        "speaker_correct": (bool,),
    },
    "toxicity": {"id": (str,), "level": (str,), "gold": (int, bool), "score": (int, float)},
}  # fmt: skip
_QUOTE_FIELDS: dict[str, tuple[type, ...]] = {
    "content": (list,), "text": (str,), "speaker": (str, type(None)),
}  # fmt: skip
ATTRIBUTION_PARTS = ("cue", "source")  # the optional single spans of an attribution record
_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", bool: "true or false",
               int: "a number", float: "a number", type(None): "null"}  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_text(path: Path) -> str:
    """The UTF-8 text of a run's file; a :class:`CompareError` if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CompareError(f"{path}: not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise CompareError(f"{path}: cannot read ({err.strerror or err})") from None


_DECODE = json.JSONDecoder().raw_decode  # json.loads without its checks of the ends


def _toxicity_columns(path: Path) -> dict[str, np.ndarray] | None:
    """``samples/toxicity.jsonl``'s scored rows as columns (``ids`` as UTF-8 bytes,
    ``level``, ``gold``, ``score``), read by arrow's JSON reader (ten million rows: no dict
    each); None unless every row is plainly what bench writes (an object with a string
    ``id`` and ``level``, a ``gold`` of 0 or 1, a finite number ``score``, or a
    ``failure``) and no id holds a NUL byte: then :meth:`Run.samples` reads it row by row
    and names the bad line."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    from bench.items import TextColumn

    failure = pa.struct([("reason", pa.string())])  # a failed item's row: left out
    schema = pa.schema([("id", pa.string()), ("level", pa.string()), ("gold", pa.int64()),
                        ("score", pa.float64()), ("failure", failure)])  # fmt: skip
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(path, parse_options=options)
    except (pa.ArrowInvalid, OSError):
        return None
    table = table.filter(pc.is_null(table.column("failure"))).drop_columns(["failure"])
    if any(column.null_count for column in table.columns):
        return None
    gold, score = table.column("gold").to_numpy(), table.column("score").to_numpy()
    if not (np.isin(gold, (0, 1)).all() and np.isfinite(score).all()):
        return None
    ids = table.column("id")
    if pc.any(pc.match_substring(ids, "\0")).as_py():
        return None  # numpy's bytes would drop a trailing NUL
    text = TextColumn.of_arrow(ids)
    levels = table.column("level").dictionary_encode().combine_chunks()
    return {
        "ids": text.fixed(int(np.diff(text.ends, prepend=0).max(initial=1)))[0],
        "level": levels.indices.to_numpy(),
        "level names": levels.dictionary.to_pylist(),
        "gold": gold,
        "score": score,
    }


def _read_json_lines(path: Path) -> list[tuple[int, Any]]:
    """``(line, value)`` of each non-blank line of a JSON Lines file."""
    lines = _read_text(path).splitlines()
    try:  # every line one value from end to end (bench writes them so): twice as fast
        decoded = list(map(_DECODE, lines))
    except json.JSONDecodeError:
        decoded = []
    if len(decoded) == len(lines) and [end for _, end in decoded] == list(map(len, lines)):
        return [(n, value) for n, (value, _) in enumerate(decoded, 1)]
    # a blank line, spaces around a value, or a malformed line: json.loads a line at a
    # time, to skip, accept or name it
    out = []
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((line_no, json.loads(line)))
        except json.JSONDecodeError as err:
            raise CompareError(f"{path}:{line_no}: (json): {err.msg}") from None
    return out


def _check_fields(where: str, record: dict, fields: dict, prefix: str = "") -> None:
    for name, types in fields.items():
        if name not in record:
            raise CompareError(f"{where}: {prefix}{name}: missing")
        value = record[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
            raise CompareError(f"{where}: {prefix}{name}: expected {expected}, got {_short(value)}")


def _is_span(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)


def _check_segment(where: str, segment: Any) -> None:
    """An optional ``[start, end, segment id]`` (samples written before it lack these)."""
    if not (
        isinstance(segment, list)
        and len(segment) == 3
        and all(type(v) is int for v in segment[:2])
        and isinstance(segment[2], str)
    ):
        raise CompareError(f"{where}: expected [start, end, segment id], got {_short(segment)}")


_ABSENT = object()  # a field's value in a row without it (no JSON value has its type)


def _finite(number: float) -> bool:
    """Whether ``number`` is a float the scores can hold (JSON's NaN, infinities and
    integers beyond a float's range are not)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _check_samples(path: Path, task: str, rows: list[tuple[int, Any]]) -> None:
    """:func:`_check_sample` of each ``(line, row)``. Toxicity's rows are flat: each field's
    types over all rows at once (a set), row by row only if some value has a type not
    allowed, to name the first line with it."""
    if task == "toxicity":
        values = [row for _, row in rows]
        if (
            all(type(row) is dict for row in values)
            and all(
                {type(row.get(name, _ABSENT)) for row in values} <= set(types)
                for name, types in _SAMPLE_FIELDS[task].items()
            )
            and {row["gold"] for row in values} <= {0, 1}
            and all(_finite(row["score"]) for row in values)
        ):
            return
    for line_no, row in rows:
        _check_sample(f"{path}:{line_no}", task, row)


def _check_sample(where: str, task: str, row: Any) -> None:
    """One line of ``samples/<task>.jsonl`` holds what the reports read from it."""
    if not isinstance(row, dict):
        raise CompareError(f"{where}: expected an object, got {_short(row)}")
    _check_fields(where, row, _SAMPLE_FIELDS[task])
    if task == "ner":
        segments = row.get("segments", [])
        if not isinstance(segments, list):
            raise CompareError(f"{where}: segments: expected a list, got {_short(segments)}")
        for i, segment in enumerate(segments):
            _check_segment(f"{where}: segments[{i}]", segment)
        for name in ("gold", "pred"):
            for i, span in enumerate(row[name]):
                if not (
                    isinstance(span, list)
                    and len(span) >= 3
                    and all(type(v) is int for v in span[:2])
                    and isinstance(span[2], str)
                ):
                    raise CompareError(
                        f"{where}: {name}[{i}]: expected [start, end, label, text], "
                        f"got {_short(span)}"
                    )
        tokens = row.get("tokens", [])  # on a token dataset: each token's [start, end]
        if not isinstance(tokens, list) or not all(_is_span(t) for t in tokens):
            raise CompareError(
                f"{where}: tokens: expected a list of [start, end], got {_short(tokens)}"
            )
    if task == "toxicity":
        if row["gold"] not in (0, 1):
            raise CompareError(f"{where}: gold: expected 0 or 1, got {_short(row['gold'])}")
        if not _finite(row["score"]):
            score = _short(row["score"])
            raise CompareError(f"{where}: score: expected a finite number, got {score}")
    if task == "attribution":
        if not isinstance(row.get("e2e_correct", False), bool):  # absent before version 2
            raise CompareError(
                f"{where}: e2e_correct: expected true or false, got {_short(row['e2e_correct'])}"
            )
        for name in ("gold", "pred"):
            if row[name] is not None:
                _check_fields(where, row[name], _QUOTE_FIELDS, f"{name}.")
                content = row[name]["content"]
                if not content or not all(_is_span(piece) for piece in content):
                    raise CompareError(
                        f"{where}: {name}.content: expected a non-empty list of [start, end], "
                        f"got {_short(content)}"
                    )
                # optional: samples written before them lack these
                if "segment" in row[name]:
                    _check_segment(f"{where}: {name}.segment", row[name]["segment"])
                if not isinstance(row[name].get("tokens", []), list):
                    raise CompareError(f"{where}: {name}.tokens: expected a list")
                spans = [(part, row[name].get(part)) for part in ATTRIBUTION_PARTS]
                spans += [(f"tokens[{k}]", t) for k, t in enumerate(row[name].get("tokens", []))]
                for field, span in spans:
                    nullable = field in ATTRIBUTION_PARTS
                    if not (_is_span(span) or (nullable and span is None)):
                        raise CompareError(
                            f"{where}: {name}.{field}: expected [start, end]"
                            f"{' or null' if nullable else ''}, got {_short(span)}"
                        )


def _check_result(path: Path, result: Any) -> None:
    """The fields of ``result.json`` every report reads: model.preset, dataset.sha256 and
    tasks (an object of task records)."""
    if not isinstance(result, dict):
        raise CompareError(f"{path}: expected a JSON object (a result.json)")
    for name, inner in (("model", "preset"), ("dataset", "sha256"), ("tasks", None)):
        if name not in result:
            raise CompareError(f"{path}: {name}: missing")
        if not isinstance(result[name], dict):
            raise CompareError(f"{path}: {name}: expected an object")
        if inner is not None and inner not in result[name]:
            raise CompareError(f"{path}: {name}.{inner}: missing")
    for task, record in result["tasks"].items():
        if not isinstance(record, dict):
            raise CompareError(f"{path}: tasks.{task}: expected an object")
    try:
        changes(result)  # the robustness section, read by the leaderboard, check and plots
    except ValueError as err:
        raise CompareError(f"{path}: {err}") from None
    _check_breakdown(path, result["tasks"].get("toxicity"))


# the toxicity breakdown tables the reports render: where, and each row's numeric fields
_BREAKDOWN_TABLES = {
    "groups": ("accuracy", "n"),
    "identity_accuracy": ("accuracy", "n"),
    "bias.subgroups": ("n_items", "n_toxic", *(f"{m}.value" for m in BIAS_AUCS)),
}


def _check_breakdown(path: Path, record: Any) -> None:
    """The toxicity breakdown tables (per group, per identity, per bias subgroup): objects
    of rows whose fields, where present, are numbers or null, as the pages and plots read
    them."""
    where = f"{path}: tasks.toxicity"
    for table_at, fields in _BREAKDOWN_TABLES.items():
        table = _at(record, f"breakdown.{table_at}", where)
        if table is None:
            continue
        prefix = f"{where}.breakdown.{table_at}"
        if not isinstance(table, dict):
            raise CompareError(f"{prefix}: expected an object, got {_short(table)}")
        for name, row in table.items():
            if not isinstance(row, dict):
                raise CompareError(f"{prefix}.{name}: expected an object, got {_short(row)}")
            for field in fields:
                value = _at(row, field, f"{prefix}.{name}")
                if not (value is None or _is_number(value)):
                    raise CompareError(
                        f"{prefix}.{name}.{field}: expected a number or null, got {_short(value)}"
                    )


def _at(node: Any, dotted: str, where: str) -> Any:
    """``node[a][b]…`` for ``dotted`` = ``a.b…``, None where a key is missing; a level
    that is neither an object nor null is a :class:`CompareError` naming it."""
    for depth, key in enumerate(dotted.split(".")):
        if node is None:
            return None
        if not isinstance(node, dict):
            field = ".".join(dotted.split(".")[:depth])
            raise CompareError(f"{where}.{field}: expected an object, got {_short(node)}")
        node = node.get(key)
    return node


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


# where a _target_ string records the class bench built (the run's dataset and model)
_RECORDED_TARGETS = ("provenance.config.dataset._target_", "provenance.config.model._target_")


def _refuse_targets(path: Path, value: Any, where: str = "") -> None:
    """No ``_target_`` in the result but the recorded ones and registered dataset classes
    (strings): a report must never be led to build an object from a result file."""
    if isinstance(value, dict):
        for key, inner in value.items():
            field = f"{where}.{key}" if where else str(key)
            if key == "_target_" and not (
                isinstance(inner, str)
                and (field in _RECORDED_TARGETS or inner in registered_classes())
            ):
                raise CompareError(
                    f"{path}: {field}: refused: {_short(inner)} (a result file is data: "
                    "a _target_ may only record the run's model or a dataset bench registers)"
                )
            _refuse_targets(path, inner, field)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _refuse_targets(path, inner, f"{where}[{i}]")


@dataclass(frozen=True)
class Run:
    directory: Path
    result: dict[str, Any]
    # read within keeping_samples: task -> samples rows, "toxicity columns" -> its columns
    # (None: not read yet)
    _kept: dict[str, Any] = dataclass_field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, where: str | Path, shard: bool = False) -> Run:
        """The run in directory ``where``, or whose ``result.json`` ``where`` is; a shard
        (bench.shard: nothing scored) only with ``shard`` (bench-report merge)."""
        where = Path(where)
        path = where if where.suffix == ".json" and not where.is_dir() else where / "result.json"
        directory = path.parent
        if not path.is_file():
            raise CompareError(f"{path}: not found")
        text = _read_text(path)
        try:
            result = json.loads(text)
            _check_result(path, result)
            _refuse_targets(path, result)
        except json.JSONDecodeError as err:
            raise CompareError(f"{path}:{err.lineno}: (json): {err.msg}") from None
        except RecursionError:
            raise CompareError(f"{path}: (json): nested too deeply") from None
        if result.get("shard") is not None and not shard:
            raise CompareError(
                f"{path}: shard: a shard of a run, not scored: merge the shards first "
                "(bench-report merge SWEEP --out RUN)"
            )
        return cls(directory, result)

    @property
    def name(self) -> str:
        """The display name: ``name=`` of the run, or its preset (result files before it)."""
        model = self.result["model"]
        return str(model.get("name") or model["preset"])

    def toxicity_levels(self) -> list[str]:
        """The toxicity levels scored, main level first: ``breakdown.levels`` of
        ``result.json``, or for result files written before it the samples' order."""
        levels = self.result["tasks"].get("toxicity", {}).get("breakdown", {}).get("levels")
        if levels is None:
            levels = list(dict.fromkeys(row["level"] for row in self.samples("toxicity")))
        return list(levels)

    def toxicity_scores(
        self, level: str | None = None
    ) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
        """(level, item ids, gold labels, scores) of the scored toxicity rows at ``level``
        (by default the main level: :meth:`toxicity_levels`' first), sorted by item id (the
        ids as UTF-8 bytes, whose order is the strings'). Read as columns
        (:func:`_toxicity_columns`) when the file is plainly well formed, else row by row
        (:meth:`samples`, which names a bad line); an id twice is an error."""
        if level is None:
            level = next(iter(self.toxicity_levels()), None)
        path = self.directory / "samples" / "toxicity.jsonl"
        kept = self._kept.get("toxicity")
        columns = None if kept is not None else self._kept.get("toxicity columns")
        if columns is None and kept is None and path.is_file():
            columns = _toxicity_columns(path)
            if "toxicity columns" in self._kept:
                self._kept["toxicity columns"] = columns
        if columns is not None:
            names = columns["level names"]
            at = np.flatnonzero(columns["level"] == (names.index(level) if level in names else -1))
            ids, labels, scores = columns["ids"][at], columns["gold"][at], columns["score"][at]
        else:
            rows = [r for r in self.samples("toxicity") if r["level"] == level]
            ids = np.array([r["id"].encode() for r in rows], dtype=bytes)
            labels = np.array([r["gold"] for r in rows], int)
            scores = np.array([r["score"] for r in rows], float)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        twice = np.flatnonzero(ids[1:] == ids[:-1])
        if twice.size:
            raise CompareError(f"{path}: id: {ids[twice[0]].decode()!r} twice at level {level!r}")
        return level, ids, labels[order], scores[order]

    def samples(self, task: str) -> list[dict[str, Any]]:
        """The scored rows of ``samples/<task>.jsonl`` (not those of failed items, which
        hold ``failure``); a malformed line is a :class:`CompareError` naming the file,
        line and field. Read once within :func:`keeping_samples`."""
        kept = self._kept.get(task)
        if kept is not None:
            return kept
        path = self.directory / "samples" / f"{task}.jsonl"
        if not path.is_file():
            raise CompareError(f"{path}: not found")
        rows = [(n, row) for n, row in _read_json_lines(path)
                if not (isinstance(row, dict) and "failure" in row)]  # fmt: skip
        _check_samples(path, task, rows)
        out = [row for _, row in rows]
        if task in self._kept:
            self._kept[task] = out
        return out


@contextmanager
def keeping_samples(runs: Iterable[Run], task: str) -> Iterator[None]:
    """Within the block each run's samples of ``task`` (and toxicity's columns) are read
    once, when first asked for (a ranking tests each run against both its neighbours), and
    let go after it."""
    runs, keys = list(runs), [task, f"{task} columns"]
    for run in runs:
        run._kept.update(dict.fromkeys(keys))
    try:
        yield
    finally:
        for run in runs:
            for key in keys:
                run._kept.pop(key, None)


CLUSTER_UNIT = "cluster"
"""The unit of the ner and attribution tests: a gold segment, or an item without any."""


def sample_clusters(task: str, rows: list[dict]) -> Clusters:
    """The clusters of ner or attribution samples rows (of both runs): the gold segments
    they record — ner: each item's ``segments``; attribution: each record's ``segment`` —
    and each item without any as one cluster, in item id order."""
    if task == "ner":
        segments = [(r["id"], *segment) for r in rows for segment in r.get("segments", [])]
    else:
        segments = [(r["id"], *r[side]["segment"]) for r in rows for side in ("gold", "pred")
                    if r[side] is not None and "segment" in r[side]]  # fmt: skip
    return Clusters(sorted({r["id"] for r in rows}), set(map(tuple, segments)))


def _task_record(run: Run, task: str) -> dict[str, Any]:
    record = run.result["tasks"].get(task)
    return record if isinstance(record, dict) else {}


def _definition(run: Run, task: str) -> str:
    """What defines a run's scores of ``task``: ``version N`` of the task's metrics
    (``tasks.<task>.metrics_version``; a run without it is version 1), and for attribution
    the ``min_overlap`` of a found quote (``breakdown.min_overlap``)."""
    record = _task_record(run, task)
    text = f"version {record.get('metrics_version', 1)}"
    breakdown = record.get("breakdown")
    if task == "attribution" and isinstance(breakdown, dict) and "min_overlap" in breakdown:
        text += f", min_overlap {breakdown['min_overlap']}"
    return text


def check_same_definitions(runs: Sequence[Run], tasks: Iterable[str]) -> None:
    """Refuse to rank, gate or pair runs whose scores of a task (among ``tasks``, where its
    status is ok) come from different metric definitions (:func:`_definition`): a
    :class:`CompareError`, one line naming the definitions, the runs, and how to rescore."""
    for task in tasks:
        groups: dict[str, list[str]] = {}
        for run in runs:
            if _task_record(run, task).get("status") == "ok":
                groups.setdefault(_definition(run, task), []).append(str(run.directory))
        if len(groups) > 1:
            listed = "; ".join(f"{d}: {', '.join(dirs)}" for d, dirs in sorted(groups.items()))
            raise CompareError(
                f"{task}: the runs were scored under different metric definitions ({listed}), "
                f"refusing to mix them; rescore the older runs by rerunning them with this "
                f"bench (metrics version {TASKS[task].metrics_version}, the same options; "
                "cached predictions are reused)"
            )


def _ner_units(run_a: Run, run_b: Run) -> tuple[np.ndarray, np.ndarray]:
    a, b = run_a.samples("ner"), run_b.samples("ner")

    def spans(rows: list[dict], field: str) -> set[tuple]:
        return {(r["id"], *span[:3]) for r in rows for span in r[field]}

    clusters = sample_clusters("ner", [*a, *b])
    gold = spans(a, "gold")
    units_a, units_b = (
        strict_units(gold, spans(rows, "pred"), CLUSTER_UNIT, clusters=clusters) for rows in (a, b)
    )
    return units_a, units_b


def _attribution_units(run_a: Run, run_b: Run) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, (end-to-end correct, predicted, gold) of the rows whose record (the gold
    one of a matched row) starts in it."""
    a, b = run_a.samples("attribution"), run_b.samples("attribution")

    def gold_quotes(rows: list[dict]) -> set[tuple]:
        return {(r["id"], json.dumps(r["gold"]["content"])) for r in rows if r["gold"]}

    if gold_quotes(a) != gold_quotes(b):
        raise CompareError("attribution: the runs' gold quotes differ")
    clusters = sample_clusters("attribution", [*a, *b])

    def rows(run_rows: list[dict]) -> np.ndarray:
        # version 1 samples lack e2e_correct: their true positive was speaker_correct
        counts = [(r.get("e2e_correct", r["speaker_correct"]), r["pred"] is not None,
                   r["gold"] is not None) for r in run_rows]  # fmt: skip
        first = [(r["id"], min(piece[0] for piece in (r["gold"] or r["pred"])["content"]))
                 for r in run_rows]  # fmt: skip
        codes = clusters.of_spans([i for i, _ in first], [start for _, start in first])
        return cluster_sums(np.array(counts, dtype=int).reshape(-1, 3), codes, len(clusters))

    n = attribution_clusters(run_a, run_b, len(clusters))
    return with_empty_clusters(rows(a), n), with_empty_clusters(rows(b), n)


def attribution_clusters(run_a: Run, run_b: Run, in_samples: int) -> int:
    """How many clusters the runs' attribution scores have (``counts.clusters``, when both
    record the same), else ``in_samples``: the samples hold no row for a segment with
    neither gold nor predicted quotes, but a run's cluster bootstrap draws those (empty)
    clusters too, and a paired test resamples the same units. A recorded count below the
    clusters the samples name, or above :data:`MAX_CLUSTERS`, is a :class:`CompareError`."""
    recorded = set()
    for run in (run_a, run_b):
        counts = _task_record(run, "attribution").get("counts")
        n = counts.get("clusters") if isinstance(counts, dict) else None
        if n is not None and not (type(n) is int and in_samples <= n <= MAX_CLUSTERS):
            raise CompareError(
                f"{run.directory}/result.json: tasks.attribution.counts.clusters: expected an "
                f"integer from {in_samples} (the clusters its samples name) to {MAX_CLUSTERS}, "
                f"got {_short(n)}"
            )
        recorded.add(n)
    [n] = recorded if len(recorded) == 1 else [None]
    return in_samples if n is None else n


def with_empty_clusters(rows: np.ndarray, n: int) -> np.ndarray:
    """``rows`` (one per cluster) and zero rows up to ``n``: clusters without a record."""
    return np.vstack([rows, np.zeros((n - len(rows), *rows.shape[1:]), rows.dtype)])


def toxicity_pairs(
    run_a: Run, run_b: Run, level: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold labels and both runs' scores of the items of ``level`` (by default run A's main
    level), sorted by id (:meth:`Run.toxicity_scores`): the same items, the same labels."""
    (level, ids_a, labels_a, scores_a) = run_a.toxicity_scores(level)
    (_, ids_b, labels_b, scores_b) = run_b.toxicity_scores(level)
    if not np.array_equal(ids_a, ids_b):
        raise CompareError(f"toxicity ({level}): the runs' samples hold different items")
    if not np.array_equal(labels_a, labels_b):
        raise CompareError(f"toxicity: the runs' gold labels differ ({level} level)")
    return labels_a, scores_a, scores_b


def _toxicity_units(run_a: Run, run_b: Run) -> tuple[tuple, tuple]:
    """(gold labels, scores) of each run on run A's main level."""
    labels, scores_a, scores_b = toxicity_pairs(run_a, run_b)
    return (labels, scores_a), (labels, scores_b)


_UNITS: dict[str, tuple[Callable[[Run, Run], tuple[Any, Any]], StatisticBuilder, str]] = {
    "ner": (_ner_units, f1_statistic, CLUSTER_UNIT),
    "attribution": (_attribution_units, f1_statistic, CLUSTER_UNIT),
    "toxicity": (_toxicity_units, roc_auc_statistic, "item"),
}


def items_scored(result: dict[str, Any]) -> str:
    """Which of its dataset's items a run scored: ``every item``, or its ``dataset.limit``
    (the run option: ``limit=50``, ``limit=50 limit_seed=3``)."""
    limit = result["dataset"].get("limit")
    if limit is None:
        return "every item"
    if not isinstance(limit, dict):
        return f"limit={_short(limit)}"
    seed = "" if limit.get("seed") is None else f" limit_seed={_short(limit['seed'])}"
    return f"limit={_short(limit.get('n'))}{seed}"


def check_comparable(run_a: Run, run_b: Run, task: str) -> None:
    """Both runs were scored on the same gold, the same items of it (``dataset.limit``) and
    the same metric definitions (:func:`check_same_definitions`), and ``task`` is ok (not
    degraded) in both."""
    if run_a.result["dataset"]["sha256"] != run_b.result["dataset"]["sha256"]:
        raise CompareError(
            f"{run_a.directory} and {run_b.directory} were scored on different gold "
            "(dataset sha256 differs)"
        )
    scored_a, scored_b = items_scored(run_a.result), items_scored(run_b.result)
    if scored_a != scored_b:
        raise CompareError(
            f"{run_a.directory} ({scored_a}) and {run_b.directory} ({scored_b}) were scored "
            "on different items of the gold (dataset.limit differs)"
        )
    for run in (run_a, run_b):
        record = run.result["tasks"].get(task, {})
        if record.get("status") != "ok":
            raise CompareError(f"{run.directory}: task {task} is {record.get('status', 'missing')}")
        if degraded(record):
            raise CompareError(
                f"{run.directory}: task {task} is degraded ({degraded(record)}): its failed "
                "items were left out, so it cannot be paired with a run scored on all of them"
            )

    check_same_definitions((run_a, run_b), [task])


def units_text(n_units: int, unit: str) -> str:
    """``162 entities``, ``3 items``, ``1 quote``: how many units of which kind."""
    plural = unit[:-1] + "ies" if unit.endswith("y") else unit + "s"
    return f"{n_units} {unit if n_units == 1 else plural}"


def no_p_value(test: PairedTest) -> str | None:
    """What stands in for a missing p-value in a table: ``not attempted`` (too few units)
    or ``undefined``; None when the test has one."""
    if test.p_value is not None:
        return None
    return NOT_ATTEMPTED if (test.undefined or "").startswith(NOT_ATTEMPTED) else "undefined"


def _arrays(data: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, ...]:
    return (data,) if isinstance(data, np.ndarray) else tuple(map(np.asarray, data))


def _not_attempted(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any],
    data_b: Sequence[Any],
    seed: int,
    method: str,
    unit: str,
) -> PairedTest | None:
    """The observed difference without a test when there are fewer than :data:`MIN_UNITS`
    units (None: there are enough)."""
    arrays_a, arrays_b = _arrays(data_a), _arrays(data_b)
    n_units = len(arrays_a[0])
    if n_units >= MIN_UNITS:
        return None
    observed = math.nan  # no units: no difference either
    if n_units:
        everything = np.arange(n_units)[None, :]
        with np.errstate(all="ignore"):
            a, b = (make_statistic(*arrays)(everything)[0] for arrays in (arrays_a, arrays_b))
        observed = float(a - b)
    return PairedTest(
        observed if math.isfinite(observed) else None, None, None, None,
        n_resamples=0, n_dropped=0, n_units=n_units, alpha=None, seed=seed,
        method="paired bootstrap" if method == "bootstrap" else "approximate randomisation",
        unit=unit,
        undefined=f"{NOT_ATTEMPTED}: {units_text(n_units, unit)} to resample, fewer than the "
        f"{MIN_UNITS} a paired test needs",
    )  # fmt: skip


def paired_test(
    make_statistic: StatisticBuilder,
    data_a: Sequence[Any],
    data_b: Sequence[Any],
    n_resamples: int,
    seed: int,
    method: str,
    unit: str,
    analytic_above: int = ANALYTIC_ABOVE,
) -> PairedTest:
    """The paired test ``method`` (bootstrap or randomization) of A minus B; on fewer
    than :data:`MIN_UNITS` units only the difference, the test not attempted (its
    ``undefined`` says so; no interval, no p-value). The bootstrap of a ROC-AUC
    (:func:`~bench.metrics.bootstrap.roc_auc_statistic` of labels and scores) on more than
    ``analytic_above`` units is DeLong's test instead (method ``delong``)."""
    if method not in ("bootstrap", "randomization"):
        raise CompareError(f"method: expected bootstrap or randomization, got {method!r}")
    few = _not_attempted(make_statistic, data_a, data_b, seed, method, unit)
    if few is not None:
        return few
    if method == "bootstrap" and make_statistic is roc_auc_statistic:
        (labels, scores_a), (_, scores_b) = data_a, data_b  # the same gold labels (A's)
        if len(labels) > analytic_above:
            return delong_paired_test(labels, scores_a, scores_b, unit=unit)
    if method == "bootstrap":
        return paired_bootstrap(make_statistic, data_a, data_b, n_resamples, seed, unit=unit)
    return approximate_randomization(make_statistic, data_a, data_b, n_resamples, seed, unit=unit)


def compare_task(
    run_a: Run,
    run_b: Run,
    task: str,
    n_resamples: int = 1000,
    seed: int = 0,
    method: str = "bootstrap",
    analytic_above: int = ANALYTIC_ABOVE,
) -> PairedTest:
    """Paired test of ``PRIMARY_METRIC[task]`` of run A minus run B (:func:`paired_test`)."""
    check_comparable(run_a, run_b, task)
    units, statistic, unit = _UNITS[task]
    data_a, data_b = units(run_a, run_b)
    return paired_test(statistic, data_a, data_b, n_resamples, seed, method, unit, analytic_above)
