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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import html as page_html
from bench.report.compare import PRIMARY_METRIC, CompareError, Run
from bench.report.files import write_text_atomic
from bench.report.gold import GoldError, rebuild_gold

esc = page_html.esc
MISSING_TEXT = page_html.MISSING
NER_CLASSES = ("correct", "wrong-type", "missed", "spurious")
ATTRIBUTION_CLASSES = ("missed", "spurious", "wrong-speaker", "correct")

EXTRA_CSS = """
.legend span, mark { border-radius: 3px; padding: 0 .15em; }
.doc { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.9;
  border: 1px solid var(--line); padding: .6rem .8rem; margin: 0; font-size: .93rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.pair h4 { margin: .2rem 0; font-size: .95rem; }
mark { color: inherit; }
mark .tag { font-size: .68em; font-weight: 700; margin-left: .2em; vertical-align: .15em;
  font-family: ui-monospace, monospace; }
.correct { background: #c8ecd0; }
.wrong-type { background: #e2d4f5; outline: 1px solid #8250df; }
.missed { background: #ffd0cc; outline: 1px dashed #cf222e; }
.spurious { background: #ffe3b0; outline: 1px dotted #bc4c00; }
.wrong-speaker { background: #e2d4f5; }
tr.missed td:first-child, tr.spurious td:first-child, tr.wrong-speaker td:first-child,
tr.correct td:first-child { font-weight: 600; }
.spans { margin: 0; padding-left: 1.2rem; font-size: .9rem; }
.note { background: #fff8c5; border: 1px solid #d4a72c; padding: .5rem .8rem; }
td.quote { max-width: 32rem; }
"""


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


def _mark(j: Judged, text: str, side: str) -> str:
    if j.cls == "wrong-type":
        title = f"{side} {j.label}; the other side says {j.other} (wrong type)"
    else:
        title = f"{j.label}: {j.cls.replace('-', ' ')}"
    return (
        f'<mark class="{j.cls}" data-label="{esc(j.label)}" title="{esc(title)}">'
        f'{esc(text)}<span class="tag">{esc(j.label)}</span></mark>'
    )


def highlight(text: str, spans: Sequence[Judged], side: str) -> tuple[str, list[Judged]]:
    """The text with non-overlapping spans marked; overlapping spans are returned apart."""
    out, pos, skipped = [], 0, []
    for j in sorted(spans, key=lambda j: (j.start, -j.end, j.label)):
        if j.start < pos or j.end > len(text) or j.start >= j.end:
            skipped.append(j)
            continue
        out.append(esc(text[pos : j.start]))
        out.append(_mark(j, text[j.start : j.end], side))
        pos = j.end
    out.append(esc(text[pos:]))
    return "".join(out), skipped


def _span_list(spans: Sequence[Judged], side: str) -> str:
    if not spans:
        return '<p class="meta">(none)</p>'
    items = "".join(
        f"<li><code>[{j.start}, {j.end})</code> {_mark(j, j.text, side)}</li>" for j in spans
    )
    return f'<ul class="spans">{items}</ul>'


def _ner_section(run: Run, texts: Texts, limit: int) -> str:
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
    shown = (with_errors or judged)[:limit]
    parts = [
        '<p class="legend">'
        + " ".join(
            f'<span class="{c}">{c.replace("-", " ")}: {totals[c]}</span>' for c in NER_CLASSES
        )
        + ' <span class="meta">(gold entities by class; spurious: predictions with no gold '
        "span)</span></p>",
        f'<p class="meta">{len(with_errors)} of {len(rows)} items have errors; showing '
        f"{len(shown)}, most errors first.</p>",
    ]
    for n_errors, item_id, g, p in shown:
        text = texts.get("ner", item_id)
        parts.append(f'<section class="item" data-item="{esc(item_id)}">')
        parts.append(f'<h3>{esc(item_id)} <span class="meta">({n_errors} errors)</span></h3>')
        parts.append('<div class="pair">')
        for side, spans in (("gold", g), ("predicted", p)):
            parts.append(f'<div class="{side}"><h4>{side.capitalize()}</h4>')
            if text is None:
                parts.append(_span_list(spans, side))
            else:
                marked, skipped = highlight(text, spans, side)
                parts.append(f'<p class="doc">{marked}</p>')
                if skipped:
                    parts.append('<p class="meta">Overlapping spans not shown inline:</p>')
                    parts.append(_span_list(skipped, side))
            parts.append("</div>")
        parts.append("</div></section>")
    return "\n".join(parts)


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
    types = [side.get("type") or MISSING_TEXT for side in (gold, pred) if side]
    return types[0] if len(set(types)) == 1 else " → ".join(types)


def _attribution_section(run: Run, limit: int) -> str:
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
    body = []
    for cls, r in classed[:limit]:
        gold, pred = r.get("gold"), r.get("pred")
        content = "" if cls in ("missed", "spurious") or r.get("content_exact") else " (inexact)"
        speaker = MISSING_TEXT
        if pred:
            raw = pred.get("speaker_text")
            speaker = f"{pred.get('speaker') or MISSING_TEXT}" + (
                f" ← “{raw}”" if raw and raw != pred.get("speaker") else ""
            )
        body.append(
            [
                f'<td class="{cls}" data-sort="{order[cls]}">{esc(cls.replace("-", " "))}'
                f"{esc(content)}</td>",
                page_html.text_cell(r["id"]),
                f'<td class="quote">{esc(gold["text"]) if gold else MISSING_TEXT}</td>',
                page_html.text_cell(gold["speaker"] if gold else MISSING_TEXT),
                f'<td class="quote">{esc(pred["text"]) if pred else MISSING_TEXT}</td>',
                page_html.text_cell(speaker),
                page_html.text_cell(_types(gold, pred)),
            ]
        )
    legend = " ".join(
        f'<span class="{c}">{c.replace("-", " ")}: {totals[c]}</span>' for c in ATTRIBUTION_CLASSES
    )
    more = f" Showing the first {limit}." if len(classed) > limit else ""
    return (
        f'<p class="legend">{legend}</p>\n'
        f'<p class="meta">{len(rows)} rows: every gold quote and every unmatched prediction.'
        f"{more}</p>\n" + page_html.sortable_table(headers, body, "attribution")
    )


# ----------------------------------------------------------------------------- toxicity


def _toxicity_section(run: Run, texts: Texts, limit: int) -> str:
    rows = run.samples("toxicity")
    record = run.result["tasks"]["toxicity"]
    threshold = record.get("breakdown", {}).get("threshold", 0.5)
    levels = list(dict.fromkeys(r["level"] for r in rows))
    parts = [f'<p class="meta">Sorted by error |score − gold|; toxic at score ≥ {threshold}.</p>']
    for level in levels:
        items = sorted(
            (r for r in rows if r["level"] == level),
            key=lambda r: (-abs(r["score"] - r["gold"]), r["id"]),
        )
        headers = [
            ("Item", "ascending"),
            ("Text", "ascending"),
            ("Gold", "descending"),
            ("Score", "descending"),
            ("Error", "descending"),
            ("Correct", "ascending"),
        ]
        body = []
        for r in items[:limit]:
            text = texts.get("toxicity", r["id"])
            if text is None:
                text_cell = f'<td class="missing">{MISSING_TEXT}</td>'
            else:
                short = text if len(text) <= 600 else text[:599] + "…"
                text_cell = f'<td class="quote">{esc(short)}</td>'
            body.append(
                [
                    page_html.text_cell(r["id"]),
                    text_cell,
                    page_html.num_cell(r["gold"], 0),
                    page_html.num_cell(r["score"], 3),
                    page_html.num_cell(abs(r["score"] - r["gold"]), 3),
                    page_html.text_cell(
                        "yes" if r.get("correct") else "no",
                        css="correct" if r.get("correct") else "missed",
                    ),
                ]
            )
        more = f", showing the {limit} largest errors" if len(items) > limit else ""
        parts.append(
            f'<h3>Level: {esc(level)} <span class="meta">({len(items)} items{more})</span></h3>'
        )
        parts.append(page_html.sortable_table(headers, body, f"toxicity-{level}"))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- page


def _summary(run: Run) -> str:
    headers = [
        ("Task", "ascending"),
        ("Metric", "ascending"),
        ("Value [95% CI]", "descending"),
        ("Status", "ascending"),
    ]
    body = []
    for task, record in run.result["tasks"].items():
        status = record.get("status", "?")
        if status != "ok":
            why = record.get("reason") or record.get("error") or ""
            body.append(
                [
                    page_html.text_cell(task),
                    page_html.text_cell(MISSING_TEXT),
                    page_html.num_cell(None),
                    page_html.text_cell(f"{status}: {why}"),
                ]
            )
            continue
        names = list(record.get("main_metrics", []))
        if PRIMARY_METRIC.get(task) and PRIMARY_METRIC[task] not in names:
            names.append(PRIMARY_METRIC[task])
        for name in names:
            metric = record["metrics"].get(name, {})
            ci = metric.get("ci95") or {}
            extra = (
                f' <span class="ci">[{page_html.fmt(ci["low"])}, {page_html.fmt(ci["high"])}]'
                "</span>"
                if ci.get("low") is not None
                else ""
            )
            body.append(
                [
                    page_html.text_cell(task),
                    page_html.text_cell(name),
                    page_html.num_cell(metric.get("value"), 3, extra),
                    page_html.text_cell("ok"),
                ]
            )
    return page_html.sortable_table(headers, body, "summary")


def errors_page(run: Run, load_dataset: bool = True, limit: int = 200) -> str:
    """The whole page as a string (deterministic for a given run and dataset)."""
    result = run.result
    model, dataset = result["model"], result.get("dataset", {})
    prov = result.get("provenance", {})
    texts = load_texts(run, load_dataset)
    title = f"Errors: {run.name} on {dataset.get('name', '?')}"
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Model <code>{esc(run.name)}</code> (preset '
        f"<code>{esc(model['preset'])}</code>, <code>{esc(model.get('target') or '')}</code>, "
        f"fingerprint <code>{esc(str(model.get('fingerprint', ''))[:12])}</code>); dataset "
        f"<code>{esc(dataset.get('name'))}</code> {esc(dataset.get('version'))}, sha256 "
        f"<code>{esc(dataset.get('sha256'))}</code>; bench {esc(prov.get('bench_version'))}, "
        f"run started {esc(prov.get('started_at'))}.</p>",
    ]
    if texts.note:
        parts.append(f'<p class="note">{esc(texts.note)}</p>')
    parts += ["<h2>Scores</h2>", _summary(run)]
    sections = (
        ("ner", "Named entities", lambda: _ner_section(run, texts, limit)),
        ("attribution", "Attribution", lambda: _attribution_section(run, limit)),
        ("toxicity", "Toxicity", lambda: _toxicity_section(run, texts, limit)),
    )
    for task, heading, render in sections:
        if result["tasks"].get(task, {}).get("status") != "ok":
            continue
        try:
            body = render()
        except CompareError as err:
            raise ErrorsError(str(err)) from None
        parts += [f'<h2 id="{task}">{esc(heading)}</h2>', body]
    return page_html.page(title, "\n".join(parts), EXTRA_CSS)


def write_errors_page(
    run_dir: str | Path, out: Path, load_dataset: bool = True, limit: int = 200
) -> None:
    try:
        run = Run.load(run_dir)
    except CompareError as err:
        raise ErrorsError(str(err)) from None
    write_text_atomic(out, errors_page(run, load_dataset, limit))
