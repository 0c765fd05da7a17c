"""Progress bars: on a terminal only, never under CI, never with progress=false."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli import BENCH, bench, env

from bench import progress
from bench.tasks.base import Bootstrap

RUN = ("+model=rules", "task=ner", "bootstrap.resamples=50")
PREDICT_BAR = re.compile(r"ner: predict: +\d+%\|[^|]*\| \d+/\d+ \[")


def bench_in_terminal(cwd: Path, *args: str, **environ: str) -> tuple[int, str]:
    """``bench`` with stdin, stdout and stderr on a pseudo-terminal: exit code, output."""
    master, terminal = pty.openpty()
    # 24 rows × 100 columns: tqdm draws nothing on a terminal of width 0 (a bare pty)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    run_env = {k: v for k, v in env().items() if k != "CI"} | environ
    process = subprocess.Popen([BENCH, *args], cwd=cwd, env=run_env, stdin=terminal,
                               stdout=terminal, stderr=terminal)  # fmt: skip
    os.close(terminal)
    output = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's last process exited
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return process.wait(timeout=120), output.decode()


@pytest.mark.slow
def test_a_run_in_a_terminal_shows_a_prediction_bar(tmp_path):
    code, output = bench_in_terminal(tmp_path, *RUN)
    assert code == 0, output
    assert PREDICT_BAR.search(output), output
    assert "strict_f1" in output  # the results follow


@pytest.mark.slow
@pytest.mark.parametrize(("option", "environ"), [((), {"CI": "1"}), (("progress=false",), {})])
def test_no_bar_under_ci_or_with_progress_false(tmp_path, option, environ):
    code, output = bench_in_terminal(tmp_path, *RUN, *option, **environ)
    assert code == 0, output
    assert "strict_f1" in output
    assert "predict" not in output and "%|" not in output


@pytest.mark.slow
def test_no_bar_when_output_is_piped(tmp_path):
    done = bench(tmp_path, *RUN)
    assert done.returncode == 0, done.stderr
    assert "predict" not in done.stderr and "%|" not in done.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("wanted", [True, False])
def test_the_interval_stage_counts_intervals_on_a_terminal(monkeypatch, wanted):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(progress, "_wanted", progress._wanted)  # restored after the test
    progress.configure(wanted)
    with progress.stage("ner: intervals", "interval"):
        time.sleep(0.15)  # tqdm redraws at most every 0.1 s
        draws = Bootstrap(resamples=20).draws()
        draws.add_prf(np.array([[1, 1, 1], [0, 1, 0], [1, 1, 2]]), ["p", "r", "f1"])
        draws.intervals()
    assert ("ner: intervals: 3interval" in screen.getvalue()) is wanted


def test_a_stage_with_nothing_to_count_draws_nothing(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(progress, "_wanted", True)
    with progress.stage("ner: intervals", "interval"):
        time.sleep(0.15)
    assert screen.getvalue() == ""
