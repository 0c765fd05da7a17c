"""``bench-report`` on result folders from strangers: data, never code; bad options.

A crafted ``result.json`` must not make any report command build an object (a nested
``_target_`` writing a file), resolve an interpolation (``${oc.env:…}``) or rebuild
the gold from anything but a dataset registered with bench. Every case runs the
installed ``bench-report`` in a subprocess, as an operator would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bench_config import run_model

from bench.resources import resource_dir

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
SECRET = "s3cr3t-value-of-the-environment"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real runs: the rules on all tasks, on NER only and on toxicity only."""
    out = {}
    for name, task in (("rules", "all"), ("ner", "ner"), ("toxicity", "toxicity")):
        out[name] = tmp_path_factory.mktemp(name)
        run_model(out[name], "rules", "bootstrap.resamples=0", f"task={task}", preset="rules")
    return out


def _copy(source: Path, target: Path, edit: Callable[[dict], None]) -> Path:
    """A copy of the run ``source`` with ``edit`` applied to its result.json."""
    shutil.copytree(source, target)
    result = json.loads((target / "result.json").read_text())
    edit(result)
    (target / "result.json").write_text(json.dumps(result, indent=2))
    return target


def _report(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BENCH_REPORT, *map(str, args)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip


def _commands(good: Path, crafted: Path, out: Path) -> dict[str, list[object]]:
    """Every bench-report subcommand, reading ``crafted`` (and ``good`` where two are read)."""
    return {
        "leaderboard": ["leaderboard", good, crafted, "--out", out, "--no-plots",
                        "--resamples", 20],
        "errors": ["errors", crafted, "--out", out / "errors.html"],
        "compare": ["compare", good, crafted, "--resamples", 20],
        "check": ["check", crafted, "--baseline", good, "--resamples", 20,
                  "--markdown", out / "report.md"],
        "check-baseline": ["check", good, "--baseline", crafted, "--resamples", 20,
                           "--markdown", out / "report.md"],
        "merge": ["merge", crafted, "--out", out],
        "site": ["site", good, crafted, "--out", out, "--no-plots", "--resamples", 20],
        "submit": ["submit", resource_dir("datasets") / "wnut17" / "submissions" / "arcada",
                   "--name", "team", "--dataset", "wnut17", "--into", crafted.parent],
    }  # fmt: skip


def test_every_subcommand_is_exercised():
    from bench.report.cli import SUBCOMMANDS

    assert {c.split("-")[0] for c in _commands(Path(), Path(), Path())} == set(SUBCOMMANDS)


def _writer(target: Path) -> dict:
    """A config node that, instantiated by Hydra, writes ``target``."""
    return {
        "_target_": "pathlib.Path.write_text",
        "self": {"_target_": "pathlib.Path", "_args_": [str(target)]},
        "data": "import os  # a .pth file runs at the next Python start\n",
    }


def _plant(node: str) -> Callable[[dict, Path], None]:
    """Put a file writer at ``node`` (a dotted path below provenance.config)."""

    def edit(result: dict, target: Path) -> None:
        *parents, key = node.split(".")
        where = result["provenance"]["config"]
        for parent in parents:
            where = where.setdefault(parent, {})
        where[key] = _writer(target)

    return edit


PLANTED = {
    "dataset": "dataset.path",  # the old errors page instantiated this
    "model": "model.tokenizer",
    "cache": "cache.dir",
    "deep": "bootstrap.unit.ner",
}


@pytest.mark.parametrize("command", list(_commands(Path(), Path(), Path())))
@pytest.mark.parametrize("node", list(PLANTED))
def test_a_nested_target_is_refused_by_every_command_and_nothing_is_written(
    runs, tmp_path, node, command
):
    target = tmp_path / "planted" / "evil.pth"
    target.parent.mkdir()
    crafted = _copy(runs["rules"], tmp_path / "crafted", lambda r: _plant(PLANTED[node])(r, target))
    out = tmp_path / "out"
    done = _report(*_commands(runs["rules"], crafted, out)[command])
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    field = f"provenance.config.{PLANTED[node]}._target_"
    assert line.startswith(f"bench-report {command.split('-')[0]}: "), line
    assert f"{crafted / 'result.json'}: {field}: refused" in line, line
    assert not target.exists()
    assert not out.exists()


def test_the_oracles_registered_dataset_parameter_is_accepted(tmp_path):
    """The oracle preset records the gold's config (a registered dataset class) as a model
    parameter: a nested _target_ that names a dataset bench ships is data, not refused."""
    oracle = tmp_path / "oracle"
    run_model(oracle, "oracle", "bootstrap.resamples=0", "task=ner")
    model = json.loads((oracle / "result.json").read_text())["provenance"]["config"]["model"]
    assert model["dataset"]["_target_"] == "bench.data.seed.SeedArticle"
    done = _report("compare", oracle, oracle, "--resamples", 20)
    assert done.returncode == 0, done.stderr


def _interpolate(result: dict) -> None:
    result["provenance"]["config"]["dataset"]["path"] = "${oc.env:BENCH_TEST_SECRET}"
    result["model"]["name"] = "team ${oc.env:BENCH_TEST_SECRET}"


@pytest.mark.parametrize("command", ["leaderboard", "compare", "check", "check-baseline", "site"])
def test_an_interpolation_in_a_result_file_is_never_resolved(runs, tmp_path, command):
    crafted = _copy(runs["rules"], tmp_path / "crafted", _interpolate)
    out = tmp_path / "out"
    done = _report(
        *_commands(runs["rules"], crafted, out)[command], env={"BENCH_TEST_SECRET": SECRET}
    )
    assert done.returncode in (0, 1), done.stderr  # check: the renamed run passes or fails
    written = [p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix != ".png"]
    for text in (done.stdout, done.stderr, *written):
        assert SECRET not in text
    shown = done.stdout + "".join(written)
    if command in ("leaderboard", "compare", "site"):  # check names the runs by their folders
        assert "team ${oc.env:BENCH_TEST_SECRET}" in shown.replace("\\", "")


def test_an_interpolation_in_a_yaml_baseline_is_never_resolved(runs, tmp_path):
    baseline = tmp_path / "check.yaml"
    baseline.write_text(
        f"baseline: {runs['rules'] / 'result.json'}\n"
        "dataset_sha256: ${oc.env:BENCH_TEST_SECRET}\n"
        "metrics:\n  ner.strict_f1: {tolerance: 0.0}\n"
    )
    done = _report("check", runs["rules"], "--baseline", baseline, "--resamples", 20,
                   env={"BENCH_TEST_SECRET": SECRET})  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert f"{baseline}: dataset_sha256: differs from" in line and SECRET not in line


def test_the_errors_page_refuses_an_interpolated_dataset_parameter(runs, tmp_path):
    """The old page resolved ``${oc.env:…}`` while re-loading the gold and printed the
    value in its note ("could not be loaded: … not found")."""
    crafted = _copy(runs["rules"], tmp_path / "crafted", _interpolate)
    out = tmp_path / "errors.html"
    done = _report("errors", crafted, "--out", out, env={"BENCH_TEST_SECRET": SECRET})
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert f"{crafted / 'result.json'}: provenance.config.dataset.path: expected a plain" in line
    assert SECRET not in line and not out.exists()
    done = _report("errors", crafted, "--out", out, "--no-dataset")  # the spans only
    assert done.returncode == 0, done.stderr
    assert "team ${oc.env:BENCH_TEST_SECRET}" in out.read_text()


def _set_dataset(**fields: object) -> Callable[[dict], None]:
    def edit(result: dict) -> None:
        result["provenance"]["config"]["dataset"].update(fields)

    return edit


def _drop_dataset(result: dict) -> None:
    del result["provenance"]["config"]["dataset"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set_dataset(name="my_corpus"),
         "provenance.config.dataset.name: 'my_corpus' is not a dataset registered with bench"),
        (_set_dataset(_target_="bench.data.csv_sets.HateCheck"),
         "provenance.config.dataset._target_: 'bench.data.csv_sets.HateCheck' is not the class "
         "of the registered dataset seed_article"),
        (_set_dataset(_target_="os.system"),
         "provenance.config.dataset._target_: 'os.system' is not the class"),
        (_set_dataset(file={"_args_": ["x.csv"]}),
         "provenance.config.dataset.file: expected a plain"),
        (_set_dataset(path={"nested": 1}), "provenance.config.dataset.path: expected a plain"),
        (_set_dataset(path=["ok", ["${oc.env:HOME}"]]),
         "provenance.config.dataset.path[1][0]: expected a plain"),
        (_drop_dataset, "provenance.config.dataset: missing"),
    ],
)  # fmt: skip
def test_the_errors_page_rebuilds_only_a_registered_dataset(runs, tmp_path, edit, message):
    crafted = _copy(runs["rules"], tmp_path / "crafted", edit)
    out = tmp_path / "errors.html"
    done = _report("errors", crafted, "--out", out)
    assert done.returncode == 2, done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report errors: {crafted / 'result.json'}: {message}"), line
    assert "--no-dataset" in line and not out.exists()


def test_the_errors_page_reads_bench_own_copy_not_the_runs_path(runs, tmp_path):
    """The run's dataset.path (a folder on the submitter's machine) is not read: the
    texts come from the copy bench ships, verified by the run's gold sha256."""
    decoy = tmp_path / "decoy"
    crafted = _copy(runs["rules"], tmp_path / "crafted", _set_dataset(path=str(decoy)))
    out = tmp_path / "errors.html"
    assert _report("errors", crafted, "--out", out).returncode == 0
    page = out.read_text()
    assert "Mexico" in page and '<p class="note">' not in page  # the document texts
    other = _copy(crafted, tmp_path / "other", lambda r: r["dataset"].update(sha256="0" * 64))
    assert _report("errors", other, "--out", out).returncode == 0
    assert "the run&#x27;s gold differs from the seed_article dataset shipped" in out.read_text()
    assert not decoy.exists()


# ----------------------------------------------------------------------- bad options


@pytest.mark.parametrize(
    ("command", "option", "message"),
    [
        ("compare", ["--resamples", "-3"], "argument --resamples: expected an integer ≥ 1, got -3"),
        ("compare", ["--resamples", "0"], "argument --resamples: expected an integer ≥ 1, got 0"),
        ("compare", ["--resamples", "many"], "argument --resamples: expected an integer, got"),
        ("compare", ["--seed", "-1"], "argument --seed: expected an integer ≥ 0, got -1"),
        ("leaderboard", ["--resamples", "-3"], "argument --resamples: expected an integer ≥ 1"),
        ("leaderboard", ["--seed", "-1"], "argument --seed: expected an integer ≥ 0, got -1"),
        ("leaderboard", ["--alpha", "1.5"], "argument --alpha: expected a number in (0, 1)"),
        ("leaderboard", ["--alpha", "nan"], "argument --alpha: expected a finite number"),
        ("check", ["--resamples", "-3"], "argument --resamples: expected an integer ≥ 1"),
        ("check", ["--seed", "-1"], "argument --seed: expected an integer ≥ 0, got -1"),
        ("check", ["--alpha", "0"], "argument --alpha: expected a number in (0, 1), got 0"),
        ("check", ["--tolerance", "-0.1"], "argument --tolerance: expected a number ≥ 0"),
        ("check", ["--tolerance", "inf"], "argument --tolerance: expected a finite number"),
        ("errors", ["--limit", "0"], "argument --limit: expected an integer ≥ 1, got 0"),
        ("compare", ["--method", "t-test"], "argument --method: invalid choice: 't-test'"),
    ],
)  # fmt: skip
def test_a_bad_option_is_one_line_and_exit_two(runs, tmp_path, command, option, message):
    out = tmp_path / "out"
    args = _commands(runs["rules"], runs["rules"], out)[command]
    done = _report(*args, *option)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report {command}: {message}"), line
    assert not out.exists()


def test_two_runs_with_no_task_in_common_are_one_line_and_exit_two(runs):
    done = _report("compare", runs["ner"], runs["toxicity"], "--resamples", 20)
    assert done.returncode == 2, done.stdout
    [line] = done.stderr.splitlines()
    assert line == (
        f"bench-report compare: {runs['ner']} and {runs['toxicity']}: no task is ok in both "
        "runs (A: ner; B: toxicity)"
    )
    for args in (["--all-metrics"], ["--task", "ner"]):
        done = _report("compare", runs["ner"], runs["toxicity"], *args)
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize(
    ("command", "where"),
    [("leaderboard", "a file"), ("leaderboard", "below a file"), ("errors", "below a file"),
     ("errors", "a directory")],
)  # fmt: skip
def test_an_unwritable_out_is_one_line_and_exit_two(runs, tmp_path, command, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    out = {"a file": blocker, "below a file": blocker / "out", "a directory": tmp_path}[where]
    extra = ["--no-plots"] if command == "leaderboard" else []
    done = _report(command, runs["rules"], "--out", out, *extra)
    assert done.returncode == 2, done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report {command}: --out {out}: cannot write ("), line
    assert blocker.read_text() == "not a directory"
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_result_file_nested_too_deeply_is_one_line_and_exit_two(runs, tmp_path):
    deep = tmp_path / "deep" / "result.json"
    deep.parent.mkdir()
    deep.write_text("[" * 100_000 + "]" * 100_000)
    done = _report("compare", deep.parent, runs["rules"])
    assert done.returncode == 2
    assert done.stderr == f"bench-report compare: {deep}: (json): nested too deeply\n"
