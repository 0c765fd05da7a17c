"""A prediction cache: per item, keyed by everything that changes the answer.

A cache file holds one JSON line per predicted item, for one (adapter config and
identity, adapter code, dataset sha256, task) key. A rerun calls the model only
for the items not in the file, and every batch is appended as soon as it is
predicted, so an interrupted run resumes where it stopped. Appends take an
exclusive ``flock`` on the file, so two processes may share a cache; a line cut
short by a crash is ignored on reading.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Any

import bench
from bench.predictions import prediction_from_json, prediction_to_json
from bench.provenance import fingerprint

CACHE_FORMAT = 1


def adapter_code_sha256(adapter: object) -> str:
    """sha256 of the source file defining the adapter's class (code changes miss the cache)."""
    source = inspect.getsourcefile(type(adapter))
    return hashlib.sha256(Path(source).read_bytes()).hexdigest() if source else ""


class PredictionCache:
    def __init__(self, directory: str | Path, task: str, key: dict[str, Any]) -> None:
        self.task = task
        self.key = {"format": CACHE_FORMAT, "bench": bench.__version__, "task": task, **key}
        self.path = Path(directory) / task / f"{fingerprint(self.key)}.jsonl"

    def load(self) -> dict[str, Any]:
        """Cached predictions by item id (the last line of an id wins)."""
        if not self.path.is_file():
            return {}
        out = {}
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interrupted write
                out[record["id"]] = prediction_from_json(self.task, record["prediction"])
        return out

    def append(self, ids: list[str], predictions: list[Any]) -> None:
        """Add one batch, under an exclusive lock, flushed to disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(
            json.dumps({"id": i, "prediction": prediction_to_json(self.task, p)}) + "\n"
            for i, p in zip(ids, predictions, strict=True)
        )
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
