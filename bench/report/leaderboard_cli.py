"""``bench-report leaderboard RUN_DIR_OR_GLOB… --out DIR``: rank runs scored on the same gold.

Writes ``leaderboard.md``, ``.csv``, ``.json``, ``.tex`` (booktabs), ``index.html``
(self-contained), ``model-index/<model>.yaml`` (Hugging Face model-card metadata, for
each run with a published result) and the PNG plots into DIR (each format a module of
:mod:`bench.report.render`). The ranking rule is documented in :mod:`bench.report.leaderboard`.
Exit codes: 0 written; 2 unusable input (no runs, different gold, missing files,
matplotlib missing without ``--no-plots``), nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report import options
from bench.report.compare import CompareError
from bench.report.leaderboard import LeaderboardError, build_leaderboard
from bench.report.render.outputs import write_leaderboard


def add_arguments(parser: argparse.ArgumentParser, out_help: str = "output directory") -> None:
    """The options of ``leaderboard`` (``site`` shares them; ``out_help``: what ``--out`` is)."""
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN_DIR_OR_GLOB",
        help="run directories (holding result.json and samples/), glob patterns, or folders "
        "whose sub-directories are runs",
    )
    parser.add_argument("--out", required=True, type=Path, help=out_help)
    parser.add_argument(
        "--resamples", type=options.count, default=1000, help="paired bootstrap resamples"
    )
    parser.add_argument("--seed", type=options.seed, default=0, help="bootstrap seed")
    parser.add_argument(
        "--alpha", type=options.alpha, default=0.05, help="significance level of ties"
    )
    options.add_analytic_above(parser)
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def main(args: argparse.Namespace) -> int:
    try:
        board = build_leaderboard(args.runs, args.resamples, args.seed, args.alpha,
                                  analytic_above=args.analytic_above)  # fmt: skip
        if not args.no_plots:
            from bench.report.render.plots import PlotError, require_matplotlib

            try:
                require_matplotlib()
            except PlotError as err:
                raise LeaderboardError(str(err)) from None
        written = write_leaderboard(board, args.out, with_plots=not args.no_plots)
    except (LeaderboardError, CompareError) as err:  # CompareError: a run's files are malformed
        print(f"bench-report leaderboard: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the runs were read (a CompareError otherwise): --out is unusable
        print(
            f"bench-report leaderboard: --out {args.out}: cannot write ({err.strerror or err})",
            file=sys.stderr,
        )
        return 2
    print(
        f"{len(board.entries)} runs on {board.dataset['name']} {board.dataset['version']}: "
        f"{len(written)} files in {args.out}"
    )
    return 0
