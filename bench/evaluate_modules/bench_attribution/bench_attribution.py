"""Attribution scores: bench.metrics.attribution as an evaluate module (one row per item)."""

import datasets
import evaluate

from bench.metrics.attribution import AttributionRecord, attribution_scores

_DESCRIPTION = """Attribution (who said what) scored as in bench: content exact and
character-overlap F1 (one-to-one Hungarian matching), cue and source span F1,
speaker accuracy and type accuracy on matched contents, end-to-end F1. Speakers
are compared as given (resolve free-text names to ids first). Undefined values
(e.g. speaker accuracy without a matched content) are returned as None."""

_KWARGS = """
Args:
    predictions: per item, a list of {"content": [[start, end], ...], "speaker": str,
        "cue": [start, end] or [], "source": [start, end] or [], "type": str or ""}.
    references: per item, the gold records in the same form.
Returns:
    content_exact_f1, content_overlap_f1, source_accuracy, e2e_f1, cue_exact_f1,
    cue_overlap_f1, source_exact_f1, source_overlap_f1, type_accuracy and
    content_overlap_f1.<type> for each gold type.
"""

_RECORD = {
    "content": datasets.Sequence(datasets.Sequence(datasets.Value("int64"))),
    "speaker": datasets.Value("string"),
    "cue": datasets.Sequence(datasets.Value("int64")),
    "source": datasets.Sequence(datasets.Value("int64")),
    "type": datasets.Value("string"),
}


def _records(rows, item):
    return [
        AttributionRecord(
            item,
            tuple(tuple(piece) for piece in row["content"]),
            row["speaker"] or None,
            tuple(row["cue"]) if row.get("cue") else None,
            tuple(row["source"]) if row.get("source") else None,
            row.get("type") or None,
        )
        for row in rows
    ]


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class BenchAttribution(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": [_RECORD], "references": [_RECORD]}),
        )

    def _compute(self, predictions, references):
        gold, pred = [], []
        for item, (p, r) in enumerate(zip(predictions, references, strict=True)):
            pred += _records(p, str(item))
            gold += _records(r, str(item))
        metrics, _ = attribution_scores(gold, pred)
        return {name: value.value for name, value in metrics.items()}
