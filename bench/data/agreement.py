"""Inter-annotator agreement between the two independent annotation passes.

Run ``python -m bench.data.agreement [--gold-dir DIR] [--json FILE] [--disagreements]``.
The passes are read from ``DIR/passes/a`` and ``DIR/passes/b`` (default ``DIR``:
the shipped seed-article gold). In every F1, pass A plays "gold" and pass B
"prediction"; F1 is symmetric, so the roles do not change the value.

Every figure is a :class:`~bench.metrics.values.MetricValue`: a number, or the
reason why it is undefined (never NaN).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.data.records import Attribution, Entity, Speaker, ToxicityLabels
from bench.data.schema import IDENTITIES, TOXICITY_ATTRIBUTES
from bench.metrics.attribution import (
    DEFAULT_MIN_OVERLAP,
    AttributionRecord,
    attribution_scores,
    content_iou,
    content_tokens,
    match_overlap,
)
from bench.metrics.values import MetricValue, precision_recall_f1, undefined

Span = tuple[int, int]
BINARY_LABELS = (0, 1)
SEVERITY_LABELS = (0, 1, 2, 3)


@dataclass(frozen=True)
class AnnotationPass:
    """One annotator's independent labels for the three tasks."""

    name: str
    entities: tuple[Entity, ...]
    attributions: tuple[Attribution, ...]
    speakers: tuple[Speaker, ...]
    segments: dict[str, ToxicityLabels]
    documents: dict[str, ToxicityLabels]


@dataclass(frozen=True)
class Row:
    """One line of the agreement table; ``observed`` is the raw agreement where it applies."""

    task: str
    measure: str
    n: int
    value: MetricValue
    observed: float | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"task": self.task, "measure": self.measure, "n": self.n, **self.value.to_json()}
        if self.observed is not None:
            out["observed_agreement"] = self.observed
        return out


# ----------------------------------------------------------------------------- reading


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file missing")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _labels(data: dict[str, Any]) -> ToxicityLabels:
    return ToxicityLabels(
        int(data["toxic"]),
        int(data["severity"]),
        {name: int(data["attributes"][name]) for name in TOXICITY_ATTRIBUTES},
        tuple(sorted(data["identities"])),
    )


def _entity(data: dict[str, Any], text: str, where: str) -> Entity:
    start, end = int(data["start"]), int(data["end"])
    if text[start:end] != data["text"]:
        raise ValueError(f"{where}: {data['text']!r} differs from raw text {text[start:end]!r}")
    return Entity(data["doc_id"], start, end, data["label"], data["text"])


def _attribution(data: dict[str, Any]) -> Attribution:
    return Attribution(
        data["id"],
        data["doc_id"],
        data["type"],
        tuple(sorted((int(s), int(e)) for s, e in data["content"])),
        (int(data["cue"][0]), int(data["cue"][1])),
        (int(data["source"][0]), int(data["source"][1])),
        data["source_entity"],
    )


def raw_text(gold_dir: Path) -> str:
    """The raw source text named by ``gold_dir/metadata.json``."""
    meta = json.loads((gold_dir / "metadata.json").read_text(encoding="utf-8"))
    raw_file: str = meta["raw_file"]
    return (gold_dir / raw_file).read_bytes().decode("utf-8")


def load_pass(directory: Path, text: str) -> AnnotationPass:
    """Read one pass directory; entity surfaces are checked against ``text``."""
    entities = tuple(
        _entity(d, text, f"{directory.name}/entities.jsonl:{i}")
        for i, d in enumerate(_jsonl(directory / "entities.jsonl"), 1)
    )
    speakers = tuple(
        Speaker(d["id"], tuple(d["aliases"])) for d in _jsonl(directory / "speakers.jsonl")
    )
    return AnnotationPass(
        name=directory.name,
        entities=entities,
        attributions=tuple(map(_attribution, _jsonl(directory / "attributions.jsonl"))),
        speakers=speakers,
        segments={d["id"]: _labels(d) for d in _jsonl(directory / "segment_labels.jsonl")},
        documents={d["id"]: _labels(d) for d in _jsonl(directory / "document_labels.jsonl")},
    )


# ----------------------------------------------------------------------------- F1 and entities


def f1_from_counts(tp: int, n_a: int, n_b: int) -> MetricValue:
    """F1 = 2·tp / (n_a + n_b), i.e. the harmonic mean of P = tp/n_b and R = tp/n_a.

    Undefined when neither pass has an item (there is nothing to agree on).
    """
    if n_a + n_b == 0:
        return undefined("no items in either pass")
    return MetricValue(precision_recall_f1(tp, n_b, n_a)[2])


def multiset_f1(a: Iterable[Hashable], b: Iterable[Hashable]) -> MetricValue:
    """F1 between two multisets of keys: tp = |A ∩ B| (multiset intersection)."""
    count_a, count_b = Counter(a), Counter(b)
    tp = sum((count_a & count_b).values())
    return f1_from_counts(tp, sum(count_a.values()), sum(count_b.values()))


def _strict(entity: Entity) -> tuple[str, int, int, str]:
    return entity.doc_id, entity.start, entity.end, entity.label


def _span(entity: Entity) -> tuple[str, int, int]:
    return entity.doc_id, entity.start, entity.end


def entity_rows(a: Sequence[Entity], b: Sequence[Entity]) -> list[Row]:
    """Strict (exact span + label), span-only and per-label entity F1 between two passes."""
    n = len(a) + len(b)
    rows = [
        Row("ner", "strict F1 (span+label)", n, multiset_f1(map(_strict, a), map(_strict, b))),
        Row("ner", "span-only F1", n, multiset_f1(map(_span, a), map(_span, b))),
    ]
    for label in sorted({e.label for e in (*a, *b)}):
        in_a = [_strict(e) for e in a if e.label == label]
        in_b = [_strict(e) for e in b if e.label == label]
        rows.append(Row("ner", f"F1 {label}", len(in_a) + len(in_b), multiset_f1(in_a, in_b)))
    return rows


# ----------------------------------------------------------------------------- attribution


def to_record(attribution: Attribution, text: str | None = None) -> AttributionRecord:
    """The matcher's view of an attribution: document, sorted content pieces, source id,
    and the content's tokens in ``text`` (the raw text; none without it)."""
    content = tuple(sorted(attribution.content))
    tokens = content_tokens(text, content) if text is not None else ()
    return AttributionRecord(attribution.doc_id, content, attribution.source_entity, tokens=tokens)


def attribution_pairs(a: Sequence[Attribution], b: Sequence[Attribution]) -> list[Span]:
    """One-to-one (index in a, index in b) content pairs, matched as bench's attribution
    metrics match them (:func:`bench.metrics.attribution.match_overlap`)."""
    return match_overlap([to_record(x) for x in a], [to_record(y) for y in b])


def _chars(content: Iterable[Span]) -> set[int]:
    return {i for start, end in content for i in range(start, end)}


def char_f1(
    a: Sequence[Attribution], b: Sequence[Attribution], pairs: Sequence[Span]
) -> MetricValue:
    """Character-level content F1 over the one-to-one pairs.

    F1 = 2·Σ_pairs |chars(a_i) ∩ chars(b_j)| / (Σ_a |chars| + Σ_b |chars|); an
    unmatched record adds its characters to the denominator only.
    """
    shared = sum(len(_chars(a[i].content) & _chars(b[j].content)) for i, j in pairs)
    total = sum(len(_chars(x.content)) for x in (*a, *b))
    return MetricValue(2 * shared / total) if total else undefined("no content in either pass")


def pair_agreement(same: Sequence[bool], what: str) -> MetricValue:
    """Fraction of matched pairs that agree on ``what``: Σ same / #pairs."""
    if not same:
        return undefined(f"no matched attribution pair to compare the {what} on")
    return MetricValue(sum(same) / len(same))


_FOUND = f"IoU ≥ {DEFAULT_MIN_OVERLAP}"  # a found quote, as bench's e2e_f1 counts it


def attribution_rows(a: Sequence[Attribution], b: Sequence[Attribution], text: str) -> list[Row]:
    """bench's attribution metrics with A as gold and B as prediction (speaker = source
    entity; tokens of ``text``), the character F1 over the matched pairs, then source,
    cue and type agreement over the pairs whose content IoU is ≥ the default min_overlap."""
    n = len(a) + len(b)
    records_a, records_b = [to_record(x, text) for x in a], [to_record(y, text) for y in b]
    metrics, pairs = attribution_scores(records_a, records_b)
    found = [
        (a[i], b[j])
        for i, j in pairs
        if content_iou(records_a[i], records_b[j]) >= DEFAULT_MIN_OVERLAP
    ]

    def agree(what: str, field: Callable[[Attribution], Any]) -> Row:
        same = [field(x) == field(y) for x, y in found]
        measure = f"{what} agreement (pairs with {_FOUND})"
        return Row("attribution", measure, len(found), pair_agreement(same, what))

    def metric(measure: str, name: str) -> Row:
        value = metrics[name] if n else undefined("no attribution in either pass")
        return Row("attribution", measure, n, value)

    return [
        metric("content exact F1", "content_exact_f1"),
        metric("content any-overlap F1", "content_overlap_f1"),
        metric(f"content F1 ({_FOUND})", "content_iou_f1"),
        metric("content token F1", "content_token_f1"),
        Row("attribution", "content character F1", n, char_f1(a, b, pairs)),
        metric(f"end-to-end F1 ({_FOUND} + source_entity)", "e2e_f1"),
        agree("source_entity", lambda x: x.source_entity),
        agree("source span", lambda x: x.source),
        agree("cue span", lambda x: x.cue),
        agree("type", lambda x: x.type),
    ]


def speaker_rows(a: Sequence[Speaker], b: Sequence[Speaker]) -> list[Row]:
    """Jaccard of the speaker-id sets, and mean Jaccard of alias sets over shared ids."""
    aliases_a = {s.id: set(s.aliases) for s in a}
    aliases_b = {s.id: set(s.aliases) for s in b}
    shared = sorted(aliases_a.keys() & aliases_b.keys())
    per_id = [jaccard(aliases_a[i], aliases_b[i]) for i in shared]
    alias_value = (
        MetricValue(sum(per_id) / len(per_id)) if per_id else undefined("no shared speaker id")
    )
    all_ids = aliases_a.keys() | aliases_b.keys()
    id_value = MetricValue(jaccard(set(aliases_a), set(aliases_b)))
    return [
        Row("speakers", "speaker id Jaccard", len(all_ids), id_value),
        Row("speakers", "alias-set Jaccard (mean over shared ids)", len(shared), alias_value),
    ]


# ----------------------------------------------------------------------------- toxicity


def observed_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """p_o = (1/n)·Σ [a_i = b_i]."""
    if len(a) != len(b) or not a:
        raise ValueError("observed agreement needs two equally long, non-empty label lists")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def kappa(
    a: Sequence[int], b: Sequence[int], labels: Sequence[int], weights: str | None = None
) -> MetricValue:
    """Cohen's kappa κ = (p_o − p_e) / (1 − p_e), computed by scikit-learn.

    p_o is the observed agreement and p_e = Σ_k p_a(k)·p_b(k) the agreement
    expected from the two annotators' label frequencies. With ``weights``
    ("linear" or "quadratic"), κ_w = 1 − Σ w_ij·O_ij / Σ w_ij·E_ij, with
    w_ij = |i − j| or (i − j)² over ``labels``. κ is undefined when p_e = 1,
    i.e. both annotators gave every item one and the same label; the reason
    then names the label and the observed agreement.
    """
    from sklearn.metrics import cohen_kappa_score

    p_o = observed_agreement(a, b)
    used = set(a) | set(b)
    if len(used) == 1:
        return undefined(f"all items labelled {next(iter(used))} by both; p_o = {p_o:.3f}")
    value = float(cohen_kappa_score(a, b, labels=list(labels), weights=weights))
    return MetricValue(value) if not math.isnan(value) else undefined("kappa is not a number")


def jaccard(a: set[Any], b: set[Any]) -> float:
    """J = |A ∩ B| / |A ∪ B|; 1.0 when both sets are empty (full agreement on nothing)."""
    return len(a & b) / len(a | b) if a | b else 1.0


def _kappa_row(task: str, measure: str, a: list[int], b: list[int], **kw: Any) -> Row:
    return Row(task, measure, len(a), kappa(a, b, **kw), observed_agreement(a, b))


Columns = list[tuple[str, list[int], list[int]]]


def _label_columns(la: Sequence[ToxicityLabels], lb: Sequence[ToxicityLabels]) -> Columns:
    """(name, labels of A, labels of B) for ``toxic`` and each attribute."""
    columns = [("toxic", [x.toxic for x in la], [y.toxic for y in lb])]
    for name in TOXICITY_ATTRIBUTES:
        columns.append((name, [x.attributes[name] for x in la], [y.attributes[name] for y in lb]))
    return columns


def _identity_columns(la: Sequence[ToxicityLabels], lb: Sequence[ToxicityLabels]) -> Columns:
    """(identity, 0/1 mentions by A, 0/1 mentions by B) for each identity group."""
    return [
        (
            f"identity {i}",
            [int(i in x.identities) for x in la],
            [int(i in y.identities) for y in lb],
        )
        for i in IDENTITIES
    ]


def toxicity_rows(
    a: dict[str, ToxicityLabels], b: dict[str, ToxicityLabels], unit: str
) -> list[Row]:
    """Kappa on toxic, attributes, severity (plain, quadratic) and identities; identity Jaccard.

    ``unit`` names the unit ("segments" or "documents"); both passes must label the same ids.
    """
    if set(a) != set(b):
        raise ValueError(f"{unit}: the passes label different ids: {sorted(set(a) ^ set(b))}")
    ids = sorted(a)
    if not ids:
        return []
    task = f"toxicity ({unit})"
    la, lb = [a[i] for i in ids], [b[i] for i in ids]
    rows = [
        _kappa_row(task, f"kappa {m}", x, y, labels=BINARY_LABELS)
        for m, x, y in _label_columns(la, lb)
    ]
    sev_a, sev_b = [x.severity for x in la], [y.severity for y in lb]
    rows.append(_kappa_row(task, "kappa severity", sev_a, sev_b, labels=SEVERITY_LABELS))
    rows.append(
        _kappa_row(
            task,
            "kappa severity (quadratic)",
            sev_a,
            sev_b,
            labels=SEVERITY_LABELS,
            weights="quadratic",
        )
    )
    sets_a, sets_b = [set(x.identities) for x in la], [set(y.identities) for y in lb]
    mean_j = sum(map(jaccard, sets_a, sets_b)) / len(ids)
    same = observed_agreement([x.identities for x in la], [y.identities for y in lb])
    rows.append(Row(task, "identities Jaccard (mean)", len(ids), MetricValue(mean_j), same))
    rows += [
        _kappa_row(task, f"kappa {m}", x, y, labels=BINARY_LABELS)
        for m, x, y in _identity_columns(la, lb)
    ]
    return rows


# ----------------------------------------------------------------------------- disagreements


def entity_disagreements(a: Sequence[Entity], b: Sequence[Entity]) -> list[str]:
    """Entities only in one pass, or with the same span but another label."""
    by_a, by_b = {_span(e): e for e in a}, {_span(e): e for e in b}
    out = []
    for key in sorted(by_a.keys() | by_b.keys(), key=lambda k: (k[1], k[2])):
        x, y = by_a.get(key), by_b.get(key)
        if x and y and x.label == y.label:
            continue
        surface = x.text if x else y.text if y else ""
        label_a, label_b = x.label if x else "-", y.label if y else "-"
        out.append(f"entity [{key[1]}, {key[2]}) {surface!r}: A={label_a} B={label_b}")
    return out


def attribution_disagreements(a: Sequence[Attribution], b: Sequence[Attribution]) -> list[str]:
    """Unmatched records and, for matched pairs, every field that differs."""
    pairs = attribution_pairs(a, b)
    out = []
    for i, j in pairs:
        x, y = a[i], b[j]
        for field in ("content", "cue", "source", "source_entity", "type"):
            if getattr(x, field) != getattr(y, field):
                out.append(
                    f"attribution A:{x.id}/B:{y.id} {field}: "
                    f"A={getattr(x, field)} B={getattr(y, field)}"
                )
    unmatched_a = sorted(set(range(len(a))) - {i for i, _ in pairs})
    unmatched_b = sorted(set(range(len(b))) - {j for _, j in pairs})
    out += [f"attribution A:{a[i].id} has no match in B" for i in unmatched_a]
    out += [f"attribution B:{b[j].id} has no match in A" for j in unmatched_b]
    return out


def speaker_disagreements(a: Sequence[Speaker], b: Sequence[Speaker]) -> list[str]:
    """Speaker ids in one pass only, and aliases listed by one pass only."""
    aliases_a = {s.id: set(s.aliases) for s in a}
    aliases_b = {s.id: set(s.aliases) for s in b}
    out = []
    for sid in sorted(aliases_a.keys() | aliases_b.keys()):
        only_a = sorted(aliases_a.get(sid, set()) - aliases_b.get(sid, set()))
        only_b = sorted(aliases_b.get(sid, set()) - aliases_a.get(sid, set()))
        if sid not in aliases_a or sid not in aliases_b:
            out.append(f"speaker {sid}: only in {'A' if sid in aliases_a else 'B'}")
        elif only_a or only_b:
            out.append(f"speaker {sid} aliases: only A={only_a} only B={only_b}")
    return out


def label_disagreements(a: dict[str, ToxicityLabels], b: dict[str, ToxicityLabels]) -> list[str]:
    """Every (id, field) whose toxicity labels differ between the passes."""
    out = []
    for uid in sorted(a.keys() & b.keys()):
        x, y = a[uid], b[uid]
        fields: dict[str, tuple[object, object]] = {
            "toxic": (x.toxic, y.toxic),
            "severity": (x.severity, y.severity),
        }
        fields |= {k: (x.attributes[k], y.attributes[k]) for k in TOXICITY_ATTRIBUTES}
        fields["identities"] = (list(x.identities), list(y.identities))
        out += [f"toxicity {uid} {k}: A={va} B={vb}" for k, (va, vb) in fields.items() if va != vb]
    return out


def disagreements(a: AnnotationPass, b: AnnotationPass) -> list[str]:
    """Every item-level disagreement between two passes, one line each."""
    return [
        *entity_disagreements(a.entities, b.entities),
        *attribution_disagreements(a.attributions, b.attributions),
        *speaker_disagreements(a.speakers, b.speakers),
        *label_disagreements(a.segments, b.segments),
        *label_disagreements(a.documents, b.documents),
    ]


# ----------------------------------------------------------------------------- report


def agreement_rows(a: AnnotationPass, b: AnnotationPass, text: str) -> list[Row]:
    """All agreement figures between pass ``a`` and pass ``b`` over the raw ``text``."""
    return [
        *entity_rows(a.entities, b.entities),
        *attribution_rows(a.attributions, b.attributions, text),
        *speaker_rows(a.speakers, b.speakers),
        *toxicity_rows(a.segments, b.segments, "segments"),
        *toxicity_rows(a.documents, b.documents, "documents"),
    ]


NOTE = (
    "n: records of A + B for F1 rows, matched pairs for pair-agreement rows, ids for speaker\n"
    "rows, labelled units for kappa/Jaccard rows. Kappa is Cohen's (scikit-learn); it is\n"
    "undefined when both annotators gave every unit one label (see the observed agreement).\n"
)


def _format(value: MetricValue) -> str:
    return f"{value.value:.3f}" if value.value is not None else f"undefined ({value.undefined})"


def _observed(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else ""


def to_markdown(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table (task, measure, n, value, observed agreement)."""
    from bench.report.tables import to_markdown as table

    headers = ["task", "measure", "n", "value", "observed agreement"]
    cells = [[r.task, r.measure, str(r.n), _format(r.value), _observed(r.observed)] for r in rows]
    return table(headers, cells)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the agreement table; optionally write JSON and list disagreements."""
    from bench.data.gold import default_gold_dir

    parser = argparse.ArgumentParser(prog="python -m bench.data.agreement", description=__doc__)
    parser.add_argument("--gold-dir", type=Path, default=None, help="dataset directory")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--disagreements", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    gold_dir = args.gold_dir or default_gold_dir()
    try:
        text = raw_text(gold_dir)
        a = load_pass(gold_dir / "passes" / "a", text)
        b = load_pass(gold_dir / "passes" / "b", text)
        rows = agreement_rows(a, b, text)
    except (OSError, ValueError, KeyError) as err:
        print(f"agreement: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    listed = disagreements(a, b)
    print(f"Agreement between pass A and pass B ({gold_dir.name})\n")
    print(to_markdown(rows))
    print(NOTE)
    print(f"{len(listed)} item-level disagreements (list them with --disagreements)")
    if args.disagreements:
        print("\n".join(listed))
    if args.json:
        payload = {
            "dataset": gold_dir.name,
            "passes": ["a", "b"],
            "rows": [r.to_json() for r in rows],
            "disagreements": listed,
        }
        text_out = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)
        args.json.write_text(text_out + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
