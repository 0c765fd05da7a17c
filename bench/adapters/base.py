"""The adapter protocol.

An adapter declares the tasks it supports in ``tasks`` and implements the
matching ``predict_<task>`` methods. Each receives a batch of items and returns
one prediction (or list of predictions) per item, in order, or a
:class:`~bench.predictions.PredictionFailure` for an item it could not predict (never
a made-up stand-in value). Adapters know nothing of metrics or gold labels.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    TextItem,
    ToxicityPrediction,
)

TASKS: tuple[str, ...] = ("ner", "attribution", "toxicity")


class Adapter:
    """Base class: subclass it, set ``tasks`` and implement the predict methods."""

    tasks: ClassVar[frozenset[str]] = frozenset()
    # Predictions go through the on-disk cache (bench.cache); off for adapters that
    # are cheaper to rerun than to cache (baselines) or read files themselves.
    cacheable: ClassVar[bool] = True
    # A yardstick rather than a competitor: "ceiling" (the gold) or "floor" (a constant
    # predictor). Recorded as model.reference in result.json; leaderboards never rank it.
    reference: ClassVar[str | None] = None

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        raise NotImplementedError(f"{type(self).__name__} does not predict entities")

    def predict_attribution(self, documents: list[TextItem]) -> list[list[AttributionPrediction]]:
        raise NotImplementedError(f"{type(self).__name__} does not predict attributions")

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        raise NotImplementedError(f"{type(self).__name__} does not predict toxicity")

    def served_model(self, task: str, item_id: str) -> dict[str, str] | None:
        """What the server reported about the model that answered ``item_id`` (model id,
        ``system_fingerprint``), for the cache; None for a model that is not served."""
        return None

    def source_of(self, task: str, item_id: str) -> str | None:
        """Where the prediction for ``item_id`` was read from, as ``"path:line"``, for error
        messages about it; None when it does not come from a file (a model predicted it)."""
        return None

    def end_task(self, task: str, items: list[TextItem]) -> None:
        """Called once a task's items were predicted; raise to fail the task. ``items``:
        every item of the task in the dataset (a run with ``limit`` predicts some of them)."""

    def identity(self) -> dict[str, Any]:
        """Model name, version, file hash or revision: whatever identifies the weights."""
        return {}
