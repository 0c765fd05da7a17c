"""The source revision (git commit, dirty flag) bench runs from.

A source checkout or an editable install reads it from git at run time. A wheel
(``pip install .``, ``pip install git+…``) has no ``.git``: the build hook
(``hatch_build.py``) records the revision of the tree it was built from in
``bench/_source_revision.json``. This module imports only the standard library:
the build hook loads it from its file, before bench is installed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

RECORD_NAME = "_source_revision.json"
_PACKAGE_DIR = Path(__file__).resolve().parent
_UNKNOWN: dict[str, Any] = {"commit": None, "dirty": None}


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirty flag (tracked files only) of the git checkout at ``root``, or nulls
    when ``root`` is not the top of a checkout or git cannot tell."""
    if not (root / ".git").exists():  # a folder inside some other repository is not ours
        return dict(_UNKNOWN)

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if commit is None or status is None else bool(status)}


def source_revision() -> dict[str, Any]:
    """The live git state of a checkout, else the revision recorded when the wheel was
    built, else nulls (e.g. a wheel built from a folder that is not a git checkout)."""
    live = git_state(_PACKAGE_DIR.parent)
    if live["commit"] is not None:
        return live
    record = _PACKAGE_DIR / RECORD_NAME
    if not record.is_file():
        return dict(_UNKNOWN)
    recorded = json.loads(record.read_text(encoding="utf-8"))
    return {"commit": recorded.get("commit"), "dirty": recorded.get("dirty")}
