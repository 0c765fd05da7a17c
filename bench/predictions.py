"""What adapters receive and return: the contract between models and tasks.

Offsets in predictions are ``str`` indices into the *item's* text (the document
a model was given), half-open. The tasks shift them to the gold's global offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Span = tuple[int, int]


@dataclass(frozen=True)
class TextItem:
    """One unit given to a model: a document (NER, attribution) or a segment (toxicity)."""

    id: str
    text: str


@dataclass(frozen=True)
class EntityPrediction:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class AttributionPrediction:
    """A predicted attribution; ``speaker`` is free text or a speaker id, resolved by aliases."""

    content: tuple[Span, ...]
    speaker: str | None = None
    cue: Span | None = None
    source: Span | None = None
    type: str | None = None


@dataclass(frozen=True)
class ToxicityPrediction:
    """Probability that the item is toxic, optionally per attribute."""

    score: float
    attributes: dict[str, float] = field(default_factory=dict)
