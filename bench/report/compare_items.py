"""Paired tests of (nearly) every metric two runs report, on clusters or items.

:func:`compare_metric` / :func:`compare_metrics`: a unit is a cluster (ner,
attribution: a gold segment or a sentence, :data:`bench.report.compare.CLUSTER_UNIT`)
or an item (toxicity: a segment, document or case) that both runs scored, paired by
its id, and the metric is recomputed from the two runs' rows of
``samples/<task>.jsonl`` — the same numbers as in ``result.json`` on the full sample
(see :func:`_ner_tables`, :func:`_attribution_tables`, :func:`_toxicity_tables` for
what each task rebuilds). The primary metrics' tests are in :mod:`bench.report.compare`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.metrics.analytic import ANALYTIC_ABOVE
from bench.metrics.attribution import (
    COUNT_COLUMNS,
    AttributionRecord,
    attribution_counts,
    attribution_metrics,
    exact_pairs,
    match_overlap,
)
from bench.metrics.bias import BIAS_SUMMARIES
from bench.metrics.bootstrap import (
    IndexStatistic,
    PairedTest,
    StatisticBuilder,
    average_precision_statistic,
    ece_statistic,
    f1_best_statistic,
    f1_statistic,
    mean_statistic,
    prf_statistic,
    resample_sums,
    roc_auc_statistic,
)
from bench.metrics.spans import (
    LabelledSpan,
    SpanUnits,
    span_macro_f1_statistic,
    span_units,
    strict_units,
    token_spans,
)
from bench.report.compare import (
    ATTRIBUTION_PARTS,
    CLUSTER_UNIT,
    CompareError,
    Run,
    attribution_clusters,
    check_comparable,
    paired_test,
    sample_clusters,
    toxicity_pairs,
    with_empty_clusters,
)

# ------------------------------------------------------------ every metric, per item

ITEM_UNIT = "item"
"""The unit of :func:`compare_metric` for toxicity: an item (segment, document, case)
both runs scored, paired by id."""

_METHODS = ("bootstrap", "randomization")


@dataclass(frozen=True)
class _Paired:
    """One metric's per-item data of both runs: unit k of ``data_a`` and of ``data_b`` is
    the same item; ``make_statistic(*data)`` is the metric, vectorised over resamples."""

    make_statistic: StatisticBuilder
    data_a: tuple[np.ndarray, ...]
    data_b: tuple[np.ndarray, ...]


@dataclass
class _Tables:
    """What one task's paired tests can use: ``paired[metric]`` for each metric the
    samples recompute, ``skipped[metric]`` the reason for those they cannot, and the
    ``unit`` their rows are."""

    paired: dict[str, _Paired] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    unit: str = ITEM_UNIT


def _column(make_statistic: StatisticBuilder, k: int) -> StatisticBuilder:
    """The builder of column ``k`` of a statistic with several values per resample."""

    def make(*data: np.ndarray) -> IndexStatistic:
        statistic = make_statistic(*data)
        return lambda indices: statistic(indices)[:, k]

    return make


_PRF = ("precision", "recall", "f1")


def _prf(name_prefix: str, rows_a: np.ndarray, rows_b: np.ndarray) -> dict[str, _Paired]:
    """``<prefix>precision/recall/f1`` from per-item ``(credit, n_pred, n_gold)`` rows."""
    return {
        f"{name_prefix}{what}": _Paired(_column(prf_statistic, k), (rows_a,), (rows_b,))
        for k, what in enumerate(_PRF)
    }


def _same_items(task: str, ids_a: Iterable[str], ids_b: Iterable[str]) -> list[str]:
    """The sorted item ids, which must be the same in both runs' samples."""
    ids_a, ids_b = set(ids_a), set(ids_b)
    if ids_a != ids_b:
        raise CompareError(f"{task}: the runs' samples hold different items")
    return sorted(set(ids_b))


# ner -------------------------------------------------------------------------------


def _ner_spans(rows: list[dict]) -> tuple[set[LabelledSpan], set[LabelledSpan]]:
    """Gold and predicted spans ``(item id, start, end, label)`` of ner samples rows."""

    def spans(side: str) -> set[LabelledSpan]:
        return {(r["id"], *span[:3]) for r in rows for span in r[side]}

    return spans("gold"), spans("pred")


def _labels_aligned(units: SpanUnits, labels: list[str]) -> np.ndarray:
    """``units.per_label["strict"]`` with a (credit, ACTUAL, POSSIBLE) block per label of
    ``labels`` (zeros for a label the run neither predicts nor has in the gold)."""
    rows = units.per_label["strict"]
    out = np.zeros((rows.shape[0], 3 * len(labels)))
    for j, label in enumerate(units.labels):
        k = labels.index(label)
        out[:, 3 * k : 3 * k + 3] = rows[:, 3 * j : 3 * j + 3]
    return out


def _ner_tables(run_a: Run, run_b: Run) -> _Tables:
    """ner: a unit is a cluster (a gold segment the samples record, or an item — a
    sentence — without any) with the gold and predicted spans starting in it.
    ``strict_*`` sum its CoNLL rows (:func:`strict_units`); ``exact_*``, ``partial_*``,
    ``ent_type_*`` its SemEval rows and ``strict_macro_f1`` its per-label strict rows
    (:func:`span_units`; the matching never crosses items; on token offsets when the
    rows hold their tokens, as the run scored them), with the two runs' label columns
    aligned on the union of their labels."""
    rows_a, rows_b = run_a.samples("ner"), run_b.samples("ner")
    _same_items("ner", [r["id"] for r in rows_a], [r["id"] for r in rows_b])
    (gold, pred_a), (gold_b, pred_b) = _ner_spans(rows_a), _ner_spans(rows_b)
    if gold != gold_b:
        raise CompareError("ner: the runs' gold spans differ")
    clusters = sample_clusters("ner", [*rows_a, *rows_b])
    strict = [
        strict_units(gold, pred, CLUSTER_UNIT, clusters=clusters) for pred in (pred_a, pred_b)
    ]
    tokens = {r["id"]: r["tokens"] for r in rows_a if "tokens" in r}
    semeval = [
        span_units(*(token_spans(gold, pred, tokens) if tokens else (gold, pred)),
                   CLUSTER_UNIT, clusters=clusters)
        for pred in (pred_a, pred_b)
    ]  # fmt: skip
    tables = _Tables(_prf("strict_", *strict), unit=CLUSTER_UNIT)
    for scheme in ("exact", "partial", "ent_type"):
        tables.paired |= _prf(f"{scheme}_", *(units.overall[scheme] for units in semeval))
    labels = sorted({label for units in semeval for label in units.labels})
    macro = [(_labels_aligned(units, labels),) for units in semeval]
    tables.paired["strict_macro_f1"] = _Paired(span_macro_f1_statistic, *macro)
    return tables


# attribution -------------------------------------------------------------------------


@dataclass(frozen=True)
class _AttributionSamples:
    """The records of one run rebuilt from its samples: the gold, the predictions, the
    run's content-overlap pairs (gold index, pred index), and whether the rows record
    the cue and source spans and the content tokens (samples written before they did
    do not)."""

    gold: list[AttributionRecord]
    pred: list[AttributionRecord]
    pairs: list[tuple[int, int]]
    has_parts: bool
    has_tokens: bool


def _attribution_record(item_id: str, shown: dict[str, Any]) -> AttributionRecord:
    """An :class:`AttributionRecord` from a samples row's ``gold`` or ``pred``."""
    cue, source = (tuple(shown[p]) if shown.get(p) is not None else None for p in ATTRIBUTION_PARTS)
    content = tuple(tuple(piece) for piece in shown["content"])
    tokens = tuple(tuple(token) for token in shown.get("tokens", ()))
    return AttributionRecord(
        item_id, content, shown["speaker"], cue, source, shown.get("type"), tokens
    )


def _attribution_samples(rows: list[dict]) -> _AttributionSamples:
    """Rows with ``gold`` give the gold records (in order), rows with ``pred`` the
    predictions; a row with both is a content-overlap pair."""
    gold: list[AttributionRecord] = []
    pred: list[AttributionRecord] = []
    pairs: list[tuple[int, int]] = []
    for row in rows:
        if row["gold"] is not None:
            gold.append(_attribution_record(row["id"], row["gold"]))
        if row["pred"] is not None:
            if row["gold"] is not None:
                pairs.append((len(gold) - 1, len(pred)))
            pred.append(_attribution_record(row["id"], row["pred"]))
    shown = [side for row in rows for side in (row["gold"], row["pred"]) if side is not None]
    has_parts = all(part in side for side in shown for part in ATTRIBUTION_PARTS)
    has_tokens = all("tokens" in side for side in shown)
    return _AttributionSamples(gold, pred, pairs, has_parts, has_tokens)


def _attribution_matches(
    run: _AttributionSamples, parts: bool, min_overlap: float
) -> dict[str, list]:
    """The matchings of :func:`bench.metrics.attribution.match_attributions`: content
    overlap as the run recorded it, the others recomputed; cue and source if ``parts``."""
    matches = {
        "content_overlap": run.pairs,
        "content_exact": exact_pairs(run.gold, run.pred, "content"),
    }
    for part in ATTRIBUTION_PARTS if parts else ():
        matches[f"{part}_exact"] = exact_pairs(run.gold, run.pred, part)
        matches[f"{part}_overlap"] = match_overlap(run.gold, run.pred, part, min_overlap)
    return matches


def _attribution_statistic(metric: str) -> StatisticBuilder:
    """The builder of one :func:`attribution_metrics` value from per-unit count rows."""

    def make(counts: np.ndarray) -> IndexStatistic:
        return lambda indices: attribution_metrics(resample_sums(counts, indices))[metric]

    return make


def _attribution_gold(run: _AttributionSamples, parts: bool) -> list[tuple]:
    """The run's gold records as sortable tuples (cue and source if ``parts``)."""

    def key(r: AttributionRecord) -> tuple:
        return (r.item_id, r.content, r.speaker, r.type, *((r.cue, r.source) if parts else ()))

    return sorted(map(key, run.gold), key=repr)


_PART_METRICS = {f"{part}_{how}_f1" for part in ATTRIBUTION_PARTS for how in ("exact", "overlap")}
_TOKEN_METRICS = {f"content_token_{what}" for what in _PRF}


def _attribution_min_overlap(run: Run) -> float:
    """The run's ``breakdown.min_overlap``; a run scored under older attribution metrics
    (without it) cannot be rescored from its samples: :class:`CompareError`."""
    record = run.result["tasks"]["attribution"]
    breakdown = record.get("breakdown")
    value = breakdown.get("min_overlap") if isinstance(breakdown, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
        raise CompareError(
            f"{run.directory}: attribution was scored under metrics version "
            f"{record.get('metrics_version', 1)}, whose samples cannot be rescored per item "
            f"(breakdown.min_overlap: expected a number in (0, 1], got {value!r}); rerun it "
            "with this bench"
        )
    return float(value)


def _attribution_tables(run_a: Run, run_b: Run) -> _Tables:
    """attribution: a unit is a cluster (a gold segment the samples record, or an item
    without any) with the gold records and the run's predictions starting in it; its row
    holds the additive counts of :func:`attribution_counts` (segments with neither gold
    nor predictions in either run, not in the samples, as zero rows up to the clusters the
    runs' intervals resampled: :func:`attribution_clusters`). Every metric
    of :func:`attribution_metrics` at the runs' ``min_overlap`` (equal:
    :func:`check_comparable`); cue and source spans, and content tokens, only when both
    runs' samples record them."""
    min_overlap = _attribution_min_overlap(run_a)
    _attribution_min_overlap(run_b)
    rows = [run.samples("attribution") for run in (run_a, run_b)]
    a, b = (_attribution_samples(run_rows) for run_rows in rows)
    parts = a.has_parts and b.has_parts
    if _attribution_gold(a, parts) != _attribution_gold(b, parts):
        raise CompareError("attribution: the runs' gold quotes differ")
    clusters = sample_clusters("attribution", [*rows[0], *rows[1]])
    n = attribution_clusters(run_a, run_b, len(clusters))
    counts = []
    for s in (a, b):
        matches = _attribution_matches(s, parts, min_overlap)
        found = attribution_counts(s.gold, s.pred, matches, CLUSTER_UNIT, (), min_overlap,
                                   clusters=clusters)  # fmt: skip
        counts.append((with_empty_clusters(found, n),))
    # (metrics, what the samples must record, whether A and B record it)
    needs = [
        (_PART_METRICS, "cue and source spans", a.has_parts, b.has_parts),
        (_TOKEN_METRICS, "content tokens", a.has_tokens, b.has_tokens),
    ]
    tables = _Tables(unit=CLUSTER_UNIT)
    for metric in attribution_metrics(np.zeros((1, len(COUNT_COLUMNS)))):
        lacking = [(what, a_has) for names, what, a_has, b_has in needs
                   if metric in names and not (a_has and b_has)]  # fmt: skip
        if lacking:
            what, a_has = lacking[0]
            old = run_a.directory if not a_has else run_b.directory
            tables.skipped[metric] = (
                f"{old}/samples/attribution.jsonl does not record {what} "
                "(written by an older bench; rerun to record them)"
            )
        else:
            tables.paired[metric] = _Paired(_attribution_statistic(metric), *counts)
    return tables


# toxicity ----------------------------------------------------------------------------

_TOXICITY_NOT_IN_SAMPLES = {
    **{name: "needs the items' identities, which the samples do not hold"
       for name in BIAS_SUMMARIES},
    "group_accuracy_macro": "needs the items' groups, which the samples do not hold",
}  # fmt: skip


def _toxicity_skip_reason(metric: str) -> str | None:
    """Why a toxicity metric cannot be recomputed from the samples (None: it can)."""
    if metric.startswith("attribute."):
        return "needs the attribute scores and labels, which the samples do not hold"
    return _TOXICITY_NOT_IN_SAMPLES.get(metric)


def _threshold(run: Run) -> float | None:
    """The run's toxicity threshold (``breakdown.threshold``), None if not recorded."""
    breakdown = run.result["tasks"]["toxicity"].get("breakdown")
    return breakdown.get("threshold") if isinstance(breakdown, dict) else None


def _f1_rows(labels: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Per-item ``(tp, predicted, gold)`` of the prediction ``score >= threshold``."""
    predicted = (scores >= threshold).astype(np.int64)
    return np.column_stack([predicted & labels, predicted, labels])


def _toxicity_tables(run_a: Run, run_b: Run) -> _Tables:
    """toxicity: a unit is an item of one level (a segment, document, case …: one samples
    row), with its gold label and score; a metric prefixed ``<level>_`` uses the items of
    that level, the others those of the main (first) level. ``f1`` needs both runs'
    thresholds to be equal; bias, attribute and group metrics are skipped."""
    levels = run_a.toxicity_levels()
    if levels != run_b.toxicity_levels():
        raise CompareError("toxicity: the runs scored different levels")
    thresholds = _threshold(run_a), _threshold(run_b)
    threshold = thresholds[0] if thresholds[0] == thresholds[1] else None  # None: no F1
    reported = [*_reported(run_a, "toxicity"), *_reported(run_b, "toxicity")]
    tables = _Tables(skipped={m: r for m in reported if (r := _toxicity_skip_reason(m))})
    for level in levels:
        prefix = "" if level == levels[0] else f"{level}_"
        labels, scores_a, scores_b = toxicity_pairs(run_a, run_b, level)
        a, b = (labels, scores_a), (labels, scores_b)
        statistics = {
            "roc_auc": roc_auc_statistic,
            "average_precision": average_precision_statistic,
        }
        if not prefix:
            statistics |= {"f1_best": f1_best_statistic, "ece": ece_statistic}
            squared_errors = [((scores - labels) ** 2,) for scores in (scores_a, scores_b)]
            tables.paired["brier"] = _Paired(mean_statistic, *squared_errors)
        tables.paired |= {prefix + name: _Paired(make, a, b) for name, make in statistics.items()}
        if threshold is None:
            tables.skipped[f"{prefix}f1"] = (
                "the runs' toxicity thresholds differ "
                f"({thresholds[0]} vs {thresholds[1]}): their F1 are not comparable"
                if None not in thresholds
                else "a run does not record its toxicity threshold (breakdown.threshold)"
            )
        else:
            rows = [(_f1_rows(labels, scores, threshold),) for scores in (scores_a, scores_b)]
            tables.paired[f"{prefix}f1"] = _Paired(f1_statistic, *rows)
    return tables


_ITEM_TABLES = {
    "ner": _ner_tables,
    "attribution": _attribution_tables,
    "toxicity": _toxicity_tables,
}


def _reported(run: Run, task: str) -> dict[str, Any]:
    """The run's ``tasks.<task>.metrics`` (metric -> record holding ``value``)."""
    metrics = run.result["tasks"][task].get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def _undefined_in(run: Run, task: str, metric: str, side: str) -> str | None:
    """Why the run's reported value of ``metric`` cannot be tested, None if it has one."""
    record = _reported(run, task)[metric]
    if isinstance(record, dict) and record.get("value") is not None:
        return None
    reason = record.get("undefined") if isinstance(record, dict) else None
    return f"undefined in {side} ({run.directory})" + (f": {reason}" if reason else "")


def _why_not(run_a: Run, run_b: Run, task: str, metric: str, tables: _Tables) -> str | None:
    """Why ``metric`` cannot be tested on items (None: it can)."""
    reported = [metric in _reported(run, task) for run in (run_a, run_b)]
    if not any(reported):
        names = list(dict.fromkeys([*_reported(run_a, task), *_reported(run_b, task)]))
        return f"unknown metric (the runs report: {', '.join(names) or 'none'})"
    if metric in tables.skipped:
        return tables.skipped[metric]
    for run, side, has in ((run_a, "A", reported[0]), (run_b, "B", reported[1])):
        if not has:
            return f"not reported by {side} ({run.directory})"
    if metric not in tables.paired:
        return "cannot be recomputed from the samples"
    return None


def compare_metrics(
    run_a: Run,
    run_b: Run,
    task: str,
    metrics: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    method: str = "bootstrap",
    analytic_above: int = ANALYTIC_ABOVE,
) -> tuple[dict[str, PairedTest], dict[str, str]]:
    """Paired tests of A minus B on clusters or items for several metrics of a task.

    A unit is a cluster (ner, attribution) or an item (toxicity) both runs scored,
    paired by id; each metric is recomputed from the rows of ``samples/<task>.jsonl``,
    so that on the full sample the difference is that of the values in ``result.json``.
    ``metrics=None``: every metric both runs report with a value that the samples
    recompute; returns ``(tests, skipped)`` with ``skipped`` mapping each other reported
    metric to the reason. Given ``metrics``, each must be testable (a
    :class:`CompareError` otherwise); a run's undefined value gives an undefined test.
    Same gold and task checks as :func:`compare_task`; every test uses ``seed``, and a
    ROC-AUC on more than ``analytic_above`` items DeLong's test (see
    :func:`bench.report.compare.paired_test`).
    """
    if task not in _ITEM_TABLES:
        raise CompareError(f"unknown task {task!r}: expected one of {', '.join(_ITEM_TABLES)}")
    if method not in _METHODS:
        raise CompareError(f"method: expected bootstrap or randomization, got {method!r}")
    check_comparable(run_a, run_b, task)
    tables = _ITEM_TABLES[task](run_a, run_b)
    skipped: dict[str, str] = {}
    if metrics is None:
        chosen = []
        for metric in dict.fromkeys([*_reported(run_a, task), *_reported(run_b, task)]):
            reason = (
                _why_not(run_a, run_b, task, metric, tables)
                or _undefined_in(run_a, task, metric, "A")
                or _undefined_in(run_b, task, metric, "B")
            )
            if reason is None:
                chosen.append(metric)
            else:
                skipped[metric] = reason
    else:
        chosen = list(dict.fromkeys(metrics))
        for metric in chosen:
            reason = _why_not(run_a, run_b, task, metric, tables)
            if reason is not None:
                raise CompareError(f"{task}.{metric}: {reason}")
    tests = {}
    for metric in chosen:
        p = tables.paired[metric]
        if not len(p.data_a[0]):
            raise CompareError(f"{task}: the samples hold no items to compare {metric} on")
        data = (p.make_statistic, p.data_a, p.data_b)
        tests[metric] = paired_test(*data, n_resamples, seed, method, tables.unit, analytic_above)
    return tests, skipped


def compare_metric(
    run_a: Run,
    run_b: Run,
    task: str,
    metric: str,
    n_resamples: int = 1000,
    seed: int = 0,
    method: str = "bootstrap",
    analytic_above: int = ANALYTIC_ABOVE,
) -> PairedTest:
    """Paired test of ``metric`` of run A minus run B, on clusters or items.

    A unit is a cluster (ner, attribution) or an item (toxicity) both runs scored,
    paired by id; the metric is recomputed from the runs' ``samples/<task>.jsonl`` (see
    :func:`compare_metrics`). An unknown metric, one a run does not report or one the
    samples cannot recompute (e.g. toxicity's bias metrics) is a :class:`CompareError`.
    """
    tests, _ = compare_metrics(
        run_a, run_b, task, [metric], n_resamples, seed, method, analytic_above
    )
    return tests[metric]
