"""What a site shows (:mod:`bench.report.site`): its pages, one leaderboard per dataset,
and per task the summary the index gives."""

from __future__ import annotations

from dataclasses import dataclass

from bench.report.leaderboard import Entry, Leaderboard


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
    def runner_up(self) -> Entry | None:
        """The run ranked second in value order (tied with the best when its rank is 1)."""
        return self.ranked[1] if len(self.ranked) > 1 else None


def task_summary(board: Leaderboard, task: str) -> TaskSummary:
    ranked = sorted(
        (e for e in board.competitors if e.cells[task].rank is not None),
        key=lambda e: (e.cells[task].rank, -(e.cells[task].value or 0.0), e.name),
    )
    references = [e for e in board.references if e.cells[task].scored]
    return TaskSummary(task, ranked, len(board.competitors), references)
