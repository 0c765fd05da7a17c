"""Named entities, scored by strict span match (CoNLL) and the SemEval-2013 schemes.

``strict_*`` are the CoNLL / seqeval numbers (same span and type); ``exact_*``,
``partial_*`` and ``ent_type_*`` are nervaluate's schemes (span only; overlap
with half credit; overlap with the right type), with their COR/INC/PAR/MIS/SPU
counts per label under ``breakdown.semeval``. Every metric gets a bootstrap interval
(``NerTask._intervals``).

On a token dataset (CoNLL: an item is its tokens joined by single spaces) the
SemEval schemes are computed on token offsets, as nervaluate computes them on
the CoNLL tags: its ent_type choice among overlapping gold spans (the smallest
|Δstart| + |Δend|) and its overlap percentage depend on the unit of the offsets.
An item with a predicted span that does not fall on token boundaries (which no
tags can express) keeps character offsets (:func:`bench.metrics.spans.token_spans`).
``strict_*`` are the same in either unit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

import numpy as np

from bench.data.conll import texts_token_offsets
from bench.metrics.analytic import delta_method_sums
from bench.metrics.bootstrap import SharedResamples, prf_statistics
from bench.metrics.clusters import Clusters
from bench.metrics.spans import (
    SpanColumns,
    SpanUnits,
    TokenOffsets,
    macro_f1_of_sums,
    span_macro_f1_statistic,
    span_report,
    span_units,
    strict_scores,
    strict_units_by_label,
    token_columns,
)
from bench.metrics.values import MetricValue
from bench.predictions import EntityPrediction, TextItem
from bench.sample_rows import NerRows
from bench.tasks.base import Bootstrap, Task, TaskScore

PRF = ("precision", "recall", "f1")
# Resample indices per batch. NER's sums (counts and half credits) are exact in any order,
# so any batching gives the same intervals; batches that stay in the CPU cache are 2-3×
# faster than the default's (measured on 1M tokens).
BATCH_ELEMENTS = 500_000


class NerTask(Task):
    name: ClassVar[str] = "ner"
    metrics_version: ClassVar[int] = 2  # 2: SemEval schemes on token offsets on token data
    main_metrics: ClassVar[tuple[str, ...]] = ("strict_precision", "strict_recall", "strict_f1")
    units: ClassVar[tuple[str, ...]] = ("cluster", "entity", "item")

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        if not isinstance(prediction, list | tuple):
            raise self.error(item, "entities", f"expected a list, got {type(prediction).__name__}")
        size, labels = len(item.text), self.gold.labels
        for i, entity in enumerate(prediction):
            if (  # the usual case, at the cost of one test per entity
                type(entity) is EntityPrediction
                and type(entity.start) is int
                and type(entity.end) is int
                and 0 <= entity.start < entity.end <= size
                and entity.label in labels
            ):
                continue
            if not isinstance(entity, EntityPrediction):
                raise self.error(item, f"entities[{i}]", "expected an EntityPrediction", i)
            self.check_span(item, f"entities[{i}]", (entity.start, entity.end), i)
            if entity.label not in self.gold.labels:
                raise self.error(item, f"entities[{i}].label", f"unknown label {entity.label!r}", i)

    def score(
        self, items: Sequence[TextItem], predictions: Sequence[list[EntityPrediction]]
    ) -> TaskScore:
        ids = {item.id for item in items}
        gold = {span for span in self.gold.spans if span[0] in ids}
        pred = {(item.id, e.start, e.end, e.label)
                for item, entities in zip(items, predictions, strict=True)
                for e in entities}  # fmt: skip
        micro, scores_by_label = strict_scores(gold, pred)
        per_label: dict[str, dict[str, Any]] = scores_by_label  # gets the intervals below
        item_ids = [item.id for item in items]
        spans = SpanColumns.pair(gold, pred, item_ids)
        tokens = self._tokens(items)
        semeval_spans = token_columns(*spans, tokens) if tokens else spans
        clusters = self.clusters(item_ids)
        unit = "item" if self.bootstrap is None else self.bootstrap.unit
        units = span_units(*semeval_spans, unit, items=item_ids, clusters=clusters)
        del semeval_spans
        semeval = span_report(units.counts)
        for scheme in ("exact", "partial", "ent_type"):
            for name in ("precision", "recall", "f1"):
                micro[f"{scheme}_{name}"] = semeval["micro"][scheme][name]
        micro["strict_macro_f1"] = semeval["macro"]["strict"]["f1"]
        samples = _sample_rows(items, *spans, tokens, clusters)
        intervals = self._intervals(*spans, units, item_ids, clusters)
        if self.bootstrap is not None:  # each label's, out of the metrics' intervals
            for label, scores in per_label.items():
                scores["ci95"] = {name: intervals.pop((label, name)).to_json()
                                  for name in PRF if (label, name) in intervals}  # fmt: skip
        return TaskScore(
            intervals=intervals,
            metrics={name: MetricValue(value) for name, value in micro.items()},
            counts={"items": len(items), "gold_entities": len(gold), "predicted": len(pred)},
            samples=samples,
            breakdown={"per_label": per_label, "semeval": semeval},
        )

    def _tokens(self, items: Sequence[TextItem]) -> TokenOffsets | None:
        """Each item's token spans on a token dataset (its text split on spaces), else
        None."""
        if not self.gold.tokenized:
            return None
        return TokenOffsets([item.id for item in items],
                            *texts_token_offsets([item.text for item in items]))  # fmt: skip

    def _intervals(
        self,
        gold: SpanColumns,
        pred: SpanColumns,
        units: SpanUnits,
        item_ids: list[str],
        clusters: Clusters,
    ) -> dict[Any, Any]:
        """An interval for every metric, all resampling the same kind of unit, and of
        each label's strict precision, recall and F1 (keyed ``(label, name)``).

        ``strict_*`` (CoNLL): a unit is a cluster (a gold segment or sentence:
        :mod:`bench.metrics.clusters`), an item, or an entity — each span of gold ∪ pred,
        a correct one counted once (:func:`bench.metrics.spans.strict_units_by_label`).
        ``exact_*``, ``partial_*``, ``ent_type_*`` and ``strict_macro_f1``: the units of
        :func:`bench.metrics.spans.span_units` (``units``) — an item, or an entity of that
        scheme's matching (a matched pair, an SPU or a MIS), or the sum of these per
        cluster, on the spans of the SemEval schemes (token offsets on a token dataset:
        :func:`~bench.metrics.spans.token_spans`; its items, sentences, have no segments,
        so each is one cluster whatever the offsets). All are drawn from one set of
        resamples per number of units.
        """
        if self.bootstrap is None:
            return {}
        unit = self.bootstrap.unit
        # (tp, n_pred, n_gold) rows and the names of their P, R and F1
        strict, by_label = strict_units_by_label(
            gold, pred, unit, items=item_ids, clusters=clusters
        )
        families: list[tuple[np.ndarray, list[Hashable]]] = [
            (rows, [(label, name) for name in PRF]) for label, rows in by_label.items()
        ]
        families.append((strict, [f"strict_{name}" for name in PRF]))
        for scheme in ("exact", "partial", "ent_type"):
            families.append((units.overall[scheme], [f"{scheme}_{name}" for name in PRF]))
        families = [(rows, names) for rows, names in families if len(rows)]
        macro = units.per_label["strict"]
        n_units = max([len(macro), *(len(rows) for rows, _ in families)])
        draws = self.new_draws(max(1, BATCH_ELEMENTS // max(n_units, 1)))
        _add_prf(self.bootstrap, draws, families)
        if len(macro) and self.bootstrap.analytic(len(macro)):
            draws.put({"strict_macro_f1": delta_method_sums(
                macro, lambda sums: macro_f1_of_sums(sums)[:, None], ["f1"],
                self.bootstrap.alpha, unit=unit,
            )["f1"]})  # fmt: skip
        elif len(macro):
            draws.add_one(span_macro_f1_statistic(macro), "strict_macro_f1", len(macro))
        return draws.intervals()


def _add_prf(
    bootstrap: Bootstrap, draws: SharedResamples, families: list[tuple[np.ndarray, list[Hashable]]]
) -> None:
    """P, R and F1 of each family of ``(tp, n_pred, n_gold)`` rows: the families over the
    same number of units (all but at unit "entity") drawn as one statistic, one matrix
    product per resample batch; analytic where :meth:`Bootstrap.analytic`."""
    for n_units in dict.fromkeys(len(rows) for rows, _ in families):
        same = [(rows, names) for rows, names in families if len(rows) == n_units]
        if bootstrap.analytic(n_units):
            for rows, names in same:
                bootstrap.add_prf(draws, rows, names)
            continue
        names = [name for _, family in same for name in family]
        draws.add(prf_statistics([rows for rows, _ in same]), names, n_units)


def _sample_rows(
    items: Sequence[TextItem],
    gold: SpanColumns,
    pred: SpanColumns,
    tokens: TokenOffsets | None,
    clusters: Clusters,
) -> NerRows:
    """Each item's ``samples/ner.jsonl`` row: its gold and predicted spans (sorted, with
    their text), counts and strict F1, and its tokens and segments where there are."""
    # what compare needs to recompute the SemEval schemes, and the bootstrap clusters
    offsets = (tokens.starts, tokens.ends, tokens.bounds) if tokens else None
    segments: dict[str, list[list[Any]]] = {
        str(item_id): [[s, e, seg] for _, s, e, seg in found]
        for item_id, found in clusters.segments.items()
    }
    ids, texts = [item.id for item in items], [item.text for item in items]
    return NerRows(ids, texts, gold.labels, gold.rows(), pred.rows(), offsets, segments)
