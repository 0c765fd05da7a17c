"""Attribution matching: content spans one-to-one, then the resolved speaker.

Content is compared as a set of characters (the union of its pieces). Matching
is *character overlap with one-to-one assignment*: gold and predicted records of
the same item are paired to maximise the total number of shared characters
(Hungarian algorithm); a pair counts only if it shares at least one character.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.data.schema import ATTRIBUTION_TYPES
from bench.metrics.clusters import Clusters, required
from bench.metrics.values import MetricValue, undefined

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


def _canonical(record: AttributionRecord) -> tuple:
    """A sort key of a record by its fields, so that matchings do not depend on the order
    in which records are listed (among tied optimal assignments, the choice would)."""
    return (
        tuple(sorted(record.content)), record.cue or (), record.source or (),
        record.speaker or "", record.type or "",
    )  # fmt: skip


def _in_canonical_order(records: Sequence[AttributionRecord], keep: Iterable[int]) -> list[int]:
    return sorted(keep, key=lambda i: (_canonical(records[i]), i))


def match_overlap(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    part: str = "content",
) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs maximising shared characters per item.

    ``part`` is the field compared: ``content`` (all pieces), ``cue`` or ``source``;
    records whose part is missing take no part in the matching. Records enter the
    assignment in a canonical order (by their fields), so the pairs do not depend on
    the order of the input lists.
    """
    from scipy.optimize import linear_sum_assignment

    def spans(record: AttributionRecord) -> tuple[Span, ...]:
        value = getattr(record, part)
        return () if value is None else value if part == "content" else (value,)

    pairs: list[tuple[int, int]] = []
    for item in sorted({g.item_id for g in gold} & {p.item_id for p in pred}):
        g_idx = _in_canonical_order(
            gold, (i for i, g in enumerate(gold) if g.item_id == item and spans(g))
        )
        p_idx = _in_canonical_order(
            pred, (j for j, p in enumerate(pred) if p.item_id == item and spans(p))
        )
        if not g_idx or not p_idx:
            continue
        g_chars = [_chars(spans(gold[i])) for i in g_idx]
        p_chars = [_chars(spans(pred[j])) for j in p_idx]
        overlap = np.array([[len(g & p) for p in p_chars] for g in g_chars])
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        pairs += [(g_idx[r], p_idx[c]) for r, c in zip(rows, cols, strict=True) if overlap[r, c]]
    return sorted(pairs)


def exact_pairs(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord], part: str = "content"
) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs whose ``part`` spans are equal (same item).

    A multiset intersection made explicit: the k-th gold record with a given
    span pairs with the k-th prediction with that span (both in canonical order,
    see :func:`match_overlap`), so two gold records
    sharing one cue span are matched by two predictions with that span, not one.
    """

    def key(record: AttributionRecord) -> tuple | None:
        value = getattr(record, part)
        if value is None:
            return None
        return (record.item_id, tuple(sorted(value)) if part == "content" else value)

    waiting: dict[tuple, list[int]] = {}
    for j in _in_canonical_order(pred, range(len(pred))):
        if key(pred[j]) is not None:
            waiting.setdefault(key(pred[j]), []).append(j)
    pairs = []
    for i in _in_canonical_order(gold, range(len(gold))):
        if waiting.get(key(gold[i])):
            pairs.append((i, waiting[key(gold[i])].pop(0)))
    return sorted(pairs)


MATCHINGS: tuple[str, ...] = (
    "content_exact", "content_overlap", "cue_exact", "cue_overlap", "source_exact",
    "source_overlap",
)  # fmt: skip


def match_attributions(
    gold: Sequence[AttributionRecord], pred: Sequence[AttributionRecord]
) -> dict[str, list[tuple[int, int]]]:
    """Every matching the metrics use: ``<part>_exact`` (:func:`exact_pairs`) and
    ``<part>_overlap`` (:func:`match_overlap`) for content, cue and source."""
    out = {}
    for name in MATCHINGS:
        part, how = name.split("_")
        out[name] = (exact_pairs if how == "exact" else match_overlap)(gold, pred, part)
    return out


COUNT_COLUMNS: tuple[str, ...] = (
    "gold", "pred", "cue_pred", "source_pred", *MATCHINGS, "speaker_correct", "typed",
    "type_correct",
    *(f"{kind}.{what}" for kind in ATTRIBUTION_TYPES
      for what in ("gold", "pred", "gold_matched", "pred_matched")),
)  # fmt: skip
"""The additive counts every attribution metric is computed from (:func:`attribution_counts`)."""
_COLUMN = {name: k for k, name in enumerate(COUNT_COLUMNS)}


def _quote_units(n_gold: int, matches: dict[str, list[tuple[int, int]]]) -> dict[int, int]:
    """Connected components of the records under all matchings: node i < n_gold is gold
    record i, node n_gold + j prediction j; each node maps to its component's root."""
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for pairs in matches.values():
        for i, j in pairs:
            a, b = sorted((root(i), root(n_gold + j)))
            if a != b:
                parent[b] = a
    return {node: root(node) for node in parent}


def attribution_counts(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    matches: dict[str, list[tuple[int, int]]],
    unit: str = "item",
    items: Iterable[Hashable] = (),
    *,
    clusters: Clusters | None = None,
) -> np.ndarray:
    """Per-unit counts, one row per unit and one column per :data:`COUNT_COLUMNS`.

    ``unit="item"``: the records of one item; ``items`` names items that get a
    (zero) row even without records, so that the bootstrap draws them too.
    ``unit="quote"``: a gold record together with every prediction matched to
    it under any of ``matches`` (transitively, so a unit is a connected
    component of the matchings); a prediction matched to nothing is a unit of
    its own. ``unit="cluster"``: the gold records whose content starts in one
    cluster of ``clusters``, with their content-overlap matched predictions, and the
    other predictions starting in it (one row per cluster, in cluster order). A pair
    is counted in the unit of its gold record, so the
    rows add up to the counts of the whole sample under any unit, and
    :func:`attribution_metrics` of their sum is :func:`attribution_scores`.
    Rows are sorted by item id (``item``) or by
    each unit's first record, gold records before predictions (``quote``).
    """
    if unit not in ("cluster", "item", "quote"):
        raise ValueError(f"unit must be 'cluster', 'item' or 'quote', got {unit!r}")
    n_gold = len(gold)
    components = _quote_units(n_gold, matches) if unit == "quote" else {}
    if unit == "cluster":
        clusters = required(clusters)
        gold_of = {j: i for i, j in matches["content_overlap"]}
        anchors = [*gold, *(gold[gold_of[j]] if j in gold_of else p for j, p in enumerate(pred))]
        starts = [min(start for start, _ in r.content) for r in anchors]
        cluster_of = clusters.of_spans([r.item_id for r in anchors], starts).tolist()

    def unit_of(node: int) -> Hashable:
        if unit == "item":
            return (gold[node] if node < n_gold else pred[node - n_gold]).item_id
        if unit == "cluster":
            return cluster_of[node]
        return components.get(node, node)

    rows: dict[Hashable, np.ndarray] = {}
    if unit != "quote":
        keys = range(len(clusters)) if unit == "cluster" else items
        rows |= {key: np.zeros(len(COUNT_COLUMNS), dtype=np.int64) for key in keys}

    def add(node: int, *columns: str) -> None:
        row = rows.setdefault(unit_of(node), np.zeros(len(COUNT_COLUMNS), dtype=np.int64))
        for name in columns:
            row[_COLUMN[name]] += 1

    for i, g in enumerate(gold):
        add(i, "gold", *([f"{g.type}.gold"] if g.type else []))
    for j, p in enumerate(pred):
        add(n_gold + j, "pred", *(f"{part}_pred" for part in ("cue", "source")
                                  if getattr(p, part) is not None))  # fmt: skip
        if p.type:
            add(n_gold + j, f"{p.type}.pred")
    for name, pairs in matches.items():
        for i, _ in pairs:
            add(i, name)
    for i, j in matches["content_overlap"]:
        g, p = gold[i], pred[j]
        add(i, *(["speaker_correct"] if g.speaker == p.speaker else []))
        if g.type:
            add(i, f"{g.type}.gold_matched")
        if p.type:
            add(i, f"{p.type}.pred_matched", "typed",
                *(["type_correct"] if p.type == g.type else []))  # fmt: skip
    if not rows:
        return np.zeros((0, len(COUNT_COLUMNS)), dtype=np.int64)
    return np.stack([rows[key] for key in sorted(rows)])


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), empty)


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    total = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)


def attribution_metrics(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Every attribution metric from summed :data:`COUNT_COLUMNS`, shape (B, k) -> (B,).

    With #pred and #gold the numbers of predicted and gold records,
    F1 = 2PR / (P + R), P = TP / #pred, R = TP / #gold (0 on a zero denominator),
    and TP counted as:

    - content_exact_f1: predictions whose content pieces equal a gold record's
      (:func:`exact_pairs`);
    - content_overlap_f1: one-to-one character-overlap pairs (:func:`match_overlap`);
    - cue_exact_f1 / cue_overlap_f1, source_exact_f1 / source_overlap_f1: the same
      on the cue and source spans (#pred counts predictions that give the span);
    - source_accuracy: among content-overlap pairs, the fraction whose resolved
      speaker equals the gold speaker id (NaN without a pair);
    - type_accuracy: among content-overlap pairs whose prediction gives a type,
      the fraction with the gold type (NaN without one);
    - e2e_f1: TP = content-overlap pairs with the correct speaker;
    - per type (``direct``, ``indirect``, ``mixed``): ``content_overlap_f1.<type>``
      with R = matched gold records of that type / gold records of that type
      (NaN without one) and P = matched predictions of that type / predictions
      of that type (predictions without a type count for no type).
    """
    s = {name: np.asarray(sums, dtype=float)[:, k] for name, k in _COLUMN.items()}

    def f1(tp: str, n_pred: str) -> np.ndarray:
        return _f1(_ratio(s[tp], s[n_pred], 0.0), _ratio(s[tp], s["gold"], 0.0))

    out = {
        "content_exact_f1": f1("content_exact", "pred"),
        "content_overlap_f1": f1("content_overlap", "pred"),
        "source_accuracy": _ratio(s["speaker_correct"], s["content_overlap"], np.nan),
        "e2e_f1": f1("speaker_correct", "pred"),
    }
    for part in ("cue", "source"):
        for how in ("exact", "overlap"):
            out[f"{part}_{how}_f1"] = f1(f"{part}_{how}", f"{part}_pred")
    out["type_accuracy"] = _ratio(s["type_correct"], s["typed"], np.nan)
    for kind in ATTRIBUTION_TYPES:
        precision = _ratio(s[f"{kind}.pred_matched"], s[f"{kind}.pred"], 0.0)
        recall = _ratio(s[f"{kind}.gold_matched"], s[f"{kind}.gold"], np.nan)
        out[f"content_overlap_f1.{kind}"] = np.where(
            np.isnan(recall), np.nan, _f1(precision, np.nan_to_num(recall))
        )
    return out


_UNDEFINED = {
    "source_accuracy": "no matched content",
    "type_accuracy": "no matched prediction gives a type",
}


def attribution_scores(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    matches: dict[str, list[tuple[int, int]]] | None = None,
) -> tuple[dict[str, MetricValue], list[tuple[int, int]]]:
    """Content, cue and source scored separately, speaker and type on matched contents
    (formulas in :func:`attribution_metrics`).

    ``content_overlap_f1.<type>`` is reported for the types present in the gold.
    ``matches`` (from :func:`match_attributions`) saves redoing the matching.
    Returns the metrics and the content-overlap pairs (for per-item samples).
    """
    matches = match_attributions(gold, pred) if matches is None else matches
    sums = attribution_counts(gold, pred, matches).sum(axis=0, keepdims=True)
    metrics = {}
    for name, value in attribution_metrics(sums).items():
        if name in _UNDEFINED or not np.isnan(value[0]):
            metrics[name] = (
                undefined(_UNDEFINED[name]) if np.isnan(value[0]) else MetricValue(float(value[0]))
            )
    return metrics, matches["content_overlap"]
