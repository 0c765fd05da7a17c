"""``bench-report compare RUN_A RUN_B``: paired tests of A − B on each task's primary metric,
or, with ``--metric TASK.METRIC`` / ``--all-metrics``, on other metrics at the item level."""

from __future__ import annotations

import argparse
import sys

from bench.report.compare import PRIMARY_METRIC, CompareError, Run, compare_task
from bench.report.compare_items import compare_metrics
from bench.report.tables import to_markdown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", help="run directory holding result.json and samples/")
    parser.add_argument("run_b")
    parser.add_argument("--task", choices=sorted(PRIMARY_METRIC), action="append")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--metric",
        action="append",
        metavar="TASK.METRIC",
        help="test this metric (e.g. ner.exact_f1) on items paired across the runs, "
        "recomputed from samples/ (repeatable)",
    )
    which.add_argument(
        "--all-metrics",
        action="store_true",
        help="test every metric both runs report that samples/ can recompute, on items "
        "(of --task's tasks); list the others as skipped, with the reason",
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", choices=["bootstrap", "randomization"], default="bootstrap")


def _value(run: Run, task: str, metric: str) -> float | None:
    """The run's reported ``tasks.<task>.metrics.<metric>.value``."""
    record = run.result["tasks"][task].get("metrics")
    if not isinstance(record, dict) or not isinstance(record.get(metric), dict):
        record = None
    if record is None or "value" not in record[metric]:
        where = run.directory / "result.json"
        raise CompareError(f"{where}: tasks.{task}.metrics.{metric}.value: missing")
    return record[metric]["value"]


def _ok_tasks(run_a: Run, run_b: Run) -> list[str]:
    """The tasks that are ok in both runs."""
    return [
        t for t in PRIMARY_METRIC
        if run_a.result["tasks"].get(t, {}).get("status") == "ok"
        and run_b.result["tasks"].get(t, {}).get("status") == "ok"
    ]  # fmt: skip


def _requested(specs: list[str]) -> dict[str, list[str]]:
    """``TASK.METRIC`` arguments grouped by task (in the order given)."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        task, _, metric = spec.partition(".")
        if task not in PRIMARY_METRIC or not metric:
            raise CompareError(
                f"--metric {spec!r}: expected TASK.METRIC with TASK one of "
                f"{', '.join(sorted(PRIMARY_METRIC))}"
            )
        out.setdefault(task, []).append(metric)
    return out


def _metric_rows(args: argparse.Namespace, run_a: Run, run_b: Run) -> tuple[list[list], list[str]]:
    """Table rows of the item-level tests, and ``task.metric: reason`` of those skipped."""
    if args.metric:
        if args.task:
            raise CompareError("--task: not with --metric (TASK.METRIC names the task)")
        requested: dict[str, list[str] | None] = dict(_requested(args.metric))
    else:
        requested = dict.fromkeys(args.task or _ok_tasks(run_a, run_b))
    rows, skipped = [], []
    for task, metrics in requested.items():
        tests, reasons = compare_metrics(
            run_a, run_b, task, metrics, args.resamples, args.seed, args.method
        )
        for metric, test in tests.items():
            values = [_value(r, task, metric) for r in (run_a, run_b)]
            interval = [test.difference, test.low, test.high, test.p_value]
            rows.append([task, metric, *values, *interval, test.unit])
        skipped += [f"{task}.{metric}: {reason}" for metric, reason in reasons.items()]
    return rows, skipped


def main(args: argparse.Namespace) -> int:
    by_metric = bool(args.metric or args.all_metrics)
    skipped: list[str] = []
    try:
        run_a, run_b = Run.load(args.run_a), Run.load(args.run_b)
        if by_metric:
            rows, skipped = _metric_rows(args, run_a, run_b)
        else:
            rows = []
            for task in args.task or _ok_tasks(run_a, run_b):
                test = compare_task(run_a, run_b, task, args.resamples, args.seed, args.method)
                metric = PRIMARY_METRIC[task]
                values = [_value(r, task, metric) for r in (run_a, run_b)]
                rows.append(
                    [task, metric, *values, test.difference, test.low, test.high, test.p_value]
                )
    except CompareError as err:
        print(f"bench-report compare: {err}", file=sys.stderr)
        return 2
    # "A: "/"B: " keep the columns apart when both runs have the same name
    headers = [
        "task",
        "metric",
        f"A: {run_a.name}",
        f"B: {run_b.name}",
        "A - B",
        "low",
        "high",
        "p",
        *(["unit"] if by_metric else []),
    ]
    print(f"{args.method}: {args.resamples} resamples, seed {args.seed}")
    print(to_markdown(headers, rows))
    if skipped:
        print("skipped (not testable on items from the samples):")
        print("\n".join(f"- {line}" for line in skipped))
    return 0
