"""Scoring at scale: time and peak memory of toxicity and NER scoring at 100 k – 10 M.

Not a test: run ``python benchmarks/bench_scale.py [--sizes 100000,1000000,10000000]``.
Each measurement runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own;
"data" is the process's resident memory once the synthetic input is built, "peak" the most
it held while scoring (both include Python and numpy, ~100 MB).

Cases (all on seeded synthetic data; the numbers measure speed, not any model):

* ``toxicity arrays`` — every metric the toxicity task reports on its main level
  (ROC-AUC, AP, F1 at 0.5, best-threshold F1, Brier, ECE, the Jigsaw bias AUCs, power
  means and score) with every interval by formula (``bootstrap.method=analytic``: DeLong,
  logit, delta method, normal), computed by the functions ``ToxicityTask.score`` calls,
  from arrays: labels, scores and a (n × 20) identity membership matrix.
* ``toxicity task`` — the path the ``bench`` command runs once the dataset is loaded:
  ``bench.runner.run_task`` on the gold view as the loaders build it (``toxicity_gold``:
  ids and texts as columns, labels and identity combinations as arrays) with an adapter
  handing out the model's scores batch by batch as arrays (``predict_toxicity_scores``);
  then the samples as ``bench.runner.evaluate`` and ``Result.save`` write them
  (``scrub_secrets``, ``write_jsonl_atomic``). "predict" is the rest of ``run_task`` (items
  handed out per batch, predictions validated and collected as columns), "score"
  ``ToxicityTask.score`` (every metric and interval), "write" the samples written. Peak
  memory is the process's high-water mark (``VmHWM``, reset once the input is built), so
  it includes the input; "+MB" is what scoring adds to it. With ``method=analytic`` and,
  at ``--bootstrap-sizes``, ``method=bootstrap`` (1000 resamples).
* ``toxicity_cli`` — the whole ``bench`` command on a ``dataset=hf`` parquet file of n rows
  (text, label, 20 identity columns) and a ``toxicity.jsonl`` predictions file, default
  options; time, CPU and peak memory are the command's (as ``ner``).
* ``ner`` — what a user runs: the whole ``bench`` command scoring a CoNLL predictions
  file against a CoNLL gold of n tokens (the corpus of ``benchmarks/bench_cli_ner.py``:
  sentences of 5–40 tokens), with the default options — every NER metric and interval,
  drawn by bootstrap up to ``bootstrap.analytic_above`` sentences (100 k tokens, 1 M) and
  by formula above (10 M), and the run folder written. Time, CPU and peak memory are
  the command's; "data" does not apply.
* ``compare`` — ``bench-report compare`` of two such toxicity runs of n items (the model's
  scores, and the same with noise), default options, at ``--compare-sizes``; the runs
  are made before the clock starts.

Times are wall-clock and CPU (``time.process_time``): on a shared machine the wall time
grows with the load (printed), the CPU time much less. The growth exponent k
(CPU time ∝ n^k) is the least-squares slope of log CPU time on log n.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
N_IDENTITIES = 20


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def toxicity_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (8% toxic), scores (a noisy function of the label and of some identities,
    rounded to 6 decimals so that ties occur) and identity membership (each identity
    mentioned by 1–8% of the items)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.08).astype(np.int64)
    rates = np.linspace(0.01, 0.08, N_IDENTITIES)
    member = rng.random((n, N_IDENTITIES), dtype=np.float32) < rates.astype(np.float32)
    logit = 2.2 * labels - 2.0 + rng.normal(0.0, 1.0, n) + 0.4 * member[:, :5].any(axis=1)
    scores = np.round(1.0 / (1.0 + np.exp(-logit)), 6)
    return labels, scores, member


def score_toxicity_arrays(
    labels: np.ndarray, scores: np.ndarray, member: np.ndarray, threshold: float = 0.5
) -> dict[str, Any]:
    """What ToxicityTask.score computes on its main level with method=analytic."""
    from bench.metrics import analytic, ranking
    from bench.metrics.bias import jigsaw_bias_arrays

    alpha = 0.05
    metrics = {
        "roc_auc": ranking.roc_auc(labels, scores),
        "average_precision": ranking.average_precision(labels, scores),
        "f1": ranking.f1_at_threshold(labels, scores, threshold),
        "brier": ranking.brier_score(labels, scores),
        "ece": ranking.expected_calibration_error(labels, scores),
    }
    best = ranking.f1_best_threshold(labels, scores)
    names = [f"identity_{k}" for k in range(member.shape[1])]
    bias = jigsaw_bias_arrays(labels, scores, member, names, alpha=alpha)

    def f1_rows(cut: float) -> np.ndarray:
        predicted = (scores >= cut).astype(np.int64)
        return np.column_stack([predicted & labels, predicted, labels])

    intervals = {
        "roc_auc": analytic.delong_roc_auc_ci(labels, scores, alpha),
        "average_precision": analytic.average_precision_ci(
            metrics["average_precision"].value, int(labels.sum()), labels.size, alpha
        ),
        "f1": analytic.prf_analytic(f1_rows(threshold), alpha)["f1"],
        "f1_best": analytic.prf_analytic(f1_rows(best.threshold), alpha)["f1"],
        "brier": analytic.mean_ci((scores - labels) ** 2, alpha),
        "ece": analytic.ece_ci(labels, scores, alpha=alpha),
        **bias.intervals,
    }
    return {name: (ci.value, ci.low, ci.high, ci.method) for name, ci in intervals.items()}


TEXT_BYTES = 40  # each synthetic item's text: about a madlibs sentence


def _toxicity_task(n: int, method: str) -> tuple[Any, np.ndarray]:
    """The task as the ``bench`` command holds it once a dataset is loaded, and the model's
    scores: the gold view as its loaders build it (``toxicity_gold``: ids and texts as
    columns, labels, identity combinations as codes), with a text of ``TEXT_BYTES`` per
    item."""
    from bench.data.views import toxicity_gold
    from bench.items import TextColumn, TextItems
    from bench.tasks.base import Bootstrap
    from bench.tasks.toxicity import ToxicityTask

    labels, scores, member = toxicity_arrays(n)
    names = np.array([f"identity_{k}" for k in range(N_IDENTITIES)], dtype=object)
    texts = TextColumn(b"x" * (TEXT_BYTES * n), np.arange(1, n + 1) * TEXT_BYTES)
    items = TextItems(TextColumn.of([f"c{i}" for i in range(n)]), texts)
    identities = (tuple(names[row]) for row in member)
    gold = toxicity_gold(items, labels, ("comment",), identities=identities)
    del member
    task = ToxicityTask(gold, "synthetic", Bootstrap(1000, 0, method=method))
    return task, scores


def _peak_mb() -> float:
    """The process's resident high-water mark since :func:`_reset_peak` (Linux)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def toxicity_task_path(n: int, method: str) -> dict[str, Any]:
    """``run_task`` on ready predictions, then the samples written as a run writes them:
    time and peak of each stage."""
    import tempfile

    from bench.adapters.base import LARGE_BATCH, Adapter, Batching
    from bench.predictions import ToxicityScores
    from bench.provenance import scrub_secrets
    from bench.report.files import write_jsonl_atomic
    from bench.runner import run_task

    class Answers(Adapter):
        """The model's scores, already made, handed out batch by batch in the order the
        runner asks (item order: this adapter does not sort by length) as arrays, as a
        vectorised model gives them (``predict_toxicity_scores``)."""

        tasks = frozenset({"toxicity"})
        cacheable = False
        preferred_batching = Batching(LARGE_BATCH)

        def __init__(self, scores: np.ndarray) -> None:
            self.scores, self.given = scores, 0

        def predict_toxicity_scores(self, items: Any) -> ToxicityScores:
            start, self.given = self.given, self.given + len(items)
            return ToxicityScores(self.scores[start : self.given])

    task, scores = _toxicity_task(n, method)
    adapter = Answers(scores)
    out: dict[str, Any] = {"data_mb": _rss_mb()}
    score = task.score

    def timed_score(*args: Any) -> Any:
        out["score_rss_mb"], out["predict_peak_mb"] = _rss_mb(), _peak_mb()
        _reset_peak()
        start = _clocks()
        scored = score(*args)
        out["score_s"], out["score_cpu"] = _since(start)
        out["score_peak_mb"] = _peak_mb()
        return scored

    task.score = timed_score  # type: ignore[method-assign]
    _reset_peak()
    start = _clocks()
    record, samples = run_task(task, adapter, None)
    out["run_task_s"], out["run_task_cpu"] = _since(start)
    if record["status"] != "ok":
        raise SystemExit(record["error"])
    _reset_peak()
    start = _clocks()
    with tempfile.TemporaryDirectory() as tmp:
        write_jsonl_atomic(Path(tmp) / "toxicity.jsonl", scrub_secrets(samples, []))
        out["samples_mb"] = (Path(tmp) / "toxicity.jsonl").stat().st_size / 2**20
    out["write_s"], out["write_cpu"] = _since(start)
    out["write_peak_mb"] = _peak_mb()
    out["seconds"] = out["score_s"] + out["write_s"]
    out["cpu"] = out["score_cpu"] + out["write_cpu"]
    out["peak_mb"] = max(out["score_peak_mb"], out["write_peak_mb"])
    out["command_cpu"] = out["run_task_cpu"] + out["write_cpu"]  # predict, score, write
    out["command_peak_mb"] = max(out["peak_mb"], out["predict_peak_mb"])
    out["check"] = record["metrics"]["bias_score"]["ci95"]["method"]
    return out


def ner_cli(n: int) -> dict[str, Any]:
    """The ``bench`` command on a CoNLL gold and prediction file of ``n`` tokens
    (``benchmarks/bench_cli_ner.py``), with the default options; the files are written
    before the clock starts. Its time, CPU and peak memory are the command's own."""
    import tempfile

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_cli_ner import bench_command, make_corpus, write_conll

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gold, pred = make_corpus(n, 13)
        write_conll(folder / "gold.conll", gold)
        write_conll(folder / "pred.conll", pred)
        del gold, pred
        out, _ = _timed_command(bench_command(folder, None), folder)
        ner = json.loads((folder / "run" / "result.json").read_text())["tasks"]["ner"]
    f1 = ner["metrics"]["strict_f1"]
    out["check"] = f"strict_f1 {f1['value']:.4f}, interval: {f1['ci95']['method']}"
    return out


def _toxicity_run(folder: Path, n: int, scores: np.ndarray, name: str) -> list[str]:
    """The ``bench`` command on ``folder``'s ``data.parquet`` (written if absent: a text of
    ``TEXT_BYTES``, the label and the 20 identity columns of :func:`toxicity_arrays`) and
    ``scores`` as a predictions file ``<name>/toxicity.jsonl``, into run folder
    ``run_<name>``, with the default options."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"identity_{k}" for k in range(N_IDENTITIES)]
    if not (folder / "data.parquet").exists():
        labels, _, member = toxicity_arrays(n)
        columns = {"text": pa.array(["x" * TEXT_BYTES] * n), "label": pa.array(labels)}
        columns |= {name: pa.array(member[:, k]) for k, name in enumerate(names)}
        pq.write_table(pa.table(columns), folder / "data.parquet")
        del columns, member
    (folder / name).mkdir()
    with (folder / name / "toxicity.jsonl").open("w") as f:
        for start in range(0, n, 100_000):  # row-00001 …: the hf loader's row ids
            part = scores[start : start + 100_000].tolist()
            f.write("".join(f'{{"id": "row-{start + k + 1:05d}", "score": {v!r}}}\n'
                            for k, v in enumerate(part)))  # fmt: skip
    return [str(Path(sys.executable).parent / "bench"), "+model=predictions",
            f"model.path={name}", "dataset=hf", "dataset.path=data.parquet",
            "dataset.toxicity.label=label", f"dataset.toxicity.identities=[{','.join(names)}]",
            "task=toxicity", "cache.enabled=false", "progress=false",
            f"hydra.run.dir=run_{name}"]  # fmt: skip


def _timed_command(command: list[str], folder: Path) -> tuple[dict[str, Any], str]:
    """Wall, CPU and peak memory of ``command`` run in ``folder`` (its Hugging Face cache
    there, not in the user's), and what it printed."""
    env = {**os.environ, "HF_DATASETS_CACHE": str(folder / "hf_cache")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode()[-2000:])
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - before.ru_utime - before.ru_stime
    measured = {"seconds": seconds, "cpu": cpu, "data_mb": 0.0, "peak_mb": used.ru_maxrss / 1024}
    return measured, done.stdout.decode()


def toxicity_cli(n: int) -> dict[str, Any]:
    """The ``bench`` command on a toxicity dataset of ``n`` rows read by ``dataset=hf`` and
    the model's scores as a predictions file (:func:`_toxicity_run`); the files are written
    before the clock starts. Its time, CPU and peak memory are the command's own."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out, _ = _timed_command(_toxicity_run(folder, n, toxicity_arrays(n)[1], "pred"), folder)
        tox = json.loads((folder / "run_pred" / "result.json").read_text())["tasks"]["toxicity"]
    bias = tox["metrics"]["bias_score"]
    out["check"] = f"bias_score {bias['value']:.4f}, interval: {bias['ci95']['method']}"
    return out


def compare_cli(n: int) -> dict[str, Any]:
    """``bench-report compare`` of two toxicity runs of ``n`` items (:func:`_toxicity_run`:
    the model's scores, and the same with noise), default options; the runs are made
    before the clock starts. Its time, CPU and peak memory are the command's own."""
    import tempfile

    scores = toxicity_arrays(n)[1]
    noisy = np.clip(np.round(scores + np.random.default_rng(1).normal(0, 0.05, n), 6), 0, 1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, answers in (("a", scores), ("b", noisy)):
            _timed_command(_toxicity_run(folder, n, answers, name), folder)
        report = str(Path(sys.executable).parent / "bench-report")
        out, printed = _timed_command([report, "compare", "run_a", "run_b"], folder)
    row = next(line for line in printed.splitlines() if line.startswith("| toxicity"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    out["check"] = f"A - B {cells[4]}, p {cells[7]} ({printed.splitlines()[0]})"
    return out


def child(kind: str, n: int, method: str) -> None:
    """One measurement; prints one JSON line."""
    import sklearn.metrics  # noqa: F401

    import bench.metrics.analytic  # noqa: F401  imports are not scoring: load them first
    import bench.metrics.bio  # noqa: F401
    import bench.tasks.toxicity  # noqa: F401

    commands = {"ner": ner_cli, "toxicity_cli": toxicity_cli, "compare": compare_cli}
    if kind in commands:
        print(json.dumps(commands[kind](n)))
        return
    if kind == "task":
        print(json.dumps(toxicity_task_path(n, method)))
        return
    data = toxicity_arrays(n)
    run = lambda: score_toxicity_arrays(*data)  # noqa: E731
    data_mb = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    out = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "data_mb": data_mb, "peak_mb": peak_mb,
                      "check": str(out)[:200]}))  # fmt: skip


def measure(kind: str, n: int, method: str = "analytic") -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(n), method],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def exponent(sizes: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def table(title: str, kind: str, sizes: list[int], method: str = "analytic") -> dict[int, float]:
    """One measurement per size, printed; the CPU seconds by size."""
    print(f"\n{title}")
    header = ("n", "wall s", "CPU s", "data MB", "peak MB", "CPU/prev")
    print(f"{header[0]:>12}  " + "  ".join(f"{h:>8}" for h in header[1:]))
    done: list[tuple[int, float]] = []
    for n in sizes:
        r = measure(kind, n, method)
        if "error" in r:
            print(f"{n:>12,}  failed: {r['error']}", flush=True)
            continue
        ratio = f"{r['cpu'] / done[-1][1]:7.1f}x" if done else ""
        cells = f"{r['seconds']:8.1f}  {r['cpu']:8.1f}  {r['data_mb']:8.0f}  {r['peak_mb']:8.0f}"
        note = f"; {r['check']}" if kind != "arrays" else ""  # which intervals it drew
        print(f"{n:>12,}  {cells}  {ratio:>8}  (load {os.getloadavg()[0]:.1f}{note})", flush=True)
        done.append((n, r["cpu"]))
    if len(done) > 1:
        sizes_done, seconds = [n for n, _ in done], [s for _, s in done]
        print(f"growth exponent k (CPU time ∝ n^k): {exponent(sizes_done, seconds):.2f}")
    return dict(done)


def task_table(sizes: list[int], arrays: dict[int, float]) -> None:
    """The toxicity task path per size. "predict": the rest of ``run_task`` (predictions
    asked batch by batch, validated and collected as columns); scoring = ``ToxicityTask.score``
    + the samples written; "all": the three. "data MB": what the loaded gold and the
    model's scores hold; "peak MB": the high-water mark over the whole path (input
    included); "+MB": what scoring adds; "vs arrays": scoring CPU over the arrays path's at
    the same n (this run). The verdict is on CPU time (wall time on a quiet machine; on a
    shared one the wall time grows with the load)."""
    print("\ntoxicity task path (bench.runner.run_task, then samples written), "
          "method=analytic, 20 identities; CPU seconds but wall")  # fmt: skip
    header = ("n", "predict", "score", "write", "all", "wall", "data MB", "peak MB", "+MB",
              "vs arrays")  # fmt: skip
    print(f"{header[0]:>12}  " + "  ".join(f"{h:>9}" for h in header[1:]))
    done: list[tuple[int, float]] = []
    for n in sizes:
        r = measure("task", n)
        if "error" in r:
            print(f"{n:>12,}  failed: {r['error']}", flush=True)
            continue
        added = r["peak_mb"] - r["score_rss_mb"]
        ratio = f"{r['cpu'] / arrays[n]:8.1f}x" if n in arrays else ""
        wall = r["run_task_s"] + r["write_s"]
        cells = (r["run_task_cpu"] - r["score_cpu"], r["score_cpu"], r["write_cpu"],
                 r["command_cpu"], wall, r["data_mb"], r["command_peak_mb"], added)  # fmt: skip
        print(f"{n:>12,}  " + "  ".join(f"{v:9.1f}" for v in cells) + f"  {ratio:>9}"
              f"  (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
        done.append((n, r["command_cpu"]))
        meets = {True: "meets", False: "misses"}
        verdict = (f"{meets[r['command_cpu'] <= 60]} 60 s CPU, "
                   f"{meets[r['command_peak_mb'] <= 3072]} 3 GB peak")  # fmt: skip
        print(f"{'':>12}  predict + score + write {verdict}; samples file "
              f"{r['samples_mb']:.0f} MB")  # fmt: skip
    if len(done) > 1:
        print(f"growth exponent k (CPU ∝ n^k): "
              f"{exponent(*map(list, zip(*done, strict=True))):.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--task-sizes", default="100000,1000000,10000000",
                        help="sizes for the toxicity task path")  # fmt: skip
    parser.add_argument("--ner-sizes", default=None,
                        help="sizes for NER (default: --sizes; '' skips it)")  # fmt: skip
    parser.add_argument("--compare-sizes", default="1000000",
                        help="sizes for bench-report compare ('' skips it)")  # fmt: skip
    parser.add_argument("--bootstrap-sizes", default="100000",
                        help="sizes for the task with 1000 bootstrap resamples")  # fmt: skip
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, method = args.child
        child(kind, int(n), method)
        return
    sizes = [int(v) for v in args.sizes.split(",")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}")  # fmt: skip
    arrays = table("toxicity, arrays, every interval analytic (20 identities)", "arrays", sizes)
    ner_sizes = sizes if args.ner_sizes is None else [int(v) for v in args.ner_sizes.split(",")
                                                      if v]  # fmt: skip
    if ner_sizes:
        table("NER tokens: the whole bench command (predictions file, default options)", "ner",
              ner_sizes)  # fmt: skip
    task_sizes = [int(v) for v in args.task_sizes.split(",") if v]
    task_table(task_sizes, arrays)
    table("toxicity: the whole bench command (dataset=hf parquet, predictions file, "
          "default options)", "toxicity_cli", task_sizes)  # fmt: skip
    compare_sizes = [int(v) for v in args.compare_sizes.split(",") if v]
    if compare_sizes:
        table("toxicity: bench-report compare of two runs (default options)", "compare",
              compare_sizes)  # fmt: skip
    print("\nbootstrap (1000 resamples) vs analytic, the task path's scoring at the same n")
    for n in [int(v) for v in args.bootstrap_sizes.split(",") if v]:
        boot, formula = measure("task", n, "bootstrap"), measure("task", n, "analytic")
        if "error" in boot or "error" in formula:
            print(f"{n:>12,}  failed: {boot.get('error') or formula.get('error')}")
            continue
        print(f"{n:>12,}  bootstrap {boot['cpu']:.1f} s CPU, {boot['peak_mb']:.0f} MB; "
              f"analytic {formula['cpu']:.1f} s CPU, {formula['peak_mb']:.0f} MB; "
              f"{boot['cpu'] / formula['cpu']:.1f}x less CPU")  # fmt: skip


if __name__ == "__main__":
    main()
