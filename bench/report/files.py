"""Atomic file output: a reader never sees a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.sample_rows import jsonl_chunks


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it.

    A reader sees the old file or the new one, never a half-written one. The
    file is made readable by all (``0644``), as a plain write would.
    """
    write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """:func:`write_bytes_atomic` of the concatenated ``chunks``, each written as it comes;
    an error while they come leaves no file (the old one, if any, stays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """:func:`write_bytes_atomic` of UTF-8 text (no newline translation)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def json_text(data: Any) -> str:
    """Indented JSON; NaN and infinities are refused (``ValueError``): they are not JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json_text(data))


def write_jsonl_atomic(path: Path, rows: Iterable[Any]) -> None:
    """One JSON value per line, written in chunks (rows held as columns, e.g. millions of
    scored items, are formatted column by column: :mod:`bench.sample_rows`); NaN and
    infinities are refused (``ValueError``)."""
    write_chunks_atomic(path, (chunk.encode("utf-8") for chunk in jsonl_chunks(rows)))
