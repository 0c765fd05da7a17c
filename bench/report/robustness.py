"""The ``robustness`` section of result.json read back: each perturbation's change of
every metric and measure, the worst case over perturbations, and their tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.metrics.values import higher_is_better


@dataclass(frozen=True)
class Change:
    """One task's change under one perturbation: a metric's ``delta`` (perturbed −
    original), or a measure that is itself a change (``counterfactual_gap``,
    ``counterfactual_flip_rate``, ``entities_lost``: its value), with its paired interval."""

    perturbation: str
    task: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    main: bool  # a main metric of the task, or a measure: what the tables show

    def json(self) -> dict[str, Any]:
        return {"perturbation": self.perturbation, "change": self.value,
                "low": self.low, "high": self.high}  # fmt: skip


def _measures(record: dict[str, Any], where: str) -> Iterator[tuple[str, str, Any]]:
    """The measures of a task's record that are changes themselves: (name, field, record)."""
    fairness = _object(record.get("fairness", {}), f"{where}.fairness")
    for name in ("gap", "flip_rate"):
        if name in fairness:
            yield f"counterfactual_{name}", f"{where}.fairness.{name}", fairness[name]
    if "entities_lost" in record:
        yield "entities_lost", f"{where}.entities_lost", record["entities_lost"]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _change(key: tuple[str, str, str], m: Any, field: str, where: str, main: bool) -> Change:
    """The change recorded in ``m[field]`` with its ``ci95``, checked (``where``: its path)."""
    m = _object(m, where)
    if field not in m:
        raise ValueError(f"{where}.{field}: missing")
    ci = _object(m.get("ci95") or {}, f"{where}.ci95")
    values = (m[field], ci.get("low"), ci.get("high"))
    for name, v in zip((field, "ci95.low", "ci95.high"), values, strict=True):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ValueError(f"{where}.{name}: expected a number or null, got {str(v)[:40]!r}")
    return Change(*key, *values, main)


def changes(result: dict[str, Any]) -> list[Change]:
    """Every change in ``result["robustness"]`` (none without it), in its order: per
    perturbation and task scored ok, each metric's delta, then the measures. A malformed
    section is a ``ValueError`` naming the field (result files may come from strangers)."""
    out = []
    for perturbation, tasks in _object(result.get("robustness", {}), "robustness").items():
        for task, record in _object(tasks, f"robustness.{perturbation}").items():
            if not isinstance(record, dict) or record.get("status") != "ok":
                continue
            where = f"robustness.{perturbation}.{task}"
            main = record.get("main_metrics")
            if not isinstance(main, list):
                raise ValueError(f"{where}.main_metrics: expected a list")
            for metric, m in _object(record.get("metrics"), f"{where}.metrics").items():
                key = (perturbation, task, metric)
                out.append(_change(key, m, "delta", f"{where}.metrics.{metric}", metric in main))
            for measure, field, m in _measures(record, where):
                out.append(_change((perturbation, task, measure), m, "value", field, True))
    return out


def worst_case(result: dict[str, Any]) -> dict[tuple[str, str], Change]:
    """Per (task, metric), the worst change over the perturbations: the lowest delta of a
    higher-is-better metric, the highest of a lower-is-better one (ECE, Brier) and of
    the measures (gap, flip rate, entities lost; :func:`bench.metrics.values.higher_is_better`).
    Undefined changes are left out; a tie keeps the first perturbation."""
    worst: dict[tuple[str, str], tuple[float, Change]] = {}  # (how good, the change)
    for change in changes(result):
        if change.value is None:
            continue
        good = change.value if higher_is_better(change.metric) else -change.value
        key = (change.task, change.metric)
        if key not in worst or good < worst[key][0]:
            worst[key] = (good, change)
    return {key: change for key, (_, change) in worst.items()}


TABLE_HEADERS = ["perturbation", "task", "metric", "value", "original", "delta",
                 "delta_ci95_low", "delta_ci95_high", "changed_items"]  # fmt: skip


def robustness_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per (perturbation, task, main metric) with the delta's paired interval,
    then the measures that are changes themselves (counterfactual gap and flip rate,
    entities lost: value and interval, no original nor delta)."""
    rows = []
    for change in changes(result):
        if not change.main:
            continue
        record = result["robustness"][change.perturbation][change.task]
        changed = f"{record['changed']['items']}/{record['changed']['n']}"
        m = record["metrics"].get(change.metric)
        value, original = (m["value"], m["original"]) if m else (change.value, None)
        rows.append([change.perturbation, change.task, change.metric, value, original,
                     change.value if m else None, change.low, change.high, changed])  # fmt: skip
    return TABLE_HEADERS, rows


def worst_case_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Per task and main metric or measure, its worst change over the perturbations
    (:func:`worst_case`) and which perturbation caused it."""
    rows = [[task, metric, c.perturbation, c.value, c.low, c.high]
            for (task, metric), c in worst_case(result).items() if c.main]  # fmt: skip
    return ["task", "metric", "worst_perturbation", "change", "ci95_low", "ci95_high"], rows
