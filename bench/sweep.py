"""What a sweep's jobs return to Hydra, the sweep's exit code, and its summary.

Each job returns ``{"exit_code": 0, "metrics": {"ner.strict_f1": 0.87, ...}}`` (the main
metrics of its ``ok`` tasks), or with ``sweep.objective=TASK.METRIC`` an :class:`Objective`:
that metric's value as a float, for sweepers that optimise one number (Optuna), carrying
the same dict. Whatever the launcher, the launching process gets the jobs' ``JobReturn``
back (submitit and Ray pickle it), so :func:`exit_code` and :func:`write_summary` see
every job.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.extras import install_hint
from bench.report.files import write_text_atomic
from bench.report.tables import to_csv, to_markdown

# Hydra's launchers (conf/hydra/launcher/ extends them) and the extras that install them
LAUNCHER_EXTRAS = {"joblib": "joblib", "submitit_local": "slurm", "submitit_slurm": "slurm",
                   "ray": "ray", "ray_aws": "ray"}  # fmt: skip


class Objective(float):
    """``sweep.objective``'s value (NaN when the job failed or the metric is undefined:
    Optuna records a failed trial); ``outcome`` is the job's exit code and metrics."""

    outcome: dict[str, Any]

    def __new__(cls, value: float, outcome: dict[str, Any]) -> Objective:
        obj = super().__new__(cls, value)
        obj.outcome = outcome
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # submitit and Ray pickle the return value
        return (Objective, (float(self), self.outcome))


def missing_launcher(message: str) -> str:
    """A hint for Hydra's error on a launcher whose plugin is not installed, else ""."""
    found = re.search(r"Could not (?:find|load) 'hydra/launcher/(\w+)'", message)
    extra = LAUNCHER_EXTRAS.get(found.group(1)) if found else None
    return f" (a Hydra plugin: {install_hint(extra)})" if extra else ""


def job_return(code: int, out_dir: Path, objective: str | None) -> dict[str, Any] | Objective:
    """What a job returns to Hydra: its exit code and the main metrics of its result
    (none if it wrote no result), or the :class:`Objective` named by ``objective``."""
    path = out_dir / "result.json"
    tasks = json.loads(path.read_text(encoding="utf-8"))["tasks"] if path.is_file() else {}
    metrics = {
        f"{task}.{name}": record["metrics"][name]["value"]
        for task, record in tasks.items()
        if record["status"] == "ok"
        for name in record["main_metrics"]
    }
    if objective is None:
        return {"exit_code": code, "metrics": metrics}
    task, _, name = objective.partition(".")  # malformed: the run was refused
    record = tasks.get(task, {})
    value = None
    if record.get("status") == "ok":
        if name not in record["metrics"]:
            print(f"bench: sweep.objective={objective}: task {task} has no metric {name} "
                  f"(its metrics: {', '.join(record['metrics'])})", file=sys.stderr)  # fmt: skip
            code = max(code, 2)
        else:
            value = record["metrics"][name]["value"]
    value = math.nan if code or value is None else value
    return Objective(value, {"exit_code": code, "metrics": metrics})


def outcome(value: dict[str, Any] | Objective) -> dict[str, Any]:
    """A job's exit code and metrics, from what it returned."""
    return value.outcome if isinstance(value, Objective) else value


def job_exit_code(job: Any) -> int:
    """The exit code of a job (a Hydra ``JobReturn``): 1 if it raised."""
    from hydra.core.utils import JobStatus

    return outcome(job.return_value)["exit_code"] if job.status == JobStatus.COMPLETED else 1


def _job_name(job: Any) -> str:
    return f"#{job.hydra_cfg.hydra.job.num} ({' '.join(job.overrides)})"


def _failure(job: Any) -> str:
    from hydra.core.utils import JobStatus

    if job.status != JobStatus.COMPLETED:
        return repr(job._return_value)  # what it raised
    return f"exit code {job_exit_code(job)}"


def exit_code(jobs: Sequence[Any]) -> int:
    """The highest exit code of a sweep's jobs (Hydra ``JobReturn``s); names each job
    that did not exit 0."""
    for job in jobs:
        if job_exit_code(job):
            print(f"bench: job {_job_name(job)} failed: {_failure(job)}", file=sys.stderr)
    return max((job_exit_code(job) for job in jobs), default=0)


def _run_dir(job: Any) -> Path:
    return Path(job.hydra_cfg.hydra.runtime.output_dir)


def _folder(job: Any, sweep_dir: Path) -> str | None:
    """The job's run folder, relative to the sweep folder; None if it left none."""
    path = _run_dir(job)
    if not path.is_dir():
        return None
    try:
        return str(path.resolve().relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(path)


def _gold(job: Any) -> tuple[str, ...]:
    """The job's dataset (name, version, sha256): runs on one gold share a leaderboard
    (the shards of a run share one section, which says to merge them)."""
    from bench.report.compare import CompareError, Run

    try:
        dataset = Run.load(_run_dir(job), shard=True).result["dataset"]
    except CompareError as err:  # a leaderboard of it says why
        return ("unreadable", str(err), "")
    return tuple(str(dataset.get(key)) for key in ("name", "version", "sha256"))


def write_summary(sweep_dir: Path, jobs: Sequence[Any]) -> str | None:
    """Write ``summary.md`` and ``summary.csv`` into the sweep folder: per gold, the
    leaderboard of the jobs that exited 0 (as ``bench-report leaderboard`` ranks them, with
    its defaults), then the failed jobs, listed, not ranked. Returns the Markdown; None
    (nothing written) if no job left a result.

    A group that cannot be ranked is listed with the reason, also said on stderr. The
    samples files are read only where the ranking pairs runs (a run ranked alone is shown
    from its result.json): the reports reading them refuse a corrupt one, naming the file,
    line and field."""
    from bench.report.compare import CompareError
    from bench.report.leaderboard import LeaderboardError, build_leaderboard
    from bench.report.render.csv_table import csv_table
    from bench.report.render.markdown import to_markdown_text

    if not any((_run_dir(job) / "result.json").is_file() for job in jobs):
        return None
    failed = [job for job in jobs if job_exit_code(job)]
    groups: dict[tuple[str, ...], list[Any]] = {}
    for job in jobs:
        if not job_exit_code(job):
            groups.setdefault(_gold(job), []).append(job)
    head = ["job", "overrides", "exit_code", "folder"]
    parts = [f"# Sweep {sweep_dir}: {len(jobs)} jobs, {len(failed)} failed", ""]
    tables: list[tuple[list[str], list[list[Any]]]] = []
    for (name, version, _), group in groups.items():
        by_dir = {str(_run_dir(job)): job for job in group}
        try:
            board = build_leaderboard(list(by_dir), ner_labels=False)  # not in the summary
        except (LeaderboardError, CompareError) as err:  # e.g. a sweep over toxicity.threshold
            # said on stderr too: the reason may be a corrupt file (it names the file and line)
            print(f"bench: summary: {name} {version}: not ranked: {err}", file=sys.stderr)
            metrics = list(dict.fromkeys(m for job in group for m in _metrics(job)))
            table = (
                head + metrics,
                [
                    _job_row(job, sweep_dir) + [_metrics(job).get(m) for m in metrics]
                    for job in group
                ],
            )
            parts += [f"## Not ranked: {name} {version}", "", str(err), "", to_markdown(*table)]
            tables.append(table)
            continue
        jobs_of = [[e.name, *_job_row(by_dir[e.source], sweep_dir)[:2]] for e in board.entries]
        parts += [to_markdown_text(board), to_markdown(["model", "job", "overrides"], jobs_of)]
        headers, rows = csv_table(board)
        tables.append(
            (head + ["dataset"] + headers,
             [_job_row(by_dir[e.source], sweep_dir) + [f"{name} {version}"] + row
              for e, row in zip(board.entries, rows, strict=True)])
        )  # fmt: skip
    if failed:
        rows = [[f"#{job.hydra_cfg.hydra.job.num}", " ".join(job.overrides), _failure(job),
                 _folder(job, sweep_dir)] for job in failed]  # fmt: skip
        parts += ["## Failed jobs (not ranked)", "",
                  to_markdown(["job", "overrides", "failure", "folder"], rows)]  # fmt: skip
        tables.append((head, [_job_row(job, sweep_dir) for job in failed]))
    text = "\n".join(parts).rstrip("\n") + "\n"
    write_text_atomic(sweep_dir / "summary.md", text)
    write_text_atomic(sweep_dir / "summary.csv", to_csv(*_union(tables)))
    return text


def _metrics(job: Any) -> dict[str, Any]:
    """The main metrics the job returned."""
    return outcome(job.return_value)["metrics"]


def _job_row(job: Any, sweep_dir: Path) -> list[Any]:
    return [job.hydra_cfg.hydra.job.num, " ".join(job.overrides), job_exit_code(job),
            _folder(job, sweep_dir)]  # fmt: skip


def _union(tables: list[tuple[list[str], list[list[Any]]]]) -> tuple[list[str], list[list[Any]]]:
    """One table of several: the union of their columns, in order of appearance."""
    headers = list(dict.fromkeys(h for head, _ in tables for h in head))
    rows = [[dict(zip(head, row, strict=True)).get(h) for h in headers]
            for head, table in tables for row in table]  # fmt: skip
    return headers, rows
