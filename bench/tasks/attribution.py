"""Attribution (who said what) on whole documents."""

from __future__ import annotations

from typing import Any, ClassVar

from bench.data.schema import ATTRIBUTION_TYPES
from bench.metrics.attribution import (
    AttributionRecord,
    attribution_scores,
    build_alias_table,
    resolve_speaker,
)
from bench.metrics.bootstrap import ratio_statistic
from bench.predictions import AttributionPrediction, TextItem
from bench.tasks.base import Task, TaskScore


class AttributionTask(Task):
    name: ClassVar[str] = "attribution"
    main_metrics: ClassVar[tuple[str, ...]] = (
        "content_exact_f1",
        "content_overlap_f1",
        "source_accuracy",
        "e2e_f1",
    )
    units: ClassVar[tuple[str, ...]] = ("quote", "item")

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
        self, items: list[TextItem], predictions: list[list[AttributionPrediction]]
    ) -> TaskScore:
        aliases = build_alias_table(self.gold.speakers)
        gold = list(self.gold.records)
        pred, raw_speakers = [], []
        for item, atts in zip(items, predictions, strict=True):
            for att in atts:
                pred.append(
                    AttributionRecord(
                        item.id,
                        tuple(tuple(piece) for piece in att.content),
                        resolve_speaker(att.speaker, aliases),
                        tuple(att.cue) if att.cue is not None else None,
                        tuple(att.source) if att.source is not None else None,
                        att.type,
                    )
                )
                raw_speakers.append(att.speaker)
        metrics, pairs = attribution_scores(gold, pred)
        texts = {item.id: item.text for item in items}
        samples = _samples(gold, pred, raw_speakers, pairs, texts)
        return TaskScore(
            intervals=self._intervals(samples),
            metrics=metrics,
            counts={
                "documents": len(items),
                "gold_attributions": len(gold),
                "predicted": len(pred),
            },
            samples=samples,
        )

    def _intervals(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """Intervals of the main metrics; a unit is a quote (a gold record or a spurious
        prediction, with its match) or an item (all the quotes of a document).

        source_accuracy is the ratio correct / matched of the drawn units' sums.
        """
        if self.bootstrap is None:
            return {}
        key = (lambda i, row: i) if self.bootstrap.unit == "quote" else (lambda i, row: row["id"])
        units: dict[Any, list[int]] = {}
        for i, row in enumerate(samples):
            has_gold, has_pred = int(row["gold"] is not None), int(row["pred"] is not None)
            counts = units.setdefault(key(i, row), [0] * 5)
            for k, v in enumerate(
                (
                    has_pred,
                    has_gold,
                    int(row["content_exact"]),
                    int(row["overlap_match"]),
                    int(row["speaker_correct"]),
                )
            ):
                counts[k] += v  # fmt: skip
        rows = list(units.values())
        out: dict[str, Any] = {}
        for name, tp in (("content_exact_f1", 2), ("content_overlap_f1", 3), ("e2e_f1", 4)):
            out[name] = self.bootstrap.prf([(r[tp], r[0], r[1]) for r in rows], "")["f1"]
        if any(r[3] for r in rows):
            correct_over_matched = ratio_statistic([r[4] for r in rows], [r[3] for r in rows])
            out["source_accuracy"] = self.bootstrap.statistic(correct_over_matched, len(rows))
        return out


def _samples(
    gold: list[AttributionRecord],
    pred: list[AttributionRecord],
    raw_speakers: list[str | None],
    pairs: list[tuple[int, int]],
    texts: dict[str, str],
) -> list[dict[str, Any]]:
    """One row per gold record (with its matched prediction) and per unmatched prediction."""

    def show(record: AttributionRecord) -> dict[str, Any]:
        text = texts.get(record.item_id, "")
        return {
            "content": [list(piece) for piece in record.content],
            "text": " … ".join(text[s:e] for s, e in record.content),
            "speaker": record.speaker,
        }

    matched = dict(pairs)
    rows = []
    for i, g in enumerate(gold):
        j = matched.get(i)
        p = pred[j] if j is not None else None
        rows.append(
            {
                "id": g.item_id,
                "gold": show(g),
                "pred": show(p) | {"speaker_text": raw_speakers[j]} if p else None,
                "content_exact": bool(p and sorted(p.content) == sorted(g.content)),
                "overlap_match": p is not None,
                "speaker_correct": bool(p and p.speaker == g.speaker),
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
                "speaker_correct": False,
            }
        )
    return rows
