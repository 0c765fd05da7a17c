"""CHANGELOG.md records every change of a metric definition: each version of each task's
metric definitions above 1 (``metrics_version`` of the task classes, bench.tasks.TASKS)
has an entry under a heading ``#### <task>: metrics_version <N>``, so that bumping a
version without saying what changed fails CI."""

from __future__ import annotations

import re
from pathlib import Path

from bench.tasks import TASKS

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
HEADING = re.compile(r"^#{1,6} .*$", re.MULTILINE)
ENTRY = re.compile(r"#### (?P<task>\S+): metrics_version (?P<version>\d+)")


def problems(text: str, versions: dict[str, int]) -> list[str]:
    """What the changelog ``text`` lacks or gets wrong about the tasks' current metric
    ``versions`` (task -> metrics_version), one line each."""
    headings = list(HEADING.finditer(text))
    found: dict[tuple[str, int], str] = {}  # (task, version) -> the entry's text
    out = []
    for k, heading in enumerate(headings):
        if "metrics_version" not in heading.group():
            continue
        entry = ENTRY.fullmatch(heading.group())
        if entry is None:
            out.append(f"{heading.group()!r}: expected '#### <task>: metrics_version <N>'")
            continue
        end = headings[k + 1].start() if k + 1 < len(headings) else len(text)
        found[entry["task"], int(entry["version"])] = text[heading.end() : end]
    for task, current in versions.items():
        out += [f"{task}: metrics_version {v}: no entry"
                for v in range(2, current + 1) if (task, v) not in found]  # fmt: skip
    for (task, version), body in found.items():
        if not 2 <= version <= versions.get(task, 0):
            out.append(f"{task}: metrics_version {version}: not a version of a task in TASKS")
        elif not re.search(r"^- \S", body, re.MULTILINE):
            out.append(f"{task}: metrics_version {version}: the entry says nothing")
    return out


def test_every_metrics_version_of_every_task_has_a_changelog_entry():
    versions = {name: task.metrics_version for name, task in TASKS.items()}
    assert problems(CHANGELOG.read_text(encoding="utf-8"), versions) == []


def test_a_version_bumped_without_an_entry_is_found():
    text = "\n".join([
        "# Changelog",
        "## [Unreleased]",
        "#### ner: metrics_version 2",
        "- SemEval on token offsets.",
        "#### ner: metrics_version 3",
        "#### toxicty: metrics_version 2",
        "- a typo in the task's name",
        "### Toxicity metrics_version 2",
        "- a heading of another form",
        "#### ner: metrics_version 4",
        "- a version the code does not have",
    ])  # fmt: skip
    assert problems(text, {"ner": 3, "toxicity": 2}) == [
        "'### Toxicity metrics_version 2': expected '#### <task>: metrics_version <N>'",
        "toxicity: metrics_version 2: no entry",
        "ner: metrics_version 3: the entry says nothing",
        "toxicty: metrics_version 2: not a version of a task in TASKS",
        "ner: metrics_version 4: not a version of a task in TASKS",
    ]
