"""Paired comparison of two runs from their samples (bench-report compare)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from bench.cli import CONF_DIR
from bench.report.compare import CompareError, Run, compare_task
from bench.runner import run

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))


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
        ("samples/toxicity.jsonl", lambda rows: [*rows[:2], rows[2].replace('"score": ', '"x": '),
                                                 *rows[3:]],
         "samples/toxicity.jsonl:3: score: missing"),
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
