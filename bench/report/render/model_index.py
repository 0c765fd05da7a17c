"""``model-index/<model>.yaml``: Hugging Face model-card metadata, one file per run.

Only ``ok`` results are published (failed, unsupported and degraded ones are not); a
run without any has no file.
"""

from __future__ import annotations

from typing import Any

import yaml

from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import Entry, Leaderboard
from bench.report.render.text import METRIC_TITLES

# Hugging Face model-index: task type and name; metric type per metric name.
HF_TASKS = {
    "ner": ("token-classification", "Named entity recognition"),
    "attribution": ("quote-attribution", "Quote attribution"),
    "toxicity": ("text-classification", "Toxicity classification"),
}
HF_METRIC_TYPES = {
    "strict_precision": "precision",
    "strict_recall": "recall",
    "strict_f1": "f1",
    "content_exact_f1": "f1",
    "content_overlap_f1": "f1",
    "content_token_f1": "f1",
    "source_accuracy": "accuracy",
    "e2e_f1": "f1",
    "roc_auc": "roc_auc",
    "average_precision": "average_precision",
    "f1": "f1",
}


def model_index(board: Leaderboard, entry: Entry) -> dict[str, Any] | None:
    """The ``model-index`` metadata of one run, or None when it has no ``ok`` result."""
    d = board.dataset
    results = []
    for t in board.tasks:
        record = entry.result["tasks"].get(t, {})
        if entry.cells[t].status != "ok":  # failed, unsupported, or degraded: not published
            continue
        names = [PRIMARY_METRIC[t]] + [
            m for m in record.get("main_metrics", []) if m != PRIMARY_METRIC[t]
        ]
        metrics = []
        for m in names:
            value = record["metrics"].get(m, {}).get("value")
            if value is None:
                continue
            metrics.append(
                {
                    "type": HF_METRIC_TYPES.get(m, m),
                    "name": f"{METRIC_TITLES.get(m, m)} ({m})",
                    "value": round(float(value), 6),
                }
            )
        task_type, task_name = HF_TASKS[t]
        results.append(
            {
                "task": {"type": task_type, "name": task_name},
                "dataset": {
                    "type": str(d["name"]),
                    "name": str(d["name"]),
                    "config": str(d["version"]),
                    "split": "test",
                    "revision": str(d["sha256"]),
                },
                "metrics": metrics,
            }
        )
    if not results:
        return None
    return {"model-index": [{"name": entry.name, "results": results}]}


def to_yaml(data: Any) -> str:
    """YAML through PyYAML's safe dumper: keys in order, Unicode as written."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
