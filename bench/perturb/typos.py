"""``typos``: keyboard-neighbour substitutions, transpositions of adjacent letters and
dropped letters, after NL-Augmenter's ButterFingers perturbation (Dhole et al., 2021)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.perturb.align import Edit, Span
from bench.perturb.base import Perturbation, inside_any

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    """Letters next to each letter on a QWERTY keyboard (same row and the rows beside)."""
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_ROWS):
        for c, key in enumerate(row):
            for dr in (-1, 0, 1):
                if 0 <= r + dr < len(_ROWS):
                    other = _ROWS[r + dr]
                    near.setdefault(key, set()).update(other[max(c - 1, 0) : c + 2])
            near[key].discard(key)
    return {key: "".join(sorted(keys)) for key, keys in near.items()}


NEIGHBOURS = _neighbours()
KINDS = ("substitute", "transpose", "drop")


class Typos(Perturbation):
    """Each ASCII letter is hit with probability ``rate`` (NL-Augmenter's default 0.05),
    by one of ``kinds`` chosen uniformly: a keyboard neighbour replaces it (case kept),
    it swaps with the next letter, or it is dropped (never a one-letter word's letter;
    the letter after an edited one is left alone, so no word vanishes).
    ``inside_spans``: false keeps every gold span's text intact."""

    name = "typos"

    def __init__(self, seed: int = 0, rate: float = 0.05, inside_spans: bool = False,
                 kinds: Sequence[str] = KINDS) -> None:  # fmt: skip
        super().__init__(seed, rate)
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds:
            raise ValueError(f"perturb.kinds={list(kinds)}: expected some of {', '.join(KINDS)}")
        self.inside_spans, self.kinds = inside_spans, list(kinds)

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        edits, i = [], 0
        while i < len(text):
            char = text[i]
            lower = char.lower()
            if lower not in NEIGHBOURS or rng.random() >= self.rate:
                i += 1
                continue
            if not self.inside_spans and inside_any(i, spans):
                i += 1
                continue
            edit = self._edit(text, i, rng.choice(self.kinds), rng)
            if edit is not None and (self.inside_spans or not inside_any(edit.end - 1, spans)):
                edits.append(edit)
                i = edit.end + 1  # never two adjacent letters: no word vanishes
            else:
                i += 1
        return edits

    @staticmethod
    def _edit(text: str, i: int, kind: str, rng: random.Random) -> Edit | None:
        char = text[i]
        if kind == "substitute":
            new = rng.choice(NEIGHBOURS[char.lower()])
            return Edit(i, i + 1, new.upper() if char.isupper() else new)
        if kind == "transpose":
            after = text[i + 1 : i + 2]
            if after.lower() in NEIGHBOURS and after != char:
                return Edit(i, i + 2, after + char)
            return None
        if text[i - 1 : i].isalnum() or text[i + 1 : i + 2].isalnum():  # drop: not a word
            return Edit(i, i + 1, "")
        return None
