"""Toxicity data as columns (issue 13): the items, the gold view and the predictions of
millions of items without an object each, equal to the per-item reading they replace."""

from __future__ import annotations

import csv
import re
import tracemalloc

import numpy as np
import pytest
from bench_config import shipped_task

from bench.adapters.base import Adapter, Batching
from bench.data.views import toxicity_gold
from bench.items import TextColumn, TextItems
from bench.predictions import PredictionFailure, TextItem, ToxicityPrediction, ToxicityScores
from bench.resources import resource_dir
from bench.runner import predict, run_task
from bench.tasks.base import Bootstrap
from bench.tasks.toxicity import ToxicityAnswers, ToxicityTask

STRINGS = ["row-1", "", "café ☕", "x" * 300, "naïve", "é"]


def test_a_text_column_gives_back_its_strings():
    column = TextColumn.of(STRINGS)
    assert list(column) == STRINGS and len(column) == len(STRINGS)
    assert [column[k] for k in range(-len(STRINGS), len(STRINGS))] == STRINGS * 2
    assert column[1:4] == STRINGS[1:4] and column[4:2] == []
    assert list(column.take(np.array([5, 0, 2, 2]))) == ["é", "row-1", "café ☕", "café ☕"]
    assert list(TextColumn.of(["ab", "c"]).take(np.array([], np.int64))) == []
    with pytest.raises(IndexError):
        column[len(STRINGS)]


def test_a_text_column_is_sliced_and_held_at_a_fixed_width():
    column = TextColumn.of(STRINGS)
    assert list(column.part(2, 5)) == STRINGS[2:5] and list(column.part(4, 2)) == []
    assert list(column.part(5, 99)) == STRINGS[5:]
    keys, exact = TextColumn.of([*STRINGS, "a\x00b"]).fixed(9)
    assert keys.tolist() == [s.encode()[:9] for s in STRINGS] + [b"a\x00b"]
    assert exact.tolist() == [True, True, True, False, True, True, False]
    many = [f"id-{k * 7919 % 100_003}é" * (k % 3) for k in range(70_000)]  # > one chunk
    keys, exact = TextColumn.of(many).fixed(12)
    assert keys.tolist() == [s.encode()[:12] for s in many]
    assert exact.tolist() == [len(s.encode()) <= 12 for s in many]


def test_text_items_hand_out_items_and_know_where_a_subset_came_from():
    items = TextItems(TextColumn.of([f"i{k}" for k in range(6)]), TextColumn.of(STRINGS))
    expected = [TextItem(f"i{k}", text) for k, text in enumerate(STRINGS)]
    assert list(items) == expected and items == expected
    assert items[2:5] == expected[2:5] and items[::2] == expected[::2]
    subset = items.take([4, 1]).take([1])
    assert list(subset) == [expected[1]]
    assert subset.base is items and subset.positions.tolist() == [1]
    part = items.take([5, 4, 3, 2]).part(1, 3)
    assert list(part) == [expected[4], expected[3]]
    assert part.base is items and part.positions.tolist() == [4, 3]


def _hatecheck_rows() -> list[dict[str, str]]:
    path = resource_dir("datasets") / "hatecheck" / "test_suite_cases.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_hatecheck_view_holds_each_row_as_the_csv_says():
    """The columns (labels, identity combinations, group codes) against a plain per-row
    reading of the shipped CSV."""
    gold = shipped_task("hatecheck", "toxicity").gold
    rows = _hatecheck_rows()
    assert len(gold.items) == len(rows) > 3000
    assert gold.groups is not None
    for k, row in enumerate(rows):
        slug = re.sub(r"\W+", "_", row["target_ident"].lower()).strip("_")
        assert gold.items[k] == TextItem(f"case-{row['case_id']}", row["test_case"].strip())
        assert gold.labels[k] == (row["label_gold"] == "hateful")
        assert gold.identities(k) == ((slug,) if row["target_ident"] else ())
        assert gold.groups.names[gold.groups.codes[k]] == row["functionality"]
        assert gold.level[k] == 0
    assert gold.index["case-" + rows[7]["case_id"]] == 7


def test_a_gold_view_holds_a_few_bytes_per_item_beyond_its_texts():
    """10 M items must fit in 3 GB: the view keeps no object per item (before: a TextItem
    and an entry in four dicts, ~400 bytes an item)."""
    n = 50_000
    ids, texts = [f"row-{k:07d}" for k in range(n)], [f"text number {k}" for k in range(n)]
    identities = [("woman",) if k % 3 else ("gay", "woman") for k in range(n)]
    tracemalloc.start()
    try:
        items = TextItems(TextColumn.of(ids), TextColumn.of(texts))
        gold = toxicity_gold(items, [k % 2 for k in range(n)], ("row",), identities=identities)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text_bytes = sum(map(len, ids)) + sum(map(len, texts))
    assert len(gold.items) == n and gold.combos == ((), ("gay", "woman"), ("woman",))
    assert (kept - text_bytes) / n < 32, f"{(kept - text_bytes) / n:.0f} bytes an item"


class _Scrambled(Adapter):
    """Scores by text length, length-sorted batches of 7, a failure at every 50th item."""

    tasks = frozenset({"toxicity"})
    cacheable = False
    preferred_batching = Batching(7, sort_by_length=True)

    def predict_toxicity(self, items: list[TextItem]) -> list:
        return [
            PredictionFailure("parse", "no number") if sum(map(ord, item.id)) % 50 == 0
            else ToxicityPrediction(min(len(item.text) / 100, 1.0), {"insult": 0.25})
            for item in items
        ]  # fmt: skip


def test_predictions_collected_as_columns_equal_the_per_item_predictions():
    task = shipped_task("hatecheck", "toxicity")
    items = task.inputs()[:400]
    answers, _ = predict(task, _Scrambled(), items, None, None)
    expected = [_Scrambled().predict_toxicity([item])[0] for item in items]
    assert isinstance(answers, ToxicityAnswers)
    assert list(answers) == [
        p if isinstance(p, PredictionFailure) else ToxicityPrediction(p.score, {"insult": 0.25})
        for p in expected
    ]
    assert answers.scores.tolist()[:3] == [p.score for p in expected[:3]]


def test_a_run_with_failures_scores_the_columns_as_the_per_item_lists():
    """run_task leaves the failed items out of the columns; scoring the answered items from
    per-item lists gives the same record."""
    gold = shipped_task("hatecheck", "toxicity").gold
    task = ToxicityTask(gold, "test", Bootstrap(50, 0))
    adapter = _Scrambled()
    record, rows = run_task(task, adapter, None, max_failure_rate=0.5)
    assert record["status"] == "ok", record.get("error")
    items = list(task.inputs())
    predictions = adapter.predict_toxicity(items)
    kept = [(i, p) for i, p in zip(items, predictions, strict=True)
            if not isinstance(p, PredictionFailure)]  # fmt: skip
    plain = ToxicityTask(gold, "test", task.bootstrap).score(
        [i for i, _ in kept], [p for _, p in kept]
    )
    assert record["failures"]["count"] == len(items) - len(kept) > 0
    assert record["counts"] == plain.counts
    assert {name: m["value"] for name, m in record["metrics"].items()} == {
        name: m.value for name, m in plain.metrics.items()
    }
    assert [r["id"] for r in rows if "failure" not in r] == [i.id for i, _ in kept]


class _ScrambledArrays(Adapter):
    """:class:`_Scrambled`'s predictions as arrays, a batch at a time."""

    tasks = frozenset({"toxicity"})
    cacheable = False
    preferred_batching = Batching(7, sort_by_length=True)

    def __init__(self, bad: tuple[str, str, object] | None = None) -> None:
        self.bad = bad  # (item id, field, value) to put in its answer
        self.batches = 0

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores:
        self.batches += 1
        ids = list(items.ids)
        failures = {k: PredictionFailure("parse", "no number") for k, item_id in enumerate(ids)
                    if sum(map(ord, item_id)) % 50 == 0}  # fmt: skip
        scores = np.minimum(np.diff(items.texts.ends, prepend=0) / 100, 1.0)
        attributes = {"insult": np.full(len(items), 0.25)}
        if self.bad is not None and self.bad[0] in ids:
            k = ids.index(self.bad[0])
            field, value = self.bad[1:]
            if field == "failure":
                failures[k] = value
            elif field == "score":
                scores[k] = value
            else:
                attributes.setdefault(field, np.full(len(items), np.nan))[k] = value
        return ToxicityScores(scores, attributes, failures)


class _ScrambledObjects(_Scrambled):
    """:class:`_ScrambledArrays` answering with objects."""

    def __init__(self, bad: tuple[str, str, object] | None = None) -> None:
        self.bad = bad

    def predict_toxicity(self, items: list[TextItem]) -> list:
        out = super().predict_toxicity(items)
        for k, item in enumerate(items):
            if self.bad is None or item.id != self.bad[0]:
                continue
            field, value = self.bad[1:]
            if field == "failure":
                out[k] = value
            elif field == "score":
                out[k] = ToxicityPrediction(value, out[k].attributes)
            else:
                out[k] = ToxicityPrediction(out[k].score, {**out[k].attributes, field: value})
        return out


def _without_seconds(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "seconds"}


def test_predictions_as_arrays_score_as_the_same_predictions_as_objects():
    """An adapter answering with arrays (``predict_toxicity_scores``) gives the record and
    samples of one answering with objects, failures and attributes included; its
    objects (``predict_toxicity``, derived) are those."""
    gold = shipped_task("hatecheck", "toxicity").gold
    arrays, objects = _ScrambledArrays(), _ScrambledObjects()
    runs = [run_task(ToxicityTask(gold, "test", Bootstrap(50, 0)), adapter, None,
                     max_failure_rate=0.5) for adapter in (arrays, objects)]  # fmt: skip
    (by_arrays, rows_arrays), (by_objects, rows_objects) = runs
    assert by_arrays["status"] == "ok", by_arrays.get("error")
    assert arrays.batches == -(-len(gold.items) // 7)
    assert by_arrays["failures"]["count"] > 0
    assert _without_seconds(by_arrays) == _without_seconds(by_objects)
    assert list(rows_arrays) == list(rows_objects)
    items = list(gold.items[:60])
    assert _ScrambledArrays().predict_toxicity(items) == objects.predict_toxicity(items)
    task = ToxicityTask(gold, "test")
    collected = [predict(task, adapter, gold.items, None, None)[0]
                 for adapter in (_ScrambledArrays(), objects)]  # fmt: skip
    assert collected[0].attributes["insult"][:3].tolist() == [0.25] * 3
    assert list(collected[0]) == list(collected[1])


@pytest.mark.parametrize(
    ("field", "value"),
    [("score", float("nan")), ("score", 1.5), ("score", -0.0001), ("insult", 2.0),
     ("obscene", float("inf")), ("failure", PredictionFailure("", "no number"))],
)  # fmt: skip
def test_a_bad_array_is_named_by_its_item_as_a_bad_object(field, value):
    gold = shipped_task("hatecheck", "toxicity").gold
    bad = (gold.items.ids[30], field, value)
    errors = [
        run_task(ToxicityTask(gold, "test"), adapter, None, max_failure_rate=0.5)[0]["error"]
        for adapter in (_ScrambledArrays(bad), _ScrambledObjects(bad))
    ]
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"PredictionError: test: toxicity item {bad[0]!r}: ")


def test_the_seed_view_holds_each_unit_as_the_gold_records_say():
    """Segments then documents, each with its level, labels, identities and attributes
    (−1 where a unit has no label for one)."""
    from bench.data.seed import SeedArticle

    dataset = SeedArticle()
    gold = dataset.view("toxicity")
    units = [(s, 0) for s in dataset.gold.segments] + [(d, 1) for d in dataset.gold.documents]
    assert len(gold.items) == len(units) and gold.levels == ("segment", "document")
    assert gold.attributes and gold.groups is None
    for k, (unit, level) in enumerate(units):
        assert gold.items[k] == TextItem(unit.id, unit.text)
        assert (gold.labels[k], gold.level[k]) == (unit.labels.toxic, level)
        assert gold.identities(k) == tuple(unit.labels.identities)
        for name, values in gold.attributes.items():
            assert values[k] == unit.labels.attributes.get(name, -1)
