"""``leaderboard.md``: the ranking table, provenance and the plots, in GitHub Markdown."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bench.report.compare import items_scored
from bench.report.leaderboard import ROBUSTNESS_RULE, RULE, Entry, Leaderboard
from bench.report.render.text import (
    change_text,
    column_title,
    coverage_text,
    rank_text,
    robust_title,
    tested_with,
    value_with_ci,
)
from bench.report.tables import MISSING, to_markdown


def md_escape(text: str) -> str:
    """Markdown text: HTML-escaped (raw HTML is live in Markdown); backslashes, pipes, code,
    emphasis and link brackets backslash-escaped, so the text shows as written."""
    for ch in "\\`*[]|":
        text = text.replace(ch, "\\" + ch)
    return html.escape(text, quote=False).replace("\n", " ").replace("\r", " ")


def to_markdown_text(board: Leaderboard, plots: Sequence[tuple[str, str]] = ()) -> str:
    """The page; ``plots`` are (file name, caption) of the PNGs beside it."""
    d = board.dataset
    headers = ["#", "model", "ranked on"]
    for t in board.tasks:
        headers += [f"{column_title(t)} [95% CI]", "rank"]
    headers.append("mean rank")
    headers += [f"{robust_title(t)} [95% CI]" for t in board.robust_tasks]

    def table(entries: Sequence[Entry]) -> str:
        rows = []
        for e in entries:
            row = [MISSING if e.position is None else str(e.position), md_escape(e.name)]
            row.append(coverage_text(e))
            for t in board.tasks:
                row += [value_with_ci(e.cells[t]), rank_text(e, t)]
            row.append(MISSING if e.mean_rank is None else f"{e.mean_rank:.2f}")
            rows.append(
                row + [change_text(e.worst_change(t), md_escape) for t in board.robust_tasks]
            )
        return to_markdown(headers, rows).rstrip("\n")

    lines = [
        f"# Leaderboard: {md_escape(str(d['name']))} {md_escape(str(d['version']))}",
        "",
        f"- Dataset: {md_escape(str(d['name']))}, version {md_escape(str(d['version']))}, "
        f"sha256 {md_escape(str(d['sha256']))}"
        + (f", {md_escape(items_scored({'dataset': d}))}" if "limit" in d else ""),
        f"- bench version: {', '.join(board.bench_versions)}",
        f"- Ranking ({tested_with(board)}): {RULE}",
        *(
            [f"- Robustness: {ROBUSTNESS_RULE} — for a run made without."]
            if board.robust_tasks
            else []
        ),
        "",
        table(board.competitors)
        if board.competitors
        else "No model to rank: every run is a reference run.",
        "",
    ]
    if board.references:
        lines += ["## Reference runs (not ranked)", "", table(board.references), ""]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{md_escape(caption)}]({name})" for name, caption in plots]
        lines.append("")
    return "\n".join(lines)
