"""The adapter protocol.

An adapter declares the tasks it supports in ``tasks`` and implements the
matching ``predict_<task>`` methods. Each receives a batch of items and returns
one prediction (or list of predictions) per item, in order, or a
:class:`~bench.predictions.PredictionFailure` for an item it could not predict (never
a made-up stand-in value). Adapters know nothing of metrics or gold labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    PredictionFailure,
    TextItem,
    ToxicityPrediction,
    ToxicityScores,
)

if TYPE_CHECKING:
    from bench.items import TextItems

TASKS: tuple[str, ...] = ("ner", "attribution", "toxicity")


@dataclass(frozen=True)
class Batching:
    """How the runner hands a task's items to an adapter: ``size`` items per predict call
    and, with ``sort_by_length``, shortest texts first (predictions are returned in input
    order whatever the order asked). ``inside``: what the adapter does within a call
    (e.g. spaCy's ``n_process``), recorded with the rest in result.json."""

    size: int = 32
    sort_by_length: bool = False
    inside: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# A vectorised model (one matrix operation per call) gains from large calls; this bounds
# the memory of one call and keeps the progress bar and the cache moving.
LARGE_BATCH = 4096


def has_toxicity_scores(adapter: Adapter) -> bool:
    """Whether ``adapter`` defines :meth:`Adapter.predict_toxicity_scores`."""
    return type(adapter).predict_toxicity_scores is not Adapter.predict_toxicity_scores


class Adapter:
    """Base class: subclass it, set ``tasks`` and implement the predict methods."""

    tasks: ClassVar[frozenset[str]] = frozenset()
    # Predictions go through the on-disk cache (bench.cache); off for adapters that
    # are cheaper to rerun than to cache (baselines) or read files themselves.
    cacheable: ClassVar[bool] = True
    # What batching() returns unless overridden: vectorised adapters set Batching(LARGE_BATCH).
    preferred_batching: ClassVar[Batching] = Batching()
    # A yardstick rather than a competitor: "ceiling" (the gold) or "floor" (a constant
    # predictor). Recorded as model.reference in result.json; leaderboards never rank it.
    reference: ClassVar[str | None] = None

    def predict_ner(
        self, documents: list[TextItem]
    ) -> Sequence[list[EntityPrediction] | PredictionFailure]:
        raise NotImplementedError(f"{type(self).__name__} does not predict entities")

    def predict_attribution(
        self, documents: list[TextItem]
    ) -> Sequence[list[AttributionPrediction] | PredictionFailure]:
        raise NotImplementedError(f"{type(self).__name__} does not predict attributions")

    def predict_toxicity(
        self, items: list[TextItem]
    ) -> Sequence[ToxicityPrediction | PredictionFailure]:
        """By default the objects of :meth:`predict_toxicity_scores`, where defined."""
        if not has_toxicity_scores(self):
            raise NotImplementedError(f"{type(self).__name__} does not predict toxicity")
        from bench.items import TextItems

        scored = self.predict_toxicity_scores(TextItems.of(items))
        if scored is None:
            raise NotImplementedError(f"{type(self).__name__} does not predict toxicity")
        return list(scored)

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores | None:
        """The toxicity predictions of ``items`` (ids and texts as columns) as arrays, with
        no object per item: what the runner asks an adapter that defines it (a vectorised
        model, a file of scores); None where this adapter answers with
        :meth:`predict_toxicity` instead."""
        return None

    def batching(self, task: str) -> Batching:
        """The adapter's preferred batching for ``task`` (the run option ``batch_size``
        overrides its size); by default :attr:`preferred_batching`."""
        return self.preferred_batching

    def served_model(self, task: str, item_id: str) -> dict[str, str] | None:
        """What the server reported about the model that answered ``item_id`` (model id,
        ``system_fingerprint``), for the cache; None for a model that is not served."""
        return None

    def source_of(self, task: str, item_id: str, element: int | None = None) -> str | None:
        """Where the prediction for ``item_id`` (its ``element``-th entity, where the file
        has a line per entity) was read from, as ``"path:line"``, for error messages about
        it; None when it does not come from a file (a model predicted it)."""
        return None

    def end_task(self, task: str, items: Sequence[TextItem]) -> None:
        """Called once a task's items were predicted; raise to fail the task. ``items``:
        every item of the task in the dataset (a run with ``limit`` predicts some of them)."""

    def identity(self) -> dict[str, Any]:
        """Model name, version, file hash or revision: whatever identifies the weights."""
        return {}
