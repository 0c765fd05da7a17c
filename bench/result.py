"""A run's result in memory (what ``bench.evaluate`` returns) and the files a run writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report.files import json_text, write_jsonl_atomic, write_text_atomic
from bench.report.robustness import robustness_table, worst_case_table
from bench.report.tables import main_table, metrics_table, per_label_table, to_csv, to_markdown
from bench.sample_rows import SampleRows

# What a run (and its +check) writes besides result.json: removed before a rerun writes.
# Temporary files (.NAME.XXXX.tmp) are those of an interrupted run's atomic writes.
_OUTPUT_FILES = ("samples/*.jsonl", "predictions/*.jsonl", "tables/*.md", "tables/*.csv",
                 "check/junit.xml", "check/report.md", ".*.tmp", "*/.*.tmp")  # fmt: skip
_TABLES = {"main": main_table, "metrics": metrics_table, "ner_per_label": per_label_table,
           "robustness": robustness_table, "robustness_worst": worst_case_table}  # fmt: skip


@dataclass(frozen=True)
class Result:
    """``result``: the content of result.json; ``samples``: each task's rows of
    ``samples/<task>.jsonl`` (the scored units and the failed items); ``predictions``: a
    shard's records of ``predictions/<task>.jsonl`` (bench.shard)."""

    result: dict[str, Any]
    samples: dict[str, SampleRows]
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No task failed (an unsupported task is not a failure)."""
        return all(t["status"] != "failed" for t in self.result["tasks"].values())

    @property
    def metrics(self) -> dict[str, dict[str, float | None]]:
        """Each scored task's metric values: ``{"ner": {"strict_f1": 0.87, …}}``."""
        return {
            task: {name: m["value"] for name, m in record["metrics"].items()}
            for task, record in self.result["tasks"].items()
            if record["status"] == "ok"
        }

    @property
    def intervals(self) -> dict[str, dict[str, tuple[float, float]]]:
        """Each scored task's 95% bootstrap intervals ``(low, high)``, where one was drawn."""
        return {
            task: {
                name: (m["ci95"]["low"], m["ci95"]["high"])
                for name, m in record["metrics"].items()
                if "ci95" in m
            }
            for task, record in self.result["tasks"].items()
            if record["status"] == "ok"
        }

    @property
    def tables(self) -> dict[str, tuple[list[str], list[list[Any]]]]:
        """The tables of ``tables/`` (main, metrics, ner_per_label, robustness,
        robustness_worst) as (headers, rows)."""
        return {name: table(self.result) for name, table in _TABLES.items()}

    def table(self, name: str = "main") -> str:
        """A table of :attr:`tables` as Markdown (``main``: what ``bench`` prints)."""
        return to_markdown(*self.tables[name])

    def save(self, directory: str | Path) -> Path:
        """Write what the ``bench`` command writes into ``directory`` (created if needed):
        samples and tables first, ``result.json`` last (its presence marks a complete run).

        The result is serialised before anything is written, and the files an earlier run
        left in the same directory are removed first, so a failure part-way never leaves
        an old result beside new samples, nor a rerun of fewer tasks the old tasks' samples.
        """
        out_dir = Path(directory)
        result_text = json_text(self.result)
        (out_dir / "result.json").unlink(missing_ok=True)
        for pattern in _OUTPUT_FILES:  # an earlier run's files must not outlive it
            for old in out_dir.glob(pattern):
                old.unlink()
        for task, records in self.samples.items():
            write_jsonl_atomic(out_dir / "samples" / f"{task}.jsonl", records)
        for task, records in self.predictions.items():
            write_jsonl_atomic(out_dir / "predictions" / f"{task}.jsonl", records)
        for name, (headers, rows) in self.tables.items():
            if rows:
                write_text_atomic(out_dir / "tables" / f"{name}.md", to_markdown(headers, rows))
                write_text_atomic(out_dir / "tables" / f"{name}.csv", to_csv(headers, rows))
        write_text_atomic(out_dir / "result.json", result_text)
        return out_dir
