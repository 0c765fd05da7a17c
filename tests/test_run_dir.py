"""Run directories: named uniquely and created exclusively (the CLI tests run them)."""

from __future__ import annotations

from bench import run_dir
from bench.run_dir import new_dir


def test_a_new_dir_never_reuses_an_existing_one(tmp_path, monkeypatch):
    suffixes = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(run_dir.secrets, "token_hex", lambda n: next(suffixes))
    stem = str(tmp_path / "runs" / "2026-01-01_00-00-00")
    first, second = new_dir(stem, "empty"), new_dir(stem, "empty")
    assert first == f"{stem}_aaaa_empty" and second == f"{stem}_bbbb_empty"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "2026-01-01_00-00-00_aaaa_empty", "2026-01-01_00-00-00_bbbb_empty"
    ]  # fmt: skip
