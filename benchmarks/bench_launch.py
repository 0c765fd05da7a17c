"""Beyond one process: a 2-job joblib sweep vs the same jobs serially, and a 2-shard run +
merge vs the unsharded run, each printed as a ratio of wall times measured in one run.

Not a test: run ``python benchmarks/bench_launch.py`` (needs the joblib and hf extras).
Every run goes through the installed ``bench`` and ``bench-report`` commands, with the
prediction cache off (each job predicts every item) and no progress bars.

* sweep: ``bench -m +model=rules dataset=madlibs task=toxicity seed=0,1`` (77k items:
  regular expressions, then the bootstrap of every metric: Python and numpy) with Hydra's
  basic launcher (the two jobs one after the other, in one process), once with one
  thread per process as joblib gives its workers, once with numpy's threads free (its
  BLAS then uses the second core in parts of the bootstrap), and with
  ``hydra/launcher=joblib`` (two worker processes).
* shards: a DistilBERT-sized text classifier (6 layers, hidden size 768; random weights,
  built here with ``transformers``) as ``+model=hf_toxicity`` on HateCheck's 3,728 cases, once
  unsharded, once as ``shard.index=0,1 shard.count=2`` on joblib followed by
  ``bench-report merge``. Every process runs torch on one thread (``OMP_NUM_THREADS=1``,
  what joblib gives each of its two workers on two cores), so the ratio is that of two
  workers to one, not of torch's own threading. The merged scores are compared with the
  unsharded run's: a few differ in the last float32 bits, as an item's batch neighbours
  (hence its padding) differ between a shard and the whole run.

Both the whole commands and the jobs alone are timed: a sweep's command also starts
Python and, at the end, ranks its runs (the summary reads both runs' samples and runs
their paired bootstrap over 77k items: ~1.2 s of CPU here, 2.3–2.7 s before the
summary's speed-ups), whichever the launcher.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

BIN = Path(sys.executable).parent
SWEEP = ("+model=rules", "dataset=madlibs", "task=toxicity", "seed=0,1")
SHARDED = ("+model=hf_toxicity", "dataset=hatecheck", "task=toxicity")
JOBS = ("0_rules", "1_rules")
QUIET = ("cache.enabled=false", "progress=false")
# what joblib gives each of its workers when there are as many as cores
ONE_THREAD = os.environ | {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class Timed:
    """Wall and CPU seconds (the command's and all its processes') of one command."""

    def __init__(self, *command: str | Path, env: dict[str, str] | None = None) -> None:
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env)
        self.wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        if done.returncode != 0:
            sys.exit(f"{' '.join(map(str, command))}: exit {done.returncode}\n{done.stderr}")

    def __str__(self) -> str:
        return f"{self.wall:.1f} s (CPU {self.cpu:.1f} s)"


def metrics(run: Path) -> dict:
    """Each task's metrics (value and interval) as result.json records them."""
    tasks = json.loads((run / "result.json").read_text())["tasks"]
    return {task: record.get("metrics") for task, record in tasks.items()}


def jobs_span(sweep_dir: Path) -> float:
    """Seconds from the first job's start to the last job's end (result.json's
    provenance, to the second): the sweep without its start-up and its summary."""
    runs = [json.loads(p.read_text())["provenance"] for p in sweep_dir.glob("*/result.json")]
    start = min(datetime.fromisoformat(r["started_at"]) for r in runs)
    return (max(datetime.fromisoformat(r["finished_at"]) for r in runs) - start).total_seconds()


def sweep(tmp: Path) -> None:
    """The sweep serially (basic launcher) with one thread and with numpy's threads free,
    then on joblib: the commands, and the span of their jobs."""
    runs = {}
    for name, launcher, env in (("serial, 1 thread", "basic", ONE_THREAD),
                                ("serial, threads free", "basic", None),
                                ("joblib, 2 workers", "joblib", ONE_THREAD)):  # fmt: skip
        folder = tmp / launcher / ("free" if env is None else "one")
        command = Timed(BIN / "bench", "-m", *SWEEP, *QUIET, f"hydra/launcher={launcher}",
                        f"hydra.sweep.dir={folder}", env=env)  # fmt: skip
        runs[name] = command, jobs_span(folder), [metrics(folder / j) for j in JOBS]
    print(f"\nsweep: bench -m {' '.join(SWEEP)} (same metrics every way)")
    joblib, joblib_span, joblib_metrics = runs.pop("joblib, 2 workers")
    print(f"  joblib, 2 workers: {joblib}; its jobs {joblib_span:.0f} s")
    for name, (command, span, found) in runs.items():
        assert found == joblib_metrics
        ratio = command.wall / joblib.wall
        print(f"  {name}: {command}; its jobs {span:.0f} s. Serial / joblib: {ratio:.2f}x, "
              f"its jobs {span / joblib_span:.2f}x")  # fmt: skip
    print(f"  (load {os.getloadavg()[0]:.1f})", flush=True)


def score_differences(one: Path, merged: Path) -> tuple[int, float]:
    """How many items' scores differ between two toxicity runs, and by how much at most."""

    def scores(run: Path) -> dict[str, float]:
        rows = (run / "samples" / "toxicity.jsonl").read_text().splitlines()
        return {row["id"]: row["score"] for row in map(json.loads, rows)}

    a, b = scores(one), scores(merged)
    assert a.keys() == b.keys()
    differences = [abs(a[k] - b[k]) for k in a if a[k] != b[k]]
    return len(differences), max(differences, default=0.0)


def save_model(path: Path) -> Path:
    """A BERT-sized sequence classifier with random (seeded) weights and a word-level
    tokenizer whose vocabulary is HateCheck's words, saved for ``model.model=``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
    from transformers.utils import logging

    logging.disable_progress_bar()

    from bench.data.csv_sets import HateCheck

    texts = [item.text for item in HateCheck().toxicity().items]
    words = sorted({word.lower() for text in texts for word in text.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    path.mkdir()
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    torch.manual_seed(0)
    labels = {0: "neutral", 1: "toxic"}
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=768,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=3072,
        id2label=labels,
        label2id={label: k for k, label in labels.items()},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    return path


def shards(tmp: Path) -> None:
    """The model unsharded, then as 2 shards on joblib and their merge."""
    model = f"model.model={save_model(tmp / 'model')}"
    env = ONE_THREAD
    one = Timed(BIN / "bench", *SHARDED, model, *QUIET, f"hydra.run.dir={tmp / 'one'}", env=env)
    sharded = Timed(BIN / "bench", "-m", *SHARDED, model, *QUIET, "shard.index=0,1",
                    "shard.count=2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                    f"hydra.sweep.dir={tmp / 'shards'}", env=env)  # fmt: skip
    merge = Timed(BIN / "bench-report", "merge", tmp / "shards", "--out", tmp / "merged", env=env)
    differ, most = score_differences(tmp / "one", tmp / "merged")
    print(f"\nshards: bench {' '.join(SHARDED)} (DistilBERT-sized, 1 thread per process)")
    print(f"  unsharded {one}; 2 shards on joblib {sharded} + merge {merge}: "
          f"{one.wall / (sharded.wall + merge.wall):.2f}x")  # fmt: skip
    print(f"  merged vs unsharded: {differ} scores differ, by at most {most:.1e} (other batch "
          f"neighbours, other padding); load {os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sweep", "shards"), help="one of the two")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        if args.only in (None, "sweep"):
            sweep(Path(tmp))
        if args.only in (None, "shards"):
            shards(Path(tmp))


if __name__ == "__main__":
    main()
