"""Issue 16: no quadratic work. Every adapter and task reads the gold a number of times
that grows linearly with the data, counted (not timed) over copies of the seed dataset."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from bench_config import compose_config

from bench.adapters.baselines import EmptyAdapter, OracleAdapter
from bench.adapters.rules import RulesAdapter
from bench.data.dataset import Dataset
from bench.runner import build, build_task, run_task


class Counted(tuple):
    """A tuple of gold records that counts the records read through it."""

    reads = 0

    def __iter__(self):  # noqa: ANN204
        for record in super().__iter__():
            Counted.reads += 1
            yield record


def _copy_id(item_id: str, k: int) -> str:
    return f"{item_id}~{k}"


class Copies(Dataset):
    """``copies`` copies of a dataset's NER and attribution gold, item ids made distinct."""

    tasks = frozenset({"ner", "attribution"})

    def __init__(self, source: Dataset, copies: int) -> None:
        self.source, self.copies = source, copies
        self.name, self.version, self.sha256 = "copies", "1", source.sha256

    def _items(self, view: Any) -> tuple:
        return tuple(dataclasses.replace(item, id=_copy_id(item.id, k))
                     for k in range(self.copies) for item in view.items)  # fmt: skip

    def _tuples(self, rows: tuple) -> Counted:
        return Counted((_copy_id(row[0], k), *row[1:]) for k in range(self.copies) for row in rows)

    def ner(self) -> Any:
        view = self.source.view("ner")
        return dataclasses.replace(view, items=self._items(view), spans=self._tuples(view.spans),
                                   segments=self._tuples(view.segments))  # fmt: skip

    def attribution(self) -> Any:
        view = self.source.view("attribution")
        records = Counted(dataclasses.replace(r, item_id=_copy_id(r.item_id, k))
                          for k in range(self.copies) for r in view.records)  # fmt: skip
        return dataclasses.replace(view, items=self._items(view), records=records,
                                   segments=self._tuples(view.segments))  # fmt: skip


@pytest.fixture(scope="module")
def seed() -> Dataset:
    return build(compose_config().dataset, "seed")


def _gold_reads(seed: Dataset, copies: int, adapter_class: type, task: str) -> int:
    """Gold records read to predict (in batches of 2 items) and score ``task``."""
    dataset = Copies(seed, copies)
    adapter = adapter_class(dataset) if adapter_class is OracleAdapter else adapter_class()
    cfg = compose_config("bootstrap.resamples=0")
    Counted.reads = 0
    record, _ = run_task(build_task(task, dataset, "test", cfg), adapter, batch_size=2)
    assert record["status"] == "ok", record
    return Counted.reads


@pytest.mark.parametrize("task", ["ner", "attribution"])
@pytest.mark.parametrize("adapter_class", [OracleAdapter, EmptyAdapter, RulesAdapter])
def test_gold_reads_grow_linearly_with_the_data(seed, adapter_class, task):
    small, large = (_gold_reads(seed, copies, adapter_class, task) for copies in (2, 8))
    assert 0 < large <= 4 * small + 8, (small, large)
