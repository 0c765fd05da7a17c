"""Run directories: each run gets its own, and holds it while it runs.

``${new_dir:STEM,LABEL}`` (conf/config.yaml's default ``hydra.run.dir`` and
``hydra.sweep.dir``) creates ``STEM_XXXX_LABEL`` with a fresh random ``XXXX``,
exclusively: runs started in the same second never share a directory.
:class:`RunDir` locks the run (or sweep) directory for the run's lifetime, from
before Hydra writes there: a second run into an explicit ``hydra.run.dir`` in use by a
live run is refused (:class:`RunDirBusy`); and it removes a directory the run created
when the run was refused.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = ".bench.lock"


class RunDirBusy(RuntimeError):
    """The run directory is held by a live run (exit code 2)."""


def new_dir(stem: str, label: str = "") -> str:
    """Create and return a new directory ``STEM_XXXX[_LABEL]`` (``XXXX``: random hex)."""
    Path(stem).parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = f"{stem}_{secrets.token_hex(2)}" + (f"_{label}" if label else "")
        try:
            Path(path).mkdir()
        except FileExistsError:
            continue
        return path


class RunDir:
    """A run's (or a sweep's) directory, locked while the run lives: ``with RunDir(path)``
    raises :class:`RunDirBusy` if a live run holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fresh = False  # the directory was empty: this run made it
        self._lock = FileLock(path / LOCK_FILE, timeout=0)

    def __enter__(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise RunDirBusy(f"{self.path}: in use by a running bench ({LOCK_FILE})") from None
        self.fresh = all(p.name == LOCK_FILE for p in self.path.iterdir())
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def discard(self, refused: list[Path]) -> None:
        """Remove the directories of refused runs (this one, or jobs of this sweep) unless
        they hold a result (a check refused after the run), and this one if nothing but
        Hydra's ``multirun.yaml`` is left; only if it was fresh."""
        if not self.fresh:
            return
        for path in refused:
            if not (path / "result.json").exists():
                shutil.rmtree(path, ignore_errors=True)
        if self.path.is_dir() and all(
            p.name in (LOCK_FILE, "multirun.yaml") for p in self.path.iterdir()
        ):
            shutil.rmtree(self.path, ignore_errors=True)
