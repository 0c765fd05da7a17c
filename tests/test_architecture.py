"""ARCHITECTURE.md names only files that exist, and names defined where it says they are:
a module moved or a function renamed without updating the page fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "ARCHITECTURE.md"
# A repository path: under a top-level folder, or a top-level file the page names.
PATH = re.compile(
    r"(?<![\w/])(?:(?:bench|conf|datasets|tests)/[\w./-]*|[\w.-]+\.(?:md|toml|yaml))(?![\w<])"
)
# "`name` in `path`" and "`name` of `path`": name is defined at the top level of path
# (a function, a class, or an assignment), or ``Class.method``.
DEFINED_IN = re.compile(r"`([\w.]+)`(?:\s+and\s+`([\w.]+)`)?\s+(?:in|of)\s+`([\w./]+\.py)`")


def paths(text: str) -> set[str]:
    """The repository paths in ``text`` (placeholders like NAME or <task> are skipped)."""
    return {p.rstrip(".") for p in PATH.findall(text) if "NAME" not in p}


def top_level_names(source: str) -> set[str]:
    """Functions, classes (and their methods, as ``Class.method``) and assigned names."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)}
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_file_the_page_names_exists():
    named = paths(PAGE.read_text(encoding="utf-8"))
    assert {"bench/runner.py", "CHANGELOG.md", "conf/model/spacy_sm.yaml"} <= named
    assert sorted(p for p in named if not (REPO / p).exists()) == []


def test_every_name_the_page_places_in_a_module_is_defined_there():
    found = DEFINED_IN.findall(PAGE.read_text(encoding="utf-8"))
    assert len(found) >= 10  # the pattern still reads the page
    missing = [
        f"{name} in {path}"
        for *names, path in found
        for name in names
        if name and name not in top_level_names((REPO / path).read_text(encoding="utf-8"))
    ]
    assert missing == []


def test_the_patterns_find_what_they_should():
    text = (
        "see `bench/runner.py`, the files in `datasets/NAME/` and `samples/<task>.jsonl`, "
        "and `CHANGELOG.md`; `a` and\n  `B.run` in `x.py`; `C` of `x.py`."
    )
    assert paths(text) == {"bench/runner.py", "CHANGELOG.md"}
    assert DEFINED_IN.findall(text) == [("a", "B.run", "x.py"), ("C", "", "x.py")]
    source = "a = 1\nclass B:\n    def run(self): ...\ndef c(): ...\n"
    assert top_level_names(source) == {"a", "B", "B.run", "c"}
