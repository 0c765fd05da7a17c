"""``bench-report compare RUN_A RUN_B``: paired tests of A − B on each task's primary metric."""

from __future__ import annotations

import argparse
import sys

from bench.report.compare import PRIMARY_METRIC, CompareError, Run, compare_task
from bench.report.tables import to_markdown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", help="run directory holding result.json and samples/")
    parser.add_argument("run_b")
    parser.add_argument("--task", choices=sorted(PRIMARY_METRIC), action="append")
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


def main(args: argparse.Namespace) -> int:
    try:
        run_a, run_b = Run.load(args.run_a), Run.load(args.run_b)
        tasks = args.task or [
            t for t in PRIMARY_METRIC
            if run_a.result["tasks"].get(t, {}).get("status") == "ok"
            and run_b.result["tasks"].get(t, {}).get("status") == "ok"
        ]  # fmt: skip
        rows = []
        for task in tasks:
            test = compare_task(run_a, run_b, task, args.resamples, args.seed, args.method)
            metric = PRIMARY_METRIC[task]
            values = [_value(r, task, metric) for r in (run_a, run_b)]
            rows.append([task, metric, *values, test.difference, test.low, test.high, test.p_value])
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
    ]
    print(f"{args.method}: {args.resamples} resamples, seed {args.seed}")
    print(to_markdown(headers, rows))
    return 0
