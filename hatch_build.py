"""Build hook: record the git revision a wheel or sdist is built from.

An installed wheel has no ``.git``, so ``bench/_source_revision.json`` carries the
commit and dirty flag of the checkout it was built from into result.json (see
``bench/revision.py``). A build outside a git checkout (e.g. a wheel built from an
sdist) records nothing new: the sdist's own record, if any, is packaged as it is.
Editable installs read git at run time and get no record.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _revision_module(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_bench_revision", root / "bench" / "revision.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SourceRevisionHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._tmp: str | None = None
        if version == "editable":
            return
        revision = _revision_module(Path(self.root))
        state = revision.git_state(Path(self.root))
        if state["commit"] is None:
            return
        self._tmp = tempfile.mkdtemp(prefix="bench-build-")
        record = Path(self._tmp) / revision.RECORD_NAME
        record.write_text(json.dumps(state) + "\n", encoding="utf-8")
        build_data["force_include"][str(record)] = f"bench/{revision.RECORD_NAME}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
