"""A prediction cache: per item, keyed by everything that changes the answer.

A cache file holds one JSON line per predicted item, for one (adapter config and
identity, adapter code, dataset sha256, task) key. A rerun calls the model only
for the items not in the file, and every batch is appended as soon as it is
predicted, so an interrupted run resumes where it stopped. Appends hold a lock
file beside the cache file (``filelock``, on every OS), so two processes may share
a cache; a line cut short by a crash is ignored on reading.

Each line records when it was written (``cache.max_age`` expires older lines) and,
for a served model, what the server reported about the model that answered (model
id, ``system_fingerprint``): the runner reuses such a line only when the server
reports the same in the current run.

A cache that cannot be read or written (read-only or full disk, a path that is not
a directory) costs one warning naming its directory; the run goes on without it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from bench.predictions import prediction_from_json, prediction_to_json
from bench.provenance import fingerprint
from bench.version import __version__

CACHE_FORMAT = 2
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LOCK_TIMEOUT = 60.0  # seconds; then filelock.Timeout, an OSError: the cache is given up
_warned: set[Path] = set()  # cache directories already reported unusable in this process


def parse_duration(value: str | int | None) -> float | None:
    """``cache.max_age`` in seconds: ``3600``, ``90s``, ``30m``, ``12h``, ``7d``, ``2w``;
    None (never expire) stays None."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(value))
    if not match:
        raise ValueError(
            f"cache.max_age={value!r}: expected a duration such as 3600, 90s, 30m, 12h or 7d "
            "(null: never expire)"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def adapter_code_sha256(adapter: object) -> str:
    """sha256 of the adapter's code (code changes miss the cache): the source file defining
    its class and those of the modules of the same package it draws on, transitively (an
    adapter split into modules, such as ``openai_chat`` and its ``align``)."""
    hasher = hashlib.sha256()
    for name in sorted(_code_modules(type(adapter).__module__)):
        source = inspect.getsourcefile(sys.modules[name])
        if source:
            hasher.update(f"{name}\0".encode() + Path(source).read_bytes())
    return hasher.hexdigest()


def _code_modules(name: str) -> set[str]:
    """``name`` and the modules of its package whose classes, functions or submodules it
    holds, transitively."""
    package = name.rpartition(".")[0]
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found or current not in sys.modules:
            continue
        found.add(current)
        for value in vars(sys.modules[current]).values():
            owner = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", "")
            if package and isinstance(owner, str) and owner.startswith(f"{package}."):
                todo.append(owner)
    return found


def served_key(report: dict[str, str] | None) -> str | None:
    """A served model's report as a comparable key (canonical JSON); None stays None."""
    return None if report is None else json.dumps(report, sort_keys=True)


@dataclass(frozen=True)
class CacheEntry:
    prediction: Any
    served: dict[str, str] | None  # what the server reported about the model; None: not served


class PredictionCache:
    def __init__(
        self, directory: str | Path, task: str, key: dict[str, Any], max_age: float | None = None
    ) -> None:
        self.task = task
        self.directory = Path(directory)
        self.key = {"format": CACHE_FORMAT, "bench": __version__, "task": task, **key}
        self.path = self.directory / task / f"{fingerprint(self.key)}.jsonl"
        self.max_age = max_age
        self.usable = True

    def _give_up(self, doing: str, err: OSError) -> None:
        """Go on without the cache; warn once per directory."""
        self.usable = False
        if self.directory not in _warned:
            _warned.add(self.directory)
            print(
                f"bench: warning: cannot {doing} the prediction cache in {self.directory} "
                f"({type(err).__name__}: {err}); the run goes on without the cache",
                file=sys.stderr,
            )

    def load(self) -> dict[str, CacheEntry]:
        """Cached entries by item id, expired ones left out (the last line of an id wins)."""
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            return {}
        except OSError as err:
            self._give_up("read", err)
            return {}
        oldest = time.time() - self.max_age if self.max_age is not None else None
        out = {}
        for line in lines:
            try:
                record = json.loads(line)
                if oldest is not None and record.get("time", 0) < oldest:
                    continue
                entry = CacheEntry(
                    prediction_from_json(self.task, record["prediction"]), record.get("served")
                )
                out[record["id"]] = entry
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line cut short by an interrupted write, or not bench's
        return out

    def append(
        self, ids: list[str], predictions: list[Any], served: list[dict[str, str] | None]
    ) -> None:
        """Add one batch, under the lock, flushed to disk; on failure warn and stop caching."""
        if not self.usable or not ids:
            return
        now = round(time.time(), 3)
        lines = ""
        for item_id, prediction, report in zip(ids, predictions, served, strict=True):
            record = {"id": item_id, "prediction": prediction_to_json(self.task, prediction)}
            record |= {"time": now} | ({"served": report} if report is not None else {})
            lines += json.dumps(record) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # opened first: an unwritable place fails at once, where the lock would wait
            with (
                self.path.open("a", encoding="utf-8") as handle,
                FileLock(f"{self.path}.lock", timeout=_LOCK_TIMEOUT),
            ):
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            self._give_up("write", err)


def cache_summary(tasks: dict[str, Any]) -> str | None:
    """``from cache: ner 3/3, toxicity 40/43``: the predictions each task read from the
    cache, out of all; None when no task used the cache."""
    parts = [
        f"{name} {stats['hits']}/{stats['hits'] + stats['predicted']}"
        for name, record in tasks.items()
        if "path" in (stats := record.get("predictions") or {})
    ]
    return "from cache: " + ", ".join(parts) if parts else None
