"""``index.html``: the leaderboard as a self-contained page (``templates/leaderboard.html.j2``).

This module turns the board into tables of cells; the template lays them out and
escapes every string (:mod:`bench.report.html`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.report.html import Link, RowGroup, Table, Td, num_cell, png_base64, render
from bench.report.leaderboard import BIAS_METRICS, ROBUSTNESS_RULE, RULE, Entry, Leaderboard
from bench.report.render.text import (
    BIAS_TITLES,
    TASK_TITLES,
    column_title,
    counted,
    coverage_text,
    robust_title,
    tested_with,
)
from bench.report.submission import submission_links
from bench.report.tables import MISSING, fmt

DEGRADED_TITLE = "items failed and were left out of the score: not ranked"
BIAS_FIGURE = "toxicity_bias_heatmap"  # shown with the bias tables, not under Plots
FOLD_ROWS = 12  # a longer accuracy-per-identity table (madlibs' 50 terms) is folded
REFERENCE_TITLE = "a reference run (the gold, or a constant predictor): a yardstick, not ranked"
RUN_COLUMNS = 6  # runs per table of one column per run: wider does not fit a 1280 px screen


@dataclass(frozen=True)
class Figure:
    id: str
    caption: str
    png: str  # base64


def _task_cells(entry: Entry, task: str) -> list[Td]:
    """Value [CI] and rank of one task: a rank's tooltip names the test against the run above."""
    cell = entry.cells[task]
    if not cell.scored:
        title = f"{cell.status}: {cell.reason}" if cell.reason else cell.status
        return [Td(MISSING, "missing", "", title), Td(MISSING, "missing", "")]
    ci = (cell.low, cell.high) if cell.low is not None and cell.high is not None else None
    value = num_cell(cell.value, 3, ci)
    if cell.status == "degraded":
        return [value, Td(cell.label, "missing", "", DEGRADED_TITLE)]
    if entry.reference:
        return [value, Td(entry.reference, "missing", "", REFERENCE_TITLE)]
    test = cell.vs_above
    title = (
        f"vs {test['model']}: difference {fmt(test['difference'])}, p = {fmt(test['p_value'], 4)}"
        f" ({test['method']})"
        if test
        else "best"
    )
    return [value, Td(cell.rank, "num rank-1" if cell.rank == 1 else "num", cell.rank, title)]


def main_table(board: Leaderboard, entries: list[Entry], id: str) -> Table:
    """The ranking table of ``entries`` (the competitors, or the reference runs); the
    competitors in one row group per coverage (runs ranked against each other only)."""
    headers = [("#", "ascending"), ("Model", "ascending"), ("Ranked on", "ascending")]
    for t in board.tasks:
        headers += [
            (f"{column_title(t)} [95% CI]", "descending"),
            (f"{TASK_TITLES[t]} rank", "ascending"),
        ]
    headers.append(("Mean rank", "ascending"))
    table = Table(headers, id=id)
    for i, e in enumerate(entries):
        row = [num_cell(e.position, 0), Td(e.name, "model", e.name), Td(coverage_text(e))]
        for t in board.tasks:
            row += _task_cells(e, t)
        row.append(num_cell(e.mean_rank, 2))
        if e.reference is not None:
            table.rows.append(row)
            continue
        if i == 0 or entries[i - 1].coverage != e.coverage:
            n = sum(other.coverage == e.coverage for other in entries)
            table.groups.append(RowGroup(coverage_title(e, n)))
        table.groups[-1].rows.append(row)
    return table


def robustness_table(board: Leaderboard) -> Table | None:
    """The worst change of each task's primary metric of the runs made under perturbations
    (in ranking order), its interval and the perturbation; beside the ranking, not in it
    (None when no run has one)."""
    entries = [e for e in board.entries if any(e.worst_change(t) for t in board.robust_tasks)]
    if not entries:
        return None
    headers = [("Model", "ascending")]
    for t in board.robust_tasks:
        headers += [(f"{robust_title(t)} [95% CI]", "descending"), ("Perturbation", "ascending")]
    table = Table(headers, id="robustness")
    for e in entries:
        row = [Td(e.name, "model", e.name)]
        for t in board.robust_tasks:
            w = e.worst_change(t)
            row += [Td(MISSING, "missing", ""), Td(MISSING, "missing", "")] if w is None else [
                num_cell(w.value, 3, None if w.low is None else (w.low, w.high)),
                Td(w.perturbation, sort=w.perturbation)]  # fmt: skip
        table.rows.append(row)
    return table


def coverage_title(entry: Entry, n: int) -> str:
    """The header of a coverage group: which tasks its ``n`` runs are ranked on."""
    if not entry.coverage:
        return f"Ranked on no task: {counted(n, 'run')} failed, unsupported or degraded"
    if n == 1:
        return f"Ranked on {coverage_text(entry)}: 1 model, alone on exactly these tasks"
    return f"Ranked on {coverage_text(entry)}: {n} models, ranked against each other"


def run_title(entry: Entry) -> str:
    """A run as a column or table title: its name, with its kind if a reference run."""
    return f"{entry.name} (reference: {entry.reference})" if entry.reference else entry.name


def ner_label_table(board: Leaderboard) -> Table:
    entries = [e for e in board.entries_with("ner") if e.name in board.ner_labels]
    names = [e.name for e in entries]
    labels = board.ner_label_names()
    headers = [("Label", "ascending"), ("Gold support", "descending")]
    headers += [(f"{run_title(e)} F1", "descending") for e in entries]
    table = Table(headers, id="ner-per-label")
    for lab in labels:
        support = max(board.ner_labels[n].get(lab, {}).get("support", 0) for n in names)
        row = [Td(lab, sort=lab), num_cell(support, 0)]
        for n in names:
            v = board.ner_labels[n].get(lab)
            ci = None if v is None or v["low"] is None else (v["low"], v["high"])
            row.append(num_cell(None if v is None else v["f1"], 3, ci))
        table.rows.append(row)
    return table


def split_runs(table: Table | None, fixed: int) -> list[Table]:
    """``table`` (``fixed`` leading columns, then one column per run) as tables of at most
    :data:`RUN_COLUMNS` runs each, as even as possible, each with the ``fixed`` columns;
    the first keeps the id, the others are ``<id>-2``, ``<id>-3`` … (none for None)."""
    if table is None:
        return []
    runs = len(table.headers) - fixed
    n = max(1, -(-runs // RUN_COLUMNS))  # tables
    out = []
    for k in range(n):
        columns = [*range(fixed), *range(fixed + k * runs // n, fixed + (k + 1) * runs // n)]
        out.append(Table(
            [table.headers[c] for c in columns],
            [[row[c] for c in columns] for row in table.rows],
            id=table.id if k == 0 else f"{table.id}-{k + 1}",
        ))  # fmt: skip
    return out


def bias_tables(board: Leaderboard) -> list[tuple[Entry, str, Table]]:
    """(run, its title, its bias table) for each toxicity run with per-identity AUCs
    (the competitors, then the reference runs)."""
    headers = [("Identity", "ascending"), ("Items", "descending"), ("Toxic", "descending")]
    headers += [(BIAS_TITLES[m], "descending") for m in BIAS_METRICS]
    out = []
    for e in board.entries_with("toxicity"):
        subgroups = e.bias_subgroups
        if not subgroups:
            continue
        table = Table(headers, id=f"bias-{e.slug}")
        for identity in sorted(subgroups):
            g = subgroups[identity]
            table.rows.append(
                [
                    Td(identity, sort=identity),
                    num_cell(g.get("n_items"), 0),
                    num_cell(g.get("n_toxic"), 0),
                    *(num_cell((g.get(m) or {}).get("value")) for m in BIAS_METRICS),
                ]
            )
        out.append((e, run_title(e), table))
    return out


def accuracy_table(
    board: Leaderboard, accuracy: Callable[[Entry], dict[str, Any]], id: str, first: str
) -> Table | None:
    """Toxicity accuracy per group (:attr:`Entry.group_accuracy`: functionalities) or per
    identity (:attr:`Entry.identity_accuracy`: target groups), one column per
    toxicity-scored run, the reference runs' last (None when no run has any)."""
    scored = board.entries_with("toxicity") if "toxicity" in board.tasks else []
    entries = [e for e in scored if accuracy(e)]
    if not entries:
        return None
    headers = [(first, "ascending"), ("Items", "descending")]
    headers += [(f"{run_title(e)} accuracy", "descending") for e in entries]
    table = Table(headers, id=id)
    per_run = [accuracy(e) for e in entries]
    for group in sorted({g for groups in per_run for g in groups}):
        cells = [groups.get(group) or {} for groups in per_run]
        n = max(c.get("n", 0) for c in cells)
        row = [Td(group, sort=group), num_cell(n, 0)]
        table.rows.append(row + [num_cell(c.get("accuracy")) for c in cells])
    return table


def models_table(board: Leaderboard) -> Table:
    headers = [
        ("Model", "ascending"),
        ("Target", "ascending"),
        ("Fingerprint", "ascending"),
        ("Git commit", "ascending"),
        ("bench", "ascending"),
        ("Started", "ascending"),
    ]
    table = Table(headers, id="models")
    for e in board.entries:
        model = e.result["model"]
        prov = e.result.get("provenance", {})
        git = prov.get("git") or {}
        commit = str(git.get("commit") or MISSING)[:12] + (" (dirty)" if git.get("dirty") else "")
        fingerprint = str(model.get("fingerprint") or "")
        table.rows.append(
            [
                Td(e.name, sort=e.name),
                Td(model.get("target") or MISSING, "mono"),
                Td(fingerprint[:12], "mono", title=fingerprint),
                Td(commit, "mono"),
                Td(prov.get("bench_version", MISSING)),
                Td(prov.get("started_at", MISSING)),
            ]
        )
    return table


def submissions(board: Leaderboard) -> list[tuple[str, list[Link]]]:
    """(name, links) of each run filed by ``bench-report submit`` with a page or paper."""
    out = [(e.name, submission_links(e.run.directory)) for e in board.entries]
    return [(name, links) for name, links in out if links]


def to_html(
    board: Leaderboard,
    plots: dict[str, tuple[str, bytes]],
    downloads: Sequence[str] = (),
    nav: Sequence[Link] = (),
) -> str:
    """The static page; ``plots`` maps file name -> (caption, PNG bytes); ``downloads``
    are the files written beside it (linked), ``nav`` the site's navigation, if any."""
    d = board.dataset
    figures = [
        Figure(name.removesuffix(".png"), caption, png_base64(data))
        for name, (caption, data) in plots.items()
    ]
    return render(
        "leaderboard.html.j2",
        nav=nav,
        downloads=downloads,
        title=f"Leaderboard: {d['name']} {d['version']}",
        dataset=d,
        bench_versions=", ".join(board.bench_versions),
        tested_with=tested_with(board),
        rule=RULE,
        robustness_rule=ROBUSTNESS_RULE,
        robustness_table=robustness_table(board),
        main_table=main_table(board, board.competitors, "leaderboard"),
        reference_table=main_table(board, board.references, "references")
        if board.references
        else None,
        ner_label_tables=split_runs(ner_label_table(board) if board.ner_labels else None, 2),
        bias_tables=bias_tables(board) if "toxicity" in board.tasks else None,
        group_tables=split_runs(
            accuracy_table(board, lambda e: e.group_accuracy, "toxicity-groups", "Functionality"),
            2,
        ),
        fold_rows=FOLD_ROWS,
        run_columns=RUN_COLUMNS,
        identity_tables=split_runs(
            accuracy_table(board, lambda e: e.identity_accuracy, "toxicity-identities", "Identity"),
            2,
        ),
        figures=[f for f in figures if f.id != BIAS_FIGURE],
        bias_figure=next((f for f in figures if f.id == BIAS_FIGURE), None),
        models_table=models_table(board),
        submissions=submissions(board),
    )
