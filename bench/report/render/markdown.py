"""``leaderboard.md``: the ranking table, provenance and the plots, in GitHub Markdown."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bench.report.compare import items_scored
from bench.report.leaderboard import RULE, Leaderboard
from bench.report.render.text import column_title, tested_with, value_with_ci
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
    headers = ["model"]
    for t in board.tasks:
        headers += [f"{column_title(t)} [95% CI]", "rank"]
    rows = []
    for e in board.entries:
        row = [md_escape(e.name)]
        for t in board.tasks:
            cell = e.cells[t]
            rank = cell.label if cell.status == "degraded" else cell.rank
            row += [value_with_ci(cell), MISSING if rank is None else str(rank)]
        rows.append(row)
    lines = [
        f"# Leaderboard: {md_escape(str(d['name']))} {md_escape(str(d['version']))}",
        "",
        f"- Dataset: {md_escape(str(d['name']))}, version {md_escape(str(d['version']))}, "
        f"sha256 {md_escape(str(d['sha256']))}"
        + (f", {md_escape(items_scored({'dataset': d}))}" if "limit" in d else ""),
        f"- bench version: {', '.join(board.bench_versions)}",
        f"- Ranking ({tested_with(board)}): {RULE}",
        "",
        to_markdown(headers, rows).rstrip("\n"),
        "",
    ]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{md_escape(caption)}]({name})" for name, caption in plots]
        lines.append("")
    return "\n".join(lines)
