"""`bench` on prediction files built from the seed gold: an overlap of one character is
not a found quote, most of a quote is (issue 10, part 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.data.seed import SeedArticle
from bench.report.errors import attribution_class

BENCH = str(Path(sys.executable).with_name("bench"))

pytestmark = pytest.mark.slow


def _write_predictions(folder: Path, keep) -> Path:
    """attribution.jsonl with every gold quote, each content piece cut to ``keep``."""
    view = SeedArticle().view("attribution")
    folder.mkdir()
    lines = []
    for item in view.items:
        atts = [
            {"content": [list(keep(s, e)) for s, e in g.content], "speaker": g.speaker,
             "cue": list(g.cue), "source": list(g.source), "type": g.type}
            for g in view.records if g.item_id == item.id
        ]  # fmt: skip
        lines.append(json.dumps({"id": item.id, "attributions": atts}))
    (folder / "attribution.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _one_middle_character(start: int, end: int) -> tuple[int, int]:
    return (start + end) // 2, (start + end) // 2 + 1


def _centred_80_percent(start: int, end: int) -> tuple[int, int]:
    cut = round((end - start) * 0.1)
    return start + cut, end - cut


def _bench(cwd: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH, "+model=predictions", f"model.path={folder}", "task=attribution",
         "bootstrap.resamples=50", "hydra.run.dir=out", *args],
        cwd=cwd, env=os.environ | {"HYDRA_FULL_ERROR": "1"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _attribution(cwd: Path, folder: Path, *args: str) -> dict:
    done = _bench(cwd, folder, *args)
    assert done.returncode == 0, done.stderr
    return json.loads((cwd / "out" / "result.json").read_text())["tasks"]["attribution"]


def _value(task: dict, metric: str) -> float:
    return task["metrics"][metric]["value"]


def test_one_character_of_each_gold_quote_scores_e2e_zero(tmp_path):
    task = _attribution(tmp_path, _write_predictions(tmp_path / "p", _one_middle_character))
    assert task["metrics_version"] == 2 and task["breakdown"]["min_overlap"] == 0.5
    assert _value(task, "content_overlap_f1") == 1.0  # the lenient secondary figure
    assert _value(task, "e2e_f1") == _value(task, "content_iou_f1") == 0.0
    assert _value(task, "content_token_precision") == 1.0
    assert _value(task, "content_token_recall") < 0.1
    rows = [json.loads(line) for line in (tmp_path / "out/samples/attribution.jsonl").open()]
    assert all(r["overlap_match"] and not r["content_match"] and not r["e2e_correct"]
               for r in rows)  # fmt: skip
    assert {attribution_class(row) for row in rows} == {"missed"}  # the errors page's class


def test_centred_80_percent_of_each_gold_quote_scores_e2e_one(tmp_path):
    folder = _write_predictions(tmp_path / "p", _centred_80_percent)
    task = _attribution(tmp_path, folder)
    assert _value(task, "e2e_f1") == _value(task, "content_iou_f1") == 1.0
    assert _value(task, "content_exact_f1") == 0.0
    assert 0.8 < _value(task, "content_token_f1") < 1.0
    for metric in ("e2e_f1", "content_token_f1", "content_iou_f1", "content_overlap_f1"):
        low, high = task["metrics"][metric]["ci95"]["low"], task["metrics"][metric]["ci95"]["high"]
        assert low <= _value(task, metric) <= high
    (tmp_path / "out" / "result.json").unlink()
    strict = _attribution(tmp_path, folder, "attribution.min_overlap=0.9")
    assert strict["breakdown"]["min_overlap"] == 0.9
    assert _value(strict, "e2e_f1") < 0.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "=0.0: expected a number in (0, 1]"), ("1.5", "=1.5: expected a number in (0, 1]"),
     ("half", ": Value 'half' of type 'str' could not be converted to Float")],
)  # fmt: skip
def test_a_bad_min_overlap_is_refused_before_anything_runs(tmp_path, value, expected):
    done = _bench(tmp_path, tmp_path / "nowhere", f"attribution.min_overlap={value}")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert f"attribution.min_overlap{expected}" in line
    assert not (tmp_path / "out" / "result.json").exists()
