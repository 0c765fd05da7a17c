"""A run's gold again, from a dataset registered with bench, never from the run's config.

A result file is data (see :meth:`bench.report.compare.Run.load`). When a report needs
the gold's texts, the run's ``provenance.config.dataset`` only *names* the dataset: it
must be one of bench's own presets (``conf/dataset/<name>.yaml``), with that preset's
``_target_`` and plain values (null, booleans, numbers, strings without ``${``, lists
of these). The gold is then built from the preset as bench ships it — the run's
values (a ``dataset.path`` on the submitter's machine) are not used — and the caller
keeps it only if its sha256 is the run's ``dataset.sha256``. A dataset of the user's own
files (``dataset=hf``) ships nothing: it is rebuilt only from data the caller names (the
user, on the command line), read with the run's column mapping (plain values).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from bench.data.dataset import Dataset
from bench.resources import resource_dir

_PLAIN = (type(None), bool, int, float, str)


class GoldError(ValueError):
    """The run's dataset is not a registered one (exit 2); names the file and field."""


class OwnFiles(FileNotFoundError):
    """The run's dataset reads the user's own files (``dataset=hf``): none ships with bench,
    and a run's ``dataset.path`` is never read (the caller names the data instead)."""


@functools.cache
def registered_presets() -> dict[str, dict[str, Any]]:
    """The datasets registered with bench: name -> its preset, as bench ships it."""
    import yaml

    files = sorted((resource_dir("conf") / "dataset").glob("*.yaml"))
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in files}


def shipped_names() -> list[str]:
    """The registered datasets whose data ships with bench (all but ``dataset=hf``'s)."""
    return [name for name, preset in registered_presets().items() if preset.get("path") != "???"]


def shipped_gold(name: str) -> Dataset:
    """The shipped dataset ``name`` (one of :func:`shipped_names`), built from bench's
    own preset."""
    from hydra.utils import get_class

    preset = registered_presets()[name]
    return get_class(preset["_target_"])(**{k: v for k, v in preset.items() if k != "_target_"})


def registered_classes() -> frozenset[str]:
    """The ``_target_`` of every registered dataset (classes that only read gold files)."""
    return frozenset(preset["_target_"] for preset in registered_presets().values())


def _not_plain(value: Any, where: str, mappings: bool = False) -> str | None:
    """The field of ``value`` (``where`` or below) that is not a plain value, if any;
    ``mappings``: objects of plain values are plain too (the column mappings of dataset=hf)."""
    if isinstance(value, list):
        return next(
            (bad for i, v in enumerate(value)
             if (bad := _not_plain(v, f"{where}[{i}]", mappings))), None
        )  # fmt: skip
    if mappings and isinstance(value, dict):
        return next(
            (bad for k, v in value.items()
             if (bad := _not_plain(v, f"{where}.{k}", mappings))), None
        )  # fmt: skip
    if not isinstance(value, _PLAIN) or (isinstance(value, str) and "${" in value):
        return where
    return None


def registered_preset(
    path: Path, result: dict[str, Any], data: str | None = None
) -> dict[str, Any]:
    """The preset (as bench ships it) of the dataset the result file ``path`` names, after
    checking its ``provenance.config.dataset`` against it; :class:`GoldError` otherwise,
    and :class:`OwnFiles` for a dataset of the user's own files (``dataset=hf``) unless
    the caller names its ``data``. Only such a dataset takes ``data``."""
    where = f"{path}: provenance.config.dataset"
    hint = " (--no-dataset shows the spans of the samples only)"
    provenance = result.get("provenance")
    config = provenance.get("config") if isinstance(provenance, dict) else None
    node = config.get("dataset") if isinstance(config, dict) else None
    if not isinstance(node, dict):
        raise GoldError(f"{where}: missing or not an object{hint}")
    presets = registered_presets()
    name = node.get("name")
    if not isinstance(name, str) or name not in presets:
        raise GoldError(
            f"{where}.name: {name!r} is not a dataset registered with bench "
            f"(expected one of {', '.join(presets)}){hint}"
        )
    preset = presets[name]
    if node.get("_target_") != preset["_target_"]:
        raise GoldError(
            f"{where}._target_: {node.get('_target_')!r} is not the class of the registered "
            f"dataset {name} ({preset['_target_']}){hint}"
        )
    own = preset.get("path") == "???"  # dataset=hf: nothing of it ships, nothing to rebuild
    if own and data is None:
        raise OwnFiles(f"{name} reads the user's own files, which bench does not ship")
    if data is not None and not own:
        raise GoldError(f"{where}.name: {name} ships with bench: no data to name")
    for key, value in node.items():
        if own and key not in preset:
            raise GoldError(f"{where}.{key}: not an option of the registered dataset {name}")
        bad = _not_plain(value, f"{where}.{key}", mappings=own)
        if bad is not None:
            raise GoldError(
                f"{bad}: expected a plain value (null, true/false, a number, a string "
                f"without ${{, or a list of these){hint}"
            )
    return preset


def rebuild_gold(path: Path, result: dict[str, Any], data: str | None = None) -> Dataset:
    """The gold of the dataset the result file ``path`` names, built from bench's own
    preset (see the module docstring); :class:`GoldError` if it is not a registered one.
    For a dataset of the user's own files, ``data`` (the file, folder or Hub id, named by
    the user) is read with the run's column mapping. Loading errors (a file missing from
    this installation, :class:`bench.data.hf.HfDataError`) propagate."""
    from hydra.utils import get_class

    preset = registered_preset(path, result, data)
    node = result["provenance"]["config"]["dataset"]
    if data is None:
        return shipped_gold(node["name"])
    params = {key: value for key, value in node.items() if key != "_target_"}
    params["path"] = data
    return get_class(preset["_target_"])(**params)
