"""Shared fixtures: the shipped gold, loaded once, and a writable copy of its directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.data.gold import default_gold_dir, load_gold
from bench.data.records import GoldDataset


@pytest.fixture(autouse=True, scope="session")
def _isolated_prediction_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs in the tests (in-process and subprocesses) cache predictions in a temp dir."""
    os.environ["BENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("prediction-cache"))


@pytest.fixture(scope="session")
def gold_dir() -> Path:
    """The directory of the shipped seed-article gold (read only: copy it to alter it)."""
    return default_gold_dir()


@pytest.fixture(scope="session")
def gold(gold_dir: Path) -> GoldDataset:
    """The shipped gold, loaded and validated once per session."""
    return load_gold(gold_dir)


@pytest.fixture
def gold_copy(gold_dir: Path, tmp_path: Path) -> Path:
    """A copy of the gold directory's files (not its sub-directories) to tamper with."""
    target = tmp_path / gold_dir.name
    target.mkdir()
    for path in gold_dir.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target
