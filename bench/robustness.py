"""Robustness (``+perturb=NAME``): the run scored again on a perturbed copy of its
dataset with the same adapter, and each metric's change with a paired interval.

Units are paired by position: both runs score the same items in the same order (items
keep their ids; clusters are the gold segments, in item order then by start, which a
perturbation keeps), each run against its own gold: the perturbed gold's offsets differ
from the original's. See :func:`robustness` for what result.json holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from bench.adapters.base import Adapter
from bench.data.dataset import Dataset
from bench.limit import limited
from bench.metrics.bootstrap import SharedResamples, mean_statistic, resample_sums
from bench.metrics.clusters import Clusters
from bench.perturb import build_perturbation
from bench.perturb.base import Perturbation
from bench.perturb.dataset import PerturbedDataset
from bench.predictions import UnusableInput
from bench.run_config import ConfigError
from bench.sample_rows import SampleRows

Scored = tuple[dict[str, Any], SampleRows, SharedResamples | None]
"""A task scored: its record, its samples and what its intervals were drawn from."""

Score = Callable[[str, Dataset, Adapter], Scored]
"""The runner's scoring of one task: (task name, dataset, adapter) -> :data:`Scored`."""

PAIRED_UNITS = ("cluster", "item")
"""The bootstrap units two runs on the same items share (entities and quotes differ)."""


def perturbations_of(cfg: DictConfig) -> dict[str, Perturbation]:
    """The run's perturbations by key (``+perturb=NAME`` or ``+perturb=[NAME,NAME]``: each
    under ``perturb.NAME``); a bad option is a :class:`ConfigError` naming it."""
    node = cfg.get("perturb")
    if node is None:
        return {}
    options = OmegaConf.to_container(node, resolve=True)
    if not (isinstance(options, dict) and options
            and all(isinstance(v, dict) for v in options.values())):  # fmt: skip
        raise ConfigError(f"perturb={options!r}: expected perturbations (+perturb=NAME)")
    out = {}
    for key, each in options.items():
        name = str(key)
        try:
            out[name] = build_perturbation(each)
        except ValueError as err:  # the classes name an option perturb.OPTION: it is here
            raise ConfigError(str(err).replace("perturb.", f"perturb.{name}.", 1)) from None
    return out


def _perturbed_adapter(cfg: DictConfig, adapter: Adapter, dataset: Dataset) -> Adapter:
    """The same adapter, unless its preset passes ``${dataset}`` (the oracle): then one
    built with the perturbed dataset, so it answers with the perturbed gold."""
    model = OmegaConf.to_container(cfg.model, resolve=False)
    assert isinstance(model, dict), "cfg.model is a preset: a mapping (_target_, its arguments)"
    keys = [str(k) for k, v in model.items() if v == "${dataset}"]  # argument names: str
    return instantiate(cfg.model, **dict.fromkeys(keys, dataset)) if keys else adapter


def robustness(
    cfg: DictConfig,
    perturbation: Perturbation,
    dataset: Dataset,
    adapter: Adapter,
    tasks: dict[str, Any],
    samples: dict[str, SampleRows],
    draws: dict[str, SharedResamples | None],
    score: Score,
) -> dict[str, Any]:
    """``robustness.<perturbation>`` of result.json: the perturbation's options, the
    perturbed dataset's sha256, and per task scored ok on the original: the share of
    items changed, the prediction cache's statistics, and ``metrics.<metric>`` with the
    perturbed ``value``, the ``original``, their ``delta`` (perturbed − original) and
    ``ci95``, its paired bootstrap (:func:`_pairs`); for ner ``entities_lost``
    (:func:`_entities_lost`); for toxicity under a swap of identity terms, ``fairness``."""
    perturbed = PerturbedDataset(dataset, perturbation)
    model = _perturbed_adapter(cfg, adapter, perturbed)
    out: dict[str, Any] = {"perturbation": perturbation.describe(),
                           "dataset_sha256": perturbed.sha256}  # fmt: skip
    for name, record in tasks.items():
        if record.get("status") != "ok" or record["failures"]["count"]:
            status = "degraded" if record.get("status") == "ok" else record.get("status")
            out[name] = {"status": "skipped", "reason": f"{status} unperturbed"}
            continue
        try:
            new, rows, new_draws = score(name, perturbed, model)
        except UnusableInput as err:  # a predictions file answers the original texts only
            out[name] = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
            continue
        if new["status"] != "ok":
            out[name] = {k: v for k, v in new.items() if k in ("status", "error", "failures")}
            continue
        failed = {row["id"] for row in rows if "failure" in row}
        items = limited(list(perturbed.view(name).items), cfg.limit, cfg.limit_seed)
        scored = [item.id for item in items if item.id not in failed]
        changed = sum(bool(perturbed.items[i].edits) for i in scored)
        n = len(scored)
        # pairs need every item answered in both runs (a degraded perturbed run: none)
        paired = not new["failures"]["count"]
        pairs = None
        if paired and cfg.bootstrap.resamples and cfg.bootstrap.unit[name] in PAIRED_UNITS:
            pairs = _pairs(draws[name], new_draws, list(new["metrics"]))
        metrics = {}
        for metric, value in new["metrics"].items():
            base = record["metrics"].get(metric, {}).get("value")
            delta = None if None in (base, value["value"]) else value["value"] - base
            metrics[metric] = {"value": value["value"], "original": base, "delta": delta}
        out[name] = {
            "status": "ok",
            "main_metrics": new["main_metrics"],
            "changed": {"items": changed, "n": n, "share": changed / n if n else 0.0},
            "metrics": metrics,
            "failures": new["failures"],
            "predictions": new["predictions"],  # the cache of the perturbed texts
        }
        if name == "ner" and paired:
            unit = cfg.bootstrap.unit[name]
            lost = _entities_lost(dataset.view(name), perturbed, samples[name], rows, unit)
            out[name]["entities_lost"] = lost.json()
            if pairs is not None and lost.found:
                pairs.add_one(lost.statistic, "entities_lost", len(lost.counts))
        if pairs is not None:
            for key, ci in pairs.intervals().items():
                interval = {k: v for k, v in ci.to_json().items() if k != "value"}
                (out[name] if key == "entities_lost" else metrics)[key]["ci95"] = interval
        if name == "toxicity" and hasattr(perturbation, "identities") and paired:
            out[name]["fairness"] = _fairness(perturbed, samples[name], rows, cfg)
    return out


def _pairs(
    original: SharedResamples | None, perturbed: SharedResamples | None, metrics: list[str]
) -> SharedResamples | None:
    """The draws of every metric's delta, perturbed − original: each task's statistics of
    its intervals, evaluated for both runs on the same resampled units
    (:meth:`SharedResamples.minus`). None without both draws; an analytic interval
    (``bootstrap.method``) is not drawn, so its delta gets none."""
    if original is None or perturbed is None:
        return None
    return perturbed.minus(original, metrics)


@dataclass(frozen=True)
class EntitiesLost:
    """Per unit (cluster or item), the gold entities found (same span and type) on the
    original and, of those, the ones not found at their image in the perturbed text."""

    counts: np.ndarray  # (units, 2): found, lost

    @property
    def found(self) -> int:
        return int(self.counts[:, 0].sum())

    def statistic(self, indices: np.ndarray) -> np.ndarray:
        """The share lost, per resample (NaN where nothing was found)."""
        sums = resample_sums(self.counts, indices)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[:, 1] / sums[:, 0]

    def json(self) -> dict[str, Any]:
        found, lost = (int(x) for x in self.counts.sum(axis=0))
        return {"value": lost / found if found else None, "lost": lost, "found": found}


def _entities_lost(
    view: Any,
    perturbed: PerturbedDataset,
    rows_b: Sequence[dict[str, Any]],
    rows_a: Sequence[dict[str, Any]],
    unit: str,
) -> EntitiesLost:
    """The entities of the original run's (``rows_b``) correct predictions that the
    perturbed run (``rows_a``) misses: the gold span, carried through the item's offset
    map, not predicted with its type. Units: the original's clusters (``unit`` cluster:
    its gold segments) or items."""
    ids = [r["id"] for r in rows_b if "failure" not in r]
    clusters = Clusters(ids, view.segments if unit == "cluster" else ())
    predicted = {r["id"]: {tuple(span[:3]) for span in r["pred"]}
                 for r in rows_a if "failure" not in r}  # fmt: skip
    found: list[tuple[str, int, bool]] = []
    for r in rows_b:
        for start, end, label in {tuple(s[:3]) for s in r.get("gold", ())} & {
            tuple(s[:3]) for s in r.get("pred", ())
        }:
            image = (*perturbed.items[r["id"]].offsets.span(start, end), label)
            found.append((r["id"], start, image not in predicted[r["id"]]))
    counts = np.zeros((len(clusters), 2))
    if found:
        codes = clusters.of_spans([f[0] for f in found], [f[1] for f in found])
        np.add.at(counts, codes, [(1, lost) for _, _, lost in found])
    return EntitiesLost(counts)


def _fairness(
    perturbed: PerturbedDataset,
    rows_b: Sequence[dict[str, Any]],
    rows_a: Sequence[dict[str, Any]],
    cfg: DictConfig,
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
