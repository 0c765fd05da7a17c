"""Attribution matching: content spans one-to-one, then the resolved speaker.

Content is compared as a set of characters (the union of its pieces). Two contents
overlap *substantially* when their character IoU (intersection over union,
|A ∩ B| / |A ∪ B|) is at least ``min_overlap`` (default
:data:`DEFAULT_MIN_OVERLAP`). Gold and predicted records of the same item are paired
one to one (Hungarian algorithm) by a lexicographic objective: first the most
substantial pairs, then the most pairs sharing any character, then the most shared
characters; a pair counts only if it shares at least one character. Pairs come
first because every F1 here counts pairs: maximising shared characters instead can
give a long, barely overlapping prediction the gold quote that a shorter, substantial
one matches (see the tests).

Tokens, for proportional credit, are the maximal runs of word characters (the
regular expression ``\\w+``) of the item's text; a content covers every token it
shares at least one character with (a span is widened to whole tokens).
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

DEFAULT_MIN_OVERLAP = 0.5
"""The character IoU from which a content pair is a found quote (``attribution.min_overlap``)."""

_TOKEN_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class AttributionRecord:
    """What the matcher needs of a gold or predicted attribution (offsets per item).

    ``tokens`` are the spans of the tokens the content covers (:func:`content_tokens`);
    empty when the item's text is unknown (token metrics then count nothing)."""

    item_id: str
    content: tuple[Span, ...]
    speaker: str | None
    cue: Span | None = None
    source: Span | None = None
    type: str | None = None
    tokens: tuple[Span, ...] = ()


def content_tokens(text: str, content: Iterable[Span]) -> tuple[Span, ...]:
    """The ``\\w+`` tokens of ``text`` sharing at least one character with ``content``."""
    pieces = tuple(content)
    return tuple(
        (m.start(), m.end())
        for m in _TOKEN_RE.finditer(text)
        if any(start < m.end() and m.start() < end for start, end in pieces)
    )


def same_speaker(gold: AttributionRecord, pred: AttributionRecord) -> bool:
    """The resolved speakers are equal and known (two missing speakers do not agree)."""
    return gold.speaker is not None and gold.speaker == pred.speaker


def _chars(spans: tuple[Span, ...]) -> set[int]:
    return {i for start, end in spans for i in range(start, end)}


def content_iou(gold: AttributionRecord, pred: AttributionRecord) -> float:
    """Character IoU of the two contents: |G ∩ P| / |G ∪ P| (0 when both are empty)."""
    g, p = _chars(gold.content), _chars(pred.content)
    return len(g & p) / len(g | p) if g | p else 0.0


def _canonical(
    record: AttributionRecord,
) -> tuple[tuple[Span, ...], Span | tuple[()], Span | tuple[()], str, str]:
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
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs of each item, sharing at least one character.

    The assignment maximises, in this order, the number of pairs whose character IoU
    is at least ``min_overlap``, the number of pairs sharing any character, and the
    number of shared characters (one Hungarian assignment on weights
    ``A·[IoU ≥ min_overlap] + B·[shared > 0] + shared``, with B above any total of
    shared characters and A above any total of the two lower terms).
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
        shared = np.array([[len(g & p) for p in p_chars] for g in g_chars], dtype=np.int64)
        union = np.array([[len(g | p) for p in p_chars] for g in g_chars], dtype=np.int64)
        substantial = (shared > 0) & (shared / np.maximum(union, 1) >= min_overlap)
        b = int(shared.sum()) + 1
        a = b * (min(shared.shape) + 1)
        weights = a * substantial + b * (shared > 0) + shared  # exact in float64 (< 2**53)
        rows, cols = linear_sum_assignment(weights, maximize=True)
        pairs += [(g_idx[r], p_idx[c]) for r, c in zip(rows, cols, strict=True) if shared[r, c]]
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

    def key(record: AttributionRecord) -> tuple[Hashable, object] | None:
        value = getattr(record, part)
        if value is None:
            return None
        return (record.item_id, tuple(sorted(value)) if part == "content" else value)

    waiting: dict[tuple[Hashable, object], list[int]] = {}
    for j in _in_canonical_order(pred, range(len(pred))):
        pred_key = key(pred[j])
        if pred_key is not None:
            waiting.setdefault(pred_key, []).append(j)
    pairs = []
    for i in _in_canonical_order(gold, range(len(gold))):
        gold_key = key(gold[i])
        if gold_key is not None and waiting.get(gold_key):
            pairs.append((i, waiting[gold_key].pop(0)))
    return sorted(pairs)


MATCHINGS: tuple[str, ...] = (
    "content_exact", "content_overlap", "cue_exact", "cue_overlap", "source_exact",
    "source_overlap",
)  # fmt: skip


def match_attributions(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> dict[str, list[tuple[int, int]]]:
    """Every matching the metrics use: ``<part>_exact`` (:func:`exact_pairs`) and
    ``<part>_overlap`` (:func:`match_overlap`) for content, cue and source."""
    out = {}
    for name in MATCHINGS:
        part, how = name.split("_")
        if how == "exact":
            out[name] = exact_pairs(gold, pred, part)
        else:
            out[name] = match_overlap(gold, pred, part, min_overlap)
    return out


COUNT_COLUMNS: tuple[str, ...] = (
    "gold", "pred", "cue_pred", "source_pred", *MATCHINGS, "content_iou", "e2e", "typed",
    "type_correct", "gold_tokens", "pred_tokens", "shared_tokens",
    *(f"{kind}.{what}" for kind in ATTRIBUTION_TYPES
      for what in ("gold", "pred", "gold_matched", "pred_matched")),
)  # fmt: skip
"""The additive counts every attribution metric is computed from (:func:`attribution_counts`):
``content_iou`` counts the content pairs with IoU ≥ ``min_overlap``, ``e2e`` those of them
with the right speaker; ``typed``/``type_correct`` are over the ``content_iou`` pairs."""
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
    min_overlap: float = DEFAULT_MIN_OVERLAP,
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
        cluster_of: list[int] = clusters.of_spans([r.item_id for r in anchors], starts).tolist()

    def unit_of(node: int) -> Hashable:
        if unit == "item":
            return (gold[node] if node < n_gold else pred[node - n_gold]).item_id
        if unit == "cluster":
            return cluster_of[node]
        return components.get(node, node)

    rows: dict[Hashable, np.ndarray] = {}
    if unit != "quote":
        keys = range(len(required(clusters))) if unit == "cluster" else items
        rows |= {key: np.zeros(len(COUNT_COLUMNS), dtype=np.int64) for key in keys}

    def add(node: int, *columns: str, by: int = 1) -> None:
        row = rows.setdefault(unit_of(node), np.zeros(len(COUNT_COLUMNS), dtype=np.int64))
        for name in columns:
            row[_COLUMN[name]] += by

    for i, g in enumerate(gold):
        add(i, "gold", *([f"{g.type}.gold"] if g.type else []))
        add(i, "gold_tokens", by=len(g.tokens))
    for j, p in enumerate(pred):
        add(n_gold + j, "pred", *(f"{part}_pred" for part in ("cue", "source")
                                  if getattr(p, part) is not None))  # fmt: skip
        add(n_gold + j, "pred_tokens", by=len(p.tokens))
        if p.type:
            add(n_gold + j, f"{p.type}.pred")
    for name, pairs in matches.items():
        for i, _ in pairs:
            add(i, name)
    for i, j in matches["content_overlap"]:
        g, p = gold[i], pred[j]
        add(i, "shared_tokens", by=len(set(g.tokens) & set(p.tokens)))
        if g.type:
            add(i, f"{g.type}.gold_matched")
        if p.type:
            add(i, f"{p.type}.pred_matched")
        if content_iou(g, p) >= min_overlap:
            add(i, "content_iou", *(["e2e"] if same_speaker(g, p) else []))
            if p.type:
                add(i, "typed", *(["type_correct"] if p.type == g.type else []))
    if not rows:
        return np.zeros((0, len(COUNT_COLUMNS)), dtype=np.int64)
    # Item ids (unit "item") are mutually orderable; the other units' keys are ints.
    return np.stack([rows[key] for key in sorted(rows)])  # type: ignore[type-var]


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
    - content_overlap_f1: matched pairs sharing *any* character (:func:`match_overlap`;
      the lenient partial match of PARC: Pareti et al. 2013, Pareti 2016) — a secondary figure;
    - content_iou_f1: matched pairs whose character IoU is at least ``min_overlap``
      (:func:`content_iou`);
    - cue_exact_f1 / cue_overlap_f1, source_exact_f1 / source_overlap_f1: the same
      on the cue and source spans (#pred counts predictions that give the span);
    - e2e_f1: content_iou pairs whose resolved speaker is the gold speaker
      (:func:`same_speaker`).

    content_token_precision / recall / f1: proportional credit (Papay & Padó 2019;
    Scheible et al. 2016), P = Σ_pairs |tokens(g) ∩ tokens(p)| / Σ_pred |tokens(p)|,
    R = the same sum / Σ_gold |tokens(g)|, over the matched pairs (tokens: see the
    module docstring). source_accuracy: among content_iou pairs, the fraction with the
    right speaker (NaN without a pair); type_accuracy: among content_iou pairs whose
    prediction gives a type, the fraction with the gold type (NaN without one).
    Per type (``direct``, ``indirect``, ``mixed``): ``content_overlap_f1.<type>``
    with R = matched gold records of that type / gold records of that type
    (NaN without one) and P = matched predictions of that type / predictions
    of that type (predictions without a type count for no type).
    """
    s = {name: np.asarray(sums, dtype=float)[:, k] for name, k in _COLUMN.items()}

    def f1(tp: str, n_pred: str, n_gold: str = "gold") -> np.ndarray:
        return _f1(_ratio(s[tp], s[n_pred], 0.0), _ratio(s[tp], s[n_gold], 0.0))

    token_precision = _ratio(s["shared_tokens"], s["pred_tokens"], 0.0)
    token_recall = _ratio(s["shared_tokens"], s["gold_tokens"], 0.0)
    out = {
        "content_exact_f1": f1("content_exact", "pred"),
        "content_overlap_f1": f1("content_overlap", "pred"),
        "content_iou_f1": f1("content_iou", "pred"),
        "content_token_precision": token_precision,
        "content_token_recall": token_recall,
        "content_token_f1": _f1(token_precision, token_recall),
        "source_accuracy": _ratio(s["e2e"], s["content_iou"], np.nan),
        "e2e_f1": f1("e2e", "pred"),
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
    "source_accuracy": "no content matched with IoU >= min_overlap",
    "type_accuracy": "no content matched with IoU >= min_overlap gives a type",
}


def attribution_scores(
    gold: Sequence[AttributionRecord],
    pred: Sequence[AttributionRecord],
    matches: dict[str, list[tuple[int, int]]] | None = None,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> tuple[dict[str, MetricValue], list[tuple[int, int]]]:
    """Content, cue and source scored separately, speaker and type on matched contents
    (formulas in :func:`attribution_metrics`).

    ``content_overlap_f1.<type>`` is reported for the types present in the gold.
    ``matches`` (from :func:`match_attributions` with the same ``min_overlap``) saves
    redoing the matching. Returns the metrics and the content pairs (for per-item samples).
    """
    matches = match_attributions(gold, pred, min_overlap) if matches is None else matches
    counts = attribution_counts(gold, pred, matches, min_overlap=min_overlap)
    sums = counts.sum(axis=0, keepdims=True)
    metrics = {}
    for name, value in attribution_metrics(sums).items():
        if name in _UNDEFINED or not np.isnan(value[0]):
            metrics[name] = (
                undefined(_UNDEFINED[name]) if np.isnan(value[0]) else MetricValue(float(value[0]))
            )
    return metrics, matches["content_overlap"]
