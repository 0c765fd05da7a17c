"""Time bench's NER scorers against seqeval and nervaluate on ~1M synthetic tokens.

Not a test: run ``.venv/bin/python benchmarks/bench_ner.py [--tokens N] [--seed S]``.

The corpus is seeded: IOB2 gold sentences with entities of four types, and predictions
derived from them with the usual errors (missed and spurious entities, shifted
boundaries, type confusion, entities split in two, entities that start with ``I-``).
Each comparison first checks that bench's numbers equal the peer's, then prints the
wall-clock times (bench: best of ``--repeat`` runs; peers: one run) and the ratios.

Peers and what bench computes for the same output:

* seqeval default — ``classification_report(output_dict=True)`` (per type + micro, macro,
  weighted) vs ``bio_scores(mode="default")``; also ``f1_score`` (micro F1 only).
* seqeval strict IOB2 — ``classification_report(mode="strict", scheme=IOB2)`` vs
  ``bio_scores(mode="strict", scheme="IOB2")``.
* nervaluate — ``Evaluator(..., loader="list").evaluate()`` on the tag lists (all four
  SemEval schemes, overall and per type) vs ``bio_to_spans`` (default decoding, which
  equals nervaluate's list loader on B/I/O tags) + ``span_scores``.
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from collections.abc import Callable
from typing import Any

from nervaluate import Evaluator
from seqeval.metrics import classification_report, f1_score
from seqeval.scheme import IOB2

from bench.metrics.bio import bio_scores, bio_to_spans
from bench.metrics.spans import SCHEMES, span_scores

TYPES = ("PER", "LOC", "ORG", "MISC")


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
        pred.append(p)
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
        tags[0] = f"I-{kind}"  # starts with I-: kept by conlleval, dropped by strict IOB2
    if 0.27 <= r < 0.31 and len(tags) > 1:
        tags[len(tags) // 2] = f"B-{kind}"  # split in two
    p[start:end] = tags


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def check_seqeval(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    rows = {"micro avg": "micro", "macro avg": "macro", "weighted avg": "weighted"}
    assert set(theirs) - set(rows) == set(ours["per_type"]), "different entity types"
    for name, row in theirs.items():
        mine = ours[rows[name]] if name in rows else ours["per_type"][name]
        for key, my_key in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("f1-score", "f1"),
            ("support", "support"),
        ):
            assert row[key] == mine[my_key], (name, key, row[key], mine[my_key])


def check_nervaluate(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    keys = (
        "correct",
        "incorrect",
        "partial",
        "missed",
        "spurious",
        "possible",
        "actual",
        "precision",
        "recall",
        "f1",
    )
    for scheme in SCHEMES:
        for key in keys:
            assert getattr(theirs["overall"][scheme], key) == ours["micro"][scheme][key], (
                scheme,
                key,
            )
    assert set(theirs["entities"]) == set(ours["per_label"])
    for label, by_scheme in theirs["entities"].items():
        for scheme in SCHEMES:
            for key in keys:
                assert getattr(by_scheme[scheme], key) == ours["per_label"][label][scheme][key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3, help="runs of bench (best is kept)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # seqeval's UndefinedMetricWarning

    gold, pred = make_corpus(args.tokens, args.seed)
    n_tokens = sum(map(len, gold))
    print(f"corpus: {n_tokens:,} tokens, {len(gold):,} sentences, seed {args.seed}", flush=True)

    rows = []

    t_bench, ours = timed(lambda: bio_scores(gold, pred), args.repeat)
    t_peer, theirs = timed(lambda: classification_report(gold, pred, output_dict=True))
    check_seqeval(ours, theirs)
    rows.append(("seqeval default, classification_report", t_bench, t_peer))
    t_peer, f1 = timed(lambda: f1_score(gold, pred))
    assert f1 == ours["micro"]["f1"]
    rows.append(("seqeval default, f1_score (micro only)", t_bench, t_peer))

    t_bench, ours = timed(lambda: bio_scores(gold, pred, mode="strict", scheme="IOB2"), args.repeat)
    t_peer, theirs = timed(
        lambda: classification_report(gold, pred, output_dict=True, mode="strict", scheme=IOB2)
    )
    check_seqeval(ours, theirs)
    rows.append(("seqeval strict IOB2, classification_report", t_bench, t_peer))

    def bench_semeval() -> dict[str, Any]:
        return span_scores(bio_to_spans(gold), bio_to_spans(pred))

    t_bench, ours = timed(bench_semeval, args.repeat)
    t_peer, theirs = timed(
        lambda: Evaluator(gold, pred, tags=list(TYPES), loader="list").evaluate()
    )
    check_nervaluate(ours, theirs)
    rows.append(("nervaluate Evaluator.evaluate (4 schemes)", t_bench, t_peer))

    micro = ours["micro"]
    print(
        "strict F1 {:.4f}, exact {:.4f}, partial {:.4f}, ent_type {:.4f}".format(
            *(micro[s]["f1"] for s in SCHEMES)
        )
    )
    print("all numbers equal to the peers'\n")
    width = max(len(r[0]) for r in rows)
    print(f"{'peer':<{width}}  {'bench s':>8}  {'peer s':>8}  {'speed-up':>8}")
    for name, mine, peer in rows:
        print(f"{name:<{width}}  {mine:8.3f}  {peer:8.3f}  {peer / mine:7.1f}x")


if __name__ == "__main__":
    main()
