"""What a site shows (:mod:`bench.report.site`): its pages, one leaderboard per dataset,
and per task the summary the index gives."""

from __future__ import annotations

from dataclasses import dataclass

from bench.metrics.values import higher_is_better
from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import Entry, Leaderboard
from bench.report.robustness import Change, changes


@dataclass
class Page:
    """One dataset's leaderboard, the folder of its page (``<slug>/index.html``) and its
    title in the navigation."""

    slug: str
    title: str
    board: Leaderboard


@dataclass
class TaskSummary:
    """One task of a page as the index shows it."""

    task: str
    ranked: list[Entry]  # the competitors ranked on the task, best first
    competitors: int  # the page's competitors (ranked on the task or not)
    references: list[Entry]  # the reference runs with a score on the task

    @property
    def leaders(self) -> list[Entry]:
        """The runs sharing rank 1 (more than one: not distinguishable from the best)."""
        return [e for e in self.ranked if e.cells[self.task].rank == 1]

    @property
    def best(self) -> list[Entry]:
        """The runs sharing the best score (more than one: none of them is the best alone)."""
        top = self.ranked[0].cells[self.task].value if self.ranked else None
        return [e for e in self.ranked if e.cells[self.task].value == top]

    @property
    def runner_up(self) -> Entry | None:
        """The first run in value order below the best score (tied with the best when its
        rank is 1); None when no run scores less."""
        rest = self.ranked[len(self.best) :]
        return rest[0] if rest else None


def task_summary(board: Leaderboard, task: str) -> TaskSummary:
    ranked = sorted(
        (e for e in board.competitors if e.cells[task].rank is not None),
        key=lambda e: (e.cells[task].rank, -(e.cells[task].value or 0.0), e.name),
    )
    references = [e for e in board.references if e.cells[task].scored]
    return TaskSummary(task, ranked, len(board.competitors), references)


@dataclass
class RobustnessSummary:
    """One perturbation and task of a page as the index shows it: the change of the task's
    primary metric of each model ranked on the task and run under the perturbation."""

    perturbation: str
    task: str
    changes: list[tuple[Entry, Change]]  # most robust (best change) first

    @property
    def most_robust(self) -> list[tuple[Entry, Change]]:
        """The runs sharing the best change."""
        return [c for c in self.changes if c[1].value == self.changes[0][1].value]

    @property
    def least_robust(self) -> list[tuple[Entry, Change]]:
        """The runs sharing the worst change; none when every change is the best one (one
        model run under it, or all equal)."""
        worst = [c for c in self.changes if c[1].value == self.changes[-1][1].value]
        return [] if worst == self.most_robust else worst


def robustness_summaries(board: Leaderboard) -> list[RobustnessSummary]:
    """Per perturbation (in the order the runs name them) and task, the ranked models'
    changes of the primary metric, read from their ``robustness`` sections
    (:func:`bench.report.robustness.changes`); undefined changes are left out."""
    found: dict[tuple[str, str], list[tuple[Entry, Change]]] = {}
    for task in board.tasks:
        metric = PRIMARY_METRIC[task]
        for entry in task_summary(board, task).ranked:
            for change in changes(entry.result):
                if (change.task, change.metric) == (task, metric) and change.value is not None:
                    found.setdefault((change.perturbation, task), []).append((entry, change))
    order = {p: i for i, p in enumerate(dict.fromkeys(p for p, _ in found))}
    out = []
    for (perturbation, task), pairs in sorted(found.items(), key=lambda kv: order[kv[0][0]]):
        sign = 1.0 if higher_is_better(PRIMARY_METRIC[task]) else -1.0
        pairs.sort(key=lambda pair: (-sign * (pair[1].value or 0.0), pair[0].name))
        out.append(RobustnessSummary(perturbation, task, pairs))
    return out
