"""What adapters receive and return: the contract between models and tasks.

Offsets in predictions are ``str`` indices into the *item's* text (the document
a model was given), half-open. The tasks shift them to the gold's global offsets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np

Span = tuple[int, int]


class UnusableInput(ValueError):
    """A file the user handed in as predictions is unusable (malformed, or a record the
    task rejects): the run is refused (``bench`` exits 2 and writes nothing), not recorded
    as a failed task. The message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class TextItem:
    """One unit given to a model: a document (NER, attribution) or a segment (toxicity)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class EntityPrediction:
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class AttributionPrediction:
    """A predicted attribution; ``speaker`` is free text or a speaker id, resolved by aliases."""

    content: tuple[Span, ...]
    speaker: str | None = None
    cue: Span | None = None
    source: Span | None = None
    type: str | None = None


@dataclass(frozen=True)
class PredictionFailure:
    """What an adapter returns, in place of a prediction, for an item it could not predict.

    ``reason`` is a short category counted per task (``request``, ``parse``,
    ``truncated``, ``empty``, ``refusal``, ``schema``, ``missing``, ``error``);
    ``message`` says what happened; ``prompt`` and ``raw`` are what a generative model
    was sent and answered, when there was an answer. A failed item is never scored as a
    value nor cached: the runner counts it, records it in ``samples/`` and fails the task
    when more than ``max_failure_rate`` of its items failed.
    """

    reason: str
    message: str
    prompt: str | None = None
    raw: str | None = None


class _NoAttributes(dict[str, float]):
    """The attributes of a prediction without any: one empty dict for all, which refuses
    to change (a dict each is ~64 bytes an item, millions of times over); a dict, so
    that its truth and length are as cheap as a dict's."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a prediction's empty attributes cannot change")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return 0


NO_ATTRIBUTES: Mapping[str, float] = _NoAttributes()


@dataclass(frozen=True, slots=True)
class ToxicityPrediction:
    """Probability that the item is toxic, optionally per attribute."""

    score: float
    attributes: Mapping[str, float] = NO_ATTRIBUTES


@dataclass(frozen=True, eq=False)
class ToxicityScores(Sequence["ToxicityPrediction | PredictionFailure"]):
    """The toxicity predictions of a batch of items as columns, what a vectorised adapter
    returns (:meth:`~bench.adapters.base.Adapter.predict_toxicity_scores`): ``scores``
    (float, one per item), ``attributes`` (name -> float per item, NaN where the item has
    no score for it) and the ``failures`` by position in the batch (their scores are not
    read). Item ``k`` as an object is ``scores[k]`` (made only where one is asked for)."""

    scores: np.ndarray
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)
    failures: Mapping[int, PredictionFailure] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores)

    @overload
    def __getitem__(self, k: int) -> ToxicityPrediction | PredictionFailure: ...
    @overload
    def __getitem__(self, k: slice) -> list[ToxicityPrediction | PredictionFailure]: ...

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(f"no prediction at {k}")
        if k in self.failures:
            return self.failures[k]
        attributes = {name: float(v[k]) for name, v in self.attributes.items() if v[k] == v[k]}
        return ToxicityPrediction(float(self.scores[k]), attributes or NO_ATTRIBUTES)


def prediction_to_json(task: str, prediction: Any) -> Any:
    """A task's prediction for one item as plain JSON (for caches and files)."""
    if task == "toxicity":
        return {"score": prediction.score, "attributes": dict(prediction.attributes)}
    return [asdict(p) for p in prediction]


def _pair(value: Any) -> Span:
    return (value[0], value[1])


def _span(value: Any) -> Span | None:
    return None if value is None else _pair(value)


def prediction_from_json(task: str, data: Any) -> Any:
    """Inverse of :func:`prediction_to_json`."""
    if task == "toxicity":
        attributes = data.get("attributes")
        return ToxicityPrediction(data["score"], dict(attributes) if attributes else NO_ATTRIBUTES)
    if task == "ner":
        return [EntityPrediction(d["start"], d["end"], d["label"]) for d in data]
    return [
        AttributionPrediction(
            tuple(_pair(p) for p in d["content"]),
            d.get("speaker"),
            _span(d.get("cue")),
            _span(d.get("source")),
            d.get("type"),
        )
        for d in data
    ]
