"""``bench-report compare RUN_A RUN_B``: paired tests of A − B on each task's primary metric,
or, with ``--metric TASK.METRIC`` / ``--all-metrics``, on other metrics at the item level.

Each row gives the number of units resampled and their kind, and the test that gave its
interval and p-value (``paired bootstrap``, ``approximate randomisation``, or ``delong`` for
a ROC-AUC on more than ``--analytic-above`` items); a test on fewer than
:data:`bench.report.compare.MIN_UNITS` units is not attempted (no interval, no p-value)
and the lines below the table say so, as for any test without a p-value."""

from __future__ import annotations

import argparse
import sys

from bench.metrics.bootstrap import PairedTest
from bench.report import options
from bench.report.compare import (
    MIN_UNITS,
    PRIMARY_METRIC,
    CompareError,
    Run,
    compare_task,
    no_p_value,
    units_text,
)
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
    parser.add_argument("--resamples", type=options.count, default=1000)
    parser.add_argument("--seed", type=options.seed, default=0)
    parser.add_argument("--method", choices=["bootstrap", "randomization"], default="bootstrap")
    options.add_analytic_above(parser)


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
    """The tasks that are ok in both runs; none is a :class:`CompareError`."""
    ok = [
        [t for t in PRIMARY_METRIC if run.result["tasks"].get(t, {}).get("status") == "ok"]
        for run in (run_a, run_b)
    ]
    common = [t for t in ok[0] if t in ok[1]]
    if not common:
        raise CompareError(
            f"{run_a.directory} and {run_b.directory}: no task is ok in both runs "
            f"(A: {', '.join(ok[0]) or 'none'}; B: {', '.join(ok[1]) or 'none'})"
        )
    return common


def _row(run_a: Run, run_b: Run, task: str, metric: str, test: PairedTest) -> list:
    """A table row: the two values, the test, the units resampled, the test's method."""
    values = [_value(r, task, metric) for r in (run_a, run_b)]
    p = no_p_value(test) or test.p_value
    units = units_text(test.n_units, test.unit)
    return [task, metric, *values, test.difference, test.low, test.high, p, units, test.method]


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


def _metric_tests(
    args: argparse.Namespace, run_a: Run, run_b: Run
) -> tuple[list[tuple[str, str, PairedTest]], list[str]]:
    """``(task, metric, test)`` of the item-level tests, and ``task.metric: reason`` of
    those skipped."""
    if args.metric:
        if args.task:
            raise CompareError("--task: not with --metric (TASK.METRIC names the task)")
        requested: dict[str, list[str] | None] = dict(_requested(args.metric))
    else:
        requested = dict.fromkeys(args.task or _ok_tasks(run_a, run_b))
    found, skipped = [], []
    for task, metrics in requested.items():
        tests, reasons = compare_metrics(
            run_a,
            run_b,
            task,
            metrics,
            args.resamples,
            args.seed,
            args.method,
            args.analytic_above,
        )
        found += [(task, metric, test) for metric, test in tests.items()]
        skipped += [f"{task}.{metric}: {reason}" for metric, reason in reasons.items()]
    return found, skipped


def main(args: argparse.Namespace) -> int:
    skipped: list[str] = []
    try:
        run_a, run_b = Run.load(args.run_a), Run.load(args.run_b)
        if args.metric or args.all_metrics:
            tests, skipped = _metric_tests(args, run_a, run_b)
        else:
            tests = [
                (task, PRIMARY_METRIC[task],
                 compare_task(run_a, run_b, task, args.resamples, args.seed, args.method,
                              args.analytic_above))
                for task in dict.fromkeys(args.task or _ok_tasks(run_a, run_b))
            ]  # fmt: skip
        rows = [_row(run_a, run_b, *found) for found in tests]
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
        "units",
        "test",
    ]
    delong = (
        f" (ROC-AUC on more than {args.analytic_above} items: DeLong's test)"
        if args.method == "bootstrap"
        else ""
    )
    print(
        f"{args.method}: {args.resamples} resamples, seed {args.seed}{delong}; "
        f"a test needs at least {MIN_UNITS} units"
    )
    print(to_markdown(headers, rows))
    untested = [f"- {task}.{metric}: {test.undefined}" for task, metric, test in tests
                if test.undefined]  # fmt: skip
    if untested:
        print("no p-value:")
        print("\n".join(untested))
    if skipped:
        print("skipped (not testable on items from the samples):")
        print("\n".join(f"- {line}" for line in skipped))
    return 0
