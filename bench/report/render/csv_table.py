"""``leaderboard.csv``: one row per run, value, interval, rank and status per task, and
the worst robustness change per task (when some run has one)."""

from __future__ import annotations

from typing import Any

from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import Leaderboard


def csv_table(board: Leaderboard) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows (written by :func:`bench.report.tables.to_csv`)."""
    headers = ["position", "model", "preset", "fingerprint", "reference", "ranked_on", "mean_rank"]
    for t in board.tasks:
        m = PRIMARY_METRIC[t]
        headers += [f"{t}.{m}", f"{t}.ci95_low", f"{t}.ci95_high", f"{t}.rank", f"{t}.status"]
    for t in board.robust_tasks:
        headers += [f"{t}.worst_delta", f"{t}.worst_delta_ci95_low", f"{t}.worst_delta_ci95_high",
                    f"{t}.worst_perturbation"]  # fmt: skip
    rows = []
    for e in board.entries:
        row: list[Any] = [
            e.position,
            e.name,
            e.result["model"]["preset"],
            e.result["model"].get("fingerprint"),
            e.reference,
            " ".join(e.coverage),
            e.mean_rank,
        ]
        for t in board.tasks:
            c = e.cells[t]
            row += [c.value, c.low, c.high, c.rank, c.label]
        for t in board.robust_tasks:
            w = e.worst_change(t)
            row += [None] * 4 if w is None else [w.value, w.low, w.high, w.perturbation]
        rows.append(row)
    return headers, rows
