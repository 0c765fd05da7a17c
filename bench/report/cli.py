"""``bench-report``: work from the result files of earlier runs, without re-running models.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``main(args) -> int`` (the exit code); register it in ``SUBCOMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

from bench.report.options import OneLineParser

# name -> (module, one-line help)
SUBCOMMANDS = {
    "compare": ("bench.report.compare_cli", "paired significance test between two runs"),
    "leaderboard": ("bench.report.leaderboard_cli", "rank runs scored on the same gold"),
    "site": ("bench.report.site_cli", "a static site: one leaderboard per dataset and an index"),
    "errors": ("bench.report.errors_cli", "error-analysis HTML page of one run"),
    "check": ("bench.report.check_cli", "regression check of a run against a baseline (CI)"),
    "merge": ("bench.report.merge_cli", "score the shards of one run together"),
    "submit": ("bench.report.submit_cli", "check, score and file a submission; rebuild the site"),
}


def main(argv: list[str] | None = None) -> None:
    parser = OneLineParser(prog="bench-report", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        modules[name] = importlib.import_module(module_name)
        modules[name].add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    sys.exit(modules[args.command].main(args))
