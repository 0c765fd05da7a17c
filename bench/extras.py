"""Optional dependencies: import one, or say which extra of this project installs it.

bench is distributed as ``bench-nlp`` (the package index's ``bench`` is an unrelated
project), so a hint must name ``bench-nlp``, never ``bench``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

DISTRIBUTION = "bench-nlp"


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def install_hint(extra: str) -> str:
    """The commands that install the optional dependency group ``extra`` of bench."""
    checkout = f'pip install ".[{extra}]"'
    return f'pip install "{DISTRIBUTION}[{extra}]" (from a source checkout: {checkout})'


def missing_extra(module: str, extra: str) -> MissingExtraError:
    """The error for ``module`` of the ``extra`` group not being installed."""
    return MissingExtraError(
        f"{module} is not installed; it comes with the {extra!r} extra: {install_hint(extra)}",
        name=module,
    )


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` (a dependency of the optional group ``extra``)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise missing_extra(err.name or module, extra) from err
