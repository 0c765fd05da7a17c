"""Sharded runs (``shard.index=i shard.count=n``) and ``bench-report merge``: the shards of
a real sweep, merged, equal the unsharded run; anything else is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import bench as run_bench

import bench
from bench.adapters.predictions import PredictionsAdapter, PredictionsFileError
from bench.predictions import PredictionFailure, TextItem
from bench.run_config import ConfigError
from bench.run_dir import RunDir
from bench.shard import shard_items

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
SHARDS = ("shard.index=0,1,2", "shard.count=3")
FAILING = "+model._target_=adapters_for_tests.SometimesFailingToxicity"


def bench_report(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH_REPORT, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def the_run(cwd: Path, *args: str) -> Path:
    done = run_bench(cwd, *args)
    assert done.returncode in (0, 1), done.stderr
    [run] = (cwd / "results" / "runs").glob("*")
    return run


def the_sweep(cwd: Path, *args: str) -> Path:
    done = run_bench(cwd, "-m", *args)
    assert done.returncode in (0, 1), done.stderr
    [sweep] = (cwd / "results" / "multirun").glob("*")
    return sweep


def scored(run: Path) -> dict:
    """What a merge must reproduce: every task record but its timing and cache counts,
    the model, the config; the samples and tables files."""
    result = json.loads((run / "result.json").read_text())
    tasks = {t: {k: v for k, v in r.items() if k not in ("seconds", "predictions")}
             for t, r in result["tasks"].items()}  # fmt: skip
    files = {p.relative_to(run).as_posix(): p.read_text()
             for p in sorted([*run.glob("samples/*"), *run.glob("tables/*")])}  # fmt: skip
    return {"tasks": tasks, "model": result["model"], "dataset": result["dataset"],
            "config": result["provenance"]["config"], "files": files}  # fmt: skip


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The unsharded rules run on the seed article, and a sweep of its three shards."""
    root = tmp_path_factory.mktemp("rules")
    (root / "one").mkdir()
    (root / "shards").mkdir()
    one = the_run(root / "one", "+model=rules")
    return one, the_sweep(root / "shards", *SHARDS, "+model=rules")


def test_shards_partition_the_items_in_dataset_order_balanced_by_length():
    items = [TextItem(f"i{k:02d}", "x" * ((k * 37) % 50)) for k in range(40)]
    shards = [shard_items(items, i, 3) for i in range(3)]
    assert shards == [shard_items(items, i, 3) for i in range(3)]  # deterministic
    ids = [item.id for shard in shards for item in shard]
    assert sorted(ids) == [item.id for item in items]  # disjoint, complete
    for shard in shards:
        assert shard == sorted(shard, key=items.index)
    lengths = [sum(len(item.text) for item in shard) for shard in shards]
    assert max(lengths) - min(lengths) <= max(len(item.text) for item in items)
    assert shard_items(items, 0, 1) == items


def test_three_shards_merged_equal_the_unsharded_run(rules, tmp_path):
    one, sweep = rules
    for k in range(3):
        shard = json.loads((sweep / f"{k}_rules" / "result.json").read_text())
        assert shard["shard"] == {"index": k, "count": 3}
        assert {r["status"] for r in shard["tasks"].values()} == {"shard"}
        assert "metrics" not in shard["tasks"]["ner"]
    done = bench_report("merge", sweep, "--out", tmp_path / "merged")
    assert done.returncode == 0, done.stderr
    merged, unsharded = scored(tmp_path / "merged"), scored(one)
    assert merged["files"]["samples/toxicity.jsonl"]  # something to compare
    assert merged == unsharded
    provenance = json.loads((tmp_path / "merged" / "result.json").read_text())["provenance"]
    assert provenance["merged"]["count"] == 3
    assert provenance["overrides"] == ["+model=rules"]
    # a normal run: the reports take it, and reject a shard
    assert bench_report("check", tmp_path / "merged", "--baseline", one).returncode == 0
    refused = bench_report("leaderboard", sweep / "0_rules", "--out", tmp_path / "board")
    assert refused.returncode == 2 and "merge the shards first" in refused.stderr
    assert not (tmp_path / "board").exists()


def test_failed_items_of_shards_stay_failures_in_the_merge(tmp_path):
    """Degraded (failures allowed) and failed (not allowed): as the unsharded run."""
    for rate, code in (("0.5", 0), ("0.0", 1)):
        root = tmp_path / rate
        args = (FAILING, "task=toxicity", f"max_failure_rate={rate}", "bootstrap.resamples=200")
        (root / "one").mkdir(parents=True)
        (root / "shards").mkdir()
        one = the_run(root / "one", *args)
        sweep = the_sweep(root / "shards", *args, *SHARDS)
        [shard] = sweep.glob("1_*")
        rows = (shard / "samples" / "toxicity.jsonl").read_text().splitlines()
        assert rows and all("failure" in json.loads(row) for row in rows)
        done = bench_report("merge", sweep, "--out", root / "merged")
        assert done.returncode == code, done.stderr
        merged, unsharded = scored(root / "merged"), scored(one)
        assert merged == unsharded
        failures = merged["tasks"]["toxicity"]["failures"]
        assert failures["count"] > 0 and failures["by_reason"] == {"parse": failures["count"]}


def test_shards_of_your_own_files_merge_with_the_data_named(rules, tmp_path):
    """dataset=hf: the merge reads the data the user names (--data), never the shards'
    dataset.path, and checks it is the data they read."""
    data = tmp_path / "comments.jsonl"
    rows = [{"text": ("you idiot " if k % 3 else "hello ") * (k % 7 + 1), "toxic": k % 2}
            for k in range(40)]  # fmt: skip
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    args = ("+model=rules", "dataset=hf", f"dataset.path={data}", "dataset.toxicity.label=toxic",
            "task=toxicity", "bootstrap.resamples=200")  # fmt: skip
    (tmp_path / "one").mkdir()
    (tmp_path / "shards").mkdir()
    one = the_run(tmp_path / "one", *args)
    sweep = the_sweep(tmp_path / "shards", *args, "shard.index=0,1", "shard.count=2")
    out = tmp_path / "merged"
    done = bench_report("merge", sweep, "--out", out)
    assert done.returncode == 2
    assert done.stderr == (
        f"bench-report merge: {sweep / '0_rules' / 'result.json'}: provenance.config.dataset: "
        "hf reads the user's own files, which bench does not ship: name the data the shards "
        "read (their dataset.path) with --data PATH\n"
    )
    assert not out.exists()
    other = tmp_path / "other" / data.name  # same name, one label changed
    other.parent.mkdir()
    other.write_text(data.read_text().replace('"toxic": 1}', '"toxic": 0}', 1))
    done = bench_report("merge", sweep, "--out", out, "--data", other)
    assert done.returncode == 2
    assert done.stderr.endswith(f"dataset.sha256: differs from that of --data {other}\n")
    assert not out.exists()
    done = bench_report("merge", rules[1], "--out", out, "--data", data)
    assert done.returncode == 2
    assert "provenance.config.dataset.name: seed_article ships with bench" in done.stderr
    done = bench_report("merge", sweep, "--out", out, "--data", data)
    assert done.returncode == 0, done.stderr
    assert scored(out) == scored(one)


def _copy(sweep: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    return copy


def _edit(path: Path, change) -> None:
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


def _drop_shard(sweep: Path) -> list[Path]:
    return [sweep / "0_rules", sweep / "2_rules"]


def _twice(sweep: Path) -> list[Path]:
    return [sweep, sweep / "1_rules"]


def _other_fingerprint(sweep: Path) -> list[Path]:
    _edit(sweep / "2_rules" / "result.json",
          lambda r: r["model"].update(fingerprint="0" * 64))  # fmt: skip
    return [sweep]


def _other_dataset(sweep: Path) -> list[Path]:
    _edit(sweep / "1_rules" / "result.json", lambda r: r["dataset"].update(version="2.0.0"))
    return [sweep]


def _unknown_gold(sweep: Path) -> list[Path]:
    for k in range(3):
        _edit(sweep / f"{k}_rules" / "result.json", lambda r: r["dataset"].update(sha256="0" * 64))
    return [sweep]


def _other_config(sweep: Path) -> list[Path]:
    _edit(sweep / "2_rules" / "result.json",
          lambda r: r["provenance"]["config"]["toxicity"].update(threshold=0.3))  # fmt: skip
    return [sweep]


def _rewrite(sweep: Path, k: int, lines: list[str]) -> None:
    """Shard ``k``'s toxicity predictions replaced by ``lines``, its recorded ids updated."""
    from bench.shard import ids_sha256

    (sweep / f"{k}_rules" / "predictions" / "toxicity.jsonl").write_text("".join(lines))
    ids = [json.loads(line)["id"] for line in lines]
    _edit(sweep / f"{k}_rules" / "result.json",
          lambda r: r["tasks"]["toxicity"].update(ids_sha256=ids_sha256(ids)))  # fmt: skip


def _lines(sweep: Path, k: int) -> list[str]:
    path = sweep / f"{k}_rules" / "predictions" / "toxicity.jsonl"
    return path.read_text().splitlines(keepends=True)


def _overlap(sweep: Path) -> list[Path]:
    """Shard 0's first toxicity item also in shard 1."""
    _rewrite(sweep, 1, _lines(sweep, 1) + _lines(sweep, 0)[:1])
    return [sweep]


def _moved(sweep: Path) -> list[Path]:
    """Shard 0's first toxicity item moved to shard 2."""
    first, *rest = _lines(sweep, 0)
    _rewrite(sweep, 0, rest)
    _rewrite(sweep, 2, _lines(sweep, 2) + [first])
    return [sweep]


def _unknown_item(sweep: Path) -> list[Path]:
    _rewrite(sweep, 1, [*_lines(sweep, 1), '{"id": "not-an-item", "score": 0.5}\n'])
    return [sweep]


def _dropped_prediction(sweep: Path) -> list[Path]:
    path = sweep / "2_rules" / "predictions" / "toxicity.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    return [sweep]


def _failed_task(sweep: Path) -> list[Path]:
    failed = {"status": "failed", "error": "RuntimeError: gone"}
    _edit(sweep / "0_rules" / "result.json", lambda r: r["tasks"]["ner"].update(failed))
    return [sweep]


def _bad_cache_option(sweep: Path) -> list[Path]:
    for k in range(3):
        _edit(sweep / f"{k}_rules" / "result.json",
              lambda r: r["provenance"]["config"].update(cache="none"))  # fmt: skip
    return [sweep]


def _crafted_target(sweep: Path) -> list[Path]:
    _edit(sweep / "1_rules" / "result.json",
          lambda r: r["tasks"]["ner"].update(_target_="os.system"))  # fmt: skip
    return [sweep]


def _interpolation(sweep: Path) -> list[Path]:
    for k in range(3):
        _edit(sweep / f"{k}_rules" / "result.json",
              lambda r: r["provenance"]["config"].update(name="${oc.env:HOME}"))  # fmt: skip
    return [sweep]


def _not_a_shard(sweep: Path) -> list[Path]:
    _edit(sweep / "1_rules" / "result.json", lambda r: r.pop("shard"))
    return [sweep]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_drop_shard, "shard.index 1 of shard.count=3: missing"),
        (_twice, "shard.index: 1 again"),
        (_other_fingerprint, "2_rules/result.json: model.fingerprint: differs"),
        (_other_dataset, "1_rules/result.json: dataset.version: differs"),
        (_unknown_gold, "dataset.sha256: '0000"),
        (_other_config, "2_rules/result.json: provenance.config.toxicity.threshold: differs"),
        (_overlap, "also in shard 0"),
        (_dropped_prediction, "toxicity.jsonl: id: not the items of"),
        (_moved, "2_rules/predictions/toxicity.jsonl: id: item 'article-01' belongs to shard 0"),
        (_unknown_item, "toxicity: item 'not-an-item': not an item of the dataset"),
        (_failed_task, "0_rules/result.json: tasks.ner: failed in this shard"),
        (_bad_cache_option, "provenance.config: Merge error: str is not a subclass of CacheOpt"),
        (_crafted_target, "tasks.ner._target_: refused"),
        (_interpolation, "provenance.config.name: an interpolation"),
        (_not_a_shard, "1_rules/result.json: shard: not a shard"),
    ],
)
def test_merge_refuses_shards_that_are_not_one_whole_run(rules, tmp_path, tamper, expected):
    paths = tamper(_copy(rules[1], tmp_path))
    done = bench_report("merge", *paths, "--out", tmp_path / "merged")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
    assert not (tmp_path / "merged").exists()


def test_merge_will_not_write_over_a_shard(rules, tmp_path):
    sweep = _copy(rules[1], tmp_path)
    before = (sweep / "0_rules" / "result.json").read_text()
    done = bench_report("merge", sweep, "--out", sweep / "0_rules")
    assert done.returncode == 2 and "--out" in done.stderr
    assert (sweep / "0_rules" / "result.json").read_text() == before


def test_a_merge_into_a_folder_a_live_merge_holds_is_refused(rules, tmp_path):
    out = tmp_path / "merged"
    with RunDir(out):  # as a merge (or a run) into it holds it while it writes
        done = bench_report("merge", rules[1], "--out", out)
        assert done.returncode == 2
        assert (
            done.stderr == f"bench-report merge: {out}: in use by a running bench (.bench.lock)\n"
        )
        assert [p.name for p in out.iterdir()] == [".bench.lock"]
    assert bench_report("merge", rules[1], "--out", out).returncode == 0  # released


def test_a_shard_prints_where_its_predictions_are_and_the_merge_that_scores_them(tmp_path):
    cheap = ("+model=rules", "task=toxicity", "bootstrap.resamples=0")
    done = run_bench(tmp_path, *cheap, "shard.index=1", "shard.count=3", "hydra.run.dir=one")
    assert done.returncode == 0, done.stderr
    one = tmp_path / "one"
    assert done.stdout.splitlines()[-1] == (
        f"shard 1 of 3: predictions in {one / 'predictions'}, not scored; once every shard "
        f"has run: bench-report merge {one} and the other 2 shards' run folders --out RUN"
    )
    assert (one / "predictions" / "toxicity.jsonl").is_file()
    sweep = tmp_path / "sweep"
    done = run_bench(tmp_path, "-m", *cheap, "shard.index=0,1", "shard.count=2",
                     f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    hints = [line for line in done.stdout.splitlines() if line.startswith("shard ")]
    assert hints == [
        f"shard {k} of 2: predictions in {sweep / f'{k}_rules' / 'predictions'}, not scored; "
        f"once every shard has run: bench-report merge {sweep} --out RUN"
        for k in range(2)
    ]
    summary = (sweep / "summary.md").read_text()  # one section for the shards: merge them
    assert summary.count("## Not ranked: seed_article 1.0.0") == 1
    assert "shard: a shard of a run, not scored: merge the shards first" in summary
    command = hints[-1].split(": ", 2)[2].split()  # as the user would copy it
    assert command[0] == "bench-report"
    merged = bench_report(*command[1:-1], tmp_path / "merged")
    assert merged.returncode == 0, merged.stderr
    result = json.loads((tmp_path / "merged" / "result.json").read_text())
    assert result["tasks"]["toxicity"]["status"] == "ok"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"shard__index": 3, "shard__count": 3}, "shard.index=3: expected an integer in [0, "),
        ({"shard__index": 0}, "set both or neither"),
        ({"shard__index": -1, "shard__count": 2}, "shard.index=-1: expected an integer >= 0"),
        ({"shard__index": 0, "shard__count": 2, "limit": 5}, "a shard scores nothing"),
    ],
)
def test_bad_shard_options_are_refused(options, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[")):
        bench.evaluate("rules", **options)


def test_a_failure_record_in_a_predictions_file_is_a_failed_item(tmp_path):
    (tmp_path / "toxicity.jsonl").write_text(
        '{"id": "a", "score": 0.5}\n'
        '{"id": "b", "failure": {"reason": "refusal", "message": "no", "prompt": null, '
        '"raw": "I will not"}}\n'
        '{"id": "c", "failure": {"reason": "parse"}}\n'
    )
    with pytest.raises(PredictionsFileError, match=r"toxicity.jsonl:3: failure.message: expected"):
        PredictionsAdapter(str(tmp_path)).records("toxicity")
    (tmp_path / "toxicity.jsonl").write_text(
        "".join((tmp_path / "toxicity.jsonl").read_text().splitlines(keepends=True)[:2])
    )
    records = PredictionsAdapter(str(tmp_path)).records("toxicity")
    assert records["b"] == PredictionFailure("refusal", "no", None, "I will not")


def test_shards_share_the_prediction_cache_with_each_other_and_the_whole_run(tmp_path):
    """A shard rerun, and the unsharded run after the shards, ask the model nothing."""
    log = tmp_path / "asked.log"
    model = ("+model._target_=adapters_for_tests.CountingToxicity", f"+model.log={log}",
             "task=toxicity", "bootstrap.resamples=0")  # fmt: skip
    (tmp_path / "sweep").mkdir()
    sweep = the_sweep(tmp_path / "sweep", *model, "shard.index=0,1", "shard.count=2")
    asked = log.read_text().splitlines()
    assert len(asked) == len(set(asked)) == 43
    again = run_bench(tmp_path, *model, "shard.index=1", "shard.count=2", "hydra.run.dir=again")
    assert again.returncode == 0, again.stderr
    stats = json.loads((tmp_path / "again" / "result.json").read_text())["tasks"]["toxicity"]
    assert stats["predictions"]["predicted"] == 0 and stats["predictions"]["hits"] > 0
    (tmp_path / "one").mkdir()
    one = the_run(tmp_path / "one", *model)
    assert log.read_text().splitlines() == asked
    assert bench_report("merge", sweep, "--out", tmp_path / "merged").returncode == 0
    assert scored(tmp_path / "merged")["tasks"] == scored(one)["tasks"]
