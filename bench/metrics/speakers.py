"""Speaker names: normalisation and the alias table that resolves a name to a speaker id.

Kept apart from :mod:`bench.metrics.attribution` so that the gold loader can refuse an
ambiguous alias table without importing the scorer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_TITLES = (
    "mr", "mrs", "ms", "dr", "messrs", "president", "secretary", "minister", "senator",
    "sen", "rep", "gov", "governor", "prof", "sir",
)  # fmt: skip
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(_TITLES) + r")\.?\s+)+")
_POSSESSIVE_RE = re.compile(r"[’']s\b")


def normalise_name(name: str) -> str:
    """Lower-case, drop possessives, leading titles (Mr., President …) and punctuation."""
    name = _POSSESSIVE_RE.sub("", name.lower().replace("_", " "))
    name = re.sub(r"[^\w\s.]", " ", name)
    name = _TITLE_RE.sub("", " ".join(name.split()))
    return " ".join(name.replace(".", " ").split())


def add_aliases(table: dict[str, str], speaker_id: str, aliases: Sequence[str]) -> None:
    """Map each normalised alias (and the id itself) of one speaker to its id in ``table``.

    An alias that already names another speaker is ambiguous: :class:`ValueError`
    naming the alias and both speakers."""
    for alias in (speaker_id, *aliases):
        key = normalise_name(alias)
        other = table.setdefault(key, speaker_id)
        if other != speaker_id:
            raise ValueError(
                f"alias {alias!r} (normalised {key!r}) names both {other!r} and {speaker_id!r}"
            )


def build_alias_table(speakers: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Map every normalised alias (and the id itself) to its speaker id
    (:func:`add_aliases`; an alias shared by two speakers is a :class:`ValueError`)."""
    table: dict[str, str] = {}
    for speaker_id, aliases in speakers:
        add_aliases(table, speaker_id, aliases)
    return table


def resolve_speaker(name: str | None, aliases: dict[str, str]) -> str | None:
    """The speaker id whose alias equals ``name`` after normalisation, else None."""
    if not name:
        return None
    return aliases.get(normalise_name(name))
