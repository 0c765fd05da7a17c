"""Entity-level scores of BIO tag sequences: bench.metrics.bio as an evaluate module."""

import datasets
import evaluate

from bench.metrics.bio import bio_scores

_DESCRIPTION = """Entity precision, recall and F1 of tag sequences, equal to seqeval:
mode="default" decodes like conlleval (an I-X after O or another type starts an
entity); mode="strict" with a scheme (IOB1, IOB2, IOE1, IOE2, IOBES, BILOU) is
seqeval's strict mode. Zero denominators give 0.0."""

_KWARGS = """
Args:
    predictions: list of tag sequences.
    references: list of tag sequences of the same lengths.
    mode: "default" or "strict"; scheme: required with mode="strict".
Returns:
    overall_precision, overall_recall, overall_f1 (micro) and, per entity type,
    {precision, recall, f1, number}.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class BenchNer(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references, mode="default", scheme=None):
        scores = bio_scores(references, predictions, mode=mode, scheme=scheme)
        out = {
            label: {
                "precision": row["precision"],
                "recall": row["recall"],
                "f1": row["f1"],
                "number": row["support"],
            }
            for label, row in scores["per_type"].items()
        }
        micro = scores["micro"]
        out |= {
            "overall_precision": micro["precision"],
            "overall_recall": micro["recall"],
            "overall_f1": micro["f1"],
        }
        return out
