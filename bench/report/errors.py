"""Error-analysis page of one run: where the model went wrong, item by item.

Sections, each from the run's ``samples/<task>.jsonl``:

- **NER**: each item's text twice, side by side — gold entities on the left,
  predicted ones on the right — highlighted by class, judged as the strict metric
  judges them: *correct* (same start, end and label), *wrong type* (same span,
  other label), *missed* (a gold span with no prediction of the same span),
  *spurious* (a predicted span with no gold of the same span). A partial overlap
  is a miss plus a spurious prediction. Items are ordered by number of errors.
- **Attribution**: every gold quote and every unmatched prediction, classed as
  *missed* (no prediction overlaps it), *spurious* (a prediction overlapping no
  gold quote), *wrong speaker* (overlap-matched, speaker differs) or *correct*;
  inexact content is flagged, and the quote type is shown (``direct → mixed``
  where the prediction's type differs from the gold's).
- **Toxicity**: the items of each level sorted by error ``|score − gold|``.

Item text: NER samples hold the spans ``[start, end, label, text]`` but not the
item's text. The page rebuilds the gold of the dataset the run names, from bench's
own registered preset (:func:`bench.report.gold.rebuild_gold`: nothing from the
result file is instantiated or resolved; a dataset that is not a registered one is
an :class:`ErrorsError`), and uses it only if its sha256 equals the run's
``dataset.sha256`` — the same gold. If that gold cannot be loaded, differs, or
``load_dataset=False``, the page falls back to what the samples hold: the spans and
their text, listed in order, without the surrounding text (and toxicity items
without their text); a note on the page says so.

This module classes the errors and builds the page's data; ``templates/errors.html.j2``
lays it out, escaping every string (:mod:`bench.report.html`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report.compare import PRIMARY_METRIC, CompareError, Run
from bench.report.files import write_text_atomic
from bench.report.gold import GoldError, rebuild_gold
from bench.report.html import Table, Td, num_cell, render
from bench.report.tables import MISSING

NER_CLASSES = ("correct", "wrong-type", "missed", "spurious")
ATTRIBUTION_CLASSES = ("missed", "spurious", "wrong-speaker", "correct")


class ErrorsError(ValueError):
    """The run cannot be analysed (missing files, a dataset bench does not register)."""


@dataclass
class Texts:
    """Item texts per task view, from the re-loaded dataset (empty when unavailable)."""

    by_task: dict[str, dict[str, str]] = field(default_factory=dict)
    note: str | None = None

    def get(self, task: str, item_id: str) -> str | None:
        return self.by_task.get(task, {}).get(item_id)


def load_texts(run: Run, load_dataset: bool = True) -> Texts:
    """Item texts of the run's gold, rebuilt from bench's registered dataset and checked
    against ``dataset.sha256``; :class:`ErrorsError` if the run names no registered one."""
    fallback = "Showing the spans recorded in the samples only: "
    if not load_dataset:
        return Texts(note=fallback + "dataset loading was turned off.")
    try:
        dataset = rebuild_gold(run.directory / "result.json", run.result)
    except GoldError as err:
        raise ErrorsError(str(err)) from None
    except Exception as err:  # any loading failure of bench's own copy: fall back, say why
        return Texts(
            note=fallback + f"the dataset could not be loaded ({type(err).__name__}: {err})."
        )
    if dataset.sha256 != run.result["dataset"]["sha256"]:
        return Texts(
            note=fallback + f"the run's gold differs from the {dataset.name} dataset shipped "
            "with bench (sha256)."
        )
    by_task = {}
    for task in sorted(getattr(dataset, "tasks", ())):
        view = getattr(dataset, task)()
        by_task[task] = {item.id: item.text for item in view.items}
    return Texts(by_task)


# ----------------------------------------------------------------------------- NER


Span = tuple[int, int, str, str]  # start, end, label, text


@dataclass(frozen=True)
class Judged:
    start: int
    end: int
    label: str
    text: str
    cls: str  # one of NER_CLASSES
    other: str | None = None  # wrong type: the label on the other side


def judge_ner(gold: Sequence[list[Any]], pred: Sequence[list[Any]]) -> tuple[list, list]:
    """Class of every gold and every predicted span, as the strict metric counts them."""
    gold_keys = {(s[0], s[1], s[2]) for s in gold}
    pred_keys = {(s[0], s[1], s[2]) for s in pred}
    gold_by_span: dict[tuple[int, int], list[str]] = {}
    pred_by_span: dict[tuple[int, int], list[str]] = {}
    for s in gold:
        gold_by_span.setdefault((s[0], s[1]), []).append(s[2])
    for s in pred:
        pred_by_span.setdefault((s[0], s[1]), []).append(s[2])

    def judge(span: Sequence[Any], own: set, other_side: dict, absent: str) -> Judged:
        start, end, lab = span[0], span[1], span[2]
        text = span[3] if len(span) > 3 else ""
        if (start, end, lab) in own:
            return Judged(start, end, lab, text, "correct")
        others = [x for x in other_side.get((start, end), []) if x != lab]
        if others:
            return Judged(start, end, lab, text, "wrong-type", ", ".join(sorted(others)))
        return Judged(start, end, lab, text, absent)

    judged_gold = [judge(s, pred_keys, pred_by_span, "missed") for s in sorted(gold)]
    judged_pred = [judge(s, gold_keys, gold_by_span, "spurious") for s in sorted(pred)]
    return judged_gold, judged_pred


def mark_title(j: Judged, side: str) -> str:
    """The tooltip of a marked span."""
    if j.cls == "wrong-type":
        return f"{side} {j.label}; the other side says {j.other} (wrong type)"
    return f"{j.label}: {j.cls.replace('-', ' ')}"


Segment = tuple[str, Judged | None]  # a piece of the text, and the span it is if marked


def highlight(text: str, spans: Sequence[Judged]) -> tuple[list[Segment], list[Judged]]:
    """The text cut into plain and marked pieces (non-overlapping spans); overlapping
    spans are returned apart."""
    out: list[Segment] = []
    pos, skipped = 0, []
    for j in sorted(spans, key=lambda j: (j.start, -j.end, j.label)):
        if j.start < pos or j.end > len(text) or j.start >= j.end:
            skipped.append(j)
            continue
        out += [(text[pos : j.start], None), (text[j.start : j.end], j)]
        pos = j.end
    out.append((text[pos:], None))
    return out, skipped


@dataclass
class NerSide:
    """One side (gold or predicted) of an item: the marked text, or the spans alone."""

    name: str
    spans: list[Judged]  # without the text: every span; with it: those not marked inline
    segments: list[Segment] | None = None


@dataclass
class NerItem:
    id: str
    n_errors: int
    sides: list[NerSide]


@dataclass
class NerSection:
    totals: dict[str, int]  # spans per class of NER_CLASSES
    n_with_errors: int
    n_rows: int
    items: list[NerItem]  # the items shown, most errors first


def _ner_section(run: Run, texts: Texts, limit: int) -> NerSection:
    rows = run.samples("ner")
    judged = []
    totals = dict.fromkeys(NER_CLASSES, 0)
    for row in rows:
        g, p = judge_ner(row["gold"], row["pred"])
        for j in [*g, *(j for j in p if j.cls == "spurious")]:
            totals[j.cls] += 1
        n_errors = sum(j.cls != "correct" for j in g) + sum(j.cls == "spurious" for j in p)
        judged.append((n_errors, row["id"], g, p))
    judged.sort(key=lambda x: (-x[0], x[1]))
    with_errors = [x for x in judged if x[0] > 0]
    items = []
    for n_errors, item_id, g, p in (with_errors or judged)[:limit]:
        text = texts.get("ner", item_id)
        sides = []
        for side, spans in (("gold", g), ("predicted", p)):
            if text is None:
                sides.append(NerSide(side, spans))
            else:
                segments, skipped = highlight(text, spans)
                sides.append(NerSide(side, skipped, segments))
        items.append(NerItem(item_id, n_errors, sides))
    return NerSection(totals, len(with_errors), len(rows), items)


# ----------------------------------------------------------------------------- attribution


def attribution_class(row: dict[str, Any]) -> str:
    """A gold quote is missed unless its prediction overlaps it substantially
    (``content_match``; samples written before it: any overlap)."""
    if row.get("gold") is None:
        return "spurious"
    if row.get("pred") is None or not row.get("content_match", row.get("overlap_match")):
        return "missed"
    if not row.get("speaker_correct"):
        return "wrong-speaker"
    return "correct"


def _types(gold: dict[str, Any] | None, pred: dict[str, Any] | None) -> str:
    """``direct``, or ``direct → mixed`` when the prediction's type differs from the gold's
    (samples written before types were recorded show a dash)."""
    types = [side.get("type") or MISSING for side in (gold, pred) if side]
    return types[0] if len(set(types)) == 1 else " → ".join(types)


@dataclass
class AttributionSection:
    totals: dict[str, int]  # rows per class of ATTRIBUTION_CLASSES
    n_rows: int
    limit: int | None  # the rows shown, when fewer than all
    table: Table


def _attribution_section(run: Run, limit: int) -> AttributionSection:
    rows = run.samples("attribution")
    order = {c: i for i, c in enumerate(ATTRIBUTION_CLASSES)}

    def start(row: dict[str, Any]) -> int:
        side = row.get("gold") or row.get("pred") or {}
        content = side.get("content") or [[0, 0]]
        return min(piece[0] for piece in content)

    classed = sorted(
        ((attribution_class(r), r) for r in rows),
        key=lambda x: (order[x[0]], x[1]["id"], start(x[1])),
    )
    totals = {c: sum(1 for k, _ in classed if k == c) for c in ATTRIBUTION_CLASSES}
    headers = [
        ("Class", "ascending"),
        ("Item", "ascending"),
        ("Gold quote", "ascending"),
        ("Gold speaker", "ascending"),
        ("Predicted quote", "ascending"),
        ("Predicted speaker", "ascending"),
        ("Type", "ascending"),
    ]
    table = Table(headers, id="attribution")
    for cls, r in classed[:limit]:
        gold, pred = r.get("gold"), r.get("pred")
        content = "" if cls in ("missed", "spurious") or r.get("content_exact") else " (inexact)"
        speaker = MISSING
        if pred:
            raw = pred.get("speaker_text")
            speaker = f"{pred.get('speaker') or MISSING}" + (
                f" ← “{raw}”" if raw and raw != pred.get("speaker") else ""
            )
        table.rows.append(
            [
                Td(cls.replace("-", " ") + content, cls, order[cls]),
                Td(r["id"]),
                Td(gold["text"] if gold else MISSING, "quote"),
                Td(gold["speaker"] if gold else MISSING),
                Td(pred["text"] if pred else MISSING, "quote"),
                Td(speaker),
                Td(_types(gold, pred)),
            ]
        )
    return AttributionSection(totals, len(rows), limit if len(classed) > limit else None, table)


# ----------------------------------------------------------------------------- toxicity


@dataclass
class ToxicityLevel:
    level: str
    n_items: int
    limit: int | None  # the rows shown, when fewer than the items
    table: Table


@dataclass
class ToxicitySection:
    threshold: float
    levels: list[ToxicityLevel]


def _toxicity_section(run: Run, texts: Texts, limit: int) -> ToxicitySection:
    rows = run.samples("toxicity")
    record = run.result["tasks"]["toxicity"]
    headers = [
        ("Item", "ascending"),
        ("Text", "ascending"),
        ("Gold", "descending"),
        ("Score", "descending"),
        ("Error", "descending"),
        ("Correct", "ascending"),
    ]
    levels = []
    for level in dict.fromkeys(r["level"] for r in rows):
        items = sorted(
            (r for r in rows if r["level"] == level),
            key=lambda r: (-abs(r["score"] - r["gold"]), r["id"]),
        )
        table = Table(headers, id=f"toxicity-{level}")
        for r in items[:limit]:
            text = texts.get("toxicity", r["id"])
            if text is None:
                text_td = Td(MISSING, "missing")
            else:
                text_td = Td(text if len(text) <= 600 else text[:599] + "…", "quote")
            table.rows.append(
                [
                    Td(r["id"]),
                    text_td,
                    num_cell(r["gold"], 0),
                    num_cell(r["score"], 3),
                    num_cell(abs(r["score"] - r["gold"]), 3),
                    Td(
                        "yes" if r.get("correct") else "no",
                        css="correct" if r.get("correct") else "missed",
                    ),
                ]
            )
        shown = limit if len(items) > limit else None
        levels.append(ToxicityLevel(level, len(items), shown, table))
    return ToxicitySection(record.get("breakdown", {}).get("threshold", 0.5), levels)


# ----------------------------------------------------------------------------- page


def _summary(run: Run) -> Table:
    headers = [
        ("Task", "ascending"),
        ("Metric", "ascending"),
        ("Value [95% CI]", "descending"),
        ("Status", "ascending"),
    ]
    table = Table(headers, id="summary")
    for task, record in run.result["tasks"].items():
        status = record.get("status", "?")
        if status != "ok":
            why = record.get("reason") or record.get("error") or ""
            table.rows.append([Td(task), Td(MISSING), num_cell(None), Td(f"{status}: {why}")])
            continue
        names = list(record.get("main_metrics", []))
        if PRIMARY_METRIC.get(task) and PRIMARY_METRIC[task] not in names:
            names.append(PRIMARY_METRIC[task])
        for name in names:
            metric = record["metrics"].get(name, {})
            ci = metric.get("ci95") or {}
            bounds = (ci["low"], ci.get("high")) if ci.get("low") is not None else None
            table.rows.append(
                [
                    Td(task),
                    Td(name),
                    num_cell(metric.get("value"), 3, bounds),
                    Td("ok"),
                ]
            )
    return table


def errors_page(run: Run, load_dataset: bool = True, limit: int = 200) -> str:
    """The whole page as a string (deterministic for a given run and dataset)."""
    result = run.result
    texts = load_texts(run, load_dataset)
    sections = (
        ("ner", "Named entities", lambda: _ner_section(run, texts, limit)),
        ("attribution", "Attribution", lambda: _attribution_section(run, limit)),
        ("toxicity", "Toxicity", lambda: _toxicity_section(run, texts, limit)),
    )
    shown = []
    for task, heading, build in sections:
        if result["tasks"].get(task, {}).get("status") != "ok":
            continue
        try:
            shown.append((task, heading, build()))
        except CompareError as err:
            raise ErrorsError(str(err)) from None
    return render(
        "errors.html.j2",
        title=f"Errors: {run.name} on {result.get('dataset', {}).get('name', '?')}",
        name=run.name,
        model=result["model"],
        dataset=result.get("dataset", {}),
        provenance=result.get("provenance", {}),
        note=texts.note,
        summary=_summary(run),
        sections=shown,
        ner_classes=NER_CLASSES,
        attribution_classes=ATTRIBUTION_CLASSES,
        mark_title=mark_title,
    )


def write_errors_page(
    run_dir: str | Path, out: Path, load_dataset: bool = True, limit: int = 200
) -> None:
    try:
        run = Run.load(run_dir)
    except CompareError as err:
        raise ErrorsError(str(err)) from None
    write_text_atomic(out, errors_page(run, load_dataset, limit))
