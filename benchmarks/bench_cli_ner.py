"""Time a whole ``bench`` NER run against seqeval and nervaluate scripts on the same files.

Not a test: run ``python benchmarks/bench_cli_ner.py [--tokens N] [--resamples B]``.

What a user waits for: processes, each timed from start to exit on the same two files —
a seeded synthetic gold and prediction file (:func:`make_corpus`: sentences of 5–40
tokens, entities of four types; predictions with missed, spurious, shifted, retyped and
split entities, repaired to valid IOB2 so that seqeval's strict mode, nervaluate and
bench's CoNLL decoding read the same entities).

* bench: ``bench +model=predictions model.format=conll model.path=PRED dataset=wnut17
  dataset.path=DIR dataset.file=GOLD dataset.version=synthetic dataset.labels=[…]
  task=ner bootstrap.resamples=B`` — parsing, validation, every NER metric (strict
  P/R/F1 overall, per type and macro, the three other SemEval schemes) with, for
  B > 0, the interval of each, and the run folder's files.
* seqeval: a script that reads both files and calls ``f1_score(mode="strict",
  scheme=IOB2)`` — one number, no interval.
* nervaluate: a script that reads both files and calls ``Evaluator(…,
  loader="list").evaluate()`` — the four schemes, no interval.

The script checks that bench's numbers equal the peers' (strict F1: seqeval's; exact,
partial, ent_type P/R/F1: nervaluate's), then prints the times and bench's time as a
multiple of each peer's. Timings on a shared machine are noisy: compare the ratios of
one run (``--repeat`` runs each process several times, alternating, and keeps each
one's best).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = ("PER", "LOC", "ORG", "MISC")
BENCH = str(Path(sys.executable).with_name("bench"))
READ = """
import json, sys

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
"""
SEQEVAL_SCRIPT = (
    READ
    + """
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2
print(repr(float(f1_score(gold, pred, mode="strict", scheme=IOB2))))
"""
)
NERVALUATE_SCRIPT = (
    READ
    + """
from nervaluate import Evaluator
results = Evaluator(gold, pred, tags=sys.argv[3].split(","), loader="list").evaluate()
overall = results["overall"]
print(json.dumps({scheme: [getattr(overall[scheme], k) for k in ("precision", "recall", "f1")]
                  for scheme in ("exact", "partial", "ent_type")}))
"""
)


def make_corpus(n_tokens: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Seeded gold (valid IOB2) and noisy predictions of about ``n_tokens`` tokens."""
    rng = random.Random(seed)
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    total = 0
    while total < n_tokens:
        length = rng.randint(5, 40)
        g = ["O"] * length
        p = ["O"] * length
        i = 0
        while i < length:
            if rng.random() < 0.12:
                n = min(rng.choice((1, 1, 2, 2, 3, 4)), length - i)
                kind = rng.choice(TYPES)
                g[i : i + n] = [f"B-{kind}"] + [f"I-{kind}"] * (n - 1)
                _predict(rng, p, i, n, kind, length)
                i += n + 1
            else:
                if rng.random() < 0.01:  # spurious
                    p[i] = f"B-{rng.choice(TYPES)}"
                i += 1
        gold.append(g)
        pred.append(valid_iob2(p))
        total += length
    return gold, pred


def _predict(rng: random.Random, p: list[str], i: int, n: int, kind: str, length: int) -> None:
    r = rng.random()
    if r < 0.08:
        return  # missed
    if r < 0.14:
        kind = rng.choice([t for t in TYPES if t != kind])  # type confusion
    start, end = i, i + n
    if 0.14 <= r < 0.22:  # shifted boundary
        start = min(length - 1, max(0, start + rng.choice((-1, 1))))
        end = min(length, max(start + 1, end + rng.choice((-1, 0, 1))))
    tags = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    if 0.22 <= r < 0.27:
        tags[0] = f"I-{kind}"  # starts with I- (made B- by valid_iob2)
    if 0.27 <= r < 0.31 and len(tags) > 1:
        tags[len(tags) // 2] = f"B-{kind}"  # split in two
    p[start:end] = tags


def valid_iob2(tags: list[str]) -> list[str]:
    """An ``I-X`` that does not continue an entity of type X starts one: ``B-X``."""
    out: list[str] = []
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


def bench_command(folder: Path, resamples: int | None, run_dir: str = "run") -> list[str]:
    """The ``bench`` command scoring ``folder``'s pred.conll against its gold.conll
    (``resamples``: bootstrap.resamples; None: the default, as a user runs it)."""
    command = [BENCH, "+model=predictions", "model.format=conll", "model.path=pred.conll",
               "dataset=wnut17", f"dataset.path={folder}", "dataset.file=gold.conll",
               "dataset.version=synthetic", f"dataset.labels=[{','.join(TYPES)}]", "task=ner",
               "cache.enabled=false", "progress=false", f"hydra.run.dir={run_dir}"]  # fmt: skip
    return command + ([] if resamples is None else [f"bootstrap.resamples={resamples}"])


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
    parser.add_argument("--repeat", type=int, default=1, help="runs of each process (best kept)")
    args = parser.parse_args()

    gold, pred = make_corpus(args.tokens, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_conll(folder / "gold.conll", gold)
        write_conll(folder / "pred.conll", pred)
        print(f"corpus: {sum(map(len, gold)):,} tokens, {len(gold):,} sentences, "
              f"seed {args.seed}", flush=True)  # fmt: skip
        files = ["gold.conll", "pred.conll"]
        commands = {
            "bench": bench_command(folder, args.resamples),
            "seqeval": [sys.executable, "-c", SEQEVAL_SCRIPT, *files],
            "nervaluate": [sys.executable, "-c", NERVALUATE_SCRIPT, *files, ",".join(TYPES)],
        }
        best: dict[str, float] = {}
        out: dict[str, str] = {}
        for _ in range(args.repeat):  # alternating, so that a burst of load hits all alike
            for name, command in commands.items():
                seconds, out[name] = timed(command, folder)
                best[name] = min(best.get(name, seconds), seconds)
        result = json.loads((folder / "run" / "result.json").read_text())
        metrics = {k: m["value"] for k, m in result["tasks"]["ner"]["metrics"].items()}

    assert abs(metrics["strict_f1"] - float(out["seqeval"].strip())) < 1e-12
    for scheme, values in json.loads(out["nervaluate"]).items():
        for name, theirs in zip(("precision", "recall", "f1"), values, strict=True):
            assert abs(metrics[f"{scheme}_{name}"] - theirs) < 1e-12, (scheme, name, theirs)
    print(f"strict F1 {metrics['strict_f1']:.4f} equal to seqeval's; exact, partial and "
          "ent_type P/R/F1 equal to nervaluate's")  # fmt: skip
    what = {
        "bench": f"bench run: every NER metric, {args.resamples} resamples each",
        "seqeval": "seqeval script: read both files, strict f1_score",
        "nervaluate": "nervaluate script: read both files, Evaluator",
    }
    print(f"{'process':<58}  {'seconds':>8}")
    for name, seconds in best.items():
        print(f"{what[name]:<58}  {seconds:8.2f}")
    for peer in ("seqeval", "nervaluate"):
        print(f"bench / {peer}: {best['bench'] / best[peer]:.2f}x the time")


if __name__ == "__main__":
    main()
