"""``limit=N`` (and ``limit_seed``): a quick try on some items, never ranked beside full runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench.adapters.predictions import PredictionsFileError
from bench.data.seed import SeedArticle
from bench.resources import resource_dir

BIN = Path(sys.executable).parent
TOXICITY_IDS = [item.id for item in SeedArticle().view("toxicity").items]


def _command(name: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *map(str, args)], cwd=cwd, env=os.environ.copy(),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _ids(result: bench.result.Result, task: str) -> list[str]:
    return [row["id"] for row in result.samples[task]]


@pytest.mark.slow
def test_limit_scores_the_first_n_items_and_is_recorded(tmp_path):
    done = _command("bench", tmp_path, "+model=rules", "task=toxicity", "limit=10",
                    "bootstrap.resamples=0", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dataset: seed_article (limit=10)" in done.stdout
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["dataset"]["limit"] == {"n": 10, "seed": None}
    assert result["tasks"]["toxicity"]["failures"]["n"] == 10
    rows = (tmp_path / "out" / "samples" / "toxicity.jsonl").read_text().splitlines()
    assert [json.loads(row)["id"] for row in rows] == TOXICITY_IDS[:10]


def test_limit_seed_draws_the_same_sample_every_time_in_dataset_order():
    first = bench.evaluate("rules", tasks="toxicity", limit=10, bootstrap__resamples=0)
    assert _ids(first, "toxicity") == TOXICITY_IDS[:10]
    assert "limit" not in bench.evaluate("rules", tasks="ner").result["dataset"]
    sampled = [
        bench.evaluate("rules", tasks="toxicity", limit=10, limit_seed=seed, bootstrap__resamples=0)
        for seed in (7, 7, 8)
    ]
    ids = [_ids(result, "toxicity") for result in sampled]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0] != TOXICITY_IDS[:10] and len(set(ids[0])) == 10
    assert ids[0] == [i for i in TOXICITY_IDS if i in ids[0]]  # dataset order
    assert sampled[0].result["dataset"]["limit"] == {"n": 10, "seed": 7}
    assert sampled[0].metrics == sampled[1].metrics


def test_a_limit_above_the_number_of_items_scores_them_all_but_is_still_recorded():
    result = bench.evaluate("rules", tasks="toxicity", limit=1000, bootstrap__resamples=0)
    assert _ids(result, "toxicity") == TOXICITY_IDS
    assert result.result["dataset"]["limit"] == {"n": 1000, "seed": None}


def test_a_predictions_file_of_every_item_scores_with_a_limit(tmp_path):
    """The file is checked against every item of the dataset, the limit picks the scored."""
    rows = [json.dumps({"id": i, "score": 0.5}) for i in TOXICITY_IDS]
    (tmp_path / "toxicity.jsonl").write_text("\n".join(rows) + "\n")
    result = bench.evaluate("predictions", model__path=str(tmp_path), limit=5)
    assert result.ok, result.result["tasks"]["toxicity"].get("error")
    assert _ids(result, "toxicity") == TOXICITY_IDS[:5]
    (tmp_path / "toxicity.jsonl").write_text("\n".join([*rows, '{"id": "x", "score": 0}']))
    with pytest.raises(PredictionsFileError, match="id: unknown item 'x'"):
        bench.evaluate("predictions", model__path=str(tmp_path), limit=5)


def test_a_conll_submission_of_every_sentence_scores_with_a_limit():
    gold = resource_dir("datasets") / "wnut17" / "emerging.test.annotated"
    result = bench.evaluate("predictions", dataset="wnut17", model__path=str(gold),
                            model__format="conll", limit=5, bootstrap__resamples=0)  # fmt: skip
    assert result.ok, result.result["tasks"]["ner"].get("error")
    assert result.result["tasks"]["ner"]["counts"]["items"] == 5
    assert result.metrics["ner"]["strict_f1"] == 1.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("limit-runs")
    options = {"tasks": "toxicity", "bootstrap__resamples": 0}
    return {
        "full": bench.evaluate("rules", **options).save(root / "full"),
        "empty": bench.evaluate("empty", **options).save(root / "empty"),
        "limited": bench.evaluate("rules", limit=20, **options).save(root / "limited"),
        "limited_empty": bench.evaluate("empty", limit=20, **options).save(root / "le"),
    }


@pytest.mark.slow
def test_the_leaderboard_refuses_a_limited_run_beside_full_runs(runs, tmp_path):
    done = _command("bench-report", tmp_path, "leaderboard", runs["full"], runs["empty"],
                    runs["limited"], "--out", tmp_path / "board", "--no-plots")  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "dataset version, sha256 or limit differs" in line
    assert f"every item: {runs['full']}, {runs['empty']}" in line
    assert f"limit=20: {runs['limited']}" in line
    assert not (tmp_path / "board").exists()
    # runs of the same limit are ranked together; on the first 20 segments (none toxic) no
    # run has a ROC-AUC, and the leaderboard says so instead of crashing
    done = _command("bench-report", tmp_path, "leaderboard", runs["limited"],
                    runs["limited_empty"], "--out", tmp_path / "quick", "--no-plots")  # fmt: skip
    assert done.returncode == 0, done.stderr
    board = json.loads((tmp_path / "quick" / "leaderboard.json").read_text())
    assert board["dataset"]["limit"] == {"n": 20, "seed": None}
    assert "undefined" in json.dumps(board)
    assert ", limit=20\n" in (tmp_path / "quick" / "leaderboard.md").read_text()


@pytest.mark.slow
def test_compare_refuses_to_pair_a_limited_run_with_a_full_one(runs, tmp_path):
    done = _command("bench-report", tmp_path, "compare", runs["limited"], runs["full"])
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"{runs['limited']} (limit=20) and {runs['full']} (every item)" in line
    assert "dataset.limit differs" in line


@pytest.mark.slow
def test_check_refuses_a_limited_run_against_a_full_baseline(runs, tmp_path):
    done = _command("bench-report", tmp_path, "check", runs["limited"], "--baseline", runs["full"])
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "dataset.limit: the run scored limit=20, the baseline" in line
    assert f"{runs['full']} every item" in line
    expectations = tmp_path / "expected.yaml"
    expectations.write_text("metrics:\n  toxicity.roc_auc: {min: 0.1}\n")
    done = _command("bench-report", tmp_path, "check", runs["limited"], "--baseline", expectations)
    assert done.returncode == 2 and "dataset.limit" in done.stderr, done.stderr
    done = _command("bench-report", tmp_path, "check", runs["full"], "--baseline", runs["limited"])
    assert done.returncode == 2 and "the run scored every item" in done.stderr, done.stderr
