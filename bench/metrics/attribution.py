"""Attribution matching: content spans one-to-one, then the resolved speaker.

Content is compared as a set of characters (the union of its pieces). Matching
is *character overlap with one-to-one assignment*: gold and predicted records of
the same item are paired to maximise the total number of shared characters
(Hungarian algorithm); a pair counts only if it shares at least one character.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.metrics.values import MetricValue, precision_recall_f1, undefined

Span = tuple[int, int]

_TITLES = (
    "mr", "mrs", "ms", "dr", "messrs", "president", "secretary", "minister", "senator",
    "sen", "rep", "gov", "governor", "prof", "sir",
)  # fmt: skip
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(_TITLES) + r")\.?\s+)+")
_POSSESSIVE_RE = re.compile(r"[’']s\b")


@dataclass(frozen=True)
class AttributionRecord:
    """What the matcher needs of a gold or predicted attribution (offsets per item)."""

    item_id: str
    content: tuple[Span, ...]
    speaker: str | None
    cue: Span | None = None
    source: Span | None = None
    type: str | None = None


def normalise_name(name: str) -> str:
    """Lower-case, drop possessives, leading titles (Mr., President …) and punctuation."""
    name = _POSSESSIVE_RE.sub("", name.lower().replace("_", " "))
    name = re.sub(r"[^\w\s.]", " ", name)
    name = _TITLE_RE.sub("", " ".join(name.split()))
    return " ".join(name.replace(".", " ").split())


def build_alias_table(speakers: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Map every normalised alias (and the id itself) to its speaker id."""
    table: dict[str, str] = {}
    for speaker_id, aliases in speakers:
        for alias in (speaker_id, *aliases):
            table.setdefault(normalise_name(alias), speaker_id)
    return table


def resolve_speaker(name: str | None, aliases: dict[str, str]) -> str | None:
    """The speaker id whose alias equals ``name`` after normalisation, else None."""
    if not name:
        return None
    return aliases.get(normalise_name(name))


def _chars(spans: tuple[Span, ...]) -> set[int]:
    return {i for start, end in spans for i in range(start, end)}


def match_overlap(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    part: str = "content",
) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs maximising shared characters per item.

    ``part`` is the field compared: ``content`` (all pieces), ``cue`` or ``source``;
    records whose part is missing take no part in the matching.
    """
    from scipy.optimize import linear_sum_assignment

    def spans(record: AttributionRecord) -> tuple[Span, ...]:
        value = getattr(record, part)
        return () if value is None else value if part == "content" else (value,)

    pairs: list[tuple[int, int]] = []
    for item in sorted({g.item_id for g in gold} & {p.item_id for p in pred}):
        g_idx = [i for i, g in enumerate(gold) if g.item_id == item and spans(g)]
        p_idx = [j for j, p in enumerate(pred) if p.item_id == item and spans(p)]
        if not g_idx or not p_idx:
            continue
        g_chars = [_chars(spans(gold[i])) for i in g_idx]
        p_chars = [_chars(spans(pred[j])) for j in p_idx]
        overlap = np.array([[len(g & p) for p in p_chars] for g in g_chars])
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        pairs += [(g_idx[r], p_idx[c]) for r, c in zip(rows, cols, strict=True) if overlap[r, c]]
    return sorted(pairs)


def exact_matches(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord], part: str = "content"
) -> int:
    """Number of one-to-one pairs whose ``part`` spans are equal (same item).

    Counted as a multiset intersection: two gold records sharing one cue span
    are matched by two predictions with that span, not one.
    """

    def key(record: AttributionRecord) -> tuple | None:
        value = getattr(record, part)
        if value is None:
            return None
        return (record.item_id, tuple(sorted(value)) if part == "content" else value)

    gold_keys = Counter(key(g) for g in gold if key(g) is not None)
    pred_keys = Counter(key(p) for p in pred if key(p) is not None)
    return sum((gold_keys & pred_keys).values())


def _f1(tp: int, n_pred: int, n_gold: int) -> MetricValue:
    return MetricValue(precision_recall_f1(tp, n_pred, n_gold)[2])


def attribution_scores(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord]
) -> tuple[dict[str, MetricValue], list[tuple[int, int]]]:
    """Content, cue and source scored separately, speaker and type on matched contents.

    With #pred and #gold the numbers of predicted and gold records,
    F1 = 2PR / (P + R), P = TP / #pred, R = TP / #gold, and TP counted as:

    - content_exact_f1: predictions whose content pieces equal a gold record's;
    - content_overlap_f1: one-to-one character-overlap pairs (:func:`match_overlap`);
    - cue_exact_f1 / cue_overlap_f1, source_exact_f1 / source_overlap_f1: the same
      on the cue and source spans (#pred counts predictions that give the span);
    - source_accuracy: among content-overlap pairs, the fraction whose resolved
      speaker equals the gold speaker id (undefined without a pair);
    - type_accuracy: among content-overlap pairs whose prediction gives a type,
      the fraction with the gold type;
    - e2e_f1: TP = content-overlap pairs with the correct speaker;
    - per type (``direct``, ``indirect``, ``mixed``): ``content_overlap_f1.<type>``
      with R over gold records of that type and P over predictions of that type
      (predictions without a type count for no type).
    Returns the metrics and the content-overlap pairs (for per-item samples).
    """
    n_gold, n_pred = len(gold), len(pred)
    pairs = match_overlap(gold, pred)
    correct = sum(gold[i].speaker == pred[j].speaker for i, j in pairs)
    metrics = {
        "content_exact_f1": _f1(exact_matches(gold, pred), n_pred, n_gold),
        "content_overlap_f1": _f1(len(pairs), n_pred, n_gold),
        "source_accuracy": (
            MetricValue(correct / len(pairs)) if pairs else undefined("no matched content")
        ),
        "e2e_f1": _f1(correct, n_pred, n_gold),
    }
    for part in ("cue", "source"):
        n_part = sum(getattr(p, part) is not None for p in pred)
        metrics[f"{part}_exact_f1"] = _f1(exact_matches(gold, pred, part), n_part, n_gold)
        metrics[f"{part}_overlap_f1"] = _f1(len(match_overlap(gold, pred, part)), n_part, n_gold)
    typed = [(i, j) for i, j in pairs if pred[j].type is not None]
    metrics["type_accuracy"] = (
        MetricValue(sum(gold[i].type == pred[j].type for i, j in typed) / len(typed))
        if typed
        else undefined("no matched prediction gives a type")
    )
    for kind in sorted({g.type for g in gold} - {None}):
        gold_kind = sum(g.type == kind for g in gold)
        pred_kind = sum(p.type == kind for p in pred)
        recall_tp = sum(gold[i].type == kind for i, _ in pairs)
        precision_tp = sum(pred[j].type == kind for _, j in pairs)
        precision = precision_tp / pred_kind if pred_kind else 0.0
        recall = recall_tp / gold_kind
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        metrics[f"content_overlap_f1.{kind}"] = MetricValue(f1)
    return metrics, pairs
