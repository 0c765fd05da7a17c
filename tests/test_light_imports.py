"""Issue 16: a run imports only what it uses. The installed commands, run under
``python -X importtime``, must not import heavy packages they have no use for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import BENCH, env

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
HEAVY = {"sklearn", "scipy", "pandas", "matplotlib", "spacy", "torch", "transformers",
         "datasets", "evaluate"}  # fmt: skip


def imported(tmp_path: Path, command: str, *args: str) -> set[str]:
    """The top-level packages the command imported (from ``-X importtime``'s report)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", command, *args],
        cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 50, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}


@pytest.mark.parametrize(
    "args",
    [
        (BENCH,),  # no model: lists the presets
        (BENCH_REPORT, "--help"),
        (BENCH, "+model=rules", "task=toxicity"),  # seed toxicity: scored without sklearn
        (BENCH, "+model=rules_wnut17", "dataset=wnut17", "bootstrap.resamples=100"),
    ],
    ids=["bench", "bench-report-help", "toxicity", "wnut17-ner"],
)
def test_commands_import_no_heavy_package_they_do_not_use(tmp_path, args):
    assert imported(tmp_path, *args) & HEAVY == set()
