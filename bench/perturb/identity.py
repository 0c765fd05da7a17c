"""``identity_swap``: each identity term replaced by another of its category, the
counterfactual of Garg et al. (2019), "Counterfactual Fairness in Text Classification
through Robustness" (AIES): a fair classifier scores x and x′ alike; the gold label
is kept."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

from bench.perturb.align import Edit, Span
from bench.perturb.base import Perturbation


def slug(term: str) -> str:
    """An identity name as the toxicity views record it (``african american`` →
    ``african_american``; the same as the CSV datasets' names)."""
    return re.sub(r"\W+", "_", term.lower()).strip("_")


class IdentitySwap(Perturbation):
    """Each whole-word, any-case occurrence of a term of ``categories`` (category →
    terms; the longest term wins where several match) is replaced, with probability
    ``rate``, by another term of its category chosen uniformly, its first letter's case
    kept. :meth:`swaps` records ``(old, new)`` per item for the fairness metrics."""

    name = "identity_swap"

    def __init__(
        self, categories: Mapping[str, Sequence[str]], seed: int = 0, rate: float = 1.0
    ) -> None:
        super().__init__(seed, rate)
        self.categories = {str(c): [str(t) for t in terms] for c, terms in categories.items()}
        self._category = {t.lower(): c for c, terms in self.categories.items() for t in terms}
        if any(len(terms) < 2 for terms in self.categories.values()):
            raise ValueError("perturb.categories: every category needs two terms or more")
        terms = sorted(self._category, key=len, reverse=True)
        self._pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\b", re.I)
        self._terms = [(t, slug(t), re.compile(rf"\b{re.escape(t)}\b", re.I)) for t in terms]

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        edits = []
        for match in self._pattern.finditer(text):
            if rng.random() >= self.rate:
                continue
            old = match.group()
            others = [t for t in self.categories[self._category[old.lower()]]
                      if t.lower() != old.lower()]  # fmt: skip
            new = rng.choice(others)
            if old[:1].isupper():
                new = new[:1].upper() + new[1:]
            edits.append(Edit(match.start(), match.end(), new))
        return edits

    def identities(self, text: str) -> set[str]:
        """The slugs of the terms in ``text`` (each term on its own, as the datasets do)."""
        lowered = text.lower()  # a substring test first: most terms are not there at all
        return {name for t, name, term in self._terms if t in lowered and term.search(text)}
