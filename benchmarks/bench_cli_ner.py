"""Time a whole ``bench`` NER run against a plain seqeval script on the same CoNLL files.

Not a test: run ``python benchmarks/bench_cli_ner.py [--tokens N] [--resamples B]``.

What a user waits for: two processes, each timed from start to exit on the same two
files — a seeded synthetic gold and prediction file (``bench_ner.make_corpus``:
sentences of 5–40 tokens; predictions with missed, spurious, shifted, retyped and
split entities, repaired to valid IOB2 so that seqeval's strict mode and bench's
CoNLL decoding read the same entities).

* bench: ``bench +model=predictions model.format=conll model.path=PRED dataset=wnut17
  dataset.path=DIR dataset.file=GOLD dataset.version=synthetic dataset.labels=[…]
  task=ner bootstrap.resamples=B`` — parsing, validation, every NER metric and, with
  B > 0, the intervals of each, and the run folder's files.
* peer: a Python script that reads both files and calls seqeval's
  ``f1_score(mode="strict", scheme=IOB2)`` — one number, no interval.

The script checks that bench's strict F1 equals seqeval's, then prints both times and
their ratio. Timings on a shared machine are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ner import TYPES, make_corpus  # noqa: E402

BENCH = str(Path(sys.executable).with_name("bench"))
SEQEVAL_SCRIPT = """
import sys
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

def read(path):
    sentences, tags = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                tags.append(line.split()[-1])
            elif tags:
                sentences.append(tags)
                tags = []
    if tags:
        sentences.append(tags)
    return sentences

gold, pred = read(sys.argv[1]), read(sys.argv[2])
print(repr(float(f1_score(gold, pred, mode="strict", scheme=IOB2))))
"""


def valid_iob2(tags: list[str]) -> list[str]:
    """An ``I-X`` that does not continue an entity of type X starts one: ``B-X``."""
    out = []
    for tag in tags:
        if tag.startswith("I-") and (not out or out[-1][2:] != tag[2:] or out[-1] == "O"):
            tag = "B-" + tag[2:]
        out.append(tag)
    return out


def write_conll(path: Path, sentences: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for k, tags in enumerate(sentences):
            f.writelines(f"w{k % 997}x{i}\t{tag}\n" for i, tag in enumerate(tags))
            f.write("\n")


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--resamples", type=int, default=1000, help="bench's bootstrap.resamples")
    args = parser.parse_args()

    gold, pred = make_corpus(args.tokens, args.seed)
    pred = [valid_iob2(tags) for tags in pred]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_conll(folder / "gold.conll", gold)
        write_conll(folder / "pred.conll", pred)
        print(f"corpus: {sum(map(len, gold)):,} tokens, {len(gold):,} sentences, "
              f"seed {args.seed}", flush=True)  # fmt: skip

        t_peer, out = timed([sys.executable, "-c", SEQEVAL_SCRIPT, "gold.conll", "pred.conll"],
                            folder)  # fmt: skip
        seqeval_f1 = float(out.strip())
        t_bench, _ = timed(
            [BENCH, "+model=predictions", "model.format=conll", "model.path=pred.conll",
             "dataset=wnut17", f"dataset.path={folder}", "dataset.file=gold.conll",
             "dataset.version=synthetic", f"dataset.labels=[{','.join(TYPES)}]", "task=ner",
             f"bootstrap.resamples={args.resamples}", "cache.enabled=false",
             "hydra.run.dir=run"],
            folder,
        )  # fmt: skip
        result = json.loads((folder / "run" / "result.json").read_text())
        bench_f1 = result["tasks"]["ner"]["metrics"]["strict_f1"]["value"]

    assert abs(bench_f1 - seqeval_f1) < 1e-12, (bench_f1, seqeval_f1)
    print(f"strict F1 {bench_f1:.4f}, equal to seqeval's")
    print(f"{'process':<58}  {'seconds':>8}")
    print(f"{'seqeval script: read both files, strict f1_score':<58}  {t_peer:8.2f}")
    what = f"bench run: all NER metrics, {args.resamples} resamples each"
    print(f"{what:<58}  {t_bench:8.2f}")
    print(f"bench / seqeval: {t_bench / t_peer:.2f}x the time")


if __name__ == "__main__":
    main()
