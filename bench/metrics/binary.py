"""Binary labels with scores, checked, and the equal-width calibration bins of scores:
what the metrics (``bench.metrics.ranking``) and their interval statistics
(``bench.metrics.bootstrap``) share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Binary labels (0/1) and scores, as lists or arrays.
Labels = Sequence[int] | np.ndarray
Scores = Sequence[float] | np.ndarray


def check_binary_scores(
    labels: Labels,
    scores: Scores,
    *,
    probabilities: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``labels``/``scores`` to ``int64``/``float64`` 1-D arrays.

    Raises :class:`ValueError` unless both are one-dimensional and of equal
    length, every label is 0 or 1, and every score is finite (and, with
    ``probabilities=True``, within [0, 1]).
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got {sorted(set(y.tolist()))[:5]}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    if probabilities and s.size and (s.min() < 0.0 or s.max() > 1.0):
        raise ValueError(f"scores must be probabilities in [0, 1], got [{s.min()}, {s.max()}]")
    return y.astype(np.int64), s


def calibration_bin_of(scores: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins of [0, 1]: ``(edges, bin_of)``, the bin index of each score.

    Exactly the bins of scikit-learn's ``calibration_curve(strategy="uniform")``
    (which the calibration plot draws): edges ``np.linspace(0, 1, M + 1)``, and
    a score on an inner edge belongs to the bin below it — bin 0 is [0, 1/M],
    bin k ≥ 1 is (k/M, (k+1)/M]. So with M = 10 a score of exactly 0.3 falls in
    the third bin (0.2, 0.3], 0.0 in the first and 1.0 in the last.
    ``scores`` must already be checked probabilities (:func:`check_binary_scores`).
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return edges, np.searchsorted(edges[1:-1], scores)  # side="left": as calibration_curve
