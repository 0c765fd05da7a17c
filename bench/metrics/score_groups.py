"""Items grouped by distinct score: the one sort every rank metric of a task shares.

ROC-AUC, average precision, best-threshold F1, DeLong's interval and the Jigsaw bias
AUCs all depend on the scores only through their order, i.e. through the toxic and
non-toxic counts per distinct score. :func:`score_groups` sorts once; a caller
scoring many of them on the same items (:class:`bench.tasks.toxicity.ToxicityTask`)
passes the result to each (their ``groups=``) instead of sorting ten million
scores again in every function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoreGroups:
    """The distinct scores in ascending order and, per item and per distinct score,
    what the rank metrics need."""

    thresholds: np.ndarray  # (G,) the distinct scores, ascending
    group: np.ndarray  # (n,) int64: each item's index in ``thresholds``
    positive: np.ndarray  # (G,) int64: toxic items per distinct score
    negative: np.ndarray  # (G,) int64: non-toxic items per distinct score

    @property
    def size(self) -> int:
        """The number of distinct scores, G."""
        return int(self.thresholds.size)


def score_groups(labels: np.ndarray, scores: np.ndarray) -> ScoreGroups:
    """:class:`ScoreGroups` of checked ``labels`` (int 0/1) and ``scores`` (finite floats,
    :func:`bench.metrics.binary.check_binary_scores`): ``group`` and ``thresholds`` are
    ``np.unique(scores, return_inverse=True)``'s, from one unstable argsort (equal scores
    share a group whatever their order), ~1.6× faster than ``np.unique``'s."""
    n = scores.size
    order = np.argsort(scores)
    ranked = scores[order]
    first = np.empty(n, bool)  # where a new distinct score starts in ``ranked``
    first[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    group = np.empty(n, np.int64)
    group[order] = np.cumsum(first) - 1
    thresholds = ranked[first]
    del order, ranked, first
    toxic = labels == 1
    return ScoreGroups(
        thresholds,
        group,
        np.bincount(group[toxic], minlength=thresholds.size),
        np.bincount(group[~toxic], minlength=thresholds.size),
    )


def matching(groups: ScoreGroups | None, labels: np.ndarray, scores: np.ndarray) -> ScoreGroups:
    """``groups`` if given (checked to be of ``labels``' size), else those of ``labels`` and
    ``scores``."""
    if groups is None:
        return score_groups(labels, scores)
    if groups.group.size != labels.size:
        raise ValueError(f"score groups of {groups.group.size} items for {labels.size} items")
    return groups
