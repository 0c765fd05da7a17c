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
            values = [r.result["tasks"][task]["metrics"][metric]["value"] for r in (run_a, run_b)]
            rows.append([task, metric, *values, test.difference, test.low, test.high, test.p_value])
    except CompareError as err:
        print(f"bench-report compare: {err}", file=sys.stderr)
        return 2
    headers = ["task", "metric", run_a.name, run_b.name, "A - B", "low", "high", "p"]
    print(f"{args.method}: {args.resamples} resamples, seed {args.seed}")
    print(to_markdown(headers, rows))
    return 0
