"""``name_swap``: person names replaced by names of public name lists, the same person
by the same name everywhere (every alias together), the speaker table following.

A name word is a capitalised word of a gold PERSON mention that is not a title, never
written in lower case in the dataset (so not an ordinary word too) and never in a gold
entity of another label (WNUT-17's "Supreme Court judge" is a PERSON, its "Supreme
Court" a group); the last word of a mention is a surname, the others given names.
Each name word gets a new one (given names from ``first_names``, surnames from
``surnames``, drawn without replacement while the list lasts), the same for every
occurrence of the word inside a gold PERSON mention and in the speakers' aliases; its
case pattern is kept. Elsewhere (another entity, or text no mention covers) the word
is not a person's name and stays.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bench.data.views import NerGold
from bench.perturb.align import Edit, Span
from bench.perturb.base import Perturbation

_NAME_WORD = re.compile(r"[^\W\d_]{2,}")


def _group(kind: str, lists: Mapping[str, Sequence[str]], group: str) -> list[str]:
    """The names of ``group`` (``all``: of every group), each once."""
    if group != "all" and group not in lists:
        raise ValueError(
            f"perturb.{kind}_group={group!r}: expected all or one of {', '.join(lists)}"
        )
    chosen = [n for g, names in lists.items() if group in ("all", g) for n in names]
    if not chosen:
        raise ValueError(f"perturb.{kind}_group={group!r}: no names")
    return list(dict.fromkeys(map(str, chosen)))


TITLES = frozenset({
    "mr", "mrs", "ms", "miss", "dr", "doctor", "sir", "lady", "lord", "dame", "president",
    "senator", "sen", "rep", "governor", "gov", "mayor", "king", "queen", "prince",
    "princess", "saint", "st", "colonel", "col", "general", "gen", "captain", "capt",
    "judge", "justice", "secretary", "minister", "pope", "father", "uncle", "aunt", "coach",
    "professor", "prof", "officer", "sheriff", "chief",
})  # fmt: skip


def _is_name(word: str, common: set[str]) -> bool:
    """A capitalised word (not all capitals), not a title, never written in lower case
    in the dataset nor in another entity (``common``: then it is also an ordinary word,
    like "Mark", or a word of a place or an organisation)."""
    return (word[0].isupper() and not word.isupper() and word.lower() not in TITLES
            and word.lower() not in common)  # fmt: skip


def _cased_like(model: str, word: str) -> str:
    if model.isupper():
        return word.upper()
    if model.islower():
        return word.lower()
    return word[:1].upper() + word[1:].lower()


class NameSwap(Perturbation):
    """``first_names`` and ``surnames``: lists by group (gender, origin);
    ``first_group`` and ``surname_group`` pick one (``all``: every list). ``labels``:
    the entity labels of persons; ``rate``: the share of name words swapped (1.0: every
    one). When a list runs out it is drawn again, so two people may then share a name."""

    name = "name_swap"

    def __init__(
        self,
        first_names: Mapping[str, Sequence[str]],
        surnames: Mapping[str, Sequence[str]],
        first_group: str = "all",
        surname_group: str = "all",
        labels: Sequence[str] = ("PERSON", "person"),
        seed: int = 0,
        rate: float = 1.0,
    ) -> None:
        super().__init__(seed, rate)
        self.first_group, self.surname_group = first_group, surname_group
        self.first_names = _group("first", first_names, first_group)
        self.surnames = _group("surname", surnames, surname_group)
        self.labels = list(labels)
        self._map: dict[str, str] = {}  # lower-case name word -> its replacement
        self._persons: dict[str, list[Span]] = {}  # item id -> its PERSON mentions
        self._pattern: re.Pattern[str] | None = None

    def prepare(self, views: Mapping[str, Any]) -> None:
        """Draw the replacement of every name word of the PERSON mentions in ``views``."""
        self._map, self._persons = {}, {}
        words: dict[str, bool] = {}  # lower-case name word -> is it ever a surname
        forms: set[str] = set()
        ner = views.get("ner")
        if isinstance(ner, NerGold):
            texts = {item.id: item.text for item in ner.items}
            common = {w for text in texts.values() for w in _NAME_WORD.findall(text) if w.islower()}
            common |= {w.lower() for item_id, start, end, label in ner.spans
                       if label not in self.labels
                       for w in _NAME_WORD.findall(texts[item_id][start:end])}  # fmt: skip
            for item_id, start, end, label in ner.spans:
                if label in self.labels:
                    self._persons.setdefault(item_id, []).append((start, end))
                    found = _NAME_WORD.findall(texts[item_id][start:end])
                    for k, word in enumerate(found):
                        if _is_name(word, common):
                            last = k == len(found) - 1
                            words[word.lower()] = words.get(word.lower(), False) or last
                            forms.add(word)
        rng = random.Random(f"{self.name}:{self.seed}")
        pools: dict[bool, list[str]] = {True: [], False: []}
        for word in sorted(words):
            if rng.random() >= self.rate:
                continue
            surname = words[word]
            if not pools[surname]:  # a fresh shuffle of the list once it is used up
                names = [
                    n
                    for n in (self.surnames if surname else self.first_names)
                    if n.lower() not in words
                ]  # never a name the dataset already has
                pools[surname] = rng.sample(names, len(names))
            if pools[surname]:
                self._map[word] = pools[surname].pop()
        swapped = sorted((f for f in forms if f.lower() in self._map), key=len, reverse=True)
        self._pattern = (
            re.compile(rf"\b(?:{'|'.join(map(re.escape, swapped))})\b") if swapped else None
        )

    def _matches(self, text: str) -> list[tuple[int, int, str]]:
        if self._pattern is None:
            return []
        return [(m.start(), m.end(), _cased_like(m.group(), self._map[m.group().lower()]))
                for m in self._pattern.finditer(text)]  # fmt: skip

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        """The name words inside the item's PERSON mentions."""
        persons = self._persons.get(item_id, ())
        return [Edit(start, end, new) for start, end, new in self._matches(text)
                if any(s <= start and end <= e for s, e in persons)]  # fmt: skip

    def rename(self, alias: str) -> str:
        """A speaker's alias with its name words swapped as in the texts."""
        pieces, position = [], 0
        for start, end, new in self._matches(alias):
            pieces += [alias[position:start], new]
            position = end
        return "".join(pieces) + alias[position:]
