"""A filed submission's record (``<name>/submission.json`` beside its scored ``<name>/run/``,
written by :mod:`bench.report.submit`) read back for the site: the submitter's links."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from bench.report.html import Link
from bench.report.leaderboard import LeaderboardError

RECORD = "submission.json"
_MAX_URL = 2000


class SubmitError(ValueError):
    """A submission refused; the message names the file, record or field."""


def http_url(value: str, what: str) -> str:
    """``value`` if it is an http(s) URL with a host, else a :class:`SubmitError`."""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(value) > _MAX_URL
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise SubmitError(f"{what}: {value!r} is not an http(s) URL")
    return value


def submission_links(run_dir: Path) -> list[Link]:
    """``page`` and ``paper`` links of the submission whose scored run is ``run_dir``
    (``<name>/run/`` beside ``<name>/submission.json``); none for another run. The record
    is read as data and its URLs checked again (a site source may hold files nobody
    submitted): a bad one is a :class:`LeaderboardError` naming the file and field."""
    run_dir = run_dir.resolve()
    path = run_dir.parent / RECORD
    if run_dir.name != "run" or not path.is_file():
        return []
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise LeaderboardError(f"{path}: (json): {err}") from None
    if not isinstance(record, dict):
        raise LeaderboardError(f"{path}: expected an object")
    links = []
    for field, text in (("url", "page"), ("paper", "paper")):
        if record.get(field) is not None:
            try:
                links.append(Link(text, http_url(str(record[field]), field)))
            except SubmitError as err:
                raise LeaderboardError(f"{path}: {err}") from None
    return links
