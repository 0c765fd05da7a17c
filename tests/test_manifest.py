"""datasets/MANIFEST.json: a copy of the gold that differs from it is refused unless versioned."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.data import manifest
from bench.resources import resource_dir

DATASETS = resource_dir("datasets")
BIN = Path(sys.executable).parent


def _command(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, env=os.environ.copy(), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def _copy(tmp_path: Path, folder: str, file: str, edit: Callable[[str], str]) -> Path:
    """A copy of datasets/FOLDER's files (not its sub-folders) with ``edit`` applied to FILE."""
    target = tmp_path / folder
    target.mkdir()
    for path in (DATASETS / folder).iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    source = (DATASETS / folder / file).read_bytes().decode("utf-8")
    (target / file).write_bytes(edit(source).encode("utf-8"))
    return target


def _first_lines(n: int) -> Callable[[str], str]:
    return lambda text: "".join(text.splitlines(keepends=True)[:n])


def _cut_at_a_sentence_boundary(text: str) -> str:
    """The CoNLL file up to its 100th blank line: whole sentences, well-formed."""
    lines = text.splitlines(keepends=True)
    blanks = [i for i, line in enumerate(lines) if not line.strip()]
    return "".join(lines[: blanks[99] + 1])


def _csv_rows(n: int) -> Callable[[str], str]:
    """The header and the first ``n`` rows of a CSV text, written again by the csv module."""

    def edit(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text, newline="")))[: n + 1]
        out = io.StringIO(newline="")
        csv.writer(out).writerows(rows)
        return out.getvalue()

    return edit


def test_the_shipped_manifest_is_up_to_date_and_lists_every_data_file():
    assert manifest.main([]) == 0
    listed = set(manifest.manifest()["files"])
    shipped = ("seed-article/entities.jsonl", "seed-article/passes/a/entities.jsonl",
               "wnut17/emerging.test.annotated", "wnut17/submissions/uh_ritual",
               "madlibs/bias_madlibs_77k.csv", "hatecheck/test_suite_cases.csv")  # fmt: skip
    for name in shipped:
        assert name in listed
        expected = hashlib.sha256((DATASETS / name).read_bytes()).hexdigest()
        assert manifest.manifest()["files"][name]["sha256"] == expected
    assert not any(name.endswith(".md") for name in listed)


def test_stats_follow_a_file_that_changes_in_place(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n')
    assert manifest.file_stats(path)["records"] == 2
    path.write_text('{"a": 1}\n')
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    assert manifest.file_stats(path) | {"sha256": ""} == {
        "sha256": "", "bytes": 9, "lines": 1, "records": 1}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "folder", "file", "edit", "differs"),
    [
        ("seed_article", "seed-article", "entities.jsonl", _first_lines(100),
         "lines 100, expected 162"),
        ("wnut17", "wnut17", "emerging.test.annotated", _cut_at_a_sentence_boundary,
         "records 100, expected 1287"),
        ("madlibs", "madlibs", "bias_madlibs_77k.csv", _csv_rows(0), "records 0, expected 76564"),
        ("hatecheck", "hatecheck", "test_suite_cases.csv", _csv_rows(1000),
         "records 1000, expected 3728"),
    ],
)  # fmt: skip
def test_a_well_formed_but_cut_copy_is_refused_in_one_line(
    tmp_path, dataset, folder, file, edit, differs
):
    copy = _copy(tmp_path, folder, file, edit)
    out = tmp_path / "out"
    done = _command("bench", "+model=oracle", f"dataset={dataset}", f"dataset.path={copy}",
                    f"hydra.run.dir={out}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert f"{copy / file}: differs from {dataset} version" in line
    assert differs in line and "sha256" in line and "dataset.version=" in line
    assert not (out / "result.json").exists()


@pytest.mark.slow
def test_a_declared_version_runs_is_recorded_and_kept_off_the_shipped_leaderboard(tmp_path):
    copy = _copy(tmp_path, "seed-article", "entities.jsonl", _first_lines(100))
    args = ("+model=oracle", "task=ner", "bootstrap.resamples=0")
    runs = {
        "mine": (f"dataset.path={copy}", "dataset.version=my-v2"),
        "relabelled": ("dataset.version=my-v3",),  # the shipped files under another name
        "shipped": (),
    }
    for name, options in runs.items():
        done = _command("bench", *args, *options, f"hydra.run.dir={name}", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "mine" / "result.json").read_text())
    assert result["dataset"]["version"] == "my-v2"
    sha = hashlib.sha256((copy / "entities.jsonl").read_bytes()).hexdigest()
    assert result["dataset"]["files"]["entities.jsonl"] == sha
    assert result["tasks"]["ner"]["counts"]["gold_entities"] == 100
    shipped = json.loads((tmp_path / "shipped" / "result.json").read_text())["dataset"]
    assert shipped["version"] == "1.0.0"
    seed = manifest.manifest()["datasets"]["seed_article"]
    assert shipped["files"] == {
        file: manifest.manifest()["files"][f"seed-article/{file}"]["sha256"]
        for file in seed["files"]
    }
    for other in ("mine", "relabelled"):
        board = tmp_path / f"board-{other}"
        done = _command("bench-report", "leaderboard", "shipped", other, "--out", str(board),
                        cwd=tmp_path)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "different gold" in done.stderr and "version 1.0.0" in done.stderr
        assert not board.exists()
