"""Paired comparison of two runs from their samples (bench-report compare)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_config import copy_run, run_model
from hydra import compose, initialize_config_dir

from bench.cli import CONF_DIR
from bench.metrics.analytic import delong_paired_test
from bench.report.compare import MIN_UNITS, CompareError, Run, compare_task
from bench.report.compare_items import compare_metric, compare_metrics
from bench.runner import run

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _crafted_predictions(rules: Path, out: Path) -> Path:
    """Prediction files (for the ``predictions`` preset) derived from the rules run's
    samples and damaged so that every metric has something to count: ner spans dropped,
    a label the gold lacks (EVENT) and shifted boundaries; attributions without cue, with
    a shifted source, no type or an unknown speaker; toxicity scores rounded (ties)."""
    out.mkdir()
    ner = []
    for row in _read_jsonl(rules / "samples" / "ner.jsonl"):
        kept = [span for k, span in enumerate(row["pred"]) if k % 3 != 2]
        (s1, e1, *_), (s2, e2, *_) = row["gold"][:2]
        extra = [[s1, e1, "EVENT"], [s2 + 1, e2, "FAC"]] if e2 - s2 > 1 else []
        entities = [{"start": s, "end": e, "label": label} for s, e, label, *_ in kept + extra]
        ner.append({"id": row["id"], "entities": entities})
    _write_jsonl(out / "ner.jsonl", ner)
    by_item: dict[str, list[dict]] = {row["id"]: [] for row in ner}
    preds = [(r["id"], r["pred"]) for r in _read_jsonl(rules / "samples" / "attribution.jsonl")]
    for k, (item, pred) in enumerate(p for p in preds if p[1] is not None):
        if k % 7 == 6:
            continue
        source = pred["source"]
        if k % 3 == 1 and source and source[1] - source[0] > 1:
            source = [source[0] + 1, source[1]]
        by_item[item].append({
            "content": pred["content"],
            "speaker": "Nobody" if k % 5 == 4 else pred["speaker_text"],
            "cue": None if k % 3 == 0 else pred["cue"],
            "source": source,
            "type": None if k % 4 == 3 else pred["type"],
        })  # fmt: skip
    attributions = [{"id": item, "attributions": atts} for item, atts in by_item.items()]
    _write_jsonl(out / "attribution.jsonl", attributions)
    _write_jsonl(out / "toxicity.jsonl", [
        {"id": r["id"], "score": round(r["score"], 1), "attributes": {}}
        for r in _read_jsonl(rules / "samples" / "toxicity.jsonl")
    ])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for preset in ("oracle", "rules", "empty"):
        directory = tmp_path_factory.mktemp(preset)
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                config_name="config", overrides=[f"+model={preset}", "bootstrap.resamples=0"]
            )
        run(cfg, preset, [], directory)
        out[preset] = directory
    # toxicity scores of the rules with noise (see degraded_adapters.py): no ties
    noisy = {"_target_": "degraded_adapters.DegradedRules", "noise": 0.05, "seed": 2}
    out["noisy"] = tmp_path_factory.mktemp("noisy")
    run_model(out["noisy"], noisy, "bootstrap.resamples=0", preset="noisy")
    files = _crafted_predictions(out["rules"], tmp_path_factory.mktemp("files") / "crafted")
    out["crafted"] = tmp_path_factory.mktemp("crafted")
    run_model(out["crafted"], "predictions", f"model.path={files}", "bootstrap.resamples=0")
    return out


@pytest.mark.parametrize("task", ["ner", "attribution", "toxicity"])
def test_a_run_against_itself_differs_by_zero_with_p_one(runs, task):
    rules = Run.load(runs["rules"])
    test = compare_task(rules, rules, task, n_resamples=300)
    assert test.difference == 0.0
    assert test.p_value == 1.0


@pytest.mark.parametrize("method", ["bootstrap", "randomization"])
@pytest.mark.parametrize("task", ["ner", "attribution", "toxicity"])
def test_oracle_is_significantly_better_than_empty(runs, task, method):
    oracle, empty = Run.load(runs["oracle"]), Run.load(runs["empty"])
    test = compare_task(oracle, empty, task, n_resamples=300, method=method)
    primary = {"ner": 1.0, "attribution": 1.0, "toxicity": 0.5}[task]
    assert test.difference == pytest.approx(primary)
    assert test.p_value < 0.01
    if method == "bootstrap":
        assert test.low > 0


def test_difference_equals_the_difference_of_the_reported_metrics(runs):
    rules, empty = Run.load(runs["rules"]), Run.load(runs["oracle"])
    test = compare_task(rules, empty, "ner", n_resamples=100)
    values = [r.result["tasks"]["ner"]["metrics"]["strict_f1"]["value"] for r in (rules, empty)]
    assert test.difference == pytest.approx(values[0] - values[1], abs=1e-12)


def test_runs_on_different_gold_are_refused(runs, tmp_path):
    import json
    import shutil

    other = tmp_path / "other"
    shutil.copytree(runs["rules"], other)
    result = json.loads((other / "result.json").read_text())
    result["dataset"]["sha256"] = "0" * 64
    (other / "result.json").write_text(json.dumps(result))
    with pytest.raises(CompareError, match="different gold"):
        compare_task(Run.load(runs["rules"]), Run.load(other), "ner")


def test_cli_prints_the_table_and_exits_zero(runs):
    done = subprocess.run(
        [BENCH_REPORT, "compare", str(runs["rules"]), str(runs["empty"]), "--resamples", "200"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| ner " in done.stdout and "strict_f1" in done.stdout


def test_cli_exits_two_on_a_missing_run(tmp_path, runs):
    done = subprocess.run(
        [BENCH_REPORT, "compare", str(runs["rules"]), str(tmp_path / "nothing")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "result.json: not found" in done.stderr


def test_cli_labels_the_value_columns_of_two_runs_with_the_same_name(runs, tmp_path):
    import json
    import shutil

    copies = []
    for preset in ("rules", "empty"):
        copy = tmp_path / preset
        shutil.copytree(runs[preset], copy)
        result = json.loads((copy / "result.json").read_text())
        result["model"]["name"] = "team-x"
        (copy / "result.json").write_text(json.dumps(result))
        copies.append(str(copy))
    done = subprocess.run(
        [BENCH_REPORT, "compare", *copies, "--resamples", "50"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("| task"))
    assert "| A: team-x | B: team-x |" in header


# ----------------------------------------------------------- malformed run files: exit 2


@pytest.mark.parametrize("clusters", [10**12, 5, "40", -1, 40.0])
def test_an_implausible_cluster_count_is_one_line_and_exit_2(runs, tmp_path, clusters):
    """counts.clusters of a stranger's result.json sizes an array: bounded before use."""
    copies = []
    for preset in ("rules", "empty"):

        def edit(result: dict) -> None:
            result["tasks"]["attribution"]["counts"]["clusters"] = clusters

        copies.append(str(copy_run(runs[preset], tmp_path / preset, edit)))
    done = subprocess.run([BENCH_REPORT, "compare", *copies, "--resamples", "20"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report compare: {copies[0]}/result.json: tasks.attribution."
                           "counts.clusters: expected an integer from 21 ")  # fmt: skip


def _corrupt(runs, tmp_path, edit, file="samples/ner.jsonl") -> Path:
    """A copy of the rules run with ``edit`` applied to the lines of ``file``."""
    import shutil

    copy = tmp_path / "corrupt"
    shutil.copytree(runs["rules"], copy)
    path = copy / file
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    return copy


def _drop(field):
    import json

    def edit(lines):
        result = json.loads("\n".join(lines))
        del result[field]
        return json.dumps(result, indent=2).splitlines()

    return edit


def _first_row(old, new):
    return lambda rows: [rows[0].replace(old, new, 1), *rows[1:]]


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("samples/ner.jsonl", lambda rows: [rows[0], "{broken", *rows[2:]],
         "samples/ner.jsonl:2: (json): Expecting property name"),
        ("samples/ner.jsonl", lambda rows: [rows[0], "[1, 2]", *rows[2:]],
         "samples/ner.jsonl:2: expected an object, got [1, 2]"),
        ("samples/ner.jsonl", lambda rows: [rows[0], rows[1].replace('"pred"', '"Pred"'),
                                            *rows[2:]],
         "samples/ner.jsonl:2: pred: missing"),
        ("samples/ner.jsonl", lambda rows: [rows[0].replace('"gold": [[', '"gold": [["x", '),
                                            *rows[1:]],
         "samples/ner.jsonl:1: gold[0]: expected [start, end, label, text]"),
        ("samples/ner.jsonl", _first_row('"segments": [[', '"segments": [["x", '),
         "samples/ner.jsonl:1: segments[0]: expected [start, end, segment id]"),
        ("samples/attribution.jsonl", _first_row('"segment": [', '"segment": [1.5, '),
         "samples/attribution.jsonl:1: gold.segment: expected [start, end, segment id]"),
        ("samples/attribution.jsonl", _first_row('"content": [[', '"content": [[[],'),
         "samples/attribution.jsonl:1: gold.content: expected a non-empty list of [start, end]"),
        ("samples/ner.jsonl", lambda rows: [rows[0].replace('"gold": ',
                                                            '"tokens": [[0]], "gold": '),
                                            *rows[1:]],
         "samples/ner.jsonl:1: tokens: expected a list of [start, end], got [[0]]"),
        ("samples/toxicity.jsonl", lambda rows: [*rows[:2], rows[2].replace('"score": ', '"x": '),
                                                 *rows[3:]],
         "samples/toxicity.jsonl:3: score: missing"),
        ("samples/toxicity.jsonl", lambda rows: [*rows[:4], rows[4].replace('"score": ',
                                                                            '"score": true, "x": '),
                                                 *rows[5:]],
         "samples/toxicity.jsonl:5: score: expected a number, got True"),
        ("samples/toxicity.jsonl", lambda rows: [*rows[:6], rows[6].replace('"gold": ',
                                                                            '"gold": "1", "x": '),
                                                 rows[7].replace('"id": ', '"id": 7, "x": '),
                                                 *rows[8:]],
         "samples/toxicity.jsonl:7: gold: expected a number or true or false, got '1'"),
        ("samples/toxicity.jsonl", lambda rows: [rows[0], "[1, 2]", *rows[2:]],
         "samples/toxicity.jsonl:2: expected an object, got [1, 2]"),
        ("result.json", _drop("tasks"), "result.json: tasks: missing"),
        ("result.json", _drop("model"), "result.json: model: missing"),
        ("result.json", _drop("dataset"), "result.json: dataset: missing"),
    ],
)  # fmt: skip
def test_a_malformed_run_file_is_a_compare_error_naming_file_and_line(
    runs, tmp_path, file, edit, message
):
    corrupt = _corrupt(runs, tmp_path, edit, file)
    with pytest.raises(CompareError) as caught:
        run = Run.load(corrupt)
        for task in ("ner", "attribution", "toxicity"):
            run.samples(task)
    [line] = str(caught.value).splitlines()
    assert f"{corrupt / file}" in line and message in line, line


def test_samples_lines_read_as_json_loads_reads_each_line(runs, tmp_path):
    """Blank lines are skipped, spaces around a value allowed, and a bad line named by its
    number in the file, whether or not every line is one value from end to end."""
    rows = (runs["rules"] / "samples" / "toxicity.jsonl").read_text().splitlines()
    spaced = [rows[0], "", f"  {rows[1]} ", *rows[2:5], "\t", *rows[5:]]
    copy = _corrupt(runs, tmp_path / "spaced", lambda _: spaced, "samples/toxicity.jsonl")
    assert Run.load(copy).samples("toxicity") == [json.loads(row) for row in rows]
    bad = [*spaced[:7], spaced[7].replace('"level": ', '"level": 1, "x": '), *spaced[8:]]
    copy = _corrupt(runs, tmp_path / "bad", lambda _: bad, "samples/toxicity.jsonl")
    with pytest.raises(CompareError, match=r"toxicity.jsonl:8: level: expected a string, got 1$"):
        Run.load(copy).samples("toxicity")


@pytest.mark.parametrize("command", ["compare", "check", "errors", "leaderboard"])
@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("samples/ner.jsonl", lambda rows: [rows[0], "{broken", *rows[2:]],
         "samples/ner.jsonl:2: (json): Expecting property name"),
        ("result.json", _drop("tasks"), "result.json: tasks: missing"),
    ],
)  # fmt: skip
def test_every_report_command_exits_two_with_one_line_on_a_malformed_run(
    runs, tmp_path, command, file, edit, message
):
    corrupt = _corrupt(runs, tmp_path, edit, file)
    good, out = str(runs["rules"]), tmp_path / "out"
    args = {
        "compare": [good, str(corrupt), "--resamples", "50"],
        "check": [good, "--baseline", str(corrupt), "--resamples", "50"],
        "errors": [str(corrupt), "--out", str(out / "errors.html")],
        "leaderboard": [good, str(corrupt), "--out", str(out), "--no-plots", "--resamples", "50"],
    }[command]
    done = subprocess.run(
        [BENCH_REPORT, command, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report {command}: ") and message in line, line
    assert str(corrupt) in line
    assert not out.exists()  # nothing written


# ------------------------------------------------- every metric, on items (compare_metric)

TASKS = ("ner", "attribution", "toxicity")
PAIRS = [("rules", "oracle"), ("rules", "empty"), ("oracle", "empty"), ("crafted", "rules"),
         ("crafted", "oracle"), ("empty", "crafted")]  # fmt: skip
# (task, run A, run B); "noisy" differs from the rules in toxicity scores only
TASK_PAIRS = [(task, a, b) for task in TASKS for a, b in PAIRS] + [
    ("toxicity", "noisy", "rules"), ("toxicity", "crafted", "noisy")]  # fmt: skip
# what every pair of ok runs tests (each also reported with a value by both runs)
TESTED = {
    "ner": {f"{scheme}_{what}" for scheme in ("strict", "exact", "partial", "ent_type")
            for what in ("precision", "recall", "f1")} | {"strict_macro_f1"},
    "attribution": {"content_exact_f1", "content_overlap_f1", "content_iou_f1", "e2e_f1",
                    "content_token_precision", "content_token_recall", "content_token_f1",
                    "cue_exact_f1", "cue_overlap_f1", "source_exact_f1", "source_overlap_f1",
                    "content_overlap_f1.direct", "content_overlap_f1.indirect",
                    "content_overlap_f1.mixed"},
    "toxicity": {"roc_auc", "average_precision", "f1", "f1_best", "brier", "ece",
                 "document_roc_auc", "document_average_precision", "document_f1"},
}  # fmt: skip


def _reported(run: Run, task: str, metric: str) -> float | None:
    return run.result["tasks"][task]["metrics"][metric]["value"]


@pytest.mark.parametrize(("task", "a", "b"), TASK_PAIRS)
def test_each_item_level_difference_is_the_difference_of_the_reported_values(runs, task, a, b):
    run_a, run_b = Run.load(runs[a]), Run.load(runs[b])
    tests, skipped = compare_metrics(run_a, run_b, task, n_resamples=20)
    assert TESTED[task] <= set(tests), skipped
    for metric, test in tests.items():
        expected = _reported(run_a, task, metric) - _reported(run_b, task, metric)
        assert test.difference == pytest.approx(expected, abs=1e-9), metric
        assert test.unit == ("item" if task == "toxicity" else "cluster")
        if task != "toxicity":
            assert test.n_units == 40  # the seed article's gold segments, empty ones too
    both = set(run_a.result["tasks"][task]["metrics"]) & set(run_b.result["tasks"][task]["metrics"])
    assert set(tests) | set(skipped) == both | set(skipped)


def test_the_crafted_run_exercises_the_metrics(runs):
    """A guard on the fixture: the damaged predictions move every family of metrics."""
    crafted, rules = Run.load(runs["crafted"]), Run.load(runs["rules"])
    for task, metrics in TESTED.items():
        moved = {m for m in metrics if _reported(crafted, task, m) != _reported(rules, task, m)}
        assert len(moved) >= len(metrics) / 2, (task, metrics - moved)
    labels = crafted.result["tasks"]["ner"]["breakdown"]["per_label"]
    assert (
        "EVENT" in labels and "EVENT" not in rules.result["tasks"]["ner"]["breakdown"]["per_label"]
    )


@pytest.mark.parametrize("method", ["bootstrap", "randomization"])
@pytest.mark.parametrize("task", TASKS)
def test_a_run_against_itself_differs_by_zero_with_p_one_on_every_metric(runs, task, method):
    crafted = Run.load(runs["crafted"])
    tests, _ = compare_metrics(crafted, crafted, task, n_resamples=50, method=method)
    assert TESTED[task] <= set(tests)
    for metric, test in tests.items():
        # on the seed article: 3 items (ner, attribution, toxicity documents), 40 segments
        expected = 1.0 if test.n_units >= MIN_UNITS else None
        assert (test.difference, test.p_value) == (0.0, expected), metric


@pytest.mark.parametrize("method", ["bootstrap", "randomization"])
def test_item_level_roc_auc_is_the_primary_test_of_toxicity(runs, method):
    rules, noisy = Run.load(runs["rules"]), Run.load(runs["noisy"])
    kwargs = dict(n_resamples=200, seed=3, method=method)
    assert compare_metric(rules, noisy, "toxicity", "roc_auc", **kwargs) == compare_task(
        rules, noisy, "toxicity", **kwargs
    )


def test_oracle_is_significantly_better_than_empty_on_items(runs):
    oracle, empty = Run.load(runs["oracle"]), Run.load(runs["empty"])
    test = compare_metric(oracle, empty, "toxicity", "brier", n_resamples=300)
    assert test.difference < 0 and test.high < 0 and test.p_value < 0.01
    test = compare_metric(oracle, empty, "ner", "partial_f1", n_resamples=50)
    assert test.difference == 1.0 and test.n_units == 40  # the seed article's segments


@pytest.mark.parametrize("method", ["bootstrap", "randomization"])
def test_a_paired_test_needs_min_units(method):
    """One rule for every p-value: on fewer than MIN_UNITS units only the difference."""
    from bench.metrics.bootstrap import mean_statistic
    from bench.report.compare import paired_test

    for n in (MIN_UNITS - 1, MIN_UNITS):
        a, b = np.linspace(0, 1, n), np.zeros(n)
        test = paired_test(mean_statistic, (a,), (b,), 200, 0, method, "item")
        assert test.difference == pytest.approx(0.5) and test.n_units == n
        if n < MIN_UNITS:
            assert (test.low, test.high, test.p_value, test.n_resamples) == (None,) * 3 + (0,)
            assert test.undefined == (
                f"not attempted: {n} items to resample, fewer than the {MIN_UNITS} a paired "
                "test needs"
            )
        else:
            assert test.p_value < 0.05 and test.n_resamples == 200 and test.undefined is None


def test_cli_does_not_test_the_seed_articles_three_documents(runs):
    """The issue's case: a p-value from the seed article's three documents (NER's was
    0.001 on items) is not attempted; NER's tests, primary or not, resample its 40
    segments."""
    done = _report(runs["rules"], runs["oracle"], "--metric", "ner.strict_f1", "--metric",
                   "toxicity.document_roc_auc", "--resamples", "200")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("| ner ", "| tox"))]
    rows = {".".join(c.strip() for c in line.split("|")[1:3]): line for line in lines}
    assert [c.strip() for c in rows["toxicity.document_roc_auc"].strip("|").split("|")][-5:] == [
        "-", "-", "not attempted", "3 items", "paired bootstrap"]  # fmt: skip
    assert "- toxicity.document_roc_auc: not attempted: 3 items to resample, fewer than the 20" in (
        done.stdout
    )
    p, units = [c.strip() for c in rows["ner.strict_f1"].strip("|").split("|")][-3:-1]
    assert float(p) < 0.05 and units == "40 clusters"
    done = _report(runs["rules"], runs["oracle"], "--task", "ner", "--resamples", "200")
    row = next(line for line in done.stdout.splitlines() if line.startswith("| ner "))
    assert [c.strip() for c in row.strip("|").split("|")][-3:-1] == [p, units]  # the same test


def test_macro_f1_aligns_the_label_columns_of_the_two_runs(runs):
    """The crafted run predicts EVENT, which neither the gold nor the rules have: EVENT is
    a column of zeros for the rules (not one of its labels) and counts for the crafted."""
    crafted, rules = Run.load(runs["crafted"]), Run.load(runs["rules"])
    for a, b in ((crafted, rules), (rules, crafted)):
        test = compare_metric(a, b, "ner", "strict_macro_f1", n_resamples=50)
        expected = _reported(a, "ner", "strict_macro_f1") - _reported(b, "ner", "strict_macro_f1")
        assert test.difference == pytest.approx(expected, abs=1e-12)


def _edit_copy(source: Path, target: Path, file: str, edit) -> Run:
    """A copy of a run with ``edit`` applied to the rows of a JSON Lines file, or to the
    object of result.json."""
    import shutil

    shutil.copytree(source, target)
    path = target / file
    if file == "result.json":
        result = json.loads(path.read_text())
        edit(result)
        path.write_text(json.dumps(result))
    else:
        _write_jsonl(path, [edit(row) or row for row in _read_jsonl(path)])
    return Run.load(target)


def _without_parts(row: dict) -> None:
    for side in ("gold", "pred"):
        if row[side] is not None:
            del row[side]["cue"], row[side]["source"]


def test_samples_without_cue_and_source_skip_only_those_metrics(runs, tmp_path):
    old = _edit_copy(runs["crafted"], tmp_path / "old", "samples/attribution.jsonl",
                     _without_parts)  # fmt: skip
    rules = Run.load(runs["rules"])
    tests, skipped = compare_metrics(old, rules, "attribution", n_resamples=20)
    parts = {f"{p}_{how}_f1" for p in ("cue", "source") for how in ("exact", "overlap")}
    assert set(skipped) == parts
    assert all("does not record cue and source spans" in skipped[m] for m in parts)
    assert str(old.directory) in skipped["cue_exact_f1"]
    assert TESTED["attribution"] - parts <= set(tests)
    for metric, test in tests.items():
        expected = _reported(old, "attribution", metric) - _reported(rules, "attribution", metric)
        assert test.difference == pytest.approx(expected, abs=1e-9), metric
    with pytest.raises(CompareError, match="attribution.cue_exact_f1: .*cue and source"):
        compare_metric(rules, old, "attribution", "cue_exact_f1")


def _without_tokens(row: dict) -> None:
    for side in ("gold", "pred"):
        if row[side] is not None:
            del row[side]["tokens"]


def test_samples_without_content_tokens_skip_only_the_token_metrics(runs, tmp_path):
    old = _edit_copy(runs["crafted"], tmp_path / "old", "samples/attribution.jsonl",
                     _without_tokens)  # fmt: skip
    tests, skipped = compare_metrics(old, Run.load(runs["rules"]), "attribution", n_resamples=20)
    tokens = {f"content_token_{what}" for what in ("precision", "recall", "f1")}
    assert set(skipped) == tokens
    assert all("does not record content tokens" in skipped[m] for m in tokens)
    assert TESTED["attribution"] - tokens <= set(tests)


def test_malformed_content_tokens_are_named_with_their_line(runs, tmp_path):
    def bad(row: dict) -> None:
        if row["gold"] is not None:
            row["gold"]["tokens"] = [[1, "x"]]

    old = _edit_copy(runs["crafted"], tmp_path / "bad", "samples/attribution.jsonl", bad)
    with pytest.raises(CompareError, match=r"attribution.jsonl:1: gold.tokens\[0\]: expected"):
        compare_metrics(old, Run.load(runs["rules"]), "attribution", n_resamples=20)


def test_f1_is_refused_when_the_thresholds_differ(runs, tmp_path):
    def threshold(result):
        result["tasks"]["toxicity"]["breakdown"]["threshold"] = 0.4

    other = _edit_copy(runs["noisy"], tmp_path / "other", "result.json", threshold)
    rules = Run.load(runs["rules"])
    for metric in ("f1", "document_f1"):
        with pytest.raises(CompareError, match=f"toxicity.{metric}: .*thresholds differ"):
            compare_metric(rules, other, "toxicity", metric)
    tests, skipped = compare_metrics(rules, other, "toxicity", n_resamples=20)
    assert {"f1", "document_f1"} <= set(skipped) and "roc_auc" in tests


@pytest.mark.parametrize(
    ("task", "metric", "message"),
    [
        ("ner", "strict_f2", "ner.strict_f2: unknown metric (the runs report: strict_precision"),
        ("toxicity", "bias_score", "toxicity.bias_score: needs the items' identities"),
        ("toxicity", "attribute.insult.roc_auc", "needs the attribute scores"),
        ("toxicity", "document_brier", "unknown metric"),
        ("sentiment", "f1", "unknown task 'sentiment'"),
    ],
)
def test_an_untestable_metric_is_a_compare_error(runs, task, metric, message):
    with pytest.raises(CompareError, match=message.replace("(", r"\(")):
        compare_metric(Run.load(runs["rules"]), Run.load(runs["crafted"]), task, metric)


def test_compare_metric_checks_the_gold_and_the_task_status(runs, tmp_path):
    def fail(result):
        result["tasks"]["ner"]["status"] = "failed"

    def other_gold(result):
        result["dataset"]["sha256"] = "0" * 64

    rules = Run.load(runs["rules"])
    failed = _edit_copy(runs["rules"], tmp_path / "failed", "result.json", fail)
    with pytest.raises(CompareError, match="task ner is failed"):
        compare_metric(rules, failed, "ner", "exact_f1")
    moved = _edit_copy(runs["rules"], tmp_path / "moved", "result.json", other_gold)
    with pytest.raises(CompareError, match="different gold"):
        compare_metric(rules, moved, "toxicity", "ece")


def test_samples_of_different_gold_are_refused(runs, tmp_path):
    def relabel(row):
        row["gold"] = [[s, e, "ORG", t] for s, e, _, t in row["gold"]]

    other = _edit_copy(runs["rules"], tmp_path / "other", "samples/ner.jsonl", relabel)
    with pytest.raises(CompareError, match="ner: the runs' gold spans differ"):
        compare_metric(Run.load(runs["rules"]), other, "ner", "exact_f1")


def _report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BENCH_REPORT, "compare", *map(str, args)], capture_output=True, text=True, timeout=60
    )


# the units of the seed article (rules against empty): ner's and attribution's clusters are
# its 40 gold segments (attribution's samples record only the 21 holding a quote; the other
# 19 are resampled as empty clusters, as the runs' own intervals resample them)
UNITS_OF_SEED = {
    "ner": (40, "clusters"),
    "attribution": (40, "clusters"),
    "toxicity": (40, "items"),
}


def test_cli_all_metrics_prints_every_testable_metric_and_lists_the_others(runs):
    done = _report(runs["rules"], runs["empty"], "--all-metrics", "--resamples", "50")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| task"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells == ["task", "metric", "A: rules", "B: empty", "A - B", "low", "high", "p",
                     "units", "test"]  # fmt: skip
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in lines
            if line.startswith("| ") and not line.startswith("| task")}  # fmt: skip
    untested = lines[lines.index("no p-value:") + 1 :]
    for task, metrics in TESTED.items():
        for metric in metrics:
            cells = [c.strip() for c in rows[(task, metric)].strip().strip("|").split("|")]
            n, unit = UNITS_OF_SEED[task] if not metric.startswith("document_") else (3, "items")
            assert cells[-2:] == [f"{n} {unit}", "paired bootstrap"], cells
            if n < MIN_UNITS:
                assert cells[-5:-2] == ["-", "-", "not attempted"], cells
                assert (
                    f"- {task}.{metric}: not attempted: {n} {unit} to resample, fewer than the "
                    f"{MIN_UNITS} a paired test needs" in untested
                )
            else:
                assert 0 < float(cells[-3]) <= 1, cells
    skipped = lines[lines.index("skipped (not testable on items from the samples):") + 1 :]
    assert "- toxicity.bias_score: needs the items' identities, which the samples do not hold" in (
        skipped
    )
    assert any(line.startswith("- attribution.source_accuracy: undefined in B") for line in skipped)


def test_cli_metric_tests_the_metrics_named(runs):
    done = _report(runs["crafted"], runs["rules"], "--metric", "ner.exact_f1", "--metric",
                   "attribution.content_overlap_f1.direct", "--resamples", "50",
                   "--method", "randomization")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    assert [row.split("|")[2].strip() for row in rows] == ["exact_f1", "content_overlap_f1.direct"]
    assert all(row.split("|")[7].strip() == "-" for row in rows)  # no interval: randomisation


def test_cli_without_the_flags_prints_the_primary_metrics_only(runs):
    done = _report(runs["rules"], runs["empty"], "--resamples", "50")
    assert done.returncode == 0, done.stderr
    assert "skipped" not in done.stdout and "not attempted" not in done.stdout
    rows = [line.strip("|").split("|") for line in done.stdout.splitlines()[3:6]]
    assert [row[1].strip() for row in rows] == ["strict_f1", "e2e_f1", "roc_auc"]
    assert [row[-2].split()[1] for row in rows] == ["clusters", "clusters", "items"]
    assert all(int(row[-2].split()[0]) >= MIN_UNITS for row in rows)
    assert [row[-1].strip() for row in rows] == ["paired bootstrap"] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "ner.strict_f2"], "ner.strict_f2: unknown metric"),
        (["--metric", "toxicity.bias_score"], "toxicity.bias_score: needs the items' identities"),
        (["--metric", "strict_f1"], "--metric 'strict_f1': expected TASK.METRIC"),
        (["--metric", "ner.strict_f1", "--task", "ner"], "--task: not with --metric"),
    ],
)
def test_cli_exits_two_with_one_line_on_an_untestable_metric(runs, args, message):
    done = _report(runs["rules"], runs["empty"], *args, "--resamples", "20")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("bench-report compare: ") and message in line, line


def _toxicity_arrays(run: Path, level: str = "segment") -> tuple[np.ndarray, np.ndarray]:
    samples = _read_jsonl(run / "samples" / "toxicity.jsonl")
    rows = sorted((r["id"], r["gold"], r["score"]) for r in samples if r["level"] == level)
    return np.array([gold for _, gold, _ in rows]), np.array([score for *_, score in rows])


def _cells(stdout: str, task: str) -> list[str]:
    row = next(line for line in stdout.splitlines() if line.startswith(f"| {task} "))
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_cli_tests_roc_auc_by_delong_above_analytic_above(runs):
    """Above ``--analytic-above`` items (the seed article's 40 segments, 39) the toxicity
    ROC-AUC is DeLong's test, its row says ``delong`` and holds its interval and p-value; at
    40 the paired bootstrap; ``--method randomization`` is kept at any size."""
    labels, scores_a = _toxicity_arrays(runs["rules"])
    _, scores_b = _toxicity_arrays(runs["noisy"])
    expected = delong_paired_test(labels, scores_a, scores_b)
    args = (runs["rules"], runs["noisy"], "--resamples", "50")
    done = _report(*args, "--analytic-above", "39")
    assert done.returncode == 0, done.stderr
    assert "(ROC-AUC on more than 39 items: DeLong's test)" in done.stdout.splitlines()[0]
    cells = _cells(done.stdout, "toxicity")
    assert cells[-2:] == ["40 items", "delong"]
    low, high, p = map(float, cells[-5:-2])
    assert (low, high, p) == pytest.approx(
        (expected.low, expected.high, expected.p_value), abs=5e-5
    )
    assert [_cells(done.stdout, task)[-1] for task in ("ner", "attribution")] == [
        "paired bootstrap"] * 2  # fmt: skip
    assert _cells(_report(*args, "--analytic-above", "40").stdout, "toxicity")[-1] == (
        "paired bootstrap"
    )
    randomised = _report(*args, "--analytic-above", "39", "--method", "randomization")
    assert _cells(randomised.stdout, "toxicity")[-1] == "approximate randomisation"
    rules, noisy = Run.load(runs["rules"]), Run.load(runs["noisy"])
    assert compare_task(rules, noisy, "toxicity", analytic_above=39) == expected
    assert compare_metric(rules, noisy, "toxicity", "roc_auc", analytic_above=39) == expected


def test_check_and_leaderboard_take_analytic_above_and_name_the_test(runs, tmp_path):
    """``bench-report check`` and ``leaderboard`` switch with the same option: check's table
    says ``delong`` for toxicity.roc_auc, the leaderboard's JSON records the method of each
    test against the run above and the switch point."""
    done = subprocess.run(
        [BENCH_REPORT, "check", str(runs["noisy"]), "--baseline", str(runs["rules"]),
         "--resamples", "50", "--analytic-above", "39"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert "ROC-AUC on more than 39 items: DeLong's test" in done.stdout
    assert "| toxicity.roc_auc " in done.stdout
    [row] = [line for line in done.stdout.splitlines() if line.startswith("| toxicity.roc_auc ")]
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    assert cells[6:8] == ["40 items", "delong"], cells
    [row] = [line for line in done.stdout.splitlines() if line.startswith("| ner.strict_f1 ")]
    assert "| paired bootstrap |" in row
    out = tmp_path / "board"
    done = subprocess.run(
        [BENCH_REPORT, "leaderboard", str(runs["rules"]), str(runs["noisy"]), "--out", str(out),
         "--resamples", "50", "--analytic-above", "39", "--no-plots"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["ranking"]["analytic_above"] == 39
    methods = {task: [r["vs_above"]["method"] for r in record["ranking"] if r["vs_above"]]
               for task, record in data["tasks"].items()}  # fmt: skip
    assert methods == {"ner": ["paired bootstrap"], "attribution": ["paired bootstrap"],
                       "toxicity": ["delong"]}  # fmt: skip


def test_the_main_toxicity_level_comes_from_the_result_not_the_row_order(runs, tmp_path):
    """Samples listing the documents first still compare the segments as the main level."""
    copies = {}
    for name in ("rules", "empty"):
        copies[name] = tmp_path / name
        shutil.copytree(runs[name], copies[name])
        path = copies[name] / "samples" / "toxicity.jsonl"
        rows = _read_jsonl(path)
        _write_jsonl(path, [r for r in rows if r["level"] == "document"]
                     + [r for r in rows if r["level"] != "document"])  # fmt: skip
    a, b = Run.load(copies["rules"]), Run.load(copies["empty"])
    reported = _reported(a, "toxicity", "roc_auc") - _reported(b, "toxicity", "roc_auc")
    for test in (
        compare_task(a, b, "toxicity", 50),
        compare_metric(a, b, "toxicity", "roc_auc", 50),
    ):
        assert test.difference == pytest.approx(reported, abs=1e-9)


# Token lengths and tags where nervaluate's ent_type matching differs between token and
# character offsets: the predicted person [2, 4) is nearer, in tokens, to the gold [2, 3)
# and, in characters, to the gold [3, 5), which the predicted person [4, 5) then overlaps.
CONLL_TOKENS = ["Saskatchewan", "a", "Jo", "Williams", "x", "y"]
CONLL_GOLD = ["O", "B-group", "B-person", "B-person", "I-person", "O"]
CONLL_PRED = ["O", "O", "B-person", "I-person", "B-person", "O"]


def test_semeval_differences_on_a_token_dataset_are_those_of_the_runs(tmp_path):
    """compare recomputes the SemEval schemes on tokens, as the run scored them."""

    def conll(tags):
        return "\n".join(f"{t}\t{tag}" for t, tag in zip(CONLL_TOKENS, tags, strict=True)) + "\n"

    (tmp_path / "gold.conll").write_text(conll(CONLL_GOLD), encoding="utf-8")
    runs = {}
    for name, tags in (("pred", CONLL_PRED), ("gold", CONLL_GOLD)):
        (tmp_path / f"{name}.conll").write_text(conll(tags), encoding="utf-8")
        runs[name] = run_model(
            tmp_path / name, "predictions", "dataset=wnut17", f"dataset.path={tmp_path}",
            "dataset.file=gold.conll", "dataset.version=synthetic", "model.format=conll",
            f"model.path={tmp_path / f'{name}.conll'}", "bootstrap.resamples=0",
        ).result  # fmt: skip
    ent_type = runs["pred"]["tasks"]["ner"]["breakdown"]["semeval"]["micro"]["ent_type"]
    counts = [ent_type[k] for k in ("correct", "incorrect", "spurious", "missed")]
    assert counts == [2, 0, 0, 1]  # on characters: [1, 0, 1, 2]
    tests, _ = compare_metrics(
        Run.load(tmp_path / "pred"), Run.load(tmp_path / "gold"), "ner", n_resamples=10
    )
    for metric in ("exact_f1", "partial_f1", "ent_type_f1", "strict_macro_f1"):
        expected = (runs["pred"]["tasks"]["ner"]["metrics"][metric]["value"]
                    - runs["gold"]["tasks"]["ner"]["metrics"][metric]["value"])  # fmt: skip
        assert tests[metric].difference == pytest.approx(expected, abs=1e-12), metric


def test_toxicity_scores_read_as_columns_equal_those_read_row_by_row(runs, tmp_path, monkeypatch):
    """Issue 13: ten million rows are read as columns (arrow's JSON reader), not a dict each,
    with the same levels, ids, labels and scores; a failed item's row is left out."""
    import bench.report.compare as compare

    copy = tmp_path / "failed"
    shutil.copytree(runs["rules"], copy)
    path = copy / "samples" / "toxicity.jsonl"
    rows = _read_jsonl(path)
    failed = {"id": rows[3]["id"], "failure": {"reason": "x", "message": "m", "raw": None}}
    _write_jsonl(path, [*rows[:3], failed, *rows[4:]])
    for directory in (*runs.values(), copy):
        run = Run.load(directory)
        with monkeypatch.context() as patched:
            patched.setattr(Run, "samples", None)  # not read row by row
            by_columns = [run.toxicity_scores(level) for level in run.toxicity_levels()]
        with monkeypatch.context() as patched:
            patched.setattr(compare, "_toxicity_columns", lambda path: None)
            by_rows = [run.toxicity_scores(level) for level in run.toxicity_levels()]
        for (level, *arrays), (level_rows, *arrays_rows) in zip(by_columns, by_rows, strict=True):
            assert level == level_rows and all(map(np.array_equal, arrays, arrays_rows))
            assert arrays[0].tolist() == sorted(arrays[0].tolist())
    assert rows[3]["id"].encode() not in Run.load(copy).toxicity_scores(rows[3]["level"])[1]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: [*rows[:2], rows[2].replace('"score": ', '"x": '), *rows[3:]],
         "samples/toxicity.jsonl:3: score: missing"),
        (lambda rows: [*rows[:4], rows[4].replace('"score": ', '"score": true, "x": '),
                       *rows[5:]],
         "samples/toxicity.jsonl:5: score: expected a number, got True"),
        (lambda rows: [*rows[:6], rows[6].replace('"id": ', '"id": 7, "x": '), *rows[7:]],
         "samples/toxicity.jsonl:7: id: expected a string, got 7"),
        (lambda rows: [rows[0], "[1, 2]", *rows[2:]],
         "samples/toxicity.jsonl:2: expected an object, got [1, 2]"),
        (lambda rows: [rows[0], "{broken", *rows[2:]],
         "samples/toxicity.jsonl:2: (json): Expecting property name"),
        (lambda rows: [*rows[:3], re.sub(r'"score": [^,}]+', '"score": NaN', rows[3]), *rows[4:]],
         "samples/toxicity.jsonl:4: score: expected a finite number, got nan"),
        (lambda rows: [*rows[:3], re.sub(r'"score": [^,}]+', '"score": 1' + "0" * 400, rows[3]),
                       *rows[4:]],
         "samples/toxicity.jsonl:4: score: expected a finite number, got 1000"),
        (lambda rows: [*rows[:3], re.sub(r'"gold": \d', '"gold": 2', rows[3]), *rows[4:]],
         "samples/toxicity.jsonl:4: gold: expected 0 or 1, got 2"),
        (lambda rows: [*rows, rows[0]],
         "samples/toxicity.jsonl: id: 'article-01' twice at level 'segment'"),
    ],
)  # fmt: skip
def test_toxicity_scores_of_a_malformed_file_name_its_line(runs, tmp_path, edit, message):
    corrupt = _corrupt(runs, tmp_path, edit, "samples/toxicity.jsonl")
    with pytest.raises(CompareError) as caught:
        Run.load(corrupt).toxicity_scores()
    [line] = str(caught.value).splitlines()
    assert f"{corrupt}/{message}" in line, line


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: rows[1:], "toxicity (segment): the runs' samples hold different items"),
        (lambda rows: [{**rows[0], "gold": 1 - rows[0]["gold"]}, *rows[1:]],
         "toxicity: the runs' gold labels differ (segment level)"),
    ],
)  # fmt: skip
def test_toxicity_is_paired_on_the_same_items_and_labels(runs, tmp_path, edit, message):
    copy = tmp_path / "edited"
    shutil.copytree(runs["rules"], copy)
    path = copy / "samples" / "toxicity.jsonl"
    _write_jsonl(path, edit(_read_jsonl(path)))
    for test in (compare_task, lambda *runs: compare_metric(*runs, "average_precision")):
        with pytest.raises(CompareError, match=re.escape(message)):
            test(Run.load(runs["rules"]), Run.load(copy), "toxicity")
