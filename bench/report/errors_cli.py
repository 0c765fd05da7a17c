"""``bench-report errors RUN_DIR --out FILE.html``: a self-contained error-analysis page.

NER items with gold and predicted entities side by side (correct, wrong type,
missed, spurious), attribution quotes (missed, spurious, wrong speaker) and
toxicity items by error; see :mod:`bench.report.errors`. Exit 2 on unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report import options
from bench.report.compare import CompareError
from bench.report.errors import ErrorsError, write_errors_page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="run directory holding result.json and samples/")
    parser.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    parser.add_argument(
        "--limit",
        type=options.count,
        default=200,
        help="at most this many items or rows per section",
    )
    parser.add_argument(
        "--no-dataset",
        action="store_true",
        help="do not re-load the dataset for item text; show the spans from the samples only",
    )


def main(args: argparse.Namespace) -> int:
    try:
        write_errors_page(args.run_dir, args.out, not args.no_dataset, args.limit)
    except (ErrorsError, CompareError) as err:  # CompareError: a run's files are malformed
        print(f"bench-report errors: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the runs were read (a CompareError otherwise): --out is unusable
        print(
            f"bench-report errors: --out {args.out}: cannot write ({err.strerror or err})",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {args.out}")
    return 0
