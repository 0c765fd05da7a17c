"""Clusters: the units a bootstrap resamples when entities or quotes share their errors.

Entities of one sentence are not independent: a hard sentence, a tokenisation
problem or an unusual register makes several of them wrong together. Resampling
entities one by one then understates the variance, and the intervals cover the
true value less often than they claim. A cluster bootstrap draws whole clusters
instead: each cluster's additive counts are summed, and the cluster rows are
resampled (Davison & Hinkley, *Bootstrap Methods and their Application* (1997),
§3.8; Field & Welsh (2007), "Bootstrapping clustered data", JRSS B 69(3)).

A dataset's clusters are its gold segments (the seed article: the headline, each
paragraph, each comment), and an item without segments (a CoNLL sentence) is one
cluster. A span belongs to the cluster where it starts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

Segment = tuple[Hashable, int, int, str]  # item id, start, end (exclusive), segment id

_SHIFT = 32  # key = item index << 32 | offset: offsets below 2**32


class Clusters:
    """The clusters of some items: their segments, or the item itself without any.

    Codes ``0 .. len − 1`` number the clusters in item order, then by start;
    :meth:`locate` gives the cluster of a position (the segment it lies in, or the
    last one starting before it; a position before an item's first segment belongs
    to that first segment).
    """

    def __init__(self, items: Sequence[Hashable], segments: Iterable[Segment] = ()) -> None:
        self.items = tuple(items)
        self.index = {item: k for k, item in enumerate(self.items)}
        if len(self.index) != len(self.items):
            raise ValueError("items must be distinct")
        by_item: dict[Hashable, list[Segment]] = {}
        for segment in segments:
            if segment[0] in self.index:
                by_item.setdefault(segment[0], []).append(segment)
        self.segments: dict[Hashable, tuple[Segment, ...]] = {
            item: tuple(sorted(own, key=lambda s: s[1])) for item, own in by_item.items()
        }
        keys = []
        for k, item in enumerate(self.items):
            starts = [s[1] for s in self.segments.get(item, ())] or [0]
            keys += [(k << _SHIFT) + (start if j else 0) for j, start in enumerate(starts)]
        self._keys = np.array(keys, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._keys)

    def locate(self, item_index: np.ndarray, starts: Sequence[int] | np.ndarray) -> np.ndarray:
        """The cluster code of each position, given its item's index in ``items``."""
        keys = (np.asarray(item_index, dtype=np.int64) << _SHIFT) + np.asarray(starts, np.int64)
        return np.searchsorted(self._keys, keys, side="right") - 1

    def of_spans(self, item_ids: Sequence[Hashable], starts: Sequence[int]) -> np.ndarray:
        """The cluster code of each span ``(item id, start)``; every item must be listed."""
        missing = next((item for item in item_ids if item not in self.index), None)
        if missing is not None:
            raise ValueError(f"item {missing!r} of a span is not among the clustered items")
        return self.locate(np.array([self.index[i] for i in item_ids], dtype=np.int64), starts)

    def segment_at(self, item_id: Hashable, start: int) -> Segment | None:
        """The segment holding position ``start`` of the item (see :meth:`locate`); None
        when the item has no segments (it is its own cluster)."""
        own = self.segments.get(item_id)
        if not own:
            return None
        j = int(np.searchsorted([s[1] for s in own], start, side="right")) - 1
        return own[max(j, 0)]


def required(clusters: Clusters | None) -> Clusters:
    """``clusters``, which a bootstrap at unit "cluster" cannot do without."""
    if clusters is None:
        raise ValueError('unit "cluster" needs the clusters')
    return clusters


def cluster_sums(rows: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per-unit count rows summed by cluster: ``out[c] = Σ_{i : codes[i] = c} rows[i]``,
    shape (n_clusters, k), a zero row for a cluster without units."""
    rows = np.asarray(rows)
    out = np.zeros((n_clusters, *rows.shape[1:]), dtype=rows.dtype)
    np.add.at(out, np.asarray(codes, dtype=np.int64), rows)
    return out
