"""Shards: one run's items split over workers (``shard.index=i shard.count=n``).

A shard predicts its slice of each task's items and writes the predictions, in the
format ``+model=predictions`` reads, to ``predictions/<task>.jsonl`` of its run folder;
it scores nothing (its tasks have status ``shard``). ``bench-report merge``
(:mod:`bench.report.merge`) checks the shards and scores their union.

The slice is deterministic and balanced by text length: the items sorted by
(length of text, id) are dealt round-robin, the k-th to shard ``k % count``, so the
shards' total lengths differ by at most the longest item. Each shard keeps its items
in dataset order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.adapters.predictions import RECORD_FIELDS
from bench.items import take
from bench.predictions import PredictionFailure, TextItem, prediction_to_json


def shard_of(items: Sequence[TextItem], count: int) -> list[int]:
    """The shard (of ``count``) of each item (see the module docstring)."""
    order = sorted(range(len(items)), key=lambda k: (len(items[k].text), items[k].id))
    owner = [0] * len(items)
    for position, k in enumerate(order):
        owner[k] = position % count
    return owner


def shard_items(items: Sequence[TextItem], index: int, count: int) -> Sequence[TextItem]:
    """The items of shard ``index`` of ``count``, in dataset order."""
    return take(items, [k for k, owner in enumerate(shard_of(items, count)) if owner == index])


def ids_sha256(ids: Iterable[str]) -> str:
    """sha256 of the item ids, one per line, sorted: what a shard covered."""
    return hashlib.sha256("".join(f"{i}\n" for i in sorted(ids)).encode()).hexdigest()


def prediction_record(task: str, item_id: str, prediction: Any) -> dict[str, Any]:
    """One line of a predictions file (bench/adapters/predictions.py): the prediction, or
    for a failed item ``{"id", "failure": {reason, message, prompt, raw}}``."""
    if isinstance(prediction, PredictionFailure):
        return {"id": item_id, "failure": asdict(prediction)}
    field = RECORD_FIELDS[task]
    data = prediction_to_json(task, prediction)
    return {"id": item_id, **data} if field is None else {"id": item_id, field: data}


def merge_hint(out_dir: Path, shard: dict[str, int], sweep_dir: Path | None) -> str:
    """The line a shard's run prints under its table: where its predictions are, and the
    command that scores them with the other shards (``sweep_dir``: the sweep it is a job of)."""
    index, count = shard["index"], shard["count"]
    shards = sweep_dir or f"{out_dir} and the other {count - 1} shards' run folders"
    return (
        f"shard {index} of {count}: predictions in {out_dir / 'predictions'}, not scored; "
        f"once every shard has run: bench-report merge {shards} --out RUN"
    )
