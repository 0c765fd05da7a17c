"""``datasets/MANIFEST.json``: what every shipped data file must be, and each dataset's version.

The manifest holds the sha256, size, line and record count of every data file under
``datasets/`` (documentation aside), and, for each dataset of ``conf/dataset/``, its
version and the files it reads. Every dataset load checks the files it read against
it: a copy that differs (``dataset.path=…`` at a truncated or edited copy) is refused
with one line naming the file and what differs, unless the run names a version of its
own (``dataset.version=my-v2``); then the copy is scored and result.json records that
version and the files' sha256, so leaderboards keep such runs apart.

After changing a shipped file on purpose: ``python -m bench.data.manifest --write``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from bench.data.gold import GOLD_FILES, default_gold_dir, sha256_file
from bench.resources import resource_dir

MANIFEST_NAME = "MANIFEST.json"
_COUNTS = ("bytes", "lines", "records")


class ManifestError(ValueError):
    """A dataset file differs from the shipped one; the message names the file."""


def _is_data(path: Path) -> bool:
    return (
        path.is_file()
        and path.name != MANIFEST_NAME
        and not (path.suffix == ".md" or path.name.startswith("LICENSE"))
    )


def _records(path: Path, data: bytes) -> int:
    """JSON lines, CSV rows after the header, else blank-line-separated blocks (sentences)."""
    text = data.decode("utf-8")
    lines = text.split("\n")  # not splitlines(): U+2028 and friends are not line ends here
    if path.suffix == ".jsonl":
        return sum(1 for line in lines if line.strip())
    if path.suffix == ".csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1)
    blocks, inside = 0, False
    for line in lines:
        blocks += bool(line.strip()) and not inside
        inside = bool(line.strip())
    return blocks


@cache
def _stats(path: Path, size: int, mtime_ns: int) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "sha256": _sha256(path, size, mtime_ns),
        "bytes": len(data),
        "lines": data.count(b"\n") + (not data.endswith(b"\n") and bool(data)),
        "records": _records(path, data),
    }


@cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def _version(path: Path) -> tuple[Path, int, int]:
    path = Path(path).resolve()
    status = path.stat()
    return path, status.st_size, status.st_mtime_ns


def file_stats(path: Path) -> dict[str, Any]:
    """sha256, size, lines and records of ``path``, computed once per file version."""
    return _stats(*_version(path))


def file_sha256(path: Path) -> str:
    """sha256 of ``path`` (without the counts of :func:`file_stats`, which read every
    line), computed once per file version."""
    return _sha256(*_version(path))


@cache
def _manifest(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def manifest() -> dict[str, Any]:
    """The shipped manifest, read once."""
    return _manifest(resource_dir("datasets") / MANIFEST_NAME)


def verify(name: str, version: str, files: dict[str, Path]) -> dict[str, str]:
    """Check the ``files`` (name in its dataset folder -> path) dataset ``name`` read.

    Under the shipped version they must be the manifest's files, byte for byte; under
    another version (or for a dataset bench does not ship) they are the user's. Returns
    each file's sha256, for result.json.
    """
    hashes = {file: file_sha256(path) for file, path in files.items()}
    shipped = manifest()["datasets"].get(name)
    if shipped is None or version != shipped["version"]:
        return hashes
    declare = "to score a modified copy, name its version: dataset.version=NAME"
    for file, path in files.items():
        if file not in shipped["files"]:
            raise ManifestError(
                f"{path}: not a file of {name} version {version} (its files: "
                f"{', '.join(shipped['files'])}); {declare}"
            )
        expected = manifest()["files"][f"{shipped['folder']}/{file}"]
        actual = file_stats(path)
        if actual["sha256"] != expected["sha256"]:
            differs = [f"{k} {actual[k]}, expected {expected[k]}"
                       for k in _COUNTS if actual[k] != expected[k]]  # fmt: skip
            differs.append(f"sha256 {actual['sha256'][:12]}…, expected {expected['sha256'][:12]}…")
            raise ManifestError(
                f"{path}: differs from {name} version {version} as shipped "
                f"(datasets/{shipped['folder']}/{file}): {'; '.join(differs)}; {declare}"
            )
    return hashes


# ----------------------------------------------------------------------------- writing


def _shipped_datasets(datasets: Path) -> dict[str, Any]:
    """Each conf/dataset preset's version, folder and files, read from its YAML as data."""
    out = {}
    for preset in sorted((resource_dir("conf") / "dataset").glob("*.yaml")):
        cfg = OmegaConf.load(preset)
        if OmegaConf.is_missing(cfg, "path"):  # the user's own data (dataset=hf): none shipped
            continue
        if "file" in cfg:  # one file in datasets/NAME/
            out[cfg.name] = {"version": cfg.version, "folder": cfg.name, "files": [cfg.file]}
        else:  # the stand-off gold: its version and raw file are in metadata.json
            folder = default_gold_dir()
            meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
            files = [meta["raw_file"], *GOLD_FILES]
            out[cfg.name] = {"version": meta["version"], "folder": folder.name, "files": files}
    for entry in out.values():
        for file in entry["files"]:
            if not (datasets / entry["folder"] / file).is_file():
                raise ManifestError(f"datasets/{entry['folder']}/{file}: file missing")
    return out


def build() -> dict[str, Any]:
    """The manifest of the files under datasets/ as they are now."""
    datasets = resource_dir("datasets")
    files = {
        path.relative_to(datasets).as_posix(): file_stats(path)
        for path in sorted(datasets.rglob("*"))
        if _is_data(path)
    }
    return {
        "about": "sha256, size, lines and records (JSON lines, CSV rows after the header, "
        "else blank-line-separated blocks) of every data file under datasets/, and the "
        "version and files of each dataset; regenerate: python -m bench.data.manifest --write",
        "datasets": _shipped_datasets(datasets),
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.data.manifest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--write", action="store_true", help="rewrite datasets/MANIFEST.json")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=2, sort_keys=True) + "\n"
    path = resource_dir("datasets") / MANIFEST_NAME
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if current != text:
        print(f"{path} is out of date: python -m bench.data.manifest --write")
        return 1
    print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
