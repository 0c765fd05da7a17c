"""The ``bench`` console script, run in a subprocess from a directory outside the repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = str(Path(sys.executable).with_name("bench"))
TESTS_DIR = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


CHEAP = ("+model=empty", "task=ner", "bootstrap.resamples=0")


def env() -> dict[str, str]:
    """The environment now, with the tests' adapters importable and bench taken from
    PYTHONPATH if set (a worktree)."""
    path = os.pathsep.join(filter(None, (str(TESTS_DIR), os.environ.get("PYTHONPATH"))))
    return os.environ | {"PYTHONPATH": path, "HYDRA_FULL_ERROR": "1"}


def bench(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH, *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=120
    )


def no_run_folder(cwd: Path) -> bool:
    """No run or sweep directory under ``cwd/results`` (the default place)."""
    return not [*cwd.glob("results/runs/*"), *cwd.glob("results/multirun/*")]


def start_bench(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BENCH, *args], cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_run_from_outside_the_repo_writes_results_under_cwd(tmp_path):
    done = bench(tmp_path, "+model=oracle")
    assert done.returncode == 0, done.stderr
    assert "strict_f1" in done.stdout and "1.0000" in done.stdout
    [result_file] = list((tmp_path / "results" / "runs").glob("*oracle/result.json"))
    result = json.loads(result_file.read_text())
    assert result["tasks"]["ner"]["metrics"]["strict_f1"]["value"] == 1.0
    assert (result_file.parent / "tables" / "main.md").is_file()


def test_a_named_run_gets_its_own_folder_and_a_bad_option_exits_2(tmp_path):
    args = ("+model=empty", "task=toxicity", "bootstrap.resamples=0")
    done = bench(tmp_path, *args, "name=team a/1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("model: team a/1 (preset empty)")
    [folder] = (tmp_path / "results" / "runs").iterdir()
    assert folder.name.endswith("_team_a_1")
    bad = bench(tmp_path, *args, "toxicity.threshold=abc", "hydra.run.dir=bad")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "bench: ConfigError: toxicity.threshold: Value 'abc' of type 'str' could not be "
        "converted to Float"
    ]
    assert not (tmp_path / "bad").exists()


def test_without_model_lists_presets_and_fails(tmp_path):
    done = bench(tmp_path)
    assert done.returncode == 2
    assert "+model=NAME" in done.stderr
    for preset in ("empty", "oracle", "rules"):
        assert preset in done.stderr
    assert no_run_folder(tmp_path)  # not even an empty one


def test_failed_task_gives_exit_code_one_and_keeps_other_tasks(tmp_path):
    done = bench(tmp_path, "+model._target_=adapters_for_tests.OutOfRangeNer", "hydra.run.dir=out")
    assert done.returncode == 1
    assert "task ner failed" in done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["tasks"]["ner"]["status"] == "failed"
    assert result["tasks"]["toxicity"]["status"] == "ok"


def test_multirun_over_presets(tmp_path):
    done = bench(tmp_path, "-m", "+model=oracle,empty", "task=ner", "hydra.sweep.dir=sweep")
    assert done.returncode == 0, done.stderr
    results = sorted((tmp_path / "sweep").glob("*/result.json"))
    assert [json.loads(p.read_text())["model"]["preset"] for p in results] == ["oracle", "empty"]


def test_corrupted_gold_is_refused_without_result_files(tmp_path):
    from bench.data.gold import default_gold_dir

    gold = tmp_path / "gold"
    shutil.copytree(default_gold_dir(), gold)
    raw = next(gold.glob("*.txt"))
    raw.write_text(raw.read_text(encoding="utf-8") + " ", encoding="utf-8")
    done = bench(tmp_path, "+model=rules", f"dataset.path={gold}", "hydra.run.dir=out")
    assert done.returncode == 2
    assert "sha256" in done.stderr and raw.name in done.stderr
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_jsonl_prediction_file_that_is_not_utf8_exits_two_naming_file_and_line(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    path = folder / "toxicity.jsonl"
    path.write_bytes(b'{"id": "article-01", "score": 0.5}\n{"id": "article-02", "x": "caf\xe9"}\n')
    done = bench(tmp_path, "+model=predictions", f"model.path={folder}", "hydra.run.dir=out")
    assert done.returncode == 2  # like any malformed predictions file: the run is refused
    assert "Traceback" not in done.stderr and "UnicodeDecodeError" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"bench: PredictionsFileError: {path}:2: (encoding): not UTF-8 "
        "(byte 0xe9 at column 31); save the file as UTF-8"
    ]
    assert not (tmp_path / "out").exists()


def test_a_conll_prediction_file_that_is_not_utf8_exits_two_naming_file_and_line(tmp_path):
    path = tmp_path / "submission.conll"
    path.write_bytes(b"-DOCSTART- O\n\nJoh\xf1 B-person\nsays O\n")
    args = ("+model=predictions", f"model.path={path}", "model.format=conll", "dataset=wnut17")
    done = bench(tmp_path, *args, "hydra.run.dir=out")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"bench: ConfigError: model predictions: ConllError: {path}:3: (encoding): not UTF-8 "
        "(byte 0xf1 at column 4); save the file as UTF-8"
    ]
    assert not (tmp_path / "out" / "result.json").exists()


CONLL_GOLD = ["Ann B-person", "lives O", "in O", "Paris B-location", "", "Bob B-person",
              "works O", "at O", "Acme B-corporation", "now O"]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Acme B-corp", "predictions: ner item 's00002': entities[1].label: unknown label 'corp'"),
        ("Acme I-corp", "predictions: ner item 's00002': entities[1].label: unknown label 'corp'"),
        ("Acme PERSON", "tag: malformed tag 'PERSON'"),
        ("Acme", "columns: expected 2 columns (token … tag), got 1 in 'Acme'"),
        ("Acne B-corporation", "token: sentence 2 differs from the gold at token 4: 'Acne', "
         "gold 'Acme' (5 tokens, gold 5); model.align=position scores it by position"),
    ],
)  # fmt: skip
def test_a_bad_conll_prediction_row_mid_sentence_exits_two_naming_its_line(tmp_path, row, message):
    """The bad row is line 9, the fourth token of the sentence starting on line 6."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "gold.conll").write_text("\n".join(CONLL_GOLD) + "\n", encoding="utf-8")
    rows = CONLL_GOLD.copy()
    rows[8] = row
    predictions = data / "submission.conll"
    predictions.write_text("\n".join(rows) + "\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = bench(
        elsewhere, "+model=predictions", "dataset=wnut17", f"dataset.path={data}",
        "dataset.file=gold.conll", "dataset.version=synthetic", "model.format=conll",
        f"model.path={predictions}", "bootstrap.resamples=0", "hydra.run.dir=out",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: "), done.stderr
    assert f"{predictions}:9: {message}" in lines[0], lines[0]
    assert not (elsewhere / "out" / "result.json").exists()


def test_unknown_preset_exits_two(tmp_path):
    done = bench(tmp_path, "+model=nonexistent")
    assert done.returncode == 2
    assert "Could not find 'model/nonexistent'" in done.stderr


def test_a_run_with_nothing_to_score_exits_two_saying_what_each_side_supports(tmp_path):
    """Issue 16: a model that predicts none of the dataset's tasks is refused, no result."""
    pytest.importorskip("spacy")
    done = bench(tmp_path, "+model=spacy_sm", "dataset=hatecheck")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "bench: ConfigError: nothing to score: model spacy_sm predicts ner, "
        "dataset hatecheck has gold for toxicity (task=all)"
    ]
    assert no_run_folder(tmp_path)
    # the dataset alone settles it: refused before the model is built
    done = bench(tmp_path, "+model=rules", "dataset=hatecheck", "task=ner")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "bench: ConfigError: nothing to score: dataset hatecheck has gold for toxicity (task=ner)"
    ]
    assert no_run_folder(tmp_path)


def test_missing_mandatory_parameter_exits_two_in_one_line(tmp_path):
    done = bench(tmp_path, "+model=predictions", "hydra.run.dir=out")
    assert done.returncode == 2
    [line] = [line for line in done.stderr.splitlines() if line.startswith("bench:")]
    assert "model.path" in line
    assert not (tmp_path / "out" / "result.json").exists()


def test_runs_started_together_each_get_their_own_directory(tmp_path):
    runs = [start_bench(tmp_path, *CHEAP) for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    folders = sorted((tmp_path / "results" / "runs").iterdir())
    assert len(folders) == 3
    for folder in folders:
        assert folder.name.endswith("_empty")
        assert json.loads((folder / "result.json").read_text())["tasks"]["ner"]["status"] == "ok"
    printed = sorted(out.split("out: ")[1].splitlines()[0] for out, _ in outputs)
    assert printed == [str(folder) for folder in folders]


def test_a_run_into_the_directory_of_a_live_run_is_refused(tmp_path):
    started, gate = tmp_path / "started", tmp_path / "gate"
    model = ("+model._target_=adapters_for_tests.GatedToxicity", f"+model.started={started}",
             f"+model.gate={gate}", "task=toxicity", "bootstrap.resamples=0")  # fmt: skip
    live = start_bench(tmp_path, *model, "hydra.run.dir=out")
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        before = (tmp_path / "out" / ".hydra" / "overrides.yaml").read_text()
        second = bench(tmp_path, *CHEAP, "hydra.run.dir=out")
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            "bench: out: in use by a running bench (.bench.lock)"
        ]
        assert (tmp_path / "out" / ".hydra" / "overrides.yaml").read_text() == before
    finally:
        gate.touch()
        live.communicate(timeout=120)
    assert live.returncode == 0
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["tasks"]["toxicity"]["status"] == "ok" and "ner" not in result["tasks"]
    rerun = bench(tmp_path, *CHEAP, "hydra.run.dir=out")  # the run is over: a rerun replaces it
    assert rerun.returncode == 0, rerun.stderr
    assert "ner" in json.loads((tmp_path / "out" / "result.json").read_text())["tasks"]


@pytest.mark.parametrize(
    "args",
    [("+model=empty", "bootstrap.resamples=-1"), ("+model=predictions",), ("task=ner",)],
    ids=["bad-option", "unusable-model", "no-model"],
)
def test_a_refused_run_leaves_no_folder(tmp_path, args):
    done = bench(tmp_path, *args)
    assert done.returncode == 2
    assert no_run_folder(tmp_path)
    done = bench(tmp_path, "-m", *args)
    assert done.returncode == 2
    assert no_run_folder(tmp_path)


def test_a_preset_needing_what_the_dataset_lacks_names_both(tmp_path):
    done = bench(tmp_path, "+model=rules_wnut17", "task=ner")  # needs dataset.labels
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "bench: model preset rules_wnut17 needs dataset.labels, which dataset=seed_article "
        "does not define (choose a dataset that has it)"
    ]
    assert no_run_folder(tmp_path)


def test_a_refused_run_keeps_the_finished_run_in_its_folder(tmp_path):
    assert bench(tmp_path, *CHEAP, "hydra.run.dir=out").returncode == 0
    assert bench(tmp_path, *CHEAP, "hydra.run.dir=out", "seed=-1").returncode == 2
    assert json.loads((tmp_path / "out" / "result.json").read_text())["tasks"]["ner"]


def test_a_check_refused_after_the_run_keeps_the_run(tmp_path):
    baseline = tmp_path / "base.yaml"
    baseline.write_text("dataset_sha256: '0000'\nmetrics:\n  ner.strict_f1: {min: 0.0}\n")
    done = bench(tmp_path, *CHEAP, f"+check.baseline={baseline}")
    assert done.returncode == 2
    assert "differs" in done.stderr.splitlines()[-1]
    [run] = (tmp_path / "results" / "runs").iterdir()
    assert (run / "result.json").is_file() and (run / "check" / "junit.xml").is_file()


@pytest.mark.parametrize(
    ("typo", "message"),
    [
        ("+chek.baseline=base.json", "chek: unknown option (did you mean check?)"),
        ("+check.basline=base.json",
         "check.basline: unknown option (did you mean check.baseline?)"),
        ("+bootstrap.resample=10",
         "bootstrap.resample: unknown option (did you mean bootstrap.resamples?)"),
        ("+tsk=ner", "tsk: unknown option (did you mean task?)"),
        ("bootstrap.resample=10",
         "bootstrap.resample: unknown option (did you mean bootstrap.resamples?)"),
        ("cache.enabled=maybe", "cache.enabled: Value 'maybe' is not a valid bool (type str)"),
        ("bootstrap.resamples=1.5",
         "bootstrap.resamples: Value '1.5' of type 'float' could not be converted to Integer"),
        ("+cache.max_age=[1]", "cache.max_age: Cannot convert 'list' to string: '[1]'"),
        ("max_failure_rate=1.5", "max_failure_rate=1.5: expected a number in [0, 1]"),
        ("model.scor=1", "model.scor: unknown option (did you mean model.score?)"),
        ("model.colour=red",
         "model.colour: unknown option (a new parameter of the model: +model.colour=…)"),
    ],
)  # fmt: skip
def test_a_typo_is_an_error_naming_the_key(tmp_path, typo, message):
    done = bench(tmp_path, *CHEAP, typo)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"bench: ConfigError: {message}"]
    assert no_run_folder(tmp_path)


def test_a_sweep_with_a_failed_job_exits_non_zero_and_names_it(tmp_path):
    targets = "bench.adapters.baselines.EmptyAdapter,adapters_for_tests.OutOfRangeNer"
    done = bench(tmp_path, "-m", f"+model._target_={targets}", *CHEAP[1:], "hydra.sweep.dir=sw")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "bench: job #1 (+model._target_=adapters_for_tests.OutOfRangeNer task=ner "
        "bootstrap.resamples=0) failed: exit code 1"
    )
    assert (tmp_path / "sw" / "0_none" / "result.json").is_file()
    assert (tmp_path / "sw" / "1_none" / "result.json").is_file()


def test_a_run_collects_garbage_rarely(tmp_path):
    """Issue 16: a run keeps millions of small objects to its end; the ``bench`` process
    raises the collector's thresholds before the run (the defaults, 700 allocations,
    rescanned them over and over: a quarter of a 1M-token NER run)."""
    from bench.cli import RUN_GC_THRESHOLDS

    script = (
        "import gc, sys\n"
        "import bench.runner\n"
        "from bench.cli import main\n"
        "def run(*args, **kwargs):\n"
        "    print('thresholds', *gc.get_threshold())\n"
        "    raise SystemExit(0)\n"
        "bench.runner.run = run\n"
        f"sys.argv = ['bench', '+model=empty', 'hydra.run.dir={tmp_path / 'run'}']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["thresholds", *map(str, RUN_GC_THRESHOLDS)]
    assert RUN_GC_THRESHOLDS[0] >= 10_000
