"""Headless Chromium (Debian's ``chromium`` package) for the tests of HTML pages: tests
marked ``needs_chromium`` skip when it is not installed."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)"
)


def chromium(tmp_path: Path, url: str, *args: str) -> tuple[str, list[str]]:
    """Run headless Chromium on ``url``; return stdout and the console lines about the page."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [
        line
        for line in done.stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "console error" in line.lower()
    ]
    return done.stdout, console


class TableRows(HTMLParser):
    """Text of the cells of one table (by id), row by row; ``bodies``: its row groups
    (``<tbody>``) as (title of the group's header row, its rows)."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.in_body = table_id, False, False
        self.rows: list[list[str]] = []
        self.bodies: list[tuple[list[str], list[list[str]]]] = []
        self.cell: list[str] | None = None
        self.title: list[str] | None = None
        self.scripts: list[str] = []
        self._script = False
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.attrs = {k: v or "" for k, v in attrs.items()}
        if tag == "table" and attrs.get("id") == self.table_id:
            self.inside = True
        if self.inside and tag == "tbody":
            self.in_body = True
            self.bodies.append(([], []))
        if self.in_body and tag == "tr":
            self.rows.append([])
        if self.in_body and tag == "td":
            self.cell = []
        if self.in_body and tag == "th":
            self.title = self.bodies[-1][0]
        if tag == "script":
            self._script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "table" and self.inside:
            self.inside = self.in_body = False
        if self.in_body and tag == "tr":
            row = self.rows[-1]
            if row:
                self.bodies[-1][1].append(row)
            else:
                self.rows.pop()  # a row group's header row (no td)
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        if tag == "th":
            self.title = None
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.title is not None:
            self.title.append(data)
        if self._script:
            self.scripts[-1] += data

    def groups(self) -> list[tuple[str, list[list[str]]]]:
        """(title, rows) of each row group; the title is "" for a table without groups."""
        return [("".join(title).strip(), rows) for title, rows in self.bodies]
