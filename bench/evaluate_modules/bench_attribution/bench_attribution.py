"""Attribution scores: bench.metrics.attribution as an evaluate module (one row per item)."""

import datasets
import evaluate

from bench.metrics.attribution import (
    DEFAULT_MIN_OVERLAP,
    AttributionRecord,
    attribution_scores,
    content_tokens,
)

_DESCRIPTION = """Attribution (who said what) scored as in bench: content exact, any-overlap
and IoU >= min_overlap F1 (one-to-one Hungarian matching), token-level content P/R/F1
(with the items' texts), cue and source span F1, speaker accuracy and type accuracy on
contents matched with IoU >= min_overlap, end-to-end F1. Speakers are compared as given
(resolve free-text names to ids first). Undefined values (e.g. speaker accuracy without
a matched content) are returned as None."""

_KWARGS = """
Args:
    predictions: per item, a list of {"content": [[start, end], ...], "speaker": str,
        "cue": [start, end] or [], "source": [start, end] or [], "type": str or ""}.
    references: per item, the gold records in the same form.
    texts: optional, per item its text: the token-level metrics need it.
    min_overlap: the content IoU from which a pair is a found quote (default 0.5).
Returns:
    content_exact_f1, content_overlap_f1, content_iou_f1, source_accuracy, e2e_f1,
    cue_exact_f1, cue_overlap_f1, source_exact_f1, source_overlap_f1, type_accuracy,
    content_overlap_f1.<type> for each gold type, and with texts
    content_token_precision, content_token_recall and content_token_f1.
"""

_RECORD = {
    "content": datasets.Sequence(datasets.Sequence(datasets.Value("int64"))),
    "speaker": datasets.Value("string"),
    "cue": datasets.Sequence(datasets.Value("int64")),
    "source": datasets.Sequence(datasets.Value("int64")),
    "type": datasets.Value("string"),
}


def _records(rows, item, text):
    out = []
    for row in rows:
        content = tuple(tuple(piece) for piece in row["content"])
        out.append(
            AttributionRecord(
                item,
                content,
                row["speaker"] or None,
                tuple(row["cue"]) if row.get("cue") else None,
                tuple(row["source"]) if row.get("source") else None,
                row.get("type") or None,
                content_tokens(text, content) if text is not None else (),
            )
        )
    return out


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class BenchAttribution(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": [_RECORD], "references": [_RECORD]}),
        )

    def _compute(self, predictions, references, texts=None, min_overlap=DEFAULT_MIN_OVERLAP):
        gold, pred = [], []
        for item, (p, r) in enumerate(zip(predictions, references, strict=True)):
            text = texts[item] if texts is not None else None
            pred += _records(p, str(item), text)
            gold += _records(r, str(item), text)
        metrics, _ = attribution_scores(gold, pred, min_overlap=min_overlap)
        return {
            name: value.value
            for name, value in metrics.items()
            if texts is not None or not name.startswith("content_token_")
        }
