"""``bench-report site RUN_DIR_OR_GLOB… --out DIR``: a static site of leaderboards.

Groups the runs by the gold they were scored on and writes ``DIR/<dataset>/`` (the
leaderboard of each dataset: ``index.html`` and its CSV, JSON, Markdown, LaTeX, plots)
and ``DIR/index.html`` (the best model per dataset and task), linked together,
self-contained; see :mod:`bench.report.site`. Exit codes: 0 written; 2 unusable input
(a run cannot be read, no runs, ``--out`` not a site), nothing written.
"""

from __future__ import annotations

import argparse
import sys

from bench.report import leaderboard_cli
from bench.report.compare import CompareError
from bench.report.leaderboard import LeaderboardError
from bench.report.render.text import counted
from bench.report.site import build_site


def add_arguments(parser: argparse.ArgumentParser) -> None:
    leaderboard_cli.add_arguments(
        parser,
        out_help="the site folder: built beside it and swapped in; an existing one is "
        "replaced only if it is a site (holds site.json)",
    )


def main(args: argparse.Namespace) -> int:
    try:
        pages = build_site(
            args.runs,
            args.out,
            resamples=args.resamples,
            seed=args.seed,
            alpha=args.alpha,
            analytic_above=args.analytic_above,
            with_plots=not args.no_plots,
        )
    except (LeaderboardError, CompareError) as err:  # CompareError: a run's files are malformed
        print(f"bench-report site: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the runs were read (a CompareError otherwise): --out is unusable
        print(
            f"bench-report site: --out {args.out}: cannot write ({err.strerror or err})",
            file=sys.stderr,
        )
        return 2
    runs = sum(len(page.board.entries) for page in pages)
    print(f"{counted(len(pages), 'dataset')}, {counted(runs, 'run')}: {args.out / 'index.html'}")
    return 0
