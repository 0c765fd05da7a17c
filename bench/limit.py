"""The run option ``limit``: which items a limited run predicts and scores (the
original and, under ``+perturb``, the perturbed pass alike)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from bench.items import take
from bench.predictions import TextItem


def limited(items: Sequence[TextItem], limit: int | None, seed: int | None) -> Sequence[TextItem]:
    """The run option ``limit``: the first ``limit`` items, or with ``seed`` a seeded
    random sample of ``limit`` of them (in dataset order); None: every item."""
    if limit is None or limit >= len(items):
        return items
    if seed is None:
        return take(items, np.arange(limit))
    return take(items, sorted(random.Random(seed).sample(range(len(items)), limit)))
