"""Beyond one process: a 2-job joblib sweep vs the same jobs serially, and a 2-shard run +
merge vs the unsharded run, each printed as a ratio of wall times measured in one run.

Not a test: run ``python benchmarks/bench_launch.py`` (needs the joblib and hf extras).
Every run goes through the installed ``bench`` and ``bench-report`` commands, with the
prediction cache off (each job predicts every item) and no progress bars.

* sweep: ``bench -m +model=rules dataset=madlibs task=toxicity seed=0,1`` (77k items:
  regular expressions, then the bootstrap of every metric; pure Python and numpy, one
  thread) with Hydra's basic launcher (the two jobs one after the other, in one process)
  and with ``hydra/launcher=joblib`` (two worker processes).
* shards: a BERT-sized text classifier (random weights, built here with ``transformers``,
  6 layers, hidden size 384) as ``+model=hf_toxicity`` on HateCheck's 3,728 cases, once
  unsharded, once as ``shard.index=0,1 shard.count=2`` on joblib followed by
  ``bench-report merge``. Every process runs torch on one thread (``OMP_NUM_THREADS=1``,
  what joblib gives each of its two workers on two cores), so the ratio is that of two
  workers to one, not of torch's own threading. The merged metrics are checked equal to
  the unsharded run's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SWEEP = ("+model=rules", "dataset=madlibs", "task=toxicity", "seed=0,1")
SHARDED = ("+model=hf_toxicity", "dataset=hatecheck", "task=toxicity")
QUIET = ("cache.enabled=false", "progress=false")


def timed(*command: str | Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of ``command``; its output is shown only if it fails."""
    start = time.perf_counter()
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))}: exit {done.returncode}\n{done.stderr}")
    return seconds


def metrics(run: Path) -> dict:
    """Each task's metrics (value and interval) as result.json records them."""
    tasks = json.loads((run / "result.json").read_text())["tasks"]
    return {task: record.get("metrics") for task, record in tasks.items()}


def sweep(tmp: Path) -> tuple[float, float]:
    """Wall seconds of the sweep serially (basic launcher), then on joblib."""
    serial = timed(BIN / "bench", "-m", *SWEEP, *QUIET, f"hydra.sweep.dir={tmp / 'serial'}")
    joblib = timed(BIN / "bench", "-m", *SWEEP, *QUIET, "hydra/launcher=joblib",
                   "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp / 'joblib'}")  # fmt: skip
    for job in ("0_rules", "1_rules"):
        assert metrics(tmp / "serial" / job) == metrics(tmp / "joblib" / job)
    return serial, joblib


def save_model(path: Path) -> Path:
    """A BERT-sized sequence classifier with random (seeded) weights and a word-level
    tokenizer whose vocabulary is HateCheck's words, saved for ``model.model=``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from bench.data.csv_sets import HateCheck

    texts = [item.text for item in HateCheck().toxicity().items]
    words = sorted({word.lower() for text in texts for word in text.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    path.mkdir()
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=384, num_hidden_layers=6,
                        num_attention_heads=6, intermediate_size=1536,
                        id2label={0: "neutral", 1: "toxic"}, label2id={"neutral": 0, "toxic": 1})  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(path)
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    return path


def shards(tmp: Path) -> tuple[float, float, float]:
    """Wall seconds of the unsharded run, of the 2-shard sweep on joblib, of the merge."""
    model = f"model.model={save_model(tmp / 'model')}"
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    one = timed(BIN / "bench", *SHARDED, model, *QUIET, f"hydra.run.dir={tmp / 'one'}", env=env)
    sharded = timed(BIN / "bench", "-m", *SHARDED, model, *QUIET, "shard.index=0,1",
                    "shard.count=2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                    f"hydra.sweep.dir={tmp / 'shards'}", env=env)  # fmt: skip
    merge = timed(BIN / "bench-report", "merge", tmp / "shards", "--out", tmp / "merged", env=env)
    assert metrics(tmp / "merged") == metrics(tmp / "one"), "the merge is not the unsharded run"
    return one, sharded, merge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sweep", "shards"), help="one of the two")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        if args.only in (None, "sweep"):
            serial, joblib = sweep(Path(tmp))
            print(f"sweep {' '.join(SWEEP)}: serial (basic launcher) {serial:.1f} s, "
                  f"joblib (2 workers) {joblib:.1f} s: {serial / joblib:.2f}x "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
        if args.only in (None, "shards"):
            one, sharded, merge = shards(Path(tmp))
            print(f"shards {' '.join(SHARDED)} (6-layer BERT, 1 thread per process): "
                  f"unsharded {one:.1f} s, 2 shards on joblib {sharded:.1f} s + merge "
                  f"{merge:.1f} s: {one / (sharded + merge):.2f}x; merged metrics = unsharded "
                  f"(load {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
