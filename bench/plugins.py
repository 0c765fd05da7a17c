"""Model presets and datasets from other installed packages (entry points).

A package registers a folder of bench configs, ``model/*.yaml`` and/or
``dataset/*.yaml``, under the entry-point group ``bench.presets``; the value names the
package (a folder inside the installed package) that holds them::

    [project.entry-points."bench.presets"]
    their_model = "their_package.bench_conf"

Once it is installed, ``bench +model=NAME`` finds its presets: the ``bench`` command adds
each registered folder to Hydra's config search path (:class:`PresetSearchPath`),
after bench's own ``conf/``, so a built-in preset always wins over a package's of the
same name (a warning says so). Finding a folder imports the package named by the
entry point, and nothing else; that happens only when the command composes its config.
A package whose entry point cannot be loaded gives one warning line naming it and is
left out.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

from bench.resources import resource_dir

GROUP = "bench.presets"
CONFIG_GROUPS = ("model", "dataset")  # the folders a package may provide


@dataclass(frozen=True)
class ConfigFolder:
    """A folder of configs: bench's own (``package`` None) or a package's."""

    package: str | None  # the distribution that registered it
    path: Path


@dataclass(frozen=True)
class Catalogue:
    """The config folders in search-path order, and each group's presets with the
    package they come from (None: bench's own), as Hydra will find them."""

    folders: tuple[ConfigFolder, ...]
    presets: dict[str, dict[str, str | None]]


def _warn(message: str) -> None:
    print(f"bench: warning: {message}", file=sys.stderr)


def _package(entry: EntryPoint) -> str:
    return entry.dist.name if entry.dist is not None else entry.name


def _folder(entry: EntryPoint) -> Path:
    """The folder of the package an entry point names."""
    if entry.attr:
        raise ValueError(f"{entry.value!r} names an object; expected a package (a folder)")
    spec = importlib.util.find_spec(entry.module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ValueError(f"{entry.module!r} is not an installed package (a folder)")
    folder = Path(locations[0])
    if not any((folder / group).is_dir() for group in CONFIG_GROUPS):
        raise ValueError(f"{folder} has no {' or '.join(CONFIG_GROUPS)} folder")
    return folder


@functools.cache
def catalogue() -> Catalogue:
    """bench's configs and every registered package's, loaded once per process; a broken
    entry point, or a preset hidden by one of the same name found first, is a warning."""
    folders = [ConfigFolder(None, resource_dir("conf"))]
    for entry in entry_points(group=GROUP):
        try:
            folders.append(ConfigFolder(_package(entry), _folder(entry)))
        except Exception as err:  # a broken package must not stop bench: say which one
            detail = " ".join(f"{type(err).__name__}: {err}".split())
            _warn(f"presets of package {_package(entry)} not loaded ({GROUP} entry point "
                  f"{entry.name} = {entry.value}): {detail}")  # fmt: skip
    presets: dict[str, dict[str, str | None]] = {}
    for group in CONFIG_GROUPS:
        owners = presets.setdefault(group, {})
        for folder in folders:
            for path in sorted((folder.path / group).glob("*.yaml")):
                first = owners.setdefault(path.stem, folder.package)
                if first != folder.package:
                    _warn(f"{group} preset {path.stem!r} of package {folder.package} is not "
                          f"used: {first or 'bench'} has one of that name")  # fmt: skip
    return Catalogue(tuple(folders), presets)


def preset_names(group: str = "model") -> list[str]:
    """The presets of ``group``, sorted, a package's shown as ``NAME (from PACKAGE)``."""
    owners = catalogue().presets[group]
    return [name if owners[name] is None else f"{name} (from {owners[name]})"
            for name in sorted(owners)]  # fmt: skip


class PresetSearchPath(SearchPathPlugin):
    """Adds each registered package's config folder to the search path, after bench's."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for folder in catalogue().folders:
            if folder.package is not None:
                search_path.append(f"{GROUP}:{folder.package}", f"file://{folder.path}")


def register_search_path() -> None:
    """Make Hydra use :class:`PresetSearchPath` in this process (the ``bench`` command);
    not installed in ``hydra_plugins``, so other Hydra applications are left alone."""
    from hydra.core.plugins import Plugins

    Plugins.instance().register(PresetSearchPath)
