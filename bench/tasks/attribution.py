"""Attribution (who said what) on whole documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from bench.data.schema import ATTRIBUTION_TYPES
from bench.metrics.analytic import delta_method_sums
from bench.metrics.attribution import (
    DEFAULT_MIN_OVERLAP,
    AttributionRecord,
    attribution_counts,
    attribution_metrics,
    attribution_scores,
    content_iou,
    content_tokens,
    match_attributions,
    same_speaker,
)
from bench.metrics.bootstrap import resample_sums
from bench.metrics.clusters import Clusters
from bench.metrics.speakers import build_alias_table, resolve_speaker
from bench.metrics.values import MetricValue
from bench.predictions import AttributionPrediction, TextItem
from bench.tasks.base import Bootstrap, Task, TaskScore


class AttributionTask(Task):
    name: ClassVar[str] = "attribution"
    # 2: e2e needs content IoU >= min_overlap, token-level content F1, no credit for two
    # missing speakers, pairs-first matching
    metrics_version: ClassVar[int] = 2
    main_metrics: ClassVar[tuple[str, ...]] = (
        "content_exact_f1",
        "content_token_f1",
        "source_accuracy",
        "e2e_f1",
    )
    units: ClassVar[tuple[str, ...]] = ("cluster", "quote", "item")

    def __init__(
        self,
        gold: Any,
        adapter_name: str,
        bootstrap: Bootstrap | None = None,
        min_overlap: float = DEFAULT_MIN_OVERLAP,
    ) -> None:
        super().__init__(gold, adapter_name, bootstrap)
        self.min_overlap = min_overlap  # content IoU from which a pair is a found quote

    def validate_item(self, item: TextItem, prediction: Any) -> None:
        if not isinstance(prediction, list | tuple):
            raise self.error(item, "attributions", "expected a list")
        for i, att in enumerate(prediction):
            where = f"attributions[{i}]"
            if not isinstance(att, AttributionPrediction):
                raise self.error(item, where, "expected an AttributionPrediction")
            if not att.content:
                raise self.error(item, f"{where}.content", "expected at least one span")
            for k, piece in enumerate(att.content):
                self.check_span(item, f"{where}.content[{k}]", piece)
            for name in ("cue", "source"):
                if getattr(att, name) is not None:
                    self.check_span(item, f"{where}.{name}", getattr(att, name))
            if att.type is not None and att.type not in ATTRIBUTION_TYPES:
                raise self.error(item, f"{where}.type", f"unknown type {att.type!r}")
            if att.speaker is not None and not isinstance(att.speaker, str):
                raise self.error(item, f"{where}.speaker", "expected a string or None")

    def score(
        self, items: Sequence[TextItem], predictions: Sequence[list[AttributionPrediction]]
    ) -> TaskScore:
        aliases = build_alias_table(self.gold.speakers)
        texts = {item.id: item.text for item in items}
        gold = [
            replace(g, tokens=content_tokens(texts[g.item_id], g.content))
            for g in self.gold.records
            if g.item_id in texts
        ]
        pred, raw_speakers = [], []
        for item, atts in zip(items, predictions, strict=True):
            for att in atts:
                content = tuple((start, end) for start, end in att.content)  # checked spans
                pred.append(
                    AttributionRecord(
                        item.id,
                        content,
                        resolve_speaker(att.speaker, aliases),
                        (att.cue[0], att.cue[1]) if att.cue is not None else None,
                        (att.source[0], att.source[1]) if att.source is not None else None,
                        att.type,
                        content_tokens(item.text, content),
                    )
                )
                raw_speakers.append(att.speaker)
        matches = match_attributions(gold, pred, self.min_overlap)
        metrics, pairs = attribution_scores(gold, pred, matches, self.min_overlap)
        clusters = self.clusters([item.id for item in items])
        samples = _samples(gold, pred, raw_speakers, pairs, texts, clusters, self.min_overlap)
        return TaskScore(
            intervals=self._intervals(gold, pred, matches, metrics, clusters),
            metrics=metrics,
            counts={
                "documents": len(items),
                "gold_attributions": len(gold),
                "predicted": len(pred),
                "clusters": len(clusters),  # what a paired test of two runs resamples
            },
            samples=samples,
            breakdown={"min_overlap": self.min_overlap},
        )

    def _intervals(
        self,
        gold: list[AttributionRecord],
        pred: list[AttributionRecord],
        matches: dict[str, list[tuple[int, int]]],
        metrics: dict[str, MetricValue],
        clusters: Clusters,
    ) -> dict[str, Any]:
        """An interval for every defined metric, all from the same resamples of units:
        clusters (the records starting in a gold segment), quotes (a gold record with
        the predictions matched to it, or a spurious prediction) or items; see
        :func:`bench.metrics.attribution.attribution_counts`."""
        names = [name for name, metric in metrics.items() if metric.value is not None]
        if self.bootstrap is None or not (gold or pred) or not names:
            return {}
        unit, items = self.bootstrap.unit, clusters.items
        counts = attribution_counts(
            gold, pred, matches, unit, items, self.min_overlap, clusters=clusters
        )

        def of_sums(sums: np.ndarray) -> np.ndarray:
            values = attribution_metrics(sums)
            return np.stack([values[name] for name in names], axis=1)

        if self.bootstrap.analytic(len(counts)):
            return delta_method_sums(counts, of_sums, names, self.bootstrap.alpha, unit=unit)
        draws = self.new_draws()
        draws.add(lambda indices: of_sums(resample_sums(counts, indices)), names, len(counts))
        return draws.intervals()


def _samples(
    gold: list[AttributionRecord],
    pred: list[AttributionRecord],
    raw_speakers: list[str | None],
    pairs: list[tuple[int, int]],
    texts: dict[str, str],
    clusters: Clusters,
    min_overlap: float,
) -> list[dict[str, Any]]:
    """One row per gold record (with its matched prediction) and per unmatched prediction.

    A record shows its content pieces (and their text and tokens), resolved speaker id,
    type, and cue and source spans (``[start, end]`` or null), enough to rebuild the
    records and rescore them per item (:func:`bench.report.compare_items.compare_metric`);
    where the item has gold segments, the ``segment`` ``[start, end, id]`` its content
    starts in (the bootstrap cluster). A row says whether the contents are equal, overlap
    at all, overlap with IoU ≥ ``min_overlap`` (``content_match``, with the ``iou``),
    whether the speakers agree, and ``e2e_correct`` (both)."""

    def show(record: AttributionRecord) -> dict[str, Any]:
        text = texts.get(record.item_id, "")
        segment = clusters.segment_at(record.item_id, min(s for s, _ in record.content))
        return {
            "content": [list(piece) for piece in record.content],
            "text": " … ".join(text[s:e] for s, e in record.content),
            "tokens": [list(token) for token in record.tokens],
            "speaker": record.speaker,
            "type": record.type,
            "cue": list(record.cue) if record.cue is not None else None,
            "source": list(record.source) if record.source is not None else None,
        } | ({"segment": list(segment[1:])} if segment else {})

    matched = dict(pairs)
    rows = []
    for i, g in enumerate(gold):
        j = matched.get(i)
        p = pred[j] if j is not None else None
        speaker_text = raw_speakers[j] if j is not None else None
        iou = content_iou(g, p) if p else 0.0
        speaker = bool(p and same_speaker(g, p))
        rows.append(
            {
                "id": g.item_id,
                "gold": show(g),
                "pred": show(p) | {"speaker_text": speaker_text} if p else None,
                "content_exact": bool(p and sorted(p.content) == sorted(g.content)),
                "overlap_match": p is not None,
                "iou": iou,
                "content_match": iou >= min_overlap,
                "speaker_correct": speaker,
                "e2e_correct": speaker and iou >= min_overlap,
            }
        )
    for j in sorted(set(range(len(pred))) - set(matched.values())):
        rows.append(
            {
                "id": pred[j].item_id,
                "gold": None,
                "pred": show(pred[j]) | {"speaker_text": raw_speakers[j]},
                "content_exact": False,
                "overlap_match": False,
                "iou": 0.0,
                "content_match": False,
                "speaker_correct": False,
                "e2e_correct": False,
            }
        )
    return rows
