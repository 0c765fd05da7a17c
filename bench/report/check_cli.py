"""``bench-report check RUN_DIR --baseline FILE``: fail CI on a real regression, not on noise.

The rule (tolerance, paired test, noise) and the baseline formats are documented
in :mod:`bench.report.check`. Exit codes: 0 pass, 1 regression, 2 unusable input.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from bench.report import options
from bench.report.check import (
    DEFAULT_ALPHA,
    DEFAULT_RESAMPLES,
    DEFAULT_TOLERANCE,
    CheckError,
    check,
    error_junit,
    write_junit,
    write_markdown,
)
from bench.report.compare import CompareError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.splitlines()[0].replace("``", "")
    parser.add_argument("run_dir", help="run directory holding result.json (and samples/)")
    parser.add_argument(
        "--baseline",
        required=True,
        help="a run directory, its result.json, or a YAML file of expected values",
    )
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (one testcase per metric)")
    parser.add_argument(
        "--markdown", metavar="FILE", help="write the table and summary as Markdown"
    )
    parser.add_argument(
        "--tolerance",
        type=options.tolerance,
        default=DEFAULT_TOLERANCE,
        help=f"allowed drop of a metric, in its units, unless the YAML sets one "
        f"(default {DEFAULT_TOLERANCE})",
    )
    parser.add_argument(
        "--alpha",
        type=options.alpha,
        default=DEFAULT_ALPHA,
        help=f"a drop beyond tolerance with paired p ≥ alpha is noise (default {DEFAULT_ALPHA})",
    )
    parser.add_argument(
        "--max-robustness-drop",
        type=options.metric_drop,
        action="append",
        default=[],
        metavar="TASK.METRIC=DROP",
        help="fail when the run's worst change of TASK.METRIC over its perturbations "
        "(+perturb) is a drop beyond DROP across its whole paired interval; repeatable",
    )
    parser.add_argument("--resamples", type=options.count, default=DEFAULT_RESAMPLES)
    parser.add_argument("--seed", type=options.seed, default=0)
    options.add_analytic_above(parser)


def main(args: argparse.Namespace) -> int:
    try:
        report = check(
            args.run_dir,
            args.baseline,
            tolerance=args.tolerance,
            alpha=args.alpha,
            resamples=args.resamples,
            seed=args.seed,
            max_robustness_drop=dict(args.max_robustness_drop),
            analytic_above=args.analytic_above,
        )
        if args.junit:
            write_junit(args.junit, report.to_junit())
        if args.markdown:
            write_markdown(args.markdown, report.render())
    except (CheckError, CompareError) as err:  # CompareError: a run's files are malformed
        print(f"bench-report check: {err}", file=sys.stderr)
        if args.junit:
            with contextlib.suppress(CheckError):  # the error above says why already
                write_junit(args.junit, error_junit(str(err)))
        return 2
    print(report.render(), end="")
    return 0 if report.passed else 1
