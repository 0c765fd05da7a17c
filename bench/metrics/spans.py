"""Entity span matching: CoNLL strict sets and the SemEval-2013 schemes of nervaluate.

Spans are ``(item_id, start, end, label)`` tuples. ``item_id`` is any hashable naming a
document or a sentence, ``start``/``end`` are integer offsets (characters or tokens) of
the **half-open** interval ``[start, end)`` with ``0 <= start < end``, and ``label`` is a
string. Spans of different items never interact. Each input is treated as a *set*:
duplicate tuples count once. ``strict_units_by_label`` and ``span_units`` also take the
spans of many items as :class:`SpanColumns` (coded once, no tuple per span), which score
as their tuples do.

Two families of scores live here.

``strict_counts`` / ``strict_scores`` (CoNLL, seqeval)
    A prediction is a true positive when a gold span has the same item, start, end and
    label: ``TP = |gold ∩ pred|``, ``P = TP / |pred|``, ``R = TP / |gold|``,
    ``F1 = 2PR / (P + R)``. This is what ``bench.tasks.ner`` reports.

``span_counts`` / ``span_report`` / ``span_scores`` (SemEval-2013 Task 9.1, nervaluate)
    Every prediction is classified once as COR (correct), INC (incorrect), PAR (partial)
    or SPU (spurious), and every gold span left unmatched is MIS (missed), under four
    schemes, exactly as ``nervaluate.Evaluator`` (v1.x) does:

    ========== ======================================= ================================
    scheme     COR                                     otherwise, if it overlaps a gold
    ========== ======================================= ================================
    strict     same boundaries and same label          INC
    exact      same boundaries, any label              INC
    partial    same boundaries, any label              PAR
    ent_type   overlaps a gold span of the same label  INC (it overlaps another label)
    ========== ======================================= ================================

    ``POSSIBLE = COR + INC + PAR + MIS`` (the gold spans),
    ``ACTUAL = COR + INC + PAR + SPU`` (the predictions);
    for ``strict``/``exact``: ``P = COR / ACTUAL``, ``R = COR / POSSIBLE``;
    for ``partial``/``ent_type``: ``P = (COR + 0.5 PAR) / ACTUAL``,
    ``R = (COR + 0.5 PAR) / POSSIBLE``; ``F1 = 2PR / (P + R)``.

``span_units`` / ``span_macro_f1_statistic`` (bootstrap over units)
    One matching gives every scheme's per-unit rows ``(credit, ACTUAL, POSSIBLE)``,
    credit = COR + 0.5 PAR, overall and per label; summed over any multiset of units
    they give that scheme's counts, so a resample is one matrix product
    (``bench.metrics.bootstrap.resample_sums``). A unit is an item (its spans' sums),
    or an "entity": a matched (pred, gold) pair of the scheme's assignment (COR, INC
    or PAR), an unmatched prediction (SPU) or an unmatched gold span (MIS).

Conventions (where the references differ or leave room, bench does the following):

* Matching is nervaluate's greedy one-to-one assignment, not an optimal one. Within an
  item, predictions are visited in ``(start, end, label)`` order, and each looks at the
  still-unmatched gold spans in ``(start, end, label)`` order: it takes the first exact
  match (``strict``/``exact``/``partial``), or for ``ent_type`` the same-label gold span
  with the smallest ``|Δstart| + |Δend|`` (first on ties); failing that, the first
  overlapping gold span, which it consumes as INC/PAR. nervaluate visits spans in list
  order; passing it each item's spans sorted by ``(start, end, label)`` gives bench's
  numbers exactly.
* "Overlap" is nervaluate's ``min_overlap_percentage`` test (default 1 %): the shared
  length must be at least that percentage of the *gold* span's length, computed as
  ``(overlap / gold_length) * 100.0 >= min_overlap_percentage`` in floating point.
  With character offsets, a 1-character overlap with a gold span longer than 100
  characters is therefore *no* overlap (SPU + MIS).
* Offsets: bench's ``end`` is exclusive; nervaluate's ``Entity.end`` is inclusive
  (``end = bench_end - 1``), as are the token offsets its list/CoNLL loaders produce.
  The schemes depend on the unit of the offsets (ent_type takes the same-label gold
  span nearest in offsets; the overlap percentage is of the gold's length): to equal
  nervaluate on token tags, score token offsets (:func:`token_spans`).
* Duplicates count once (set semantics), like ``strict_counts``; nervaluate would count
  a duplicated prediction again (as SPU or INC).
* Because of the greedy assignment, the SemEval ``strict`` scheme can count fewer COR
  than ``strict_counts``' ``|gold ∩ pred|`` when *predicted spans overlap one another*
  (an earlier overlapping prediction consumes the gold span as INC). Spans decoded from
  one tag sequence never overlap, and then the two agree.
* Per label, nervaluate re-runs the matching on the spans of that label only, so a type
  confusion is INC in the overall counts but SPU (predicted label) + MIS (gold label) in
  the per-label counts; the per-label counts need not add up to the overall ones.
  Labels reported are those present in gold or predictions (restricted to ``labels``
  when given; spans with other labels are dropped before matching, as nervaluate drops
  spans whose label is not in its ``tags``).
* ``micro`` is nervaluate's ``overall`` (scores from the pooled counts). ``macro`` is the
  unweighted mean over the reported labels of the per-label P, R and F1 (scikit-learn's
  and seqeval's ``average="macro"``: macro-F1 is the mean of the F1s, not the F1 of the
  mean P and R); nervaluate does not compute it. With no labels it is 0.0.
* A zero denominator gives 0.0 (nervaluate's behaviour, and scikit-learn's
  ``zero_division=0``).

Complexity: the matching is vectorised with numpy. Candidate pairs come from two binary
searches per prediction; pairs in which each side overlaps exactly one span of the other
side (nearly all of them in practice) are scored in bulk, and only the remaining
"conflict" components go through the greedy loop in Python.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from bench.metrics.bootstrap import IndexStatistic, precision_recall_f1_arrays, resample_sums
from bench.metrics.clusters import Clusters, cluster_sums, required
from bench.metrics.values import precision_recall_f1

# (item id, start, end, label); the end is exclusive.
LabelledSpan = tuple[Hashable, int, int, str]
Scheme = Literal["strict", "exact", "partial", "ent_type"]
SCHEMES: tuple[Scheme, ...] = ("strict", "exact", "partial", "ent_type")
# what a bootstrap resamples (see span_units, strict_units, bench.metrics.clusters)
Unit = Literal["cluster", "entity", "item"]
UNITS: tuple[Unit, ...] = ("cluster", "entity", "item")

_COR, _INC, _PAR, _SPU = 0, 1, 2, 3


class TokenOffsets(Mapping[Hashable, list[list[int]]]):
    """Each item's token spans ``[start, end]`` (characters), held as flat columns: the
    tokens of ``item_ids[k]`` are ``starts[a:b]``, ``ends[a:b]`` with ``a:b`` its run of
    ``counts[k]``; read as a mapping, an item gives its ``[start, end]`` lists."""

    def __init__(
        self, item_ids: Sequence[Hashable], starts: np.ndarray, ends: np.ndarray, counts: np.ndarray
    ) -> None:
        self.item_ids, self.starts, self.ends, self.counts = list(item_ids), starts, ends, counts
        self.bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.index = {item: k for k, item in enumerate(self.item_ids)}

    @classmethod
    def of(cls, tokens: Mapping[Hashable, Sequence[Sequence[int]]]) -> TokenOffsets:
        """The columns of a mapping of each item's ``(start, end)`` pairs."""
        if isinstance(tokens, TokenOffsets):
            return tokens
        counts = np.fromiter(map(len, tokens.values()), np.int64, len(tokens))
        pairs = itertools.chain.from_iterable(tokens.values())
        flat = np.fromiter(itertools.chain.from_iterable(pairs), np.int64, 2 * int(counts.sum()))
        return cls(list(tokens), flat[0::2], flat[1::2], counts)

    def __len__(self) -> int:
        return len(self.item_ids)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.item_ids)

    def __getitem__(self, item: Hashable) -> list[list[int]]:
        a, b = self.bounds[self.index[item] : self.index[item] + 2].tolist()
        pairs: list[list[int]] = np.column_stack((self.starts[a:b], self.ends[a:b])).tolist()
        return pairs


def token_spans(
    gold: Iterable[LabelledSpan],
    pred: Iterable[LabelledSpan],
    tokens: Mapping[Hashable, Sequence[Sequence[int]]],
) -> tuple[set[LabelledSpan], set[LabelledSpan]]:
    """``(gold, pred)`` in token offsets on each item whose spans all fall on token
    boundaries; ``tokens[item]`` is the ``(start, end)`` character span of each token
    (a :class:`TokenOffsets` is read as it is).

    Those items are scored as nervaluate scores their tags. An item with a span that
    starts or ends inside a token (or on a space), or without ``tokens``, keeps
    character offsets: such a span has no tags, and widening it to whole tokens would
    merge distinct spans. The matching never crosses items, so each item's counts are
    in one unit.
    """
    gold, pred = set(gold), set(pred)
    offsets = TokenOffsets.of(tokens)
    code, counts = offsets.index, offsets.counts
    if not (gold or pred) or not counts.sum():
        return gold, pred
    item_ids, starts, ends, labels = span_columns([*gold, *pred])  # gold's, then pred's
    span_item = np.fromiter(map(code.get, item_ids, itertools.repeat(-1)), np.int64, len(starts))
    token_starts, token_ends = _in_tokens(
        offsets, span_item, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    )
    starts, ends = token_starts.tolist(), token_ends.tolist()
    n = len(gold)
    return (
        set(zip(item_ids[:n], starts[:n], ends[:n], labels[:n], strict=True)),
        set(zip(item_ids[n:], starts[n:], ends[n:], labels[n:], strict=True)),
    )


def span_columns(spans: Sequence[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    """The item ids, starts, ends and labels of ``spans``, as four lists."""
    return tuple(list(map(itemgetter(i), spans)) for i in range(4))


@dataclass(frozen=True)
class SpanColumns:
    """Distinct spans of the items ``items`` as columns: span i is ``(items[item[i]],
    start[i], end[i], labels[label[i]])``; ``labels`` sorted."""

    items: Sequence[Hashable]
    labels: tuple[str, ...]
    item: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray

    @classmethod
    def pair(
        cls,
        gold: Collection[LabelledSpan],
        pred: Collection[LabelledSpan],
        items: Sequence[Hashable],
    ) -> tuple[SpanColumns, SpanColumns]:
        """The columns of two sets of spans over the same items and labels (every span's
        item among ``items``, which are distinct)."""
        index = {item: k for k, item in enumerate(items)}
        labels = tuple(sorted({span[3] for span in gold} | {span[3] for span in pred}))
        code = {label: j for j, label in enumerate(labels)}

        def columns(spans: Collection[LabelledSpan]) -> SpanColumns:
            item_ids, starts, ends, names = span_columns(list(spans))
            n = len(starts)
            return cls(items, labels,
                       np.fromiter(map(index.__getitem__, item_ids), np.int64, n),
                       np.array(starts, dtype=np.int64).reshape(n),
                       np.array(ends, dtype=np.int64).reshape(n),
                       np.fromiter(map(code.__getitem__, names), np.int64, n))  # fmt: skip

        return columns(gold), columns(pred)

    def __len__(self) -> int:
        return len(self.start)

    def rows(self) -> np.ndarray:
        """``(item, start, end, label)`` rows, sorted."""
        found = np.column_stack((self.item, self.start, self.end, self.label))
        return found[np.lexsort(found.T[::-1])]

    def replace(self, start: np.ndarray, end: np.ndarray) -> SpanColumns:
        """These spans with other offsets."""
        return SpanColumns(self.items, self.labels, self.item, start, end, self.label)


def token_columns(
    gold: SpanColumns, pred: SpanColumns, tokens: TokenOffsets
) -> tuple[SpanColumns, SpanColumns]:
    """:func:`token_spans` of span columns; ``tokens`` of the same items, in order."""
    if tokens.item_ids != list(gold.items):
        raise ValueError("the tokens are not those of the spans' items")
    if not (len(gold) or len(pred)) or not tokens.counts.sum():
        return gold, pred
    n = len(gold)
    starts, ends = _in_tokens(
        tokens,
        np.concatenate((gold.item, pred.item)),
        np.concatenate((gold.start, pred.start)),
        np.concatenate((gold.end, pred.end)),
    )
    return gold.replace(starts[:n], ends[:n]), pred.replace(starts[n:], ends[n:])


def _in_tokens(
    offsets: TokenOffsets, span_item: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The spans (their item's code among ``offsets.items``, -1 for none, and character
    offsets) in token offsets on each item whose spans all fall on token boundaries;
    the other items' as they are."""
    token_item = np.repeat(np.arange(len(offsets), dtype=np.int64), offsets.counts)
    first = offsets.bounds[:-1]  # each item's first token
    start_token, start_found = _last_token_at(token_item, offsets.starts, span_item, starts)
    end_token, end_found = _last_token_at(token_item, offsets.ends, span_item, ends)
    on_tokens = start_found & end_found
    keep = on_tokens & ~np.isin(span_item, span_item[~on_tokens])  # no span off the tokens
    return (
        np.where(keep, start_token - first[span_item], starts),
        np.where(keep, end_token - first[span_item] + 1, ends),
    )


def _last_token_at(
    token_item: np.ndarray,
    offset: np.ndarray,
    span_item: np.ndarray,
    span_offset: Sequence[int] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each span (its item's code, -1 for an item without tokens, and an offset), the
    last token of its item at that offset — as a dict of offsets would keep it — and
    whether there is one. Offsets are below 2**32."""
    keys = (token_item << 32) | offset
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    queries = (span_item << 32) | np.asarray(span_offset, dtype=np.int64)
    by_query = np.argsort(queries)  # sorted queries: a far faster search in a large array
    at = np.empty_like(queries)
    at[by_query] = np.maximum(np.searchsorted(ordered, queries[by_query], side="right") - 1, 0)
    return order[at], (span_item >= 0) & (ordered[at] == queries)


# --------------------------------------------------------------------------- CoNLL strict


def strict_counts(
    gold: Iterable[LabelledSpan], pred: Iterable[LabelledSpan]
) -> dict[str, Counter[str]]:
    """Per-label counts of true positives, predictions and gold spans.

    A prediction is a true positive when a gold span has the same item, start,
    end and label (the CoNLL/seqeval "strict" entity match). Duplicate
    predictions of one span count once.
    """
    gold_set, pred_set = set(gold), set(pred)
    return {
        "tp": Counter(span[3] for span in gold_set & pred_set),
        "pred": Counter(span[3] for span in pred_set),
        "gold": Counter(span[3] for span in gold_set),
    }


def strict_scores(
    gold: Iterable[LabelledSpan], pred: Iterable[LabelledSpan]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Micro-averaged strict precision/recall/F1 and the same per label.

    Micro: P = ΣTP / Σpred, R = ΣTP / Σgold, F1 = 2PR / (P + R), over all labels.
    """
    counts = strict_counts(gold, pred)
    tp, n_pred, n_gold = (sum(counts[k].values()) for k in ("tp", "pred", "gold"))
    p, r, f = precision_recall_f1(tp, n_pred, n_gold)
    micro = {"strict_precision": p, "strict_recall": r, "strict_f1": f}
    per_label = {}
    for label in sorted(set(counts["gold"]) | set(counts["pred"])):
        lp, lr, lf = precision_recall_f1(
            counts["tp"][label], counts["pred"][label], counts["gold"][label]
        )
        per_label[label] = {
            "precision": lp,
            "recall": lr,
            "f1": lf,
            "support": counts["gold"][label],
            "predicted": counts["pred"][label],
        }
    return micro, per_label


def strict_units(
    gold: Iterable[LabelledSpan],
    pred: Iterable[LabelledSpan],
    unit: str,  # one of UNITS (a configured value, checked)
    *,
    items: Iterable[Hashable] | None = None,
    label: str | None = None,
    clusters: Clusters | None = None,
) -> np.ndarray:
    """Per-unit ``(tp, n_pred, n_gold)`` rows of the CoNLL strict match, for a bootstrap.

    ``unit="entity"``: one row per span of gold ∪ pred (sorted), ``(1, 1, 1)`` for a
    correct span, ``(0, 1, 0)`` spurious, ``(0, 0, 1)`` missed. ``unit="item"``: one
    row per item, its spans' sums; ``items`` orders them and may list items without
    spans (default: the items having a span, sorted). ``label``: only spans of that
    label (the per-label scores of :func:`strict_scores`). ``unit="cluster"``: one
    row per cluster of ``clusters``, the sum of the entity rows of the spans starting
    in it. The rows sum to :func:`strict_counts`' totals.
    """
    if label is not None:
        gold, pred = ([s for s in spans if s[3] == label] for spans in (gold, pred))
    return strict_units_by_label(gold, pred, unit, items=items, clusters=clusters)[0]


def strict_units_by_label(
    gold: Iterable[LabelledSpan] | SpanColumns,
    pred: Iterable[LabelledSpan] | SpanColumns,
    unit: str,  # one of UNITS (a configured value, checked)
    *,
    items: Iterable[Hashable] | None = None,
    clusters: Clusters | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`strict_units` of all the spans, and of each label's spans over the same
    units (at unit "entity", the label's own spans, in order), from one pass."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if isinstance(gold, SpanColumns) or isinstance(pred, SpanColumns):
        return _strict_units_of_columns(_both_columns(gold, pred), unit, items, clusters)
    gold_set, pred_set = set(gold), set(pred)
    spans = list(gold_set | pred_set)
    if unit == "entity":  # a row per span, in order; the other units' sums need none
        spans.sort()
    in_gold = np.fromiter(map(gold_set.__contains__, spans), bool, len(spans))
    in_pred = np.fromiter(map(pred_set.__contains__, spans), bool, len(spans))
    rows = np.column_stack((in_gold & in_pred, in_pred, in_gold)).astype(np.int64)
    names = sorted({s[3] for s in spans})
    code = {name: j for j, name in enumerate(names)}
    label = np.fromiter((code[s[3]] for s in spans), np.int64, len(spans))
    if unit == "entity":
        return rows, {name: rows[label == j] for j, name in enumerate(names)}
    if unit == "cluster":
        clusters = required(clusters)
        owner = clusters.of_spans([s[0] for s in spans], [s[1] for s in spans])
        n_units = len(clusters)
    else:
        # The item ids of one sample are mutually orderable (a Hashable need not be).
        order = list(items) if items is not None else sorted({s[0] for s in spans})  # type: ignore[type-var]
        row_of = {item: i for i, item in enumerate(order)}
        owner = np.fromiter((row_of[s[0]] for s in spans), np.int64, len(spans))
        n_units = len(order)
    by_label = {name: cluster_sums(rows[label == j], owner[label == j], n_units)
                for j, name in enumerate(names)}  # fmt: skip
    return cluster_sums(rows, owner, n_units), by_label


def _both_columns(gold: object, pred: object) -> tuple[SpanColumns, SpanColumns]:
    """``(gold, pred)``, both span columns (not one only)."""
    if not (isinstance(gold, SpanColumns) and isinstance(pred, SpanColumns)):
        raise TypeError("gold and pred must be both span columns or both spans")
    return gold, pred


def _strict_units_of_columns(
    spans: tuple[SpanColumns, SpanColumns],
    unit: str,
    items: Iterable[Hashable] | None,
    clusters: Clusters | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`strict_units_by_label` of span columns (``items``, or the clusters' items,
    those of the columns)."""
    gold, pred = spans
    both = np.concatenate([np.column_stack((c.item, c.start, c.end, c.label))
                           for c in (gold, pred)])  # fmt: skip
    source = np.repeat([0, 1], [len(gold), len(pred)])
    if unit == "entity":  # spans in order: by item id, then offsets and label
        rank = np.empty(len(gold.items), dtype=np.int64)
        # the item ids of one sample are mutually orderable (a Hashable need not be)
        by_id = sorted(range(len(rank)), key=gold.items.__getitem__)  # type: ignore[arg-type]
        rank[by_id] = np.arange(len(rank))
        order = np.lexsort((both[:, 3], both[:, 2], both[:, 1], rank[both[:, 0]]))
    else:
        order = np.lexsort(both.T[::-1])
    both, source = both[order], source[order]
    again = np.zeros(len(both), dtype=bool)  # the next row is the same span
    again[:-1] = (both[1:] == both[:-1]).all(axis=1)
    first = np.ones(len(both), dtype=bool)  # a span's first (or only) row
    first[1:] = ~again[:-1]
    in_gold = (source == 0) | again  # gold's row comes first where both hold a span
    in_pred = (source == 1) | again
    both, in_gold, in_pred = both[first], in_gold[first], in_pred[first]
    rows = np.column_stack((in_gold & in_pred, in_pred, in_gold)).astype(np.int64)
    present = np.unique(both[:, 3])
    names = [gold.labels[j] for j in present.tolist()]
    label = np.searchsorted(present, both[:, 3])
    if unit == "entity":
        return rows, {name: rows[label == j] for j, name in enumerate(names)}
    if unit == "cluster":
        clusters = required(clusters)
        _check_items(spans, clusters.items)
        owner, n_units = clusters.locate(both[:, 0], both[:, 1]), len(clusters)
    else:
        if items is None:
            raise ValueError("span columns need the items")
        _check_items(spans, items)
        owner, n_units = both[:, 0], len(gold.items)
    by_label = {name: cluster_sums(rows[label == j], owner[label == j], n_units)
                for j, name in enumerate(names)}  # fmt: skip
    return cluster_sums(rows, owner, n_units), by_label


# ------------------------------------------------------------------ SemEval-2013 schemes


@dataclass(frozen=True)
class SchemeCounts:
    """COR/INC/PAR/MIS/SPU counts of one scheme (overall or for one label)."""

    scheme: Scheme
    correct: int = 0
    incorrect: int = 0
    partial: int = 0
    missed: int = 0
    spurious: int = 0

    @property
    def possible(self) -> int:
        """POSSIBLE = COR + INC + PAR + MIS: the number of gold spans."""
        return self.correct + self.incorrect + self.partial + self.missed

    @property
    def actual(self) -> int:
        """ACTUAL = COR + INC + PAR + SPU: the number of predicted spans."""
        return self.correct + self.incorrect + self.partial + self.spurious


@dataclass(frozen=True)
class SpanCounts:
    """All counts of one comparison: ``overall[scheme]`` and ``per_label[label][scheme]``."""

    overall: dict[str, SchemeCounts]
    per_label: dict[str, dict[str, SchemeCounts]] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.per_label)


def _credit(counts: SchemeCounts) -> float:
    if counts.scheme in ("partial", "ent_type"):
        return counts.correct + 0.5 * counts.partial
    return counts.correct


def span_precision(counts: SchemeCounts) -> float:
    """Precision of one scheme's counts.

    ``strict``/``exact``: P = COR / ACTUAL; ``partial``/``ent_type``:
    P = (COR + 0.5 PAR) / ACTUAL. 0.0 when ACTUAL = 0.
    """
    actual = counts.actual
    return _credit(counts) / actual if actual > 0 else 0.0


def span_recall(counts: SchemeCounts) -> float:
    """Recall of one scheme's counts.

    ``strict``/``exact``: R = COR / POSSIBLE; ``partial``/``ent_type``:
    R = (COR + 0.5 PAR) / POSSIBLE. 0.0 when POSSIBLE = 0.
    """
    possible = counts.possible
    return _credit(counts) / possible if possible > 0 else 0.0


def span_f1(counts: SchemeCounts) -> float:
    """F1 = 2PR / (P + R) of one scheme's counts; 0.0 when P + R = 0."""
    precision, recall = span_precision(counts), span_recall(counts)
    return 2 * (precision * recall) / (precision + recall) if precision + recall > 0 else 0.0


def span_counts(
    gold: Iterable[LabelledSpan],
    pred: Iterable[LabelledSpan],
    *,
    labels: Iterable[str] | None = None,
    min_overlap_percentage: float = 1.0,
) -> SpanCounts:
    """COR/INC/PAR/MIS/SPU for the four SemEval-2013 schemes, overall and per label.

    Parameters
    ----------
    gold, pred:
        Spans ``(item_id, start, end, label)``, half-open ``[start, end)``; duplicates
        count once.
    labels:
        If given, only spans with these labels take part (others are dropped first).
    min_overlap_percentage:
        Minimum overlap, in percent of the gold span's length, for two spans to
        "overlap" (nervaluate's parameter; 1.0 to 100.0).

    Returns
    -------
    SpanCounts
        ``overall[scheme]`` (nervaluate's ``overall``) and ``per_label[label][scheme]``
        (nervaluate's ``entities``), labels sorted.
    """
    return _counts(_match(gold, pred, labels, min_overlap_percentage))


def _counts(m: _Matching) -> SpanCounts:
    p_none, g_none = np.zeros_like(m.p_label), np.zeros_like(m.g_label)
    n_labels = len(m.labels)
    overall: dict[str, SchemeCounts] = {}
    per_label: dict[str, dict[str, SchemeCounts]] = {name: {} for name in m.labels}
    for scheme in SCHEMES:
        [overall[scheme]] = _tally(scheme, m.overall[scheme], p_none, g_none, 1)
        by_label = _tally(scheme, m.per_label[scheme], m.p_label, m.g_label, n_labels)
        for name, counts in zip(m.labels, by_label, strict=True):
            per_label[name][scheme] = counts
    return SpanCounts(overall, per_label)


def _scores(counts: SchemeCounts) -> dict[str, Any]:
    return {
        "correct": counts.correct,
        "incorrect": counts.incorrect,
        "partial": counts.partial,
        "missed": counts.missed,
        "spurious": counts.spurious,
        "possible": counts.possible,
        "actual": counts.actual,
        "precision": span_precision(counts),
        "recall": span_recall(counts),
        "f1": span_f1(counts),
    }


def span_report(counts: SpanCounts) -> dict[str, Any]:
    """Scores of every scheme from :func:`span_counts`' result.

    Returns ``{"micro": {scheme: row}, "macro": {scheme: {precision, recall, f1}},
    "per_label": {label: {scheme: row}}}`` where a row holds the five counts, POSSIBLE,
    ACTUAL, precision, recall and F1. ``macro`` = (1/|L|) Σ_l score_l over the reported
    labels L (0.0 when L is empty).
    """
    per_label = {
        label: {scheme: _scores(c) for scheme, c in by_scheme.items()}
        for label, by_scheme in counts.per_label.items()
    }
    macro = {}
    for scheme in SCHEMES:
        rows = [by_scheme[scheme] for by_scheme in per_label.values()]
        macro[scheme] = {
            key: (sum(row[key] for row in rows) / len(rows) if rows else 0.0)
            for key in ("precision", "recall", "f1")
        }
    return {
        "micro": {scheme: _scores(c) for scheme, c in counts.overall.items()},
        "macro": macro,
        "per_label": per_label,
    }


def span_scores(
    gold: Iterable[LabelledSpan],
    pred: Iterable[LabelledSpan],
    *,
    labels: Iterable[str] | None = None,
    min_overlap_percentage: float = 1.0,
) -> dict[str, Any]:
    """``span_report(span_counts(gold, pred, ...))``: all four schemes, micro, macro, per label."""
    return span_report(
        span_counts(gold, pred, labels=labels, min_overlap_percentage=min_overlap_percentage)
    )


# --------------------------------------------------------------------- bootstrap units


# Credit of a prediction by category: COR 1, INC 0, PAR ½, SPU 0 (PAR only in ``partial``).
_CREDIT = np.array([1.0, 0.0, 0.5, 0.0])


@dataclass(frozen=True)
class SpanUnits:
    """Per-unit contributions of one comparison: the rows a bootstrap over units sums.

    ``overall[scheme]`` has one row ``(credit, ACTUAL, POSSIBLE)`` per unit, with
    credit = COR + ½·PAR, so that summed over all units it gives the scheme's P, R and
    F1 of :func:`span_counts` (P = Σcredit / ΣACTUAL, R = Σcredit / ΣPOSSIBLE).
    ``per_label[scheme]`` has ``3·len(labels)`` columns: ``3j, 3j + 1, 3j + 2`` hold
    ``labels[j]``'s credit, ACTUAL and POSSIBLE from the per-label re-matching (its
    units are those of that matching). Rows are floats (½ credits). ``counts``: the
    counts of :func:`span_counts`, from the same matching (it never crosses items, so
    the order in which the items are listed does not change it).
    """

    unit: Unit
    labels: tuple[str, ...]
    overall: dict[str, np.ndarray]
    per_label: dict[str, np.ndarray]
    counts: SpanCounts


def span_units(
    gold: Iterable[LabelledSpan] | SpanColumns,
    pred: Iterable[LabelledSpan] | SpanColumns,
    unit: str,  # one of UNITS (a configured value, checked)
    *,
    items: Iterable[Hashable] | None = None,
    labels: Iterable[str] | None = None,
    min_overlap_percentage: float = 1.0,
    clusters: Clusters | None = None,
) -> SpanUnits:
    """Each unit's contribution to every scheme's counts, from one matching of all spans.

    ``unit="item"``: one unit per item; its row is the sum over the item's spans. The
    matching never crosses items, so a resample of items (duplicates renamed apart) has
    exactly the counts of the drawn items' rows summed.

    ``unit="entity"``: one unit per outcome of the scheme's greedy assignment —
    a matched (pred, gold) pair is one unit, ``(1, 1, 1)`` when COR, ``(0, 1, 1)`` when
    INC, ``(½, 1, 1)`` when PAR; an unmatched prediction (SPU) is ``(0, 1, 0)``; an
    unmatched gold span (MIS) is ``(0, 0, 1)``. For ``strict`` with disjoint
    predictions this is the CoNLL unit "each span of gold ∪ pred, a correct span
    counted once", except that an INC pair is one unit rather than two. The matching
    is not redone on a resample: units keep the outcome of the full-sample matching.

    ``unit="cluster"``: one unit per cluster of ``clusters`` (whose items replace
    ``items``), the sum of the entity units whose prediction (for a matched pair or
    SPU) or gold span (MIS) starts in it.

    Unit order is deterministic: ``items`` (default: the items having a span, in order
    of first appearance in ``gold`` then ``pred``); at unit "entity", the predictions
    in ``(item, start, end, label)`` order, then the unmatched gold spans in that order.
    ``items`` may list items without spans (all-zero rows at unit "item") and must
    list every item a span names. ``labels`` and ``min_overlap_percentage`` are as
    for :func:`span_counts`.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if unit == "cluster":
        clusters = required(clusters)
        items = clusters.items
    m = _match(gold, pred, labels, min_overlap_percentage, items)
    owners = None  # "entity": each prediction and missed gold span is its own unit
    if unit == "item":
        owners = (m.p_item, m.g_item, m.n_items)
    elif unit == "cluster":
        found = required(clusters)
        owners = (
            found.locate(m.p_item, m.p_start),
            found.locate(m.g_item, m.g_start),
            len(found),
        )
    p_none, g_none = np.zeros_like(m.p_label), np.zeros_like(m.g_label)
    n_labels = len(m.labels)
    return SpanUnits(
        unit,
        tuple(m.labels),
        {s: _unit_rows(owners, m.overall[s], p_none, g_none, 1) for s in SCHEMES},
        {s: _unit_rows(owners, m.per_label[s], m.p_label, m.g_label, n_labels) for s in SCHEMES},
        _counts(m),
    )


def span_macro_f1_statistic(per_label_rows: np.ndarray) -> IndexStatistic:
    """Macro F1 per resample from :attr:`SpanUnits.per_label` rows (units × 3·|L|).

    With C_l, A_l, P_l label l's credit, ACTUAL and POSSIBLE summed over the drawn
    units, F1_l = 2·C_l / (A_l + P_l) (= 2PR / (P + R); 0.0 when A_l + P_l = 0) and

        macro F1 = (1 / |L*|) Σ_{l ∈ L*} F1_l,   L* = {l : A_l + P_l > 0},

    the labels present in the resample — those :func:`span_report` would report on the
    resampled spans; 0.0 when L* is empty.
    """
    rows = np.asarray(per_label_rows, dtype=float)
    if rows.ndim != 2 or rows.shape[1] % 3:
        raise ValueError(f"per-label rows must have shape (n_units, 3·n_labels), got {rows.shape}")

    def statistic(indices: np.ndarray) -> np.ndarray:
        return macro_f1_of_sums(resample_sums(rows, indices))

    return statistic


def macro_f1_of_sums(sums: np.ndarray) -> np.ndarray:
    """Macro F1 of :func:`span_macro_f1_statistic` from summed per-label rows (B, 3·|L|)."""
    per_label = sums.reshape(len(sums), -1, 3)
    _, _, f1 = precision_recall_f1_arrays(per_label[..., 0], per_label[..., 1], per_label[..., 2])
    n_present = ((per_label[..., 1] + per_label[..., 2]) > 0).sum(axis=1)
    return np.where(n_present > 0, f1.sum(axis=1) / np.maximum(n_present, 1), 0.0)


# ------------------------------------------------------------------------------ internals


# (COR/INC/PAR/SPU code per prediction, missed flag per gold span) of one matching.
_Assignment = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class _Matching:
    """Every scheme's greedy assignment of one comparison, overall and within labels.

    Prediction and gold columns are in matching order, ``(item, start, end, label)``;
    items and labels are coded (``labels`` sorted, items in order of first sight).
    """

    labels: list[str]
    n_items: int
    p_item: np.ndarray
    p_label: np.ndarray
    g_item: np.ndarray
    g_label: np.ndarray
    p_start: np.ndarray  # offsets within the item
    g_start: np.ndarray
    overall: dict[str, _Assignment]
    per_label: dict[str, _Assignment]


def _match(
    gold: Iterable[LabelledSpan] | SpanColumns,
    pred: Iterable[LabelledSpan] | SpanColumns,
    labels: Iterable[str] | None,
    min_overlap_percentage: float,
    items: Iterable[Hashable] | None = None,
) -> _Matching:
    """Validate, code and sort the spans, then run the matching of every scheme twice:
    on all spans, and on same-label pairs only (nervaluate's per-label re-matching)."""
    keep = _check_options(labels, min_overlap_percentage)
    codes = _item_codes(items)
    if isinstance(gold, SpanColumns) or isinstance(pred, SpanColumns):
        if keep is not None:
            raise ValueError("span columns take no labels to keep")
        gold, pred = _both_columns(gold, pred)
        _check_items((gold, pred), codes)
        present = np.unique(np.concatenate((gold.label, pred.label)))
        names = [gold.labels[j] for j in present.tolist()]
        g, p = (
            _sorted_arrays(c.item, c.start, c.end, np.searchsorted(present, c.label))
            for c in (gold, pred)
        )
    else:
        n_listed = len(codes)
        g_item, g_start, g_end, g_label = _columns(gold, "gold", codes, keep)
        p_item, p_start, p_end, p_label = _columns(pred, "pred", codes, keep)
        if items is not None and len(codes) > n_listed:
            raise ValueError(f"items does not list item {next(reversed(codes))!r} of a span")
        names = sorted(set(g_label) | set(p_label))
        code = {name: i for i, name in enumerate(names)}
        g = _sorted_arrays(g_item, g_start, g_end, list(map(code.__getitem__, g_label)))
        p = _sorted_arrays(p_item, p_start, p_end, list(map(code.__getitem__, p_label)))

    # Global coordinates: item k occupies [offset[k], offset[k] + max_end[k]], so spans of
    # different items can never overlap and one sorted array serves all items at once.
    max_end = np.zeros(len(codes), dtype=np.int64)
    np.maximum.at(max_end, g["item"], g["end"])
    np.maximum.at(max_end, p["item"], p["end"])
    offset = np.concatenate(([0], np.cumsum(max_end + 1)[:-1])).astype(np.int64)
    gs, ge = g["start"] + offset[g["item"]], g["end"] + offset[g["item"]]
    ps, pe = p["start"] + offset[p["item"]], p["end"] + offset[p["item"]]
    gl, pl = g["label"], p["label"]

    edge_p, edge_g = _overlap_edges(gs, ge, ps, pe, float(min_overlap_percentage))
    spans = _Spans(ps, pe, pl, gs, ge, gl)
    same = pl[edge_p] == gl[edge_g]
    label_p, label_g = edge_p[same], edge_g[same]
    return _Matching(
        labels=names,
        n_items=len(codes),
        p_item=p["item"],
        p_label=pl,
        g_item=g["item"],
        g_label=gl,
        p_start=p["start"],
        g_start=g["start"],
        overall={s: _assign(s, edge_p, edge_g, spans) for s in SCHEMES},
        per_label={s: _assign(s, label_p, label_g, spans) for s in SCHEMES},
    )


def _check_items(columns: tuple[SpanColumns, SpanColumns], items: Iterable[Hashable]) -> None:
    """Span columns must be coded by the order of the listed items."""
    listed = list(items)
    if any(listed != list(c.items) for c in columns):
        raise ValueError("span columns must be of the listed items, in their order")


def _check_options(labels: Iterable[str] | None, min_overlap_percentage: float) -> set[str] | None:
    """Check the shared keyword arguments; return the labels to keep (None: all)."""
    if isinstance(min_overlap_percentage, bool) or not isinstance(
        min_overlap_percentage, int | float
    ):
        raise TypeError("min_overlap_percentage must be a number")
    if not 1.0 <= min_overlap_percentage <= 100.0:
        raise ValueError(
            f"min_overlap_percentage must be between 1.0 and 100.0, got {min_overlap_percentage}"
        )
    if labels is None:
        return None
    if isinstance(labels, str):
        raise TypeError("labels must be an iterable of strings, not a string")
    keep = set(labels)
    if not all(isinstance(label, str) for label in keep):
        raise TypeError("labels must be strings")
    return keep


def _item_codes(items: Iterable[Hashable] | None) -> _Codes:
    """Item codes, pre-assigned in the order of ``items`` when given (distinct ids)."""
    if items is None:
        return _Codes()
    if isinstance(items, str | bytes):
        raise TypeError("items must be an iterable of item ids, not a string")
    listed = list(items)
    codes = _Codes((item, code) for code, item in enumerate(listed))
    if len(codes) != len(listed):
        raise ValueError("items must be distinct")
    return codes


def _tally(
    scheme: Scheme, assignment: _Assignment, p_key: np.ndarray, g_key: np.ndarray, n_keys: int
) -> list[SchemeCounts]:
    """The counts of each key ``0 .. n_keys − 1`` (e.g. a label) of the spans."""
    category, missed = assignment
    by_key = np.bincount(p_key * 4 + category, minlength=4 * n_keys).reshape(n_keys, 4)
    missed_by_key = np.bincount(g_key[missed], minlength=n_keys)
    return [
        SchemeCounts(
            scheme, int(row[_COR]), int(row[_INC]), int(row[_PAR]), int(n_missed), int(row[_SPU])
        )
        for row, n_missed in zip(by_key, missed_by_key, strict=True)
    ]


def _unit_rows(
    owners: tuple[np.ndarray, np.ndarray, int] | None,
    assignment: _Assignment,
    p_key: np.ndarray,
    g_key: np.ndarray,
    n_keys: int,
) -> np.ndarray:
    """Rows (n_units, 3·n_keys): a prediction adds (credit, 1, matched) to its unit's
    block of its key, a missed gold span (0, 0, 1); see :func:`span_units`. ``owners``:
    the unit of each prediction and of each gold span, and the number of units (None:
    one unit per prediction and per missed gold span)."""
    category, missed = assignment
    n_pred, n_missed = len(category), int(missed.sum())
    if owners is not None:
        p_unit, g_unit, n_units = owners[0], owners[1][missed], owners[2]
    else:
        p_unit = np.arange(n_pred, dtype=np.int64)
        g_unit = n_pred + np.arange(n_missed, dtype=np.int64)
        n_units = n_pred + n_missed
    p_cell = (p_unit * n_keys + p_key) * 3
    g_cell = (g_unit * n_keys + g_key[missed]) * 3 + 2
    index = np.concatenate([p_cell, p_cell + 1, p_cell + 2, g_cell])
    weights = np.concatenate(
        [_CREDIT[category], np.ones(n_pred), (category != _SPU).astype(float), np.ones(n_missed)]
    )
    sums = np.bincount(index, weights, minlength=n_units * n_keys * 3)
    return sums.reshape(n_units, 3 * n_keys)


class _Codes(dict[Hashable, int]):
    """Item id → code; an unseen id gets the next code (one hash lookup per span)."""

    def __missing__(self, key: Hashable) -> int:
        code = self[key] = len(self)
        return code


def _columns(
    spans: Iterable[LabelledSpan],
    name: str,
    items: _Codes,
    keep: set[str] | None,
) -> tuple[list[int], np.ndarray, np.ndarray, list[str]]:
    """Validate and deduplicate spans; item ids are coded through the shared ``items``."""
    if isinstance(spans, str | bytes):
        raise TypeError(f"{name} must be an iterable of (item_id, start, end, label) tuples")
    try:
        spans = list(spans)
        # dict, not set: deduplicated in input order, so item codes follow first sight
        rows = dict.fromkeys(spans if set(map(type, spans)) <= {tuple} else map(tuple, spans))
    except TypeError as exc:
        raise TypeError(
            f"{name} must be an iterable of hashable (item_id, start, end, label) tuples"
        ) from exc
    if keep is not None:
        rows = {row: None for row in rows if len(row) != 4 or row[3] in keep}
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return [], empty, empty, []
    if set(map(len, rows)) != {4}:
        bad = next(row for row in rows if len(row) != 4)
        raise ValueError(f"{name}: a span must be (item_id, start, end, label), got {bad!r}")
    ordered = list(rows)
    item_ids, starts, ends, span_labels = span_columns(ordered)
    bad_label = next((x for x in set(span_labels) if not isinstance(x, str)), None)
    if bad_label is not None:
        raise TypeError(f"{name}: labels must be strings, got {bad_label!r}")
    start, end = np.asarray(starts), np.asarray(ends)  # dtype inferred, then checked
    for what, column in (("start", start), ("end", end)):
        if column.dtype.kind not in "iu":
            raise TypeError(f"{name}: {what} offsets must be integers")
    start, end = start.astype(np.int64), end.astype(np.int64)
    invalid = (start < 0) | (end <= start)
    if invalid.any():
        row = ordered[int(np.flatnonzero(invalid)[0])]
        raise ValueError(f"{name}: a span needs 0 <= start < end (half-open), got {row!r}")
    coded = list(map(items.__getitem__, item_ids))
    return coded, start, end, span_labels


def _sorted_arrays(
    item: list[int] | np.ndarray, start: np.ndarray, end: np.ndarray, label: list[int] | np.ndarray
) -> dict[str, np.ndarray]:
    """Columns sorted by (item, start, end, label): the order the greedy matching visits."""
    item_a = np.asarray(item, dtype=np.int64)
    label_a = np.asarray(label, dtype=np.int64)
    order = np.lexsort((label_a, end, start, item_a))
    return {
        "item": item_a[order],
        "start": start[order],
        "end": end[order],
        "label": label_a[order],
    }


def _overlap_edges(
    gs: np.ndarray, ge: np.ndarray, ps: np.ndarray, pe: np.ndarray, min_overlap: float
) -> tuple[np.ndarray, np.ndarray]:
    """All (prediction, gold) pairs that overlap enough, sorted by prediction then gold.

    Gold spans are sorted by start; the running maximum of their ends is monotone, so the
    gold spans that can overlap prediction ``[s, e)`` lie in ``[lo, hi)`` with ``lo`` the
    first whose running end exceeds ``s`` and ``hi`` the first starting at or after ``e``.
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(gs) == 0 or len(ps) == 0:
        return empty, empty
    reach = np.maximum.accumulate(ge)
    lo = np.searchsorted(reach, ps, side="right")
    hi = np.searchsorted(gs, pe, side="left")
    n = np.maximum(hi - lo, 0)
    total = int(n.sum())
    if total == 0:
        return empty, empty
    edge_p = np.repeat(np.arange(len(ps), dtype=np.int64), n)
    first = np.cumsum(n) - n
    edge_g = np.arange(total, dtype=np.int64) - np.repeat(first - lo, n)
    overlap = np.minimum(pe[edge_p], ge[edge_g]) - np.maximum(ps[edge_p], gs[edge_g])
    length = ge[edge_g] - gs[edge_g]
    # nervaluate: (overlap_span / true_span) * 100.0 >= min_overlap_percentage
    ok = (overlap > 0) & ((overlap / length) * 100.0 >= min_overlap)
    return edge_p[ok], edge_g[ok]


class _Spans:
    """Sorted predicted and gold columns (global coordinates), with lazy list copies."""

    def __init__(
        self,
        ps: np.ndarray,
        pe: np.ndarray,
        pl: np.ndarray,
        gs: np.ndarray,
        ge: np.ndarray,
        gl: np.ndarray,
    ) -> None:
        self.ps, self.pe, self.pl, self.gs, self.ge, self.gl = ps, pe, pl, gs, ge, gl
        self._lists: tuple[list[int], ...] | None = None

    def lists(self) -> tuple[list[int], ...]:
        if self._lists is None:
            columns = (self.ps, self.pe, self.pl, self.gs, self.ge, self.gl)
            self._lists = tuple(column.tolist() for column in columns)
        return self._lists


def _assign(
    scheme: str, edge_p: np.ndarray, edge_g: np.ndarray, spans: _Spans
) -> tuple[np.ndarray, np.ndarray]:
    """nervaluate's greedy matching: a category per prediction and a missed flag per gold."""
    ps, pe, pl, gs, ge, gl = spans.ps, spans.pe, spans.pl, spans.gs, spans.ge, spans.gl
    n_pred, n_gold = len(ps), len(gs)
    category = np.full(n_pred, _SPU, dtype=np.int64)
    matched = np.zeros(n_gold, dtype=bool)
    if len(edge_p):
        deg_p = np.bincount(edge_p, minlength=n_pred)
        deg_g = np.bincount(edge_g, minlength=n_gold)
        simple = (deg_p[edge_p] == 1) & (deg_g[edge_g] == 1)
        sp, sg = edge_p[simple], edge_g[simple]
        same_bounds = (ps[sp] == gs[sg]) & (pe[sp] == ge[sg])
        same_label = pl[sp] == gl[sg]
        if scheme == "strict":
            category[sp] = np.where(same_bounds & same_label, _COR, _INC)
        elif scheme == "exact":
            category[sp] = np.where(same_bounds, _COR, _INC)
        elif scheme == "partial":
            category[sp] = np.where(same_bounds, _COR, _PAR)
        else:
            category[sp] = np.where(same_label, _COR, _INC)
        matched[sg] = True
        if not simple.all():
            _greedy(
                scheme,
                edge_p[~simple].tolist(),
                edge_g[~simple].tolist(),
                spans.lists(),
                category,
                matched,
            )
    return category, ~matched


def _greedy(
    scheme: str,
    edge_p: list[int],
    edge_g: list[int],
    columns: tuple[list[int], ...],
    category: np.ndarray,
    matched: np.ndarray,
) -> None:
    """The sequential part of the matching, for predictions whose candidates conflict.

    ``edge_p`` is sorted, and the gold candidates of each prediction are in gold order,
    so visiting them in turn reproduces nervaluate's loops over its lists.
    """
    ps, pe, pl, gs, ge, gl = columns
    taken: set[int] = set()
    decided: dict[int, int] = {}
    i, n = 0, len(edge_p)
    while i < n:
        p, j = edge_p[i], i
        while j < n and edge_p[j] == p:
            j += 1
        free = [g for g in edge_g[i:j] if g not in taken]
        i = j
        if not free:
            continue  # stays SPU
        s, e, label = ps[p], pe[p], pl[p]
        hit = None
        if scheme == "ent_type":
            best = None
            for g in free:
                if gl[g] == label:
                    distance = abs(s - gs[g]) + abs(e - ge[g])
                    if best is None or distance < best:
                        hit, best = g, distance
        else:
            for g in free:
                if gs[g] == s and ge[g] == e and (scheme != "strict" or gl[g] == label):
                    hit = g
                    break
        if hit is not None:
            decided[p] = _COR
        else:
            hit = free[0]
            decided[p] = _PAR if scheme == "partial" else _INC
        taken.add(hit)
    if decided:
        category[list(decided)] = list(decided.values())
    if taken:
        matched[list(taken)] = True
