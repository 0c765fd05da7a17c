"""Progress bars (tqdm, on stderr) for the long stages of a run: prediction and intervals.

Shown only where someone watches: stderr is a terminal, the ``CI`` environment variable
is unset, and the run option ``progress`` is true (``progress=false``: never).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

_wanted = True  # the run option ``progress``
_stage: tqdm | None = None  # the bar of the stage in progress, advanced by advance()
_FIRST_ADVANCE = 1e-6  # tqdm draws a bar with a delay only once it is updated


def configure(progress: bool) -> None:
    """Set the run option ``progress`` (true: bars when :func:`shown`)."""
    global _wanted
    _wanted = progress


def shown() -> bool:
    return _wanted and sys.stderr.isatty() and not os.environ.get("CI")


def _bar(description: str, unit: str, total: int | None = None, delay: float = 0.0) -> tqdm:
    return tqdm(total=total, desc=description, unit=unit, leave=False, delay=delay,
                disable=not shown(), file=sys.stderr, dynamic_ncols=True)  # fmt: skip


def batches(items: Sequence[T], size: int, description: str) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``; the bar (items/s, ETA) counts a slice once the
    caller is done with it."""
    with _bar(description, "item", len(items)) as bar:
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            yield batch
            bar.update(len(batch))


@contextmanager
def stage(description: str, unit: str) -> Iterator[Any]:
    """A bar for a stage of unknown length, advanced from within by :func:`advance`;
    drawn from its first advance on, so a stage with nothing to count shows none."""
    global _stage
    outer, _stage = _stage, _bar(description, unit, delay=_FIRST_ADVANCE)
    try:
        yield _stage
    finally:
        _stage.close()
        _stage = outer


def advance(n: int = 1) -> None:
    """Count ``n`` done in the current :func:`stage`, if any."""
    if _stage is not None:
        _stage.update(n)
