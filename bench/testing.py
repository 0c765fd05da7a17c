"""Helpers for a model's own test suite.

::

    from bench.testing import assert_no_regression

    def test_my_model_does_not_regress(tmp_path):
        ...  # run the model into tmp_path (bench.runner.run, or the bench command)
        assert_no_regression(tmp_path, "baselines/result.json", tolerance=0.02)

The rule (tolerance, paired test, noise) is :mod:`bench.report.check`'s.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from bench.report.check import CheckReport, check, write_junit


class RegressionNoiseWarning(UserWarning):
    """A metric dropped beyond its tolerance, but the paired test calls it noise."""


def assert_no_regression(
    run_dir: str | Path,
    baseline: str | Path,
    *,
    junit: str | Path | None = None,
    **options: Any,
) -> CheckReport:
    """Fail the calling test if the run in ``run_dir`` regressed against ``baseline``.

    ``options`` are :func:`bench.report.check.check`'s: ``tolerance``, ``alpha``,
    ``resamples``, ``seed``. Raises :class:`AssertionError` with the check's table
    on a regression; warns :class:`RegressionNoiseWarning` for each drop judged
    noise; lets :class:`bench.report.check.CheckError` through when the check
    cannot be made (missing file, different gold, failed task …). ``junit``:
    also write the JUnit XML there. Returns the report.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not this one
    report = check(run_dir, baseline, **options)
    if junit is not None:
        write_junit(junit, report.to_junit())
    for line in report.warnings():
        warnings.warn(line, RegressionNoiseWarning, stacklevel=2)
    if not report.passed:
        raise AssertionError("regression against the baseline\n" + report.render())
    return report
