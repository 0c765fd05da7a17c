"""``bench-report submit PREDICTIONS… --name NAME --into SITE_SOURCE``: check, score and
file a submission of prediction files, then rebuild the site.

The layout of SITE_SOURCE and the checks are documented in :mod:`bench.report.submit`.
Exit codes: 0 filed and the site rebuilt; 2 refused (one line naming the file, record or
field), nothing written into SITE_SOURCE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report import options
from bench.report.submit import Submission, SubmitError, submit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="PREDICTIONS",
        help="one CoNLL file (token … predicted tag), or ner.jsonl, attribution.jsonl "
        "and/or toxicity.jsonl (the predictions adapter's formats)",
    )
    parser.add_argument("--name", required=True, help="the submission's name (a folder name)")
    parser.add_argument("--url", help="the submitter's page (http or https)")
    parser.add_argument("--paper", help="the paper describing the system (http or https)")
    parser.add_argument(
        "--dataset",
        help="the dataset preset scored (conf/dataset/); default: the shipped dataset whose "
        "items include every item id of the files (refused, naming the choices, if none or "
        "several do)",
    )
    parser.add_argument(
        "--dataset-version", help="the dataset version the predictions were made for"
    )
    parser.add_argument(
        "--dataset-sha256", help="the sha256 of the gold the predictions were made for"
    )
    parser.add_argument(
        "--align",
        choices=("strict", "position"),
        default="strict",
        help="CoNLL: tokens must be the gold's (strict, default), or are matched by position "
        "(position: a file whose tokens were normalised)",
    )
    parser.add_argument(
        "--into",
        required=True,
        type=Path,
        metavar="SITE_SOURCE",
        help="the site source folder: the submission is filed under SITE_SOURCE/submissions/, "
        "SITE_SOURCE/site/ is rebuilt from every run folder under it",
    )
    parser.add_argument(
        "--resamples", type=options.count, default=1000, help="paired bootstrap resamples (site)"
    )
    parser.add_argument("--seed", type=options.seed, default=0, help="bootstrap seed (site)")


def main(args: argparse.Namespace) -> int:
    submission = Submission(
        files=args.files,
        name=args.name,
        dataset=args.dataset,
        url=args.url,
        paper=args.paper,
        dataset_version=args.dataset_version,
        dataset_sha256=args.dataset_sha256,
        align=args.align,
    )
    try:
        folder, record = submit(submission, args.into, resamples=args.resamples, seed=args.seed)
    except SubmitError as err:
        print(f"bench-report submit: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # accepted, but SITE_SOURCE is unusable
        print(f"bench-report submit: --into {args.into}: cannot write ({err})", file=sys.stderr)
        return 2
    dataset = record["dataset"]
    inferred = "" if args.dataset else " (--dataset inferred from the item ids)"
    print(
        f"{record['name']} on {dataset['name']} {dataset['version']}{inferred}: filed in "
        f"{folder}; site rebuilt in {args.into / 'site'}"
    )
    return 0
