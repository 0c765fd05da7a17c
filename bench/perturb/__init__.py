"""Perturbations of a dataset's texts with exactly remapped gold (``+perturb=NAME``).

:data:`PERTURBATIONS` names each; :func:`build_perturbation` makes one from the run
config's ``perturb`` node (``name`` and the options of its class).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.perturb.base import Perturbation
from bench.perturb.casing import Casing
from bench.perturb.identity import IdentitySwap
from bench.perturb.names import NameSwap
from bench.perturb.punctuation import WhitespacePunctuation
from bench.perturb.typos import Typos

PERTURBATIONS: dict[str, type[Perturbation]] = {
    p.name: p for p in (Typos, Casing, WhitespacePunctuation, IdentitySwap, NameSwap)
}


def build_perturbation(options: Mapping[str, Any]) -> Perturbation:
    """The perturbation ``options["name"]`` with the other options; a ``ValueError``
    naming the option for an unknown name or a bad option."""
    options = dict(options)
    name = options.pop("name", None)
    if name not in PERTURBATIONS:
        raise ValueError(f"perturb.name={name!r}: expected one of {', '.join(PERTURBATIONS)}")
    try:
        return PERTURBATIONS[name](**options)
    except TypeError as err:  # an unknown or missing option
        raise ValueError(f"perturb ({name}): {err}") from None
