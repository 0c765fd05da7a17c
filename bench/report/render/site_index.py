"""``index.html`` of a site (:mod:`bench.report.site`): the best model per dataset and task.

One row per (dataset, task): the best competitor (every one sharing the best score), its
score and 95% interval, whether a paired test puts it ahead of the runner-up (the first
model scoring less) or tied with it, how many models are ranked on the task, and the
reference runs' scores as ceiling and floor. Under it, per dataset, the overall leader
of each coverage group (runs ranked on the same tasks). Where runs were made under
perturbations, a second table gives per dataset, perturbation and task the most and the
least robust ranked model (:func:`bench.report.site_pages.robustness_summaries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.report.html import Link, RowGroup, Table, Td, num_cell, render
from bench.report.leaderboard import Entry
from bench.report.render.text import TASK_TITLES, column_title, counted, coverage_text
from bench.report.robustness import Change
from bench.report.site_pages import (
    Page,
    RobustnessSummary,
    TaskSummary,
    robustness_summaries,
    task_summary,
)
from bench.report.tables import MISSING, fmt


@dataclass(frozen=True)
class Section:
    """One dataset under the table: its page, identity and coverage groups."""

    title: str
    href: str
    version: str
    sha256: str
    runs: str
    groups: list[str]


def p_text(p: float | None) -> str:
    if p is None:
        return "p undefined"
    return "p < 0.001" if p < 0.001 else f"p = {fmt(p, 3)}"


def _names(entries: Sequence[Entry]) -> str:
    """``a``, ``a, b, c`` or ``a, b, c and 2 more``."""
    names = [e.name for e in entries]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def lead_cell(summary: TaskSummary) -> Td:
    """The best (one run or several sharing the score) ahead of the runner-up
    (significant) or tied with it, with the p-value of the paired test; or the only
    model ranked, or every ranked model sharing the score."""
    runner_up = summary.runner_up
    if runner_up is None:
        if len(summary.ranked) == 1:
            return Td("only model ranked", "lead", 0)
        return Td("every ranked model has the same score", "lead tied", 1)
    p = p_text((runner_up.cells[summary.task].vs_above or {}).get("p_value"))
    tied = [e for e in summary.leaders if e not in summary.best]
    if not tied:
        return Td(f"ahead of {runner_up.name} ({p})", "lead ahead", 2)
    return Td(f"tied with {_names(tied)} ({p})", "lead tied", 1)


def difference_cell(summary: TaskSummary) -> Td:
    """The paired difference best minus runner-up and its interval."""
    runner_up = summary.runner_up
    test = (runner_up.cells[summary.task].vs_above or {}) if runner_up else {}
    if test.get("difference") is None:
        return Td(MISSING, "missing", "")
    ci = (test["low"], test["high"]) if test.get("low") is not None else None
    return num_cell(test["difference"], 3, ci)


def reference_cell(summary: TaskSummary, kind: str) -> Td:
    """The score of the reference runs of ``kind`` (ceiling or floor) on the task."""
    refs = [e for e in summary.references if e.reference == kind]
    if not refs:
        return Td(MISSING, "missing", "")
    text = "; ".join(f"{e.name} {fmt(e.cells[summary.task].value)}" for e in refs)
    return Td(text, "num reference", refs[0].cells[summary.task].value)


def task_row(page: Page, task: str) -> list[Td]:
    s = task_summary(page.board, task)
    unranked = [e.name for e in page.board.competitors if e not in s.ranked]
    ranked = Td(
        f"{len(s.ranked)} of {counted(s.competitors, 'model')}",
        "num",
        len(s.ranked),
        "not ranked on this task: " + ", ".join(unranked) if unranked else None,
    )
    if not s.ranked:
        best = [Td("no model ranked", "missing", ""), Td(MISSING, "missing", "")]
        lead = Td(MISSING, "missing", "")
    else:
        # runs sharing the score may differ in interval: then none is shown, not one of them
        intervals = {(e.cells[task].low, e.cells[task].high) for e in s.best}
        low, high = intervals.pop() if len(intervals) == 1 else (None, None)
        names = _names(s.best) + (" (same score)" if len(s.best) > 1 else "")
        best = [
            Td(names, "model", s.best[0].name),
            num_cell(s.best[0].cells[task].value, 3, None if low is None else (low, high)),
        ]
        lead = lead_cell(s)
    return [
        Td(column_title(task), sort=task),
        *best,
        lead,
        difference_cell(s),
        ranked,
        reference_cell(s, "ceiling"),
        reference_cell(s, "floor"),
    ]


def best_table(pages: Sequence[Page]) -> Table:
    """One row group per dataset (its title links its page), one row per task."""
    headers = [
        ("Task (metric)", "ascending"),
        ("Best model", "ascending"),
        ("Score [95% CI]", "descending"),
        ("Versus the runner-up", "descending"),
        ("Best − runner-up [95% CI]", "descending"),
        ("Ranked", "descending"),
        ("Ceiling", "descending"),
        ("Floor", "descending"),
    ]
    table = Table(headers, id="best")
    for page in pages:
        rows = [task_row(page, task) for task in page.board.tasks]
        table.groups.append(RowGroup(page.title, rows, f"{page.slug}/index.html"))
    return table


def _change_cells(runs: list[tuple[Entry, Change]], none: str) -> list[Td]:
    """The runs' names (sharing one change) and the change with its paired interval;
    ``none`` without a run."""
    if not runs:
        return [Td(none, "missing", ""), Td(MISSING, "missing", "")]
    entries = [entry for entry, _ in runs]
    change = runs[0][1]
    ci = (change.low, change.high) if change.low is not None else None
    return [Td(_names(entries), "model", entries[0].name), num_cell(change.value, 3, ci)]


def robustness_row(summary: RobustnessSummary) -> list[Td]:
    none = "only model run under it" if len(summary.changes) == 1 else "all equal"
    return [
        Td(summary.perturbation, sort=summary.perturbation),
        Td(column_title(summary.task), sort=summary.task),
        *_change_cells(summary.most_robust, MISSING),
        *_change_cells(summary.least_robust, none),
        num_cell(len(summary.changes), 0),
    ]


def robustness_table(pages: Sequence[Page]) -> Table | None:
    """One row group per dataset whose ranked models were run under perturbations, one
    row per perturbation and task (None when there is none)."""
    headers = [
        ("Perturbation", "ascending"),
        ("Task (metric)", "ascending"),
        ("Most robust", "ascending"),
        ("Δ [95% CI]", "descending"),
        ("Least robust", "ascending"),
        ("Δ [95% CI]", "ascending"),
        ("Models run under it", "descending"),
    ]
    table = Table(headers, id="robustness")
    for page in pages:
        rows = [robustness_row(s) for s in robustness_summaries(page.board)]
        if rows:
            table.groups.append(RowGroup(page.title, rows, f"{page.slug}/index.html"))
    return table if table.groups else None


def coverage_lines(page: Page) -> list[str]:
    """Per coverage group (runs ranked on the same tasks): its overall leader(s)."""
    groups: dict[tuple[str, ...], list[Entry]] = {}
    for e in page.board.competitors:
        if e.coverage:
            groups.setdefault(e.coverage, []).append(e)
    lines = []
    for group in groups.values():
        head = f"Ranked on {coverage_text(group[0])}"
        if len(group) == 1:
            lines.append(f"{head}: {group[0].name} alone")
            continue
        first = [e for e in group if e.position == 1]
        lines.append(
            f"{head} ({counted(len(group), 'model')}): first "
            + " and ".join(e.name for e in first)
            + (" (tied)" if len(first) > 1 else "")
            + f", mean rank {fmt(first[0].mean_rank, 2)}"
        )
    unranked = [e for e in page.board.competitors if not e.coverage]
    if unranked:  # failed, unsupported or degraded on every task
        reasons = ", ".join(f"{e.name} ({_why(e)})" for e in unranked)
        lines.append(f"Not ranked: {reasons}")
    return lines


def _why(entry: Entry) -> str:
    """Why a run is ranked on no task: ``Attribution degraded (1/3 failed)``, …"""
    tried = [(t, c) for t, c in entry.cells.items() if c.status not in ("unsupported", "missing")]
    return ", ".join(f"{TASK_TITLES[t]} {c.label}" for t, c in tried) or "no task supported"


def to_site_index(pages: Sequence[Page], nav: Sequence[Link]) -> str:
    sections = []
    for page in pages:
        board = page.board
        n_ref = len(board.references)
        sections.append(
            Section(
                page.title,
                f"{page.slug}/index.html",
                str(board.dataset["version"]),
                str(board.dataset["sha256"]),
                f"{counted(len(board.competitors), 'model')}, {counted(n_ref, 'reference run')}",
                coverage_lines(page),
            )
        )
    first = pages[0].board
    return render(
        "site_index.html.j2",
        title="Leaderboards",
        nav=nav,
        best_table=best_table(pages),
        robustness_table=robustness_table(pages),
        sections=sections,
        alpha=first.alpha,
        n_resamples=first.n_resamples,
    )
