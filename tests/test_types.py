"""Type checking of the package: mypy with the configuration of pyproject.toml ([tool.mypy]),
strict on ``bench.metrics`` and ``bench.data``, on the source tree (not an install)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNTYPED = "\n\ndef _untyped(value):\n    return value\n"


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mypy ARGS`` from the repository root (where it finds [tool.mypy])."""
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_bench_type_checks() -> None:
    result = mypy()
    assert result.returncode == 0, f"mypy found type errors:\n{result.stdout}{result.stderr}"
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize(
    ("module", "strict"),
    [("bench/metrics/values.py", True), ("bench/data/schema.py", True), ("bench/cache.py", False)],
)
def test_strict_on_metrics_and_data_only(module: str, strict: bool, tmp_path: Path) -> None:
    """A function without annotations fails the check in a strict module only."""
    shadow = tmp_path / "shadow.py"
    shadow.write_text((REPO / module).read_text(encoding="utf-8") + UNTYPED, encoding="utf-8")
    result = mypy("--shadow-file", module, str(shadow), module)
    output = result.stdout + result.stderr
    if strict:
        assert result.returncode == 1, output
        assert "Function is missing a type annotation  [no-untyped-def]" in output, output
    else:
        assert result.returncode == 0, output
