"""Time bench's vectorised bootstrap intervals against loops of the reference functions.

ROC-AUC against a loop of scikit-learn calls; the Jigsaw bias score and its power
means (``jigsaw_bias_statistic``) against a loop of ``jigsaw_bias_score``.

Data: the Jigsaw "bias madlibs" 77k sentences (columns Text, Label, Template;
Label BAD = toxic, NOT_BAD = non-toxic); identities are found in the text as
``bench.data.csv_sets.Madlibs`` finds them, with the terms of
``conf/dataset/madlibs.yaml``. The file carries no model scores, so
every row gets a deterministic *synthetic* score — a seeded noisy function of
its label, continuous as a model's probabilities are (almost no ties: rounding to a
few decimals would favour bench, whose cost grows with the distinct scores) — and
the numbers below measure speed and agreement only, not any model.

Both sides compute a percentile interval from the same resample indices
(``bench.metrics.bootstrap.resample_indices``); times include drawing the
indices. Usage::

    .venv/bin/python benchmarks/bench_bootstrap.py [--csv PATH] [--resamples 1000]
        [--sklearn-resamples N]   # N < resamples: time the loop on N and extrapolate
        [--bias-resamples M]      # the bias loop on M resamples (~2 s each), extrapolated
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.metrics.bias import (  # noqa: E402
    BIAS_AUCS,
    BIAS_SUMMARIES,
    jigsaw_bias_score,
    jigsaw_bias_statistic,
)
from bench.metrics.bootstrap import (  # noqa: E402
    bootstrap_cis,
    resample_indices,
    roc_auc_bootstrap,
    roc_auc_statistic,
)

CANDIDATES = (
    REPO / "datasets" / "madlibs" / "bias_madlibs_77k.csv",
    Path("/work/shared/external/jigsaw-bias-madlibs/bias_madlibs_77k.csv"),
)
LABELS = {"BAD": 1, "NOT_BAD": 0}
SCORE_SEED = 20190101


def find_csv(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    for path in CANDIDATES:
        if path.exists():
            return path
    raise SystemExit("madlibs CSV not found in: " + ", ".join(map(str, CANDIDATES)))


def load_labels(path: Path) -> np.ndarray:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"Text", "Label"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: missing columns {sorted(missing)}")
        return np.array([LABELS[row["Label"]] for row in reader], dtype=np.int64)


def load_identities(path: Path) -> list[tuple[str, ...]]:
    """The identity terms each row mentions, as the madlibs dataset of bench finds them."""
    from omegaconf import OmegaConf

    from bench.data.csv_sets import Madlibs

    terms = list(OmegaConf.load(REPO / "conf" / "dataset" / "madlibs.yaml").identity_terms)
    gold = Madlibs(terms, file=path.name, path=str(path.parent)).toxicity()
    return [gold.identities(k) for k in range(len(gold.items))]


def synthetic_scores(labels: np.ndarray, seed: int = SCORE_SEED) -> np.ndarray:
    """sigmoid(1.5·(2y − 1) + N(0, 1.5²)): continuous, model-like probabilities."""
    noise = np.random.default_rng(seed).normal(0.0, 1.5, labels.size)
    return 1.0 / (1.0 + np.exp(-(1.5 * (2 * labels - 1) + noise)))


def sklearn_loop(labels: np.ndarray, scores: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """One roc_auc_score call per resample row; NaN where a resample has one class."""
    from sklearn.metrics import roc_auc_score

    out = []
    for batch in resample_indices(labels.size, n_resamples, seed):
        for row in batch:
            y = labels[row]
            out.append(roc_auc_score(y, scores[row]) if 0 < y.sum() < y.size else np.nan)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="path of bias_madlibs_77k.csv")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sklearn-resamples", type=int, default=None)
    parser.add_argument("--bias-resamples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_resamples = args.resamples
    n_sk = (
        n_resamples if args.sklearn_resamples is None else min(args.sklearn_resamples, n_resamples)
    )

    path = find_csv(args.csv)
    labels = load_labels(path)
    scores = synthetic_scores(labels)
    print(f"data: {path} ({labels.size} rows, {labels.sum()} BAD = toxic)")
    print(
        "scores: SYNTHETIC, not a model — sigmoid(1.5*(2*label-1) + N(0, 1.5^2)), "
        f"numpy seed {SCORE_SEED}, continuous ({np.unique(scores).size} distinct)"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )

    roc_auc_bootstrap(labels[:1000], scores[:1000], n_resamples=10)  # warm-up
    t0 = time.perf_counter()
    ci = roc_auc_bootstrap(labels, scores, n_resamples=n_resamples, seed=args.seed)
    t_bench = time.perf_counter() - t0
    print(
        f"bench vectorised: AUC {ci.value:.6f}, 95% CI [{ci.low:.6f}, {ci.high:.6f}], "
        f"{ci.n_resamples} resamples ({ci.n_dropped} dropped) in {t_bench:.2f} s"
    )

    t0 = time.perf_counter()
    reference = sklearn_loop(labels, scores, n_sk, args.seed)
    t_loop = time.perf_counter() - t0
    if n_sk < n_resamples:
        t_sklearn = t_loop * n_resamples / n_sk
        print(
            f"sklearn loop: {n_sk} of {n_resamples} resamples in {t_loop:.2f} s; "
            f"EXTRAPOLATED to {n_resamples}: {t_sklearn:.2f} s (not measured)"
        )
    else:
        t_sklearn = t_loop
        kept = reference[np.isfinite(reference)]
        low, high = np.quantile(kept, [0.025, 0.975])
        print(
            f"sklearn loop: 95% CI [{low:.6f}, {high:.6f}], {n_sk} resamples "
            f"({n_sk - kept.size} dropped) in {t_loop:.2f} s (measured)"
        )
        same = abs(low - ci.low) <= 1e-12 and abs(high - ci.high) <= 1e-12
        print(
            f"intervals equal to 1e-12: {same} (|Δlow| {abs(low - ci.low):.1e}, "
            f"|Δhigh| {abs(high - ci.high):.1e})"
        )

    statistic = roc_auc_statistic(labels, scores)
    ours = np.concatenate([statistic(b) for b in resample_indices(labels.size, n_sk, args.seed)])
    both = np.isfinite(ours) & np.isfinite(reference)
    same_dropped = bool((np.isfinite(ours) == np.isfinite(reference)).all())
    diff = float(np.max(np.abs(ours[both] - reference[both]))) if both.any() else 0.0
    print(
        f"per resample, bench vs sklearn over {n_sk} resamples: max |diff| {diff:.1e}, "
        f"same resamples dropped: {same_dropped}"
    )
    ratio = t_sklearn / t_bench
    verdict = "meets" if ratio >= 10 else "MISSES"
    print(f"speed-up: {ratio:.1f}x ({verdict} the 10x target)")
    compare_bias(path, labels, scores, n_resamples, args.bias_resamples, args.seed)


def bias_loop(
    labels: np.ndarray,
    scores: np.ndarray,
    identities: list[tuple[str, ...]],
    indices: np.ndarray,
) -> np.ndarray:
    """jigsaw_bias_score's final score and power means per resample row; NaN where undefined."""
    out = []
    for row in indices:
        report = jigsaw_bias_score(labels[row], scores[row], [identities[i] for i in row])
        values = [report.final_score.value, *(report.means[m].value.value for m in BIAS_AUCS)]
        out.append([np.nan if v is None else v for v in values])
    return np.array(out, dtype=float)


def compare_bias(
    path: Path, labels: np.ndarray, scores: np.ndarray, n_resamples: int, n_loop: int, seed: int
) -> None:
    """Time the bias intervals, and check them per resample against a loop on the first rows."""
    identities = load_identities(path)
    print(f"identities: {sum(map(len, identities))} mentions on {sum(map(bool, identities))} rows")
    t0 = time.perf_counter()
    statistic = jigsaw_bias_statistic(labels, scores, identities)
    cis = bootstrap_cis(statistic, BIAS_SUMMARIES, labels.size, n_resamples, seed)
    t_bench = time.perf_counter() - t0
    for name, ci in cis.items():
        print(f"bench vectorised {name}: {ci.value:.6f}, 95% CI [{ci.low:.6f}, {ci.high:.6f}]")
    print(f"bench vectorised bias intervals: {n_resamples} resamples in {t_bench:.2f} s")

    rows = next(resample_indices(labels.size, n_resamples, seed, batch_size=n_loop))
    t0 = time.perf_counter()
    reference = bias_loop(labels, scores, identities, rows)
    t_loop = time.perf_counter() - t0
    ours = statistic(rows)
    same_nan = bool((np.isnan(ours) == np.isnan(reference)).all())
    both = ~np.isnan(ours) & ~np.isnan(reference)
    diff = float(np.max(np.abs(ours[both] - reference[both]), initial=0.0))
    t_reference = t_loop * n_resamples / n_loop
    print(
        f"jigsaw_bias_score loop: {n_loop} resamples in {t_loop:.2f} s; EXTRAPOLATED to "
        f"{n_resamples}: {t_reference:.0f} s (not measured); per resample max |diff| "
        f"{diff:.1e}, same undefined: {same_nan}; speed-up {t_reference / t_bench:.0f}x"
    )


if __name__ == "__main__":
    main()
