"""``bench-report merge SWEEP_OR_RUNS… --out RUN``: the shards of one run scored together.

Each argument is a shard's run folder or a sweep folder of shards
(``bench -m shard.index=0,1,2 shard.count=3 …``); see :mod:`bench.report.merge`. Writes a
run folder as ``bench`` does. Exit 0 every task ran, 1 a task failed (too many failed
items), 2 the shards cannot be merged (nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report.merge import MergeError, merge, shard_dirs
from bench.report.tables import main_table, to_markdown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", type=Path, help="shard run folders, or sweep folders holding them"
    )
    parser.add_argument("--out", required=True, type=Path, help="the run folder to write")


def main(args: argparse.Namespace) -> int:
    try:
        inputs = {path.resolve() for path in [*args.runs, *shard_dirs(args.runs)]}
        if args.out.resolve() in inputs:
            raise MergeError(f"--out {args.out}: is one of the shards or sweeps merged")
        merged = merge(args.runs)
    except MergeError as err:
        print(f"bench-report merge: {err}", file=sys.stderr)
        return 2
    try:
        merged.save(args.out)
    except OSError as err:
        print(
            f"bench-report merge: --out {args.out}: cannot write ({err.strerror or err})",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {args.out}")
    print(to_markdown(*main_table(merged.result)))
    failed = [f"{task}: {r['error']}" for task, r in merged.result["tasks"].items()
              if r["status"] == "failed"]  # fmt: skip
    for line in failed:
        print(f"bench-report merge: task {line}", file=sys.stderr)
    return 1 if failed else 0
