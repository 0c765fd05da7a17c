"""Reading text files that must be UTF-8, with an error that points at the bad byte."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: Path, error: type[ValueError] = ValueError) -> str:
    """The text of ``path``; a byte sequence that is not UTF-8 raises ``error`` with one
    line naming the file, line and column (in bytes) instead of a ``UnicodeDecodeError``."""
    return decode_utf8(path.read_bytes(), str(path), error)


def decode_utf8(data: bytes, source: str, error: type[ValueError] = ValueError) -> str:
    """``data`` decoded, or :func:`read_utf8`'s error naming ``source``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - data.rfind(b"\n", 0, err.start)
        raise error(
            f"{source}:{line}: (encoding): not UTF-8 (byte 0x{data[err.start]:02x} at column "
            f"{column}); save the file as UTF-8"
        ) from None
