"""The runner in-process: presets, validation failures, determinism, result schema."""

from __future__ import annotations

import json

import pytest
from bench_config import compose_config, run_model
from hydra.errors import ConfigCompositionException

import bench.result
from bench.runner import ConfigError, run
from bench.tasks import TASKS


def _run(tmp_path, model, *overrides):
    return run_model(tmp_path, model, *overrides)


def _main_values(result):
    return {
        (task, name): record["metrics"][name]["value"]
        for task, record in result["tasks"].items()
        for name in record["main_metrics"]
    }


def test_oracle_scores_one_on_every_main_metric(tmp_path):
    outcome = _run(tmp_path, "oracle")
    assert outcome.ok
    values = _main_values(outcome.result)
    assert set(t for t, _ in values) == set(TASKS)
    assert all(v == 1.0 for v in values.values()), values
    doc_metrics = outcome.result["tasks"]["toxicity"]["metrics"]
    assert doc_metrics["document_roc_auc"]["value"] == 1.0


def test_empty_scores_zero_recall_and_chance_auc(tmp_path):
    result = _run(tmp_path, "empty").result
    ner = result["tasks"]["ner"]["metrics"]
    assert ner["strict_recall"]["value"] == 0.0
    assert ner["strict_f1"]["value"] == 0.0
    att = result["tasks"]["attribution"]["metrics"]
    assert att["content_overlap_f1"]["value"] == 0.0
    assert att["source_accuracy"]["value"] is None
    assert "no content matched" in att["source_accuracy"]["undefined"]
    tox = result["tasks"]["toxicity"]["metrics"]
    assert tox["roc_auc"]["value"] == 0.5
    counts = result["tasks"]["toxicity"]["counts"]
    prevalence = counts["toxic"] / counts["segments"]
    assert tox["average_precision"]["value"] == pytest.approx(prevalence)


def test_rules_baseline_is_honest_and_non_trivial(tmp_path):
    values = _main_values(_run(tmp_path, "rules").result)
    for key, value in values.items():
        assert value is not None and 0.0 < value < 1.0, (key, value)


def test_rules_baseline_does_not_read_the_gold(monkeypatch):
    import bench.data.gold as gold_module
    from bench.adapters.rules import RulesAdapter
    from bench.metrics.speakers import normalise_name
    from bench.predictions import TextItem

    def forbidden(*args, **kwargs):
        raise AssertionError("the rules baseline read the gold")

    monkeypatch.setattr(gold_module, "load_gold", forbidden)
    item = TextItem("x", "“We will win,” Ms. Jane Doe said on Monday in Paris. Stupid idiots!")
    adapter = RulesAdapter()
    [entities] = adapter.predict_ner([item])
    assert ("Jane Doe", "PERSON") in {(item.text[e.start : e.end], e.label) for e in entities}
    assert ("Paris", "GPE") in {(item.text[e.start : e.end], e.label) for e in entities}
    [[quote]] = adapter.predict_attribution([item])
    assert item.text[slice(*quote.content[0])] == "We will win,"
    assert normalise_name(quote.speaker) == "jane doe"
    [toxic] = adapter.predict_toxicity([TextItem("y", "Stupid idiots!")])
    [calm] = adapter.predict_toxicity([TextItem("z", "The meeting is on Monday.")])
    assert toxic.score > 0.5 > calm.score == 0.0


def test_result_files_and_schema(tmp_path):
    _run(tmp_path, "rules")
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["schema_version"] == 1
    assert result["model"]["preset"] == "rules"
    assert result["model"]["target"] == "bench.adapters.rules.RulesAdapter"
    assert len(result["model"]["fingerprint"]) == 64
    assert len(result["dataset"]["sha256"]) == 64
    prov = result["provenance"]
    for key in ("bench_version", "git", "python", "packages", "config", "seed", "started_at"):
        assert key in prov
    for task in TASKS:
        rows = (tmp_path / "samples" / f"{task}.jsonl").read_text().splitlines()
        assert rows and all(json.loads(r) for r in rows)
    assert (tmp_path / "tables" / "main.md").read_text().startswith("| task")
    assert (
        (tmp_path / "tables" / "main.csv")
        .read_text()
        .startswith("task,metric,value,ci95_low,ci95_high,status")
    )
    per_label = (tmp_path / "tables" / "ner_per_label.csv").read_text().splitlines()
    assert per_label[0] == "label,precision,recall,f1,f1_ci95_low,f1_ci95_high,support,predicted"
    person = next(line.split(",") for line in per_label if line.startswith("PERSON,"))
    assert float(person[4]) <= float(person[3]) <= float(person[5])


def test_same_config_gives_identical_metrics(tmp_path):
    first = _run(tmp_path / "a", "rules").result["tasks"]
    second = _run(tmp_path / "b", "rules").result["tasks"]
    for task in TASKS:
        assert first[task]["metrics"] == second[task]["metrics"]
    assert (tmp_path / "a/samples/ner.jsonl").read_bytes() == (
        tmp_path / "b/samples/ner.jsonl"
    ).read_bytes()


def test_single_task_leaves_others_out(tmp_path):
    result = _run(tmp_path, "oracle", "task=ner").result
    assert list(result["tasks"]) == ["ner"]


@pytest.mark.parametrize(
    ("target", "task", "message"),
    [
        ("OutOfRangeNer", "ner", "entities[0]: span"),
        ("UnknownLabelNer", "ner", "unknown label 'VILLAIN'"),
        ("NanToxicity", "toxicity", "score: expected a probability in [0, 1], got nan"),
        ("RaisingAdapter", "ner", "model server went away"),
    ],
)
def test_bad_predictions_fail_their_task_only(tmp_path, target, task, message):
    model = {"_target_": f"adapters_for_tests.{target}"}
    outcome = _run(tmp_path, model)
    assert not outcome.ok
    record = outcome.result["tasks"][task]
    assert record["status"] == "failed"
    assert message in record["error"]
    assert target in record["error"] or target == "RaisingAdapter"
    others = [r["status"] for t, r in outcome.result["tasks"].items() if t != task]
    assert "failed" not in others
    assert (tmp_path / "result.json").is_file()


def test_unsupported_tasks_are_marked(tmp_path):
    result = _run(tmp_path, {"_target_": "adapters_for_tests.NanToxicity"}).result
    assert result["tasks"]["ner"] == {
        "status": "unsupported",
        "reason": "NanToxicity does not predict ner",
    }


def test_secrets_never_reach_the_result(tmp_path):
    model = {"_target_": "adapters_for_tests.ConfiguredEmpty", "api_key": "sk-very-secret"}
    outcome = run(compose_config(model=model), "empty", [], tmp_path)
    assert "sk-very-secret" not in (tmp_path / "result.json").read_text()
    assert outcome.result["provenance"]["config"]["model"]["api_key"] == "***"


@pytest.mark.parametrize(
    "overrides",
    [("+model=rules",), ("+model=oracle",), ("+model=rules", "dataset=hatecheck")],
    ids=["rules", "oracle", "rules-hatecheck"],
)
def test_every_reported_metric_has_a_seeded_interval(tmp_path, overrides):
    """Issue 4: the runner reports every metric with its interval (undefined ones have none)."""
    cfg = compose_config(*overrides, "bootstrap.resamples=200")
    result = run(cfg, "rules", [], tmp_path).result
    for task, record in result["tasks"].items():
        if record["status"] == "unsupported":
            continue
        assert record["status"] == "ok", (task, record)
        for name, metric in record["metrics"].items():
            if metric["value"] is None:
                assert "ci95" not in metric and metric["undefined"], (task, name)
                continue
            ci = metric["ci95"]
            assert ci["n_resamples"] == 200 and ci["alpha"] == 0.05, (task, name)
            assert ci["low"] - 1e-12 <= metric["value"] <= ci["high"] + 1e-12, (task, name)
            assert ci["value"] == pytest.approx(metric["value"], abs=1e-12), (task, name)
    if "dataset=hatecheck" in overrides:
        assert "ci95" in result["tasks"]["toxicity"]["metrics"]["group_accuracy_macro"]


def test_a_run_records_its_display_name(tmp_path):
    named = run_model(tmp_path / "named", "empty", "name=team-x", "bootstrap.resamples=0")
    unnamed = run_model(tmp_path / "unnamed", "empty", "bootstrap.resamples=0")
    assert named.result["model"]["name"] == "team-x"
    assert named.result["model"]["preset"] == "empty"
    assert unnamed.result["model"]["name"] == "empty"
    assert named.result["model"]["fingerprint"] == unnamed.result["model"]["fingerprint"]
    numeric = run_model(tmp_path / "numeric", "empty", "name=42", "bootstrap.resamples=0")
    assert numeric.result["model"]["name"] == "42"


@pytest.mark.parametrize(("task", "unit", "n_units"), [("ner", "item", 3), ("ner", "entity", None)])
def test_bootstrap_unit_is_configurable(tmp_path, task, unit, n_units):
    result = _run(tmp_path, "rules", f"task={task}", f"bootstrap.unit.{task}={unit}").result
    ci = result["tasks"][task]["metrics"]["strict_f1"]["ci95"]
    assert ci["unit"] == unit
    if n_units is not None:
        assert ci["n_units"] == n_units
    if unit == "entity":
        assert ci["n_units"] > 150  # gold ∪ predicted spans


def test_by_default_ner_and_attribution_resample_the_seed_articles_segments(tmp_path, gold):
    """Issue 10: the three documents hold 40 gold segments, each a cluster; every interval
    records its unit and their number, and the samples record each item's segments."""
    outcome = _run(tmp_path, "rules", "bootstrap.resamples=100")
    for task in ("ner", "attribution"):
        for name, metric in outcome.result["tasks"][task]["metrics"].items():
            if "ci95" in metric:
                assert metric["ci95"]["unit"] == "cluster", (task, name)
                assert metric["ci95"]["n_units"] == len(gold.segments) == 40, (task, name)
    rows = [json.loads(line) for line in (tmp_path / "samples" / "ner.jsonl").open()]
    segments = [segment[2] for row in rows for segment in row["segments"]]
    assert segments == [segment.id for segment in gold.segments]


def test_unknown_bootstrap_unit_is_a_config_error_without_result_files(tmp_path):
    with pytest.raises(ValueError, match="bootstrap unit 'sentence' for ner"):
        _run(tmp_path, "rules", "task=ner", "bootstrap.unit.ner=sentence")
    assert not (tmp_path / "result.json").exists()


def test_toxicity_reports_bias_and_calibration(tmp_path):
    metrics = _run(tmp_path, "rules", "task=toxicity").result["tasks"]["toxicity"]
    for name in ("bias_score", "subgroup_auc_power_mean", "bpsn_auc_power_mean", "brier", "ece"):
        assert name in metrics["metrics"]
    subgroups = metrics["breakdown"]["bias"]["subgroups"]
    assert "mexican" in subgroups


def test_brier_and_attribute_aucs_have_intervals(tmp_path):
    metrics = run_model(tmp_path, "rules", "task=toxicity", "bootstrap.resamples=200").result
    metrics = metrics["tasks"]["toxicity"]["metrics"]
    for name in ("brier", "attribute.obscene.roc_auc"):
        ci = metrics[name]["ci95"]
        assert ci["low"] <= metrics[name]["value"] <= ci["high"], name


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("bootstrap.alpha=0.1", "bootstrap.alpha=0.1: expected 0.05, the only value"),
        ("bootstrap.resamples=-5", "bootstrap.resamples=-5: expected an integer >= 0"),
        ("bootstrap.seed=-2", "bootstrap.seed=-2: expected an integer >= 0"),
        ("seed=-1", "seed=-1: expected an integer >= 0"),
        ("batch_size=0", "batch_size=0: expected an integer >= 1"),
        ("toxicity.threshold=2", r"toxicity.threshold=2.0: expected a number in \[0, 1\]"),
        ("toxicity.threshold=nan", r"toxicity.threshold=nan: expected a number in \[0, 1\]"),
        ("max_failure_rate=-0.1", r"max_failure_rate=-0.1: expected a number in \[0, 1\]"),
        ("task=nerr", "task='nerr': expected one of all, ner, attribution, toxicity"),
        ("model.score=nan", "model.score: NaN or infinity is not a valid setting"),
        ("bootstrap.unit.toxicity=entity", "bootstrap unit 'entity' for toxicity"),
        ("+check.baseline=nowhere/result.json", "check.baseline: nowhere/result.json: not found"),
        ("+check.resamples=0", "check.baseline: missing"),
        # Hydra lets +KEY= add any key: the schema refuses it before the run
        ("+tsk=ner", r"^tsk: unknown option \(did you mean task\?\)$"),
        ("+bootstrap.resample=10", r"bootstrap.resample: unknown option \(did you mean boot"),
        ("+chek.baseline=x", r"^chek: unknown option \(did you mean check\?\)$"),
        ("+check.tolerance=abc", "check.tolerance: Value 'abc' of type 'str' could not be"),
        ("+check=3", r"check=3: expected options \(\+check.baseline=FILE"),
        ("+model.colour=red", "model empty: TypeError"),  # open to the schema: the adapter decides
    ],
)
def test_bad_options_are_refused_before_anything_is_written(tmp_path, override, message):
    """Refused up front (the CLI's exit code 2), not as a failed task with a result file."""
    with pytest.raises(ConfigError, match=message):
        run_model(tmp_path, "empty", override)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rerun_never_leaves_the_old_result_beside_new_samples(tmp_path, monkeypatch):
    run_model(tmp_path, "rules", "task=toxicity", "bootstrap.resamples=0")
    assert (tmp_path / "result.json").is_file()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(bench.result, "write_jsonl_atomic", crash)
    with pytest.raises(OSError, match="disk full"):
        run_model(tmp_path, "empty", "task=toxicity", "bootstrap.resamples=0")
    assert not (tmp_path / "result.json").exists()


def test_bad_check_options_are_refused_before_the_run(tmp_path):
    baseline = run_model(tmp_path / "baseline", "empty", "task=toxicity").result
    assert baseline["tasks"]["toxicity"]["status"] == "ok"
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="check.resamples: expected a positive integer"):
        run_model(out, "empty", f"+check.baseline={tmp_path / 'baseline'}", "+check.resamples=0")
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    "override",
    ["bootstrap.resamples=1.5", "bootstrap.seed=abc", "toxicity.threshold=abc", "name=[a,b]",
     "cache.enabled=maybe", "bootstrap.resample=10", "+cache.max_age=[1]"],
)  # fmt: skip
def test_a_value_of_the_wrong_type_or_an_unknown_key_is_refused_at_composition(override):
    """The schema is that of conf/config.yaml: Hydra refuses these before a run directory
    exists (the CLI's exit code 2, naming the key: tests/test_cli.py)."""
    key = override.lstrip("+").split("=")[0]
    with pytest.raises(ConfigCompositionException) as refused:
        compose_config("+model=empty", override)
    assert refused.value.__cause__.full_key == key


def test_an_interrupted_runs_temporary_files_do_not_survive_a_rerun(tmp_path):
    for stale in (tmp_path / ".result.json.k2j3.tmp", tmp_path / "samples" / ".ner.jsonl.x.tmp"):
        stale.parent.mkdir(exist_ok=True)
        stale.write_text("half a file")
    run_model(tmp_path, "empty", "task=ner", "bootstrap.resamples=0")
    assert not list(tmp_path.rglob("*.tmp"))
    assert (tmp_path / "result.json").is_file()


def test_a_rerun_in_the_same_folder_leaves_no_file_of_the_earlier_run(tmp_path):
    run_model(tmp_path, "rules", "bootstrap.resamples=0")
    assert (tmp_path / "samples" / "ner.jsonl").is_file()
    run_model(tmp_path, "rules", "task=toxicity", "bootstrap.resamples=0")
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["toxicity.jsonl"]
    assert not (tmp_path / "tables" / "ner_per_label.csv").exists()
