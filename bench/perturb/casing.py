"""``casing``: the text in lower, upper or title case (HELM's lowercase perturbation;
CheckList's case invariance tests)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.perturb.align import Edit, Span
from bench.perturb.base import Perturbation

MODES = ("lower", "upper", "title")


class Casing(Perturbation):
    """Every item (``rate`` 1.0; else each item with probability ``rate``) is recased
    character by character: ``lower``, ``upper``, or ``title`` (a letter after a
    letter lower case, any other upper case, as ``str.title``). A character whose case
    mapping is longer (``ß`` → ``SS``) is one edit inside its span."""

    name = "casing"

    def __init__(self, seed: int = 0, rate: float = 1.0, mode: str = "lower") -> None:
        super().__init__(seed, rate)
        if mode not in MODES:
            raise ValueError(f"perturb.mode={mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        if rng.random() >= self.rate:
            return []
        edits = []
        for i, char in enumerate(text):
            if self.mode == "title":
                new = char.lower() if text[i - 1 : i].isalpha() else char.upper()
            else:
                new = getattr(char, self.mode)()
            if new != char:
                edits.append(Edit(i, i + 1, new))
        return edits
