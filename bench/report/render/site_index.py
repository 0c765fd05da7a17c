"""``index.html`` of a site (:mod:`bench.report.site`): the best model per dataset and task.

One row per (dataset, task): the best competitor, its score and 95% interval, whether a
paired test puts it ahead of the runner-up (or tied with it), how many models are ranked
on the task, and the reference runs' scores as ceiling and floor. Under it, per dataset,
the overall leader of each coverage group (runs ranked on the same tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.report.html import Link, Table, Td, num_cell, render
from bench.report.leaderboard import Entry
from bench.report.render.text import TASK_TITLES, column_title, coverage_text
from bench.report.site import Page, TaskSummary, task_summary
from bench.report.tables import MISSING, fmt


@dataclass(frozen=True)
class Section:
    """One dataset under the table: its page, identity and coverage groups."""

    title: str
    href: str
    sha256: str
    runs: str
    groups: list[str]


def p_text(p: float | None) -> str:
    if p is None:
        return "p undefined"
    return "p < 0.001" if p < 0.001 else f"p = {fmt(p, 3)}"


def lead_cell(summary: TaskSummary) -> Td:
    """Ahead of the runner-up (significant), tied with it, or the only model ranked."""
    runner_up = summary.runner_up
    if runner_up is None:
        return Td("only model ranked", "lead only", 0)
    test = runner_up.cells[summary.task].vs_above or {}
    diff = test.get("difference")
    interval = (
        f"{fmt(diff)} [{fmt(test.get('low'))}, {fmt(test.get('high'))}], "
        if diff is not None
        else ""
    )
    detail = f"{interval}{p_text(test.get('p_value'))}"
    leaders = summary.leaders
    if len(leaders) > 1:
        others = [e.name for e in leaders[1:]]
        names = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        title = f"not significantly better than {runner_up.name}: {detail}"
        return Td(f"tied with {names}", "lead tied", 1, title)
    return Td(f"ahead of {runner_up.name}", "lead ahead", 2, f"difference {detail}")


def lead_detail(summary: TaskSummary) -> Td:
    """The paired difference to the runner-up with its interval and p-value."""
    runner_up = summary.runner_up
    test = (runner_up.cells[summary.task].vs_above or {}) if runner_up else {}
    if test.get("difference") is None:
        return Td(MISSING, "missing", "")
    ci = (test["low"], test["high"]) if test.get("low") is not None else None
    cell = num_cell(test["difference"], 3, ci)
    return Td(cell.text, cell.css, cell.sort, p_text(test.get("p_value")), cell.ci)


def reference_cell(summary: TaskSummary, kind: str) -> Td:
    refs = [e for e in summary.references if e.reference == kind]
    if not refs:
        return Td(MISSING, "missing", "")
    text = "; ".join(f"{e.name} {fmt(e.cells[summary.task].value)}" for e in refs)
    return Td(text, "num", refs[0].cells[summary.task].value)


def best_table(pages: Sequence[Page]) -> Table:
    headers = [
        ("Dataset", "ascending"),
        ("Task (metric)", "ascending"),
        ("Best model", "ascending"),
        ("Score [95% CI]", "descending"),
        ("Versus the runner-up", "descending"),
        ("Difference [95% CI]", "descending"),
        ("Ranked", "descending"),
        ("Ceiling", "descending"),
        ("Floor", "descending"),
    ]
    table = Table(headers, id="best")
    for page in pages:
        for task in page.board.tasks:
            s = task_summary(page.board, task)
            best: Entry | None = s.ranked[0] if s.ranked else None
            if best is None:
                score, model = Td(MISSING, "missing", ""), Td("no model ranked", "missing", "")
            else:
                cell = best.cells[task]
                ci = (cell.low, cell.high) if cell.low is not None else None
                score, model = num_cell(cell.value, 3, ci), Td(best.name, "model", best.name)
            unranked = [e.name for e in page.board.competitors if e not in s.ranked]
            ranked = Td(
                f"{len(s.ranked)} of {s.competitors} models",
                "num",
                len(s.ranked),
                "not ranked on this task: " + ", ".join(unranked) if unranked else None,
            )
            table.rows.append(
                [
                    Td(page.title, href=f"{page.slug}/index.html", sort=page.title),
                    Td(column_title(task), sort=f"{page.title} {TASK_TITLES[task]}"),
                    model,
                    score,
                    lead_cell(s) if best else Td(MISSING, "missing", ""),
                    lead_detail(s),
                    ranked,
                    reference_cell(s, "ceiling"),
                    reference_cell(s, "floor"),
                ]
            )
    return table


def coverage_lines(page: Page) -> list[str]:
    """Per coverage group: its overall leader(s) by mean rank, among how many models."""
    groups: dict[tuple[str, ...], list[Entry]] = {}
    for e in page.board.competitors:
        if e.coverage:
            groups.setdefault(e.coverage, []).append(e)
    lines = []
    for group in groups.values():
        first = [e for e in group if e.position == 1]
        names = " and ".join(e.name for e in first)
        lines.append(
            f"Ranked on {coverage_text(group[0])} ({len(group)} "
            f"{'model' if len(group) == 1 else 'models'}): first {names}, mean rank "
            f"{fmt(first[0].mean_rank, 2)}" + (" (tied)" if len(first) > 1 else "")
        )
    return lines


def to_site_index(pages: Sequence[Page], nav: Sequence[Link]) -> str:
    sections = []
    for page in pages:
        board = page.board
        n_ref = len(board.references)
        sections.append(
            Section(
                page.title,
                f"{page.slug}/index.html",
                str(board.dataset["sha256"]),
                f"{len(board.competitors)} models, {n_ref} reference "
                f"{'run' if n_ref == 1 else 'runs'}",
                coverage_lines(page),
            )
        )
    first = pages[0].board
    return render(
        "site_index.html.j2",
        title="Leaderboards",
        nav=nav,
        best_table=best_table(pages),
        sections=sections,
        alpha=first.alpha,
        n_resamples=first.n_resamples,
    )
