"""Where a run came from: versions, source revision, secrets removed from configs."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from importlib import metadata
from typing import Any

import bench
from bench.revision import source_revision

_SECRET_KEY = re.compile(r"(api_?key|token|secret|password)$", re.IGNORECASE)
_PACKAGES = ("datasets", "evaluate", "hydra-core", "numpy", "omegaconf", "scikit-learn", "scipy")


def scrub_secrets(value: Any) -> Any:
    """Replace the values of secret-looking keys (``api_key``, ``token`` …) by ``"***"``."""
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_KEY.search(str(k)) else scrub_secrets(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_secrets(v) for v in value]
    return value


def fingerprint(data: Any) -> str:
    """sha256 of the canonical JSON of ``data``."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict[str, Any]:
    return {
        "bench_version": bench.__version__,
        "git": source_revision(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
    }
