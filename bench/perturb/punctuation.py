"""``whitespace_punctuation``: spacing, quotation-mark style and dashes (NL-Augmenter's
whitespace perturbation; HELM's typographic perturbations). Quote style matters for
attribution, whose cues and content boundaries are often quotation marks."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.perturb.align import Edit, Span
from bench.perturb.base import Perturbation

# each character and what it may become: straight <-> curly quotes, dashes, apostrophes
SWAPS = {
    '"': "\u201c\u201d", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "'": "\u2019", "\u2019": "'", "\u2018": "'",
    "-": "\u2013", "\u2013": "-\u2014", "\u2014": "\u2013",
}  # fmt: skip


class WhitespacePunctuation(Perturbation):
    """Each run of spaces, and each quotation mark, apostrophe or dash, is changed with
    probability ``rate``: a space run gains or loses one space (never below one), a
    straight quotation mark becomes the curly one of its side (opening after a space or
    at the start, closing otherwise) and back, a hyphen an en dash, an en dash a hyphen
    or an em dash. Line breaks and tabs are left alone."""

    name = "whitespace_punctuation"

    def __init__(self, seed: int = 0, rate: float = 0.5) -> None:
        super().__init__(seed, rate)

    def edits(
        self, item_id: str, text: str, spans: Sequence[Span], rng: random.Random
    ) -> list[Edit]:
        edits, i = [], 0
        while i < len(text):
            char = text[i]
            if char == " ":
                end = i
                while end < len(text) and text[end] == " ":
                    end += 1
                if rng.random() < self.rate:
                    wider = end - i == 1 or rng.random() < 0.5
                    edits.append(Edit(i, end, " " * (end - i + (1 if wider else -1))))
                i = end
                continue
            if char in SWAPS and rng.random() < self.rate:
                options = SWAPS[char]
                if char == '"':  # the curly quote of its side
                    options = options[0] if i == 0 or text[i - 1].isspace() else options[1]
                edits.append(Edit(i, i + 1, rng.choice(options)))
            i += 1
        return edits
