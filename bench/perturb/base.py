"""What a perturbation is: seeded edits of one text, given the spans to keep whole."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from bench.perturb.align import Edit, Span


class Perturbation:
    """Subclass it: set ``name``, take the options in ``__init__`` (keyword ``seed`` and
    ``rate`` first) and implement :meth:`edits`.

    ``rate`` is the probability of each eligible change (its unit is the subclass's:
    a letter, a space, a word); the random choices of an item depend only on
    ``seed``, the perturbation's name and the item id, so a rerun, or a subset of
    the items, is perturbed the same way.
    """

    name: ClassVar[str]

    def __init__(self, seed: int = 0, rate: float = 1.0) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"perturb.rate={rate!r}: expected a number in [0, 1]")
        self.seed, self.rate = seed, rate

    def rng(self, item_id: str) -> random.Random:
        return random.Random(f"{self.name}:{self.seed}:{item_id}")

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        """The edits of item ``item_id``'s ``text`` (``spans``: its gold spans; an edit
        across one of their boundaries is dropped by the caller, so the subclass need not
        avoid it)."""
        raise NotImplementedError

    def prepare(self, views: Mapping[str, Any]) -> None:
        """Called once with the dataset's views (task -> view) before any :meth:`edits`:
        a perturbation that needs the whole dataset (``name_swap``) reads it here."""

    def rename(self, alias: str) -> str:
        """A speaker's alias as the perturbed texts name it (unchanged by default)."""
        return alias

    def describe(self) -> dict[str, Any]:
        """The name and every option: what result.json records and the cache key holds."""
        return {"name": self.name} | {k: v for k, v in vars(self).items() if not k.startswith("_")}


def inside_any(position: int, spans: Sequence[Span]) -> bool:
    return any(start <= position < end for start, end in spans)
