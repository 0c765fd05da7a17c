"""``bench.evaluate``: a run from Python, scored and written exactly as the command does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench.adapters.rules import RulesAdapter
from bench.data.seed import SeedArticle
from bench.predictions import TextItem
from bench.run_config import ConfigError

BENCH = str(Path(sys.executable).with_name("bench"))
RULES = RulesAdapter()


def _items(texts: list[str]) -> list[TextItem]:
    return [TextItem(f"t{i}", text) for i, text in enumerate(texts)]


# Plain functions in the shapes a user writes: tuples, numbers and dicts, not bench's types.
def rules_ner(texts: list[str]) -> list[list[tuple[int, int, str]]]:
    return [[(e.start, e.end, e.label) for e in p] for p in RULES.predict_ner(_items(texts))]


def rules_toxicity(texts: list[str]) -> list[float]:
    return [p.score for p in RULES.predict_toxicity(_items(texts))]


def rules_attribution(texts: list[str]) -> list[list[dict]]:
    predictions = RULES.predict_attribution(_items(texts))
    return [[{"content": [list(c) for c in a.content], "speaker": a.speaker} for a in p]
            for p in predictions]  # fmt: skip


FUNCTIONS = {"ner": rules_ner, "toxicity": rules_toxicity, "attribution": rules_attribution}


def _bench(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH, *args], cwd=cwd, env=os.environ.copy(), capture_output=True, text=True, timeout=180
    )


def _prediction_files(directory: Path) -> Path:
    """The functions' predictions of every seed-article item, as prediction files."""
    directory.mkdir()
    dataset = SeedArticle()
    for task, function in FUNCTIONS.items():
        items = dataset.view(task).items
        answers = function([item.text for item in items])
        rows = []
        for item, answer in zip(items, answers, strict=True):
            if task == "ner":
                keys = ("start", "end", "label")
                row = {"entities": [dict(zip(keys, e, strict=True)) for e in answer]}
            elif task == "toxicity":
                row = {"score": answer}
            else:
                row = {"attributions": answer}
            rows.append(json.dumps({"id": item.id, **row}) + "\n")
        (directory / f"{task}.jsonl").write_text("".join(rows))
    return directory


def test_three_lines_score_an_in_memory_model():
    """The README's three lines, on the shipped WNUT-17; ``import bench`` stays light."""
    done = subprocess.run(
        [sys.executable, "-c", "import bench, sys; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] in ('hydra', 'omegaconf', 'numpy', 'torch', 'datasets')))"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"

    result = bench.evaluate(ner=lambda texts: [[] for _ in texts], dataset="wnut17")
    table = result.table()
    assert table.startswith("| task")
    assert "| ner         | strict_recall    | 0.0000 |" in table
    assert result.metrics["ner"]["strict_recall"] == 0.0
    assert result.result["dataset"]["name"] == "wnut17"
    assert result.result["tasks"]["toxicity"]["status"] == "unsupported"


@pytest.mark.slow
def test_functions_score_as_their_predictions_file_does_through_the_command(tmp_path):
    """Python functions on the seed article = the same predictions in a file, scored by
    ``bench +model=predictions``: identical metrics, intervals, counts and samples."""
    result = bench.evaluate(**FUNCTIONS, bootstrap__resamples=200)
    assert result.ok
    files = _prediction_files(tmp_path / "predictions")
    done = _bench(tmp_path, "+model=predictions", f"model.path={files}",
                  "bootstrap.resamples=200", "hydra.run.dir=cli")  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli = json.loads((tmp_path / "cli" / "result.json").read_text())
    for task in FUNCTIONS:
        ours, theirs = result.result["tasks"][task], cli["tasks"][task]
        assert ours["status"] == theirs["status"] == "ok"
        for key in ("metrics", "counts", "breakdown", "failures"):
            assert ours[key] == theirs[key], (task, key)
        expected = (tmp_path / "cli" / "samples" / f"{task}.jsonl").read_text().splitlines()
        assert [json.dumps(row, ensure_ascii=False) for row in result.samples[task]] == expected
    assert 0 < result.metrics["ner"]["strict_f1"] < 1
    low, high = result.intervals["ner"]["strict_f1"]
    assert low <= result.metrics["ner"]["strict_f1"] <= high
    assert result.result["model"]["params"] == {
        task: f"{__name__}.{function.__name__}" for task, function in FUNCTIONS.items()
    }


def test_an_adapter_instance_scores_as_its_preset():
    by_object = bench.evaluate(RulesAdapter(), bootstrap__resamples=50)
    by_preset = bench.evaluate("rules", bootstrap__resamples=50)
    assert by_object.result["model"]["target"] == "bench.adapters.rules.RulesAdapter"
    assert by_object.result["model"]["preset"] == "RulesAdapter"
    assert set(by_object.metrics) == {"ner", "attribution", "toxicity"}
    assert by_object.metrics == by_preset.metrics
    assert by_object.intervals == by_preset.intervals


def test_a_built_dataset_scores_as_its_name():
    by_object = bench.evaluate(ner=rules_ner, dataset=SeedArticle(), bootstrap__resamples=0)
    by_name = bench.evaluate(ner=rules_ner, dataset="seed_article", bootstrap__resamples=0)
    assert by_object.result["dataset"] == by_name.result["dataset"]
    assert by_object.metrics == by_name.metrics
    assert by_object.result["provenance"]["config"]["dataset"]["_target_"] == (
        "bench.data.seed.SeedArticle"
    )


def _comparable(result: dict) -> dict:
    """result.json without what differs between two runs of the same config."""
    for key in ("started_at", "finished_at", "overrides"):
        del result["provenance"][key]
    for record in result["tasks"].values():
        record.pop("seconds", None)
    return result


@pytest.mark.slow
def test_save_writes_the_files_the_command_writes(tmp_path):
    options = ("bootstrap.resamples=100", "task=ner", "limit=2")
    done = _bench(tmp_path, "+model=rules", *options, "hydra.run.dir=cli")
    assert done.returncode == 0, done.stderr
    result = bench.evaluate("rules", tasks=("ner",), bootstrap__resamples=100, limit=2)
    assert result.save(tmp_path / "py") == tmp_path / "py"

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and p.parts[len(root.parts)] in ("samples", "tables")}  # fmt: skip

    assert files(tmp_path / "py") == files(tmp_path / "cli")
    assert {"samples/ner.jsonl", "tables/main.md", "tables/ner_per_label.csv"} <= set(
        files(tmp_path / "py")
    )
    ours = json.loads((tmp_path / "py" / "result.json").read_text())
    theirs = json.loads((tmp_path / "cli" / "result.json").read_text())
    assert _comparable(ours) == _comparable(theirs)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": -1}, r"^seed=-1: expected an integer >= 0$"),
        ({"bootstrap__resampels": 3},
         r"^bootstrap.resampels: unknown option \(did you mean bootstrap.resamples\?\)$"),
        ({"bootstrap__resamples": "many"}, r"^bootstrap.resamples: Value 'many' of type 'str'"),
        ({"toxicity__threshold": 2}, r"^toxicity.threshold=2.0: expected a number in \[0, 1\]$"),
        ({"sed": 1}, r"^sed: unknown option \(did you mean seed\?\)$"),
        ({"limit": 0}, r"^limit=0: expected an integer >= 1 or null$"),
        ({"limit_seed": 3}, r"^limit_seed=3: a seeded sample needs limit=N$"),
        ({"task": "ner"}, r"^task: not an option of bench.evaluate: give the tasks as tasks="),
        ({"tasks": ("ner", "toxicity")}, r"^tasks=\('ner', 'toxicity'\): expected one task"),
        ({"dataset": "wnut18"}, r"^dataset='wnut18': not found; available: hatecheck, "),
        ({"dataset__path": "x", "dataset": SeedArticle()}, r"^dataset__path: the dataset's "),
        ({"model": "rules"}, r"^model: give a model or functions"),
    ],
)  # fmt: skip
def test_a_bad_option_raises_a_clear_error_naming_it(options, message):
    with pytest.raises(ConfigError, match=message):
        bench.evaluate(ner=rules_ner, **options)


def test_an_unknown_preset_a_non_model_and_a_missing_parameter_are_refused():
    with pytest.raises(ConfigError, match=r"^model='rulez': not found; available: .*rules"):
        bench.evaluate("rulez")
    with pytest.raises(ConfigError, match=r"^model=42: expected an Adapter, a preset name"):
        bench.evaluate(42)
    with pytest.raises(ConfigError, match=r"^model.path: Missing mandatory value: model.path$"):
        bench.evaluate("predictions")


def _raising_on_comment_1(texts: list[str]) -> list:
    if any(text.startswith("Oh, your taking") for text in texts):
        raise RuntimeError("tokenizer crashed")
    return rules_ner(texts)


def test_a_function_raising_on_one_item_makes_it_a_failed_item():
    """The batch is asked again text by text: only the text it raises on fails."""
    texts = {item.id: item.text for item in SeedArticle().view("ner").items}
    assert texts["comment-1"].startswith("Oh, your taking")  # the item the function raises on
    result = bench.evaluate(ner=_raising_on_comment_1, max_failure_rate=0.5)
    record = result.result["tasks"]["ner"]
    assert record["status"] == "ok"
    assert record["failures"] | {"max_failure_rate": None} == {
        "count": 1, "n": 3, "rate": 1 / 3, "by_reason": {"error": 1},
        "max_failure_rate": None, "scored_items": 2,
    }  # fmt: skip
    assert record["counts"]["items"] == 2
    [failed] = [row for row in result.samples["ner"] if "failure" in row]
    assert failed["id"] == "comment-1"
    assert failed["failure"]["message"] == "RuntimeError: tokenizer crashed"

    refused = bench.evaluate(ner=_raising_on_comment_1)  # max_failure_rate=0
    assert not refused.ok
    assert refused.result["tasks"]["ner"]["error"].startswith("1/3 items failed (error: 1)")


def test_a_malformed_prediction_fails_the_task_naming_item_and_field():
    result = bench.evaluate(ner=lambda texts: [[(0, 3)] for _ in texts])
    assert not result.ok
    error = result.result["tasks"]["ner"]["error"]
    assert "ner item 'article': entities: expected an EntityPrediction, {start, end, l" in error


def test_a_function_returning_too_few_predictions_fails_the_task():
    result = bench.evaluate(toxicity=lambda texts: [0.5], tasks="toxicity")
    assert "returned 1 predictions for 32 texts" in result.result["tasks"]["toxicity"]["error"]


def test_evaluate_runs_inside_the_callers_own_hydra_app(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(
        "import hydra\n"
        "from hydra.core.global_hydra import GlobalHydra\n"
        "import bench\n\n"
        "@hydra.main(version_base='1.3', config_path=None, config_name=None)\n"
        "def main(cfg):\n"
        "    own = GlobalHydra.instance().hydra\n"
        "    result = bench.evaluate('rules', tasks='ner', bootstrap__resamples=0)\n"
        "    assert GlobalHydra.instance().hydra is own  # the app's Hydra is back\n"
        "    print(result.metrics['ner']['strict_f1'])\n\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, str(app)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = bench.evaluate("rules", tasks="ner", bootstrap__resamples=0)
    assert float(done.stdout.split()[-1]) == expected.metrics["ner"]["strict_f1"]
