"""A deterministically degraded rule baseline, built by Hydra from ``_target_`` in the tests.

``DegradedRules`` predicts what :class:`~bench.adapters.rules.RulesAdapter` predicts,
then damages it in reproducible ways, so that the regression check has something
real to catch (or to shrug off as noise).
"""

from __future__ import annotations

import zlib

import numpy as np

from bench.adapters.rules import RulesAdapter
from bench.predictions import EntityPrediction, TextItem, ToxicityPrediction


class DegradedRules(RulesAdapter):
    """The rule baseline, made worse.

    ``drop_every``: keep only entities whose position k (within its document, in
    the rules' order) has ``(k + 1) % drop_every != 0``; 2 drops every other one,
    0 drops none. ``noise``: add Gaussian noise of that standard deviation to every
    toxicity score, which also breaks the ties of the many 0.0 scores (reorders
    items: a large move of ROC-AUC on few items). ``jitter``: multiply every score
    by exp(N(0, jitter)), which keeps 0.0 at 0.0 (a small move). Scores are clipped
    to [0, 1]; the draws come from a generator seeded by ``seed`` and the item id,
    so that a score never depends on batching.
    """

    def __init__(
        self, drop_every: int = 0, noise: float = 0.0, jitter: float = 0.0, seed: int = 0
    ) -> None:
        super().__init__()
        self.drop_every = drop_every
        self.noise = noise
        self.jitter = jitter
        self.seed = seed

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        predicted = super().predict_ner(documents)
        if self.drop_every <= 0:
            return predicted
        return [
            [e for k, e in enumerate(entities) if (k + 1) % self.drop_every != 0]
            for entities in predicted
        ]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        predicted = super().predict_toxicity(items)
        if self.noise <= 0 and self.jitter <= 0:
            return predicted
        out = []
        for item, p in zip(items, predicted, strict=True):
            rng = np.random.default_rng([self.seed, zlib.crc32(item.id.encode())])
            additive, factor = rng.normal(0.0, self.noise), np.exp(rng.normal(0.0, self.jitter))
            score = float(np.clip(p.score * factor + additive, 0.0, 1.0))
            out.append(ToxicityPrediction(score, p.attributes))
        return out
