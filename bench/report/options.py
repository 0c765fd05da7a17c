"""Option types of ``bench-report``: a nonsensical value is refused by the parser, which
prints one line and exits 2 (see :class:`OneLineParser`)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn

from bench.metrics.analytic import ANALYTIC_ABOVE


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def _integer(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}, got {text}")
        return value

    return parse


count = _integer(1)
"""An integer ≥ 1 (resamples, limits)."""

seed = _integer(0)
"""A non-negative integer (numpy seeds cannot be negative)."""


def add_analytic_above(parser: argparse.ArgumentParser) -> None:
    """``--analytic-above N`` (compare, check, leaderboard, site): the switch of the paired
    bootstrap of a ROC-AUC to DeLong's test, at scoring's default."""
    parser.add_argument(
        "--analytic-above",
        type=count,
        default=ANALYTIC_ABOVE,
        metavar="N",
        help="test a ROC-AUC on more than N items by DeLong's test for correlated ROC curves "
        f"instead of the paired bootstrap (default {ANALYTIC_ABOVE}, as scoring's "
        "bootstrap.analytic_above; --method randomization is kept at any size)",
    )


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def alpha(text: str) -> float:
    """A significance level, strictly between 0 and 1."""
    value = _finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text}")
    return value


def tolerance(text: str) -> float:
    """A finite number ≥ 0."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {text}")
    return value


def metric_drop(text: str) -> tuple[str, float]:
    """``TASK.METRIC=DROP``: a metric and a finite number ≥ 0."""
    key, sep, value = text.partition("=")
    if not sep or "." not in key:
        raise argparse.ArgumentTypeError(
            f"expected TASK.METRIC=DROP (ner.strict_f1=0.05), got {text!r}"
        )
    return key, tolerance(value)
