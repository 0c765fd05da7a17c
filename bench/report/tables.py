"""Result tables as Markdown (printed and written) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

MISSING = "\u2014"  # em dash: a value that failed, is unsupported or is undefined


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or "—"; one that rounds to zero is unsigned
    (a change of -0.0002 reads ``0.000``, not ``-0.000``)."""
    if value is None:
        return MISSING
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def to_markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[format_value(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    return "\n".join(lines) + "\n"


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()


HEADERS = ["task", "metric", "value", "ci95_low", "ci95_high", "status"]


def _interval(metric: dict[str, Any]) -> list[Any]:
    ci = metric.get("ci95") or {}
    return [ci.get("low"), ci.get("high")]


def degraded(record: dict[str, Any]) -> str | None:
    """``"k/n failed"`` for an ``ok`` task some of whose items failed (scored without
    them, as ``max_failure_rate`` allowed), else None."""
    failures = record.get("failures")
    if record.get("status") != "ok" or not isinstance(failures, dict):
        return None
    count, n = failures.get("count"), failures.get("n")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (count, n)) or not count:
        return None
    return f"{count}/{n} failed"


def task_status(record: dict[str, Any]) -> str:
    """A task's status as shown: ``degraded (k/n failed)`` (see :func:`degraded`), else its
    ``status`` (ok, failed, unsupported)."""
    partial = degraded(record)
    return f"degraded ({partial})" if partial else str(record.get("status", "missing"))


def _rows(result: dict[str, Any], main_only: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for task, record in result["tasks"].items():
        if record["status"] != "ok":
            rows.append([task, "-", None, None, None, record["status"]])
            continue
        names = record["main_metrics"] if main_only else list(record["metrics"])
        for name in names:
            metric = record["metrics"][name]
            rows.append([task, name, metric["value"], *_interval(metric), task_status(record)])
    return rows


def main_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per (task, main metric) with its 95% interval: the run's scorecard."""
    return HEADERS, _rows(result, main_only=True)


def metrics_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Every metric of every task, with its interval where one was drawn."""
    return HEADERS, _rows(result, main_only=False)


def per_label_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """NER strict precision/recall/F1 per label, F1 with its 95% interval where drawn."""
    headers = ["label", "precision", "recall", "f1", "f1_ci95_low", "f1_ci95_high", "support",
               "predicted"]  # fmt: skip
    per_label = result["tasks"].get("ner", {}).get("breakdown", {}).get("per_label", {})
    rows = []
    for label, v in per_label.items():
        ci = v.get("ci95", {}).get("f1", {})
        rows.append([label, v["precision"], v["recall"], v["f1"], ci.get("low"), ci.get("high"),
                     v["support"], v["predicted"]])  # fmt: skip
    return headers, rows
