"""Plain Python functions as a model (``bench.evaluate(ner=my_fn, …)``).

Each function receives a batch of texts (``list[str]``, ``batch_size`` of them) and returns
one prediction per text, in order:

- ``ner``: per text a list of entities, each an :class:`EntityPrediction`, a dict
  ``{"start", "end", "label"}`` or a tuple ``(start, end, label)``;
- ``attribution``: per text a list of :class:`AttributionPrediction`, or dicts as in a
  predictions file (``{"content": [[s, e], …], "speaker", "cue", "source", "type"}``);
- ``toxicity``: per text a probability (a number), a :class:`ToxicityPrediction`, or a dict
  ``{"score", "attributes": {…}}``.

Offsets are ``str`` indices into the text, half-open. Any prediction may be a
:class:`PredictionFailure`. A function that raises on a batch is asked again text by
text, and each text it still raises on becomes a failed item (reason ``error``), counted
against ``max_failure_rate`` like a model's unanswered item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from bench.adapters.base import Adapter
from bench.predictions import (
    AttributionPrediction,
    EntityPrediction,
    PredictionFailure,
    TextItem,
    ToxicityPrediction,
    prediction_from_json,
)

Predict = Callable[[list[str]], Sequence[Any]]


class CallableError(ValueError):
    """A function returned something that is not a prediction; names the item and field."""


def _entity(value: Any) -> EntityPrediction:
    if isinstance(value, EntityPrediction):
        return value
    if isinstance(value, dict):
        return prediction_from_json("ner", [value])[0]
    start, end, label = value
    return EntityPrediction(start, end, label)


def _attribution(value: Any) -> AttributionPrediction:
    if isinstance(value, AttributionPrediction):
        return value
    return prediction_from_json("attribution", [value])[0]


def _toxicity(value: Any) -> ToxicityPrediction:
    if isinstance(value, ToxicityPrediction):
        return value
    if isinstance(value, dict):
        return prediction_from_json("toxicity", value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a probability, got {value!r}")
    return ToxicityPrediction(float(value))


_FORMS = {
    "ner": ("entities", _entity, "an EntityPrediction, {start, end, label} or (start, end, label)"),
    "attribution": ("attributions", _attribution, "an AttributionPrediction or {content, …}"),
    "toxicity": ("score", _toxicity, "a probability, a ToxicityPrediction or {score, …}"),
}


def _name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}" if module else name


class CallableAdapter(Adapter):
    """An adapter of one function per task (``None``: the task is not predicted)."""

    cacheable: ClassVar[bool] = False  # a function's behaviour has no key to cache it by

    def __init__(
        self,
        ner: Predict | None = None,
        attribution: Predict | None = None,
        toxicity: Predict | None = None,
    ) -> None:
        given = {"ner": ner, "attribution": attribution, "toxicity": toxicity}
        for task, function in given.items():
            if function is not None and not callable(function):
                raise TypeError(f"{task}: expected a function of a list of texts, got {function!r}")
        self.functions = {task: f for task, f in given.items() if f is not None}
        self.tasks = frozenset(self.functions)

    def names(self) -> dict[str, str]:
        """Each task's function as ``module.qualname`` (recorded as the model's parameters)."""
        return {task: _name(function) for task, function in self.functions.items()}

    def identity(self) -> dict[str, Any]:
        return {"functions": self.names()}

    def _predict(self, task: str, items: list[TextItem]) -> list[Any]:
        """The function's answers, converted; a batch it raises on is asked again text by
        text, and a text it raises on alone is a failed item."""
        try:
            answers = list(self.functions[task]([item.text for item in items]))
        except Exception as err:
            if len(items) == 1:
                return [PredictionFailure("error", f"{type(err).__name__}: {err}")]
            return [answer for item in items for answer in self._predict(task, [item])]
        if len(answers) != len(items):
            raise CallableError(
                f"{self.names()[task]}: returned {len(answers)} predictions for {len(items)} texts"
            )
        return [self._convert(task, item, a) for item, a in zip(items, answers, strict=True)]

    def _convert(self, task: str, item: TextItem, answer: Any) -> Any:
        field, convert, expected = _FORMS[task]
        if isinstance(answer, PredictionFailure):
            return answer
        try:
            if task == "toxicity":
                return convert(answer)
            return [convert(value) for value in answer]
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise CallableError(
                f"{self.names()[task]}: {task} item {item.id!r}: {field}: expected {expected} "
                f"per {'text' if task == 'toxicity' else 'entry'} ({type(err).__name__}: {err})"
            ) from None

    def predict_ner(self, documents: list[TextItem]) -> list[Any]:
        return self._predict("ner", documents)

    def predict_attribution(self, documents: list[TextItem]) -> list[Any]:
        return self._predict("attribution", documents)

    def predict_toxicity(self, items: list[TextItem]) -> list[Any]:
        return self._predict("toxicity", items)
