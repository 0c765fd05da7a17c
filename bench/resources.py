"""Locate the configs and built-in datasets, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory ``name`` (``conf`` or ``datasets``).

    A wheel ships them inside the package (``bench/conf``); a source checkout
    or an editable install keeps them beside the package at the repository top.
    """
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bench resource directory {name!r} not found near {_PACKAGE_DIR}")
