"""Issue 16: a task draws its resamples once (per number of units) for all its metric
families, with intervals identical to one draw per family (the separate path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bench_config import compose_config

from bench.metrics import bootstrap
from bench.metrics.bootstrap import (
    SharedResamples,
    bootstrap_cis,
    paired_bootstrap,
    prf_statistic,
)
from bench.runner import build, build_task, run_task


def _score(monkeypatch, dataset_name: str, task: str, *overrides: str) -> tuple[dict, list, str]:
    """The task's result with the rules baseline (its WNUT-17 preset there), every
    statistic the task added, and the unit resampled; checks that resample indices were
    drawn once per number of units."""
    added: list[tuple[Any, tuple, int]] = []
    draws = []
    add, indices = SharedResamples.add, bootstrap.resample_indices

    def recording_add(self, statistic, names, n_units) -> None:  # noqa: ANN001
        added.append((statistic, tuple(names), n_units))
        add(self, statistic, names, n_units)

    def counting_indices(n_units, *args, **kwargs):  # noqa: ANN001, ANN202
        draws.append(n_units)
        return indices(n_units, *args, **kwargs)

    preset = "rules_wnut17" if dataset_name == "wnut17" else "rules"
    cfg = compose_config(f"dataset={dataset_name}", "bootstrap.resamples=200", *overrides,
                         model=preset)  # fmt: skip
    dataset, adapter = build(cfg.dataset, dataset_name), build(cfg.model, preset)
    with monkeypatch.context() as patch:
        patch.setattr(SharedResamples, "add", recording_add)
        patch.setattr(bootstrap, "resample_indices", counting_indices)
        record, _ = run_task(build_task(task, dataset, preset, cfg), adapter, 64)
    assert record["status"] == "ok", record
    assert sorted(draws) == sorted({n for _, _, n in added}), "one draw per number of units"
    return record, added, cfg.bootstrap.unit[task]


@pytest.mark.parametrize(
    ("dataset_name", "task", "overrides"),
    [
        ("seed_article", "ner", ()),
        ("seed_article", "ner", ("bootstrap.unit.ner=entity",)),
        ("seed_article", "attribution", ()),
        ("seed_article", "toxicity", ()),
        ("wnut17", "ner", ()),
        ("hatecheck", "toxicity", ()),
        ("madlibs", "toxicity", ()),
    ],
)
def test_shared_draws_give_the_intervals_of_one_draw_per_family(
    monkeypatch, dataset_name, task, overrides
):
    record, added, unit = _score(monkeypatch, dataset_name, task, *overrides)
    separate: dict[Any, dict] = {}
    for statistic, names, n_units in added:  # the separate path: one draw per family
        cis = bootstrap_cis(statistic, [str(j) for j in range(len(names))], n_units, 200,
                            seed=0, unit=unit)  # fmt: skip
        separate |= {name: cis[str(j)].to_json() for j, name in enumerate(names)}
    shared = {name: m["ci95"] for name, m in record["metrics"].items() if "ci95" in m}
    for label, scores in record["breakdown"].get("per_label", {}).items():
        shared |= {(label, name): ci for name, ci in scores["ci95"].items()}
    # toxicity's F1 at the threshold adds precision and recall it does not report
    assert len(shared) >= 3 and shared == {k: v for k, v in separate.items() if k in shared}
    assert set(separate) == set(shared)


@pytest.mark.parametrize(
    ("dataset_name", "task"),
    [("seed_article", "ner"), ("seed_article", "attribution"), ("hatecheck", "toxicity"),
     ("madlibs", "toxicity")],
)  # fmt: skip
def test_analytic_intervals_draw_nothing(monkeypatch, dataset_name, task):
    """bootstrap.method=analytic: every interval comes from its formula, put beside the
    drawn ones; no statistic is added and no resample drawn."""
    record, added, _ = _score(monkeypatch, dataset_name, task, "bootstrap.method=analytic")
    assert added == []
    methods = {m["ci95"]["method"] for m in record["metrics"].values() if "ci95" in m}
    for scores in record["breakdown"].get("per_label", {}).values():
        methods |= {ci["method"] for ci in scores["ci95"].values()}
    assert methods and "percentile bootstrap" not in methods, methods
    assert all(m["ci95"] is not None for m in record["metrics"].values() if "ci95" in m)


def test_minus_is_the_paired_bootstrap_of_the_common_names() -> None:
    """Statistics added under the same names on the same units pair column by column
    (whatever their grouping), as ``paired_bootstrap`` of each; others are left out."""
    rng = np.random.default_rng(0)
    a, b = (
        np.column_stack([tp, tp + rng.integers(0, 3, 60), tp + rng.integers(0, 3, 60)])
        for tp in (rng.integers(0, 4, 60) for _ in range(2))
    )  # (tp, n_pred, n_gold)
    mine, theirs = SharedResamples(300, 7), SharedResamples(300, 7)
    mine.add(prf_statistic(a), ["p", "r", "f1"], 60)
    theirs.add(lambda idx: prf_statistic(b)(idx)[:, [1, 0]], ["r", "p"], 60)  # other groups
    theirs.add_one(lambda idx: prf_statistic(b)(idx)[:, 2], "f1", 60)
    theirs.add_one(lambda idx: idx.mean(axis=1), "other", 60)  # not in mine
    out = mine.minus(theirs, ["f1", "r", "other"]).intervals()
    assert set(out) == {"r", "f1"}
    for j, name in ((1, "r"), (2, "f1")):

        def column(contributions, j=j):  # noqa: ANN001, ANN202
            return lambda idx: prf_statistic(contributions)(idx)[:, j]

        expected = paired_bootstrap(column, a, b, 300, 7)
        assert out[name].value == pytest.approx(expected.difference)
        assert (out[name].low, out[name].high) == pytest.approx((expected.low, expected.high))
