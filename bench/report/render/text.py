"""Titles and number formats the leaderboard renderers share."""

from __future__ import annotations

from collections.abc import Callable

from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import Cell, Entry, Leaderboard
from bench.report.robustness import Change
from bench.report.tables import MISSING, fmt

TASK_TITLES = {"ner": "NER", "attribution": "Attribution", "toxicity": "Toxicity"}
METRIC_TITLES = {
    "strict_precision": "strict precision",
    "strict_recall": "strict recall",
    "strict_f1": "strict F1",
    "content_exact_f1": "content exact F1",
    "content_overlap_f1": "content overlap F1",
    "content_token_f1": "content token F1",
    "source_accuracy": "source accuracy",
    "e2e_f1": "end-to-end F1",
    "roc_auc": "ROC-AUC",
    "average_precision": "average precision",
    "f1": "F1",
}
BIAS_TITLES = {"subgroup_auc": "Subgroup AUC", "bpsn_auc": "BPSN AUC", "bnsp_auc": "BNSP AUC"}


def column_title(task: str) -> str:
    """``NER strict F1``: the task and its primary metric."""
    return f"{TASK_TITLES[task]} {METRIC_TITLES.get(PRIMARY_METRIC[task], PRIMARY_METRIC[task])}"


def value_with_ci(cell: Cell) -> str:
    """``0.655 [0.512, 0.790]``, the value alone without an interval, or "—"."""
    if not cell.scored:
        return MISSING
    if cell.low is None or cell.high is None:
        return fmt(cell.value)
    return f"{fmt(cell.value)} [{fmt(cell.low)}, {fmt(cell.high)}]"


def robust_title(task: str) -> str:
    """``NER strict F1 worst Δ``: the title of a task's robustness column."""
    return f"{column_title(task)} worst Δ"


def change_text(change: Change | None, escape: Callable[[str], str] = str) -> str:
    """``-0.056 [-0.076, -0.034] casing``: a worst change, its interval and the
    perturbation (its name from the result file, through ``escape``); "—" without one."""
    if change is None:
        return MISSING
    ci = "" if change.low is None or change.high is None else (
        f" [{fmt(change.low)}, {fmt(change.high)}]")  # fmt: skip
    return f"{fmt(change.value)}{ci} {escape(change.perturbation)}"


def tested_with(board: Leaderboard) -> str:
    return (
        f"paired bootstrap, {board.n_resamples} resamples, seed {board.seed}, alpha {board.alpha}"
        f" (ROC-AUC on more than {board.analytic_above} items: DeLong's test)"
    )


def rank_text(entry: Entry, task: str) -> str:
    """A cell's rank as shown: the rank, ``degraded (k/n failed)``, ``ceiling``/``floor``
    for a reference run's score, or "—"."""
    cell = entry.cells[task]
    if cell.status == "degraded":
        return cell.label
    if cell.scored and entry.reference:
        return entry.reference
    return MISSING if cell.rank is None else str(cell.rank)


def coverage_text(entry: Entry) -> str:
    """What a run is ranked against overall: ``NER, Toxicity`` (runs ranked on exactly
    these tasks), ``reference (floor)`` or ``not ranked``."""
    if entry.reference:
        return f"reference ({entry.reference})"
    return ", ".join(TASK_TITLES[t] for t in entry.coverage) or "not ranked"


def counted(n: int, noun: str) -> str:
    """``1 model``, ``3 models``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
