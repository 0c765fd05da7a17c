"""Toxicity test sets shipped as CSV: HateCheck and the Jigsaw identity madlibs."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import ClassVar

from bench.data.dataset import Dataset
from bench.data.views import ToxicityGold, toxicity_gold
from bench.predictions import TextItem
from bench.resources import resource_dir


class CsvError(ValueError):
    """A CSV test set is malformed; the message names the file, line and field."""


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` pairs; the header must hold every ``required`` column."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise CsvError(f"{path}:1: header: missing columns {sorted(missing)}")
        rows = []
        for row in reader:
            short = [name for name in required if row[name] is None]
            if short:  # DictReader fills the columns a short row lacks with None
                raise CsvError(f"{path}:{reader.line_num}: {short[0]}: missing (row too short)")
            rows.append((reader.line_num, row))
        return rows


def _slug(text: str) -> str:
    """An identity name: lower case, each run of non-word characters one ``_``."""
    return re.sub(r"\W+", "_", text.lower()).strip("_")


class _CsvToxicity(Dataset):
    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def __init__(self, name: str, file: str, path: str | None, version: str) -> None:
        directory = Path(path) if path else resource_dir("datasets") / name
        self.file = directory / file
        self.name, self.version = name, version
        if not self.file.is_file():
            raise CsvError(f"{self.file}: file not found (set dataset.path to its folder)")
        self.verify({file: self.file})
        self.sha256 = self.files[file]

    def _label(self, line: int, field: str, value: str, labels: dict[str, int]) -> int:
        if value not in labels:
            raise CsvError(f"{self.file}:{line}: {field}: unknown label {value!r}")
        return labels[value]


class HateCheck(_CsvToxicity):
    """HateCheck functional tests: one item per case; groups are the 29 functionalities."""

    def __init__(self, name: str = "hatecheck", file: str = "test_suite_cases.csv",
                 path: str | None = None, version: str = "") -> None:  # fmt: skip
        super().__init__(name, file, path, version)

    def toxicity(self) -> ToxicityGold:
        labels = {"hateful": 1, "non-hateful": 0}
        required = ("case_id", "test_case", "label_gold", "functionality", "target_ident")
        items, toxic, groups = [], [], []
        identities: list[tuple[str, ...]] = []
        first_line: dict[str, int] = {}  # item id -> line of its row
        for line, row in _rows(self.file, required):
            item_id = f"case-{row['case_id']}"
            if not row["case_id"].strip():
                raise CsvError(f"{self.file}:{line}: case_id: empty")
            if item_id in first_line:
                raise CsvError(
                    f"{self.file}:{line}: case_id: duplicate id {row['case_id']!r} "
                    f"(also on line {first_line[item_id]})"
                )
            first_line[item_id] = line
            items.append(TextItem(item_id, row["test_case"].strip()))
            toxic.append(self._label(line, "label_gold", row["label_gold"], labels))
            groups.append(row["functionality"])
            identities.append((_slug(row["target_ident"]),) if row["target_ident"] else ())
        return toxicity_gold(items, toxic, ("case",), identities=identities, groups=groups)


class Madlibs(_CsvToxicity):
    """Jigsaw identity-term templates; an item's identities are the terms it contains.

    Each term is tested on its own, as a whole word regardless of case, as the
    reference does (``add_subgroup_columns_from_text`` in
    github.com/conversationai/unintended-ml-bias-analysis,
    ``model_bias_analysis.py``: ``re.search('\\b' + term + '\\b', text,
    re.UNICODE | re.IGNORECASE)``), so "african american" is in the
    ``african_american``, ``african`` and ``american`` subgroups.
    """

    def __init__(self, identity_terms: list[str], name: str = "madlibs",
                 file: str = "bias_madlibs_77k.csv", path: str | None = None,
                 version: str = "") -> None:  # fmt: skip
        super().__init__(name, file, path, version)
        self._terms = [(_slug(t), re.compile(rf"\b{re.escape(t)}\b", re.I)) for t in identity_terms]

    def toxicity(self) -> ToxicityGold:
        labels = {"BAD": 1, "NOT_BAD": 0}
        items, toxic, identities = [], [], []
        for line, row in _rows(self.file, ("Text", "Label")):
            item_id = f"row-{line - 1:05d}"  # unique: no id column, rows are numbered by line
            items.append(TextItem(item_id, row["Text"]))
            toxic.append(self._label(line, "Label", row["Label"], labels))
            found = {slug for slug, term in self._terms if term.search(row["Text"])}
            identities.append(tuple(sorted(found)))
        return toxicity_gold(items, toxic, ("sentence",), identities=identities)
