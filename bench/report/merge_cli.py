"""``bench-report merge SWEEP_OR_RUNS… --out RUN``: the shards of one run scored together.

Each argument is a shard's run folder or a sweep folder of shards
(``bench -m shard.index=0,1,2 shard.count=3 …``); see :mod:`bench.report.merge`. Writes a
run folder as ``bench`` does, holding its lock as a run does (:mod:`bench.run_dir`). Exit 0
every task ran, 1 a task failed (too many failed items), 2 the shards cannot be merged or
``--out`` is in use (nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report.merge import MergeError, merge, shard_dirs
from bench.report.tables import main_table, to_markdown
from bench.result import Result
from bench.run_dir import RunDir, RunDirBusy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", type=Path, help="shard run folders, or sweep folders holding them"
    )
    parser.add_argument("--out", required=True, type=Path, help="the run folder to write")
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="shards of your own files (dataset=hf): the file, folder or Hub id they read "
        "(their dataset.path), checked against their dataset.sha256",
    )


def main(args: argparse.Namespace) -> int:
    try:
        inputs = {path.resolve() for path in [*args.runs, *shard_dirs(args.runs)]}
        if args.out.resolve() in inputs:
            raise MergeError(f"--out {args.out}: is one of the shards or sweeps merged")
        with RunDir(args.out) as held:
            merged = _merge_into(held, args.runs, args.data)
    except (MergeError, RunDirBusy) as err:
        print(f"bench-report merge: {err}", file=sys.stderr)
        return 2
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


def _merge_into(held: RunDir, runs: list[Path], data: str | None) -> Result:
    """The shards ``runs`` merged and saved into the run folder ``held`` (locked as a live
    run's: a concurrent merge or run into it is refused); a folder this merge created is
    removed again if the shards are refused."""
    try:
        merged = merge(runs, data)
    except MergeError:
        held.discard([held.path])
        raise
    merged.save(held.path)
    return merged
