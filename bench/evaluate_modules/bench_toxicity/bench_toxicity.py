"""Toxicity scores against binary labels: bench.metrics.ranking as an evaluate module."""

import datasets
import evaluate

from bench.metrics.ranking import (
    average_precision,
    brier_score,
    expected_calibration_error,
    f1_at_threshold,
    f1_best_threshold,
    roc_auc,
)

_DESCRIPTION = """ROC-AUC, average precision, F1 at a threshold and at the best threshold,
Brier score and expected calibration error (equal-width bins) of toxicity probabilities.
Undefined values (e.g. AUC with one class) are returned as None."""

_KWARGS = """
Args:
    predictions: probabilities of the toxic class, in [0, 1].
    references: gold labels, 0 or 1.
    threshold: score >= threshold predicts toxic (default 0.5).
    n_bins: equal-width bins for ECE (default 10).
Returns:
    dict with roc_auc, average_precision, f1, f1_best, f1_best_threshold, brier, ece.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class BenchToxicity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, threshold=0.5, n_bins=10):
        best = f1_best_threshold(references, predictions)
        return {
            "roc_auc": roc_auc(references, predictions).value,
            "average_precision": average_precision(references, predictions).value,
            "f1": f1_at_threshold(references, predictions, threshold).value,
            "f1_best": best.f1.value,
            "f1_best_threshold": best.threshold,
            "brier": brier_score(references, predictions).value,
            "ece": expected_calibration_error(references, predictions, n_bins).value,
        }
