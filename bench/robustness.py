"""Robustness (``+perturb=NAME``): the run scored again on a perturbed copy of its
dataset with the same adapter, and each metric's change with a paired interval.

Units are paired by id (items keep their ids; clusters are the gold segments, whose
ids a perturbation keeps), each run scored against its own gold: the perturbed gold's
offsets differ from the original's. See :func:`robustness` for what result.json holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from bench.adapters.base import Adapter
from bench.data.dataset import Dataset
from bench.limit import limited
from bench.metrics.bootstrap import (
    PairedTest,
    StatisticBuilder,
    average_precision_statistic,
    f1_statistic,
    mean_statistic,
    roc_auc_statistic,
)
from bench.metrics.clusters import Clusters, cluster_sums
from bench.metrics.spans import strict_units
from bench.perturb import build_perturbation
from bench.perturb.base import Perturbation
from bench.perturb.dataset import PerturbedDataset
from bench.report.compare import CLUSTER_UNIT, paired_test
from bench.run_config import ConfigError

Score = Callable[[str, Dataset, Adapter], tuple[dict[str, Any], list]]
"""The runner's scoring of one task: (task name, dataset, adapter) -> (record, samples)."""


def perturbation_of(cfg: DictConfig) -> Perturbation | None:
    """The run's ``perturb`` (None without one); a bad option is a :class:`ConfigError`."""
    node = cfg.get("perturb")
    if node is None:
        return None
    options = OmegaConf.to_container(node, resolve=True)
    if not isinstance(options, dict):
        raise ConfigError(f"perturb={options!r}: expected a perturbation (+perturb=NAME)")
    try:
        return build_perturbation(options)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def _perturbed_adapter(cfg: DictConfig, adapter: Adapter, dataset: Dataset) -> Adapter:
    """The same adapter, unless its preset passes ``${dataset}`` (the oracle): then one
    built with the perturbed dataset, so it answers with the perturbed gold."""
    model = OmegaConf.to_container(cfg.model, resolve=False)
    keys = [k for k, v in model.items() if v == "${dataset}"]
    return instantiate(cfg.model, **dict.fromkeys(keys, dataset)) if keys else adapter


def robustness(
    cfg: DictConfig,
    perturbation: Perturbation,
    dataset: Dataset,
    adapter: Adapter,
    tasks: dict[str, Any],
    samples: dict[str, list],
    score: Score,
) -> dict[str, Any]:
    """``robustness.<perturbation>`` of result.json: the perturbation's options, the
    perturbed dataset's sha256, and per task scored ok on the original: the share of
    items changed, the prediction cache's statistics, and ``metrics.<metric>`` with the
    perturbed ``value``, the ``original``, their ``delta`` (perturbed − original) and,
    for the metrics :func:`_paired` pairs, ``ci95``: the
    paired bootstrap of the delta (``bench.report.compare.paired_test``); for toxicity
    under a swap of identity terms, ``fairness``."""
    perturbed = PerturbedDataset(dataset, perturbation)
    model = _perturbed_adapter(cfg, adapter, perturbed)
    out: dict[str, Any] = {"perturbation": perturbation.describe(),
                           "dataset_sha256": perturbed.sha256}  # fmt: skip
    for name, record in tasks.items():
        if record.get("status") != "ok" or record["failures"]["count"]:
            status = "degraded" if record.get("status") == "ok" else record.get("status")
            out[name] = {"status": "skipped", "reason": f"{status} unperturbed"}
            continue
        new, rows = score(name, perturbed, model)
        if new["status"] != "ok":
            out[name] = {k: v for k, v in new.items() if k in ("status", "error", "failures")}
            continue
        failed = {row["id"] for row in rows if "failure" in row}
        items = limited(perturbed.view(name).items, cfg.limit, cfg.limit_seed)
        scored = [item.id for item in items if item.id not in failed]
        changed = sum(bool(perturbed.items[i].edits) for i in scored)
        n = len(scored)
        # pairs need every item answered in both runs (a degraded perturbed run: none)
        paired = not new["failures"]["count"]
        tests = _paired(name, dataset, perturbed, samples[name], rows, cfg) if paired else {}
        metrics = {}
        for metric, value in new["metrics"].items():
            base = record["metrics"].get(metric, {}).get("value")
            delta = None if None in (base, value["value"]) else value["value"] - base
            entry = {"value": value["value"], "original": base, "delta": delta}
            if metric in tests:
                entry["ci95"] = tests[metric]
            metrics[metric] = entry
        out[name] = {
            "status": "ok",
            "main_metrics": new["main_metrics"],
            "changed": {"items": changed, "n": n, "share": changed / n if n else 0.0},
            "metrics": metrics,
            "failures": new["failures"],
            "predictions": new["predictions"],  # the cache of the perturbed texts
        }
        if name == "toxicity" and hasattr(perturbation, "identities") and paired:
            out[name]["fairness"] = _fairness(perturbed, samples[name], rows, cfg)
    return out


def _delta(test: PairedTest) -> dict[str, Any]:
    return {k: v for k, v in test.to_json().items() if k != "difference"}


def _test(make: StatisticBuilder, a: Any, b: Any, cfg: DictConfig, unit: str) -> dict[str, Any]:
    """The paired bootstrap of perturbed (``a``) minus original (``b``)."""
    b_cfg = cfg.bootstrap
    return _delta(paired_test(make, a, b, b_cfg.resamples, b_cfg.seed, "bootstrap", unit))


def _clusters(view: Any, rows: list[dict]) -> Clusters:
    """The clusters of the items with rows in either run (as ``bench.report.compare``
    pairs them), from the gold segments of ``view``: the same codes in both runs."""
    return Clusters(sorted({row["id"] for row in rows}), view.segments)


def _paired(
    name: str, dataset: Dataset, perturbed: Dataset, rows_b: list, rows_a: list, cfg: DictConfig
) -> dict[str, dict[str, Any]]:
    """The paired intervals of the deltas: ner ``strict_f1`` and attribution ``e2e_f1``
    on clusters, each run's spans against its own gold; toxicity ``roc_auc``,
    ``average_precision``, ``f1`` and ``brier`` on the items of the main level."""
    if cfg.bootstrap.resamples == 0:
        return {}
    if name == "toxicity":
        main = dataset.view("toxicity").levels[0]
        by_id = [{r["id"]: r for r in rows if r.get("level") == main} for rows in (rows_a, rows_b)]
        ids = sorted(by_id[1])
        labels = np.array([by_id[1][i]["gold"] for i in ids], dtype=np.int64)
        scores = [np.array([rows[i]["score"] for i in ids], dtype=float) for rows in by_id]
        threshold = cfg.toxicity.threshold
        f1_rows = [np.column_stack([(s >= threshold) & labels, s >= threshold, labels]).astype(int)
                   for s in scores]  # fmt: skip
        return {
            "roc_auc": _test(roc_auc_statistic, (labels, scores[0]), (labels, scores[1]), cfg,
                             "item"),
            "average_precision": _test(average_precision_statistic, (labels, scores[0]),
                                       (labels, scores[1]), cfg, "item"),
            "f1": _test(f1_statistic, (f1_rows[0],), (f1_rows[1],), cfg, "item"),
            "brier": _test(mean_statistic, ((scores[0] - labels) ** 2,),
                           ((scores[1] - labels) ** 2,), cfg, "item"),
        }  # fmt: skip
    clusters = [_clusters(d.view(name), [*rows_a, *rows_b]) for d in (perturbed, dataset)]
    if name == "ner":
        units = [_ner_units(rows, c) for rows, c in zip((rows_a, rows_b), clusters, strict=True)]
        return {"strict_f1": _test(f1_statistic, (units[0],), (units[1],), cfg, CLUSTER_UNIT)}
    units = [_attribution_units(rows, c)
             for rows, c in zip((rows_a, rows_b), clusters, strict=True)]  # fmt: skip
    return {"e2e_f1": _test(f1_statistic, (units[0],), (units[1],), cfg, CLUSTER_UNIT)}


def _ner_units(rows: list[dict], clusters: Clusters) -> np.ndarray:
    gold, pred = ({(r["id"], *span[:3]) for r in rows for span in r[side]}
                  for side in ("gold", "pred"))  # fmt: skip
    return strict_units(gold, pred, CLUSTER_UNIT, clusters=clusters)


def _attribution_units(rows: list[dict], clusters: Clusters) -> np.ndarray:
    """Per cluster, (end-to-end correct, predicted, gold) of the rows whose record (the
    gold one of a matched row) starts in it."""
    counts = [(r["e2e_correct"], r["pred"] is not None, r["gold"] is not None) for r in rows]
    starts = [min(p[0] for p in (r["gold"] or r["pred"])["content"]) for r in rows]
    codes = clusters.of_spans([r["id"] for r in rows], starts)
    return cluster_sums(np.array(counts, dtype=int).reshape(-1, 3), codes, len(clusters))


def _fairness(
    perturbed: PerturbedDataset, rows_b: list, rows_a: list, cfg: DictConfig
) -> dict[str, Any]:
    """Counterfactual token fairness (Garg et al., 2019) over the items whose identity
    terms were swapped: the ``gap``, mean |score(x) − score(x′)|, and the ``flip_rate``,
    the share whose prediction at ``toxicity.threshold`` changes, each with a bootstrap
    interval over those items; and both by identity pair (``old → new``, every swap of
    an item counted for its pair)."""
    from bench.metrics.bootstrap import bootstrap_ci

    score_b = {r["id"]: r["score"] for r in rows_b if "score" in r}
    score_a = {r["id"]: r["score"] for r in rows_a if "score" in r}
    ids = sorted(i for i in score_a if perturbed.items[i].edits and i in score_b)
    threshold = cfg.toxicity.threshold
    gaps = np.array([abs(score_a[i] - score_b[i]) for i in ids], dtype=float)
    flips = np.array([(score_a[i] >= threshold) != (score_b[i] >= threshold) for i in ids], float)
    b = cfg.bootstrap
    out: dict[str, Any] = {"items": len(ids), "threshold": threshold}
    for metric, values in (("gap", gaps), ("flip_rate", flips)):
        entry: dict[str, Any] = {"value": float(values.mean()) if len(ids) else None}
        if len(ids) and b.resamples:
            entry["ci95"] = bootstrap_ci(mean_statistic(values), len(ids), b.resamples, b.seed,
                                         b.alpha, unit="item").to_json()  # fmt: skip
        out[metric] = entry
    pairs: dict[str, list[int]] = {}
    for k, item_id in enumerate(ids):
        for old, new in perturbed.items[item_id].changes:
            pairs.setdefault(f"{old.lower()} → {new.lower()}", []).append(k)
    out["by_pair"] = {
        pair: {
            "items": len(ks),
            "gap": float(gaps[ks].mean()),
            "flip_rate": float(flips[ks].mean()),
        }  # fmt: skip
        for pair, ks in sorted(pairs.items())
    }
    return out


TABLE_HEADERS = ["perturbation", "task", "metric", "value", "original", "delta",
                 "delta_ci95_low", "delta_ci95_high", "changed_items"]  # fmt: skip


def robustness_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per (perturbation, task, main metric) with the delta's paired interval,
    and for toxicity under an identity swap the counterfactual gap and flip rate (each
    itself a difference: its interval is its own)."""
    rows = []
    for perturbation, tasks in result.get("robustness", {}).items():
        for task, record in tasks.items():
            if not isinstance(record, dict) or record.get("status") != "ok":
                continue
            changed = f"{record['changed']['items']}/{record['changed']['n']}"
            for metric in record["main_metrics"]:
                m = record["metrics"][metric]
                ci = m.get("ci95", {})
                rows.append([perturbation, task, metric, m["value"], m["original"], m["delta"],
                             ci.get("low"), ci.get("high"), changed])  # fmt: skip
            for metric in ("gap", "flip_rate"):
                if metric in record.get("fairness", {}):
                    m = record["fairness"][metric]
                    ci = m.get("ci95", {})
                    rows.append([perturbation, task, f"counterfactual_{metric}", m["value"],
                                 None, None, ci.get("low"), ci.get("high"), changed])  # fmt: skip
    return TABLE_HEADERS, rows
