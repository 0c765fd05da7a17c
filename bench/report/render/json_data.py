"""``leaderboard.json``: the ranking, each run's cells and provenance, per-label NER F1."""

from __future__ import annotations

from typing import Any

from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import RULE, Cell, Leaderboard

SCHEMA_VERSION = 1


def cell_json(cell: Cell) -> dict[str, Any]:
    """A cell: status; value and interval when scored; rank and test when ranked."""
    out: dict[str, Any] = {"status": cell.status}
    if cell.scored:
        out |= {"value": cell.value, "ci95": {"low": cell.low, "high": cell.high}}
    if cell.status == "ok":
        out |= {"rank": cell.rank, "vs_above": cell.vs_above}
    elif cell.reason:
        out["reason"] = cell.reason
    return out


def to_json_data(board: Leaderboard) -> dict[str, Any]:
    """The JSON document (written by :func:`bench.report.files.write_json_atomic`)."""
    tasks = {}
    for t in board.tasks:
        ranked = sorted(
            (e for e in board.entries_with(t) if e.cells[t].rank is not None),
            key=lambda e: (e.cells[t].rank, -e.cells[t].score, e.name),
        )
        tasks[t] = {
            "metric": PRIMARY_METRIC[t],
            "ranking": [{"model": e.name} | cell_json(e.cells[t]) for e in ranked],
        }
    models = []
    for e in board.entries:
        model = e.result["model"]
        prov = e.result.get("provenance", {})
        models.append(
            {
                "name": e.name,
                "preset": model["preset"],
                "target": model.get("target"),
                "fingerprint": model.get("fingerprint"),
                "run": e.source,
                "bench_version": prov.get("bench_version"),
                "git": prov.get("git"),
                "started_at": prov.get("started_at"),
                "finished_at": prov.get("finished_at"),
                "reference": e.reference,
                "ranked_on": list(e.coverage),
                "position": e.position,
                "mean_rank": e.mean_rank,
                "tasks": {t: cell_json(e.cells[t]) for t in board.tasks},
                "robustness": {  # the worst change of each task's primary metric, or None
                    t: None if (w := e.worst_change(t)) is None else w.json()
                    for t in board.robust_tasks
                },
            }
        )
    return {
        "leaderboard_schema_version": SCHEMA_VERSION,
        "dataset": board.dataset,
        "bench_versions": board.bench_versions,
        "ranking": {
            "primary_metric": {t: PRIMARY_METRIC[t] for t in board.tasks},
            "test": "paired bootstrap",
            "n_resamples": board.n_resamples,
            "seed": board.seed,
            "alpha": board.alpha,
            "analytic_above": board.analytic_above,
            "rule": RULE,
        },
        "tasks": tasks,
        "models": models,
        "ner_per_label": board.ner_labels,
        "toxicity_groups": {
            e.name: e.group_accuracy
            for e in (board.entries_with("toxicity") if "toxicity" in board.tasks else [])
            if e.group_accuracy
        },
        "toxicity_identities": {
            e.name: e.identity_accuracy
            for e in (board.entries_with("toxicity") if "toxicity" in board.tasks else [])
            if e.identity_accuracy
        },
    }
