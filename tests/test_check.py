"""Regression check of a run against a baseline (bench-report check, +check.baseline, testing)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bench_config import run_model
from omegaconf import OmegaConf
from test_cli import env

from bench.report import check_cli
from bench.report import cli as report_cli
from bench.report.check import CheckError, check, check_after_run, load_baseline
from bench.testing import RegressionNoiseWarning, assert_no_regression

BENCH = str(Path(sys.executable).with_name("bench"))
TESTS_DIR = Path(__file__).resolve().parent
DEGRADED = "degraded_adapters.DegradedRules"

# name -> model: the preset "rules" or DegradedRules' parameters (see degraded_adapters.py)
MODELS = {
    "baseline": "rules",
    "rules": "rules",  # a second, independent run of the unchanged model
    "halved": {"drop_every": 2},  # half of the entities gone: a real regression
    "jitter": {"jitter": 0.005, "seed": 3},  # tiny noise on toxicity scores
    "noisy": {"noise": 0.05, "seed": 2},  # ROC-AUC −0.061 on 40 items, p ≈ 0.13
    "scrambled": {"noise": 1.0, "seed": 1},  # AP −0.35 and Brier +0.19: significant
    "failed": {"_target_": "adapters_for_tests.OutOfRangeNer"},  # ner fails
}


def _run(model: str | dict, directory: Path) -> Path:
    if isinstance(model, dict) and "_target_" not in model:
        model = {"_target_": DEGRADED, **model}
    preset = "rules" if model == "rules" else "degraded"
    run_model(directory, model, "bootstrap.resamples=0", preset=preset)
    return directory


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {name: _run(model, root / name) for name, model in MODELS.items()}


def _verdicts(report) -> dict[str, str]:
    return {row.key: row.verdict for row in report.rows}


def _report_cli(*args: str) -> int:
    """``bench-report check ARGS`` in-process (the parser and main of the subcommand)."""
    parser = argparse.ArgumentParser(prog="bench-report check")
    check_cli.add_arguments(parser)
    return check_cli.main(parser.parse_args([str(a) for a in args]))


def test_check_is_a_bench_report_subcommand():
    assert report_cli.SUBCOMMANDS["check"][0] == "bench.report.check_cli"


def _yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the rule


def test_unchanged_model_passes_against_its_own_baseline(runs, capsys):
    report = check(runs["rules"], runs["baseline"])
    assert report.passed
    assert set(_verdicts(report).values()) == {"ok"}
    assert len(report.rows) == 10  # every main metric of the three tasks
    primary = {r.key: r.p_value for r in report.rows if r.p_value is not None}
    assert primary == {"ner.strict_f1": 1.0, "attribution.e2e_f1": 1.0, "toxicity.roc_auc": 1.0}
    assert _report_cli(runs["rules"], "--baseline", runs["baseline"] / "result.json") == 0
    out = capsys.readouterr().out
    assert "| metric " in out and "| p-value | units " in out and out.rstrip().endswith("10 ok")
    units = {r.key: r.units for r in report.rows if r.units is not None}
    assert set(units) == set(primary)  # no other test: no drop beyond tolerance
    assert [units[key].split()[1] for key in primary] == ["clusters", "clusters", "items"]
    for key, text in units.items():
        assert f"| {text} " in next(line for line in out.splitlines() if f"| {key} " in line)


def test_degraded_adapter_is_a_regression_with_junit_failures(runs, tmp_path, capsys):
    junit = tmp_path / "reports" / "junit.xml"
    assert _report_cli(runs["halved"], "--baseline", runs["baseline"], "--junit", junit) == 1
    out = capsys.readouterr().out
    assert "significant: paired p = 0.001 < alpha 0.05" in out
    assert "| ner.strict_f1 " in out and "FAIL: 10 metrics" in out
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    failed = sorted(c.get("name") for c in cases if c.find("failure") is not None)
    assert failed == ["ner.strict_f1", "ner.strict_recall"]
    assert suite.get("tests") == str(len(cases)) == "10"
    assert suite.get("failures") == "2" and suite.get("errors") == "0"
    assert not list(junit.parent.glob(".*.tmp"))  # written atomically, nothing left over


def test_secondary_metrics_get_an_item_level_paired_test(runs, tmp_path):
    """Beyond its tolerance, a secondary metric is judged by the paired test when there
    are enough units (the 40 segments), and fails with the reason otherwise (the three
    documents of samples that do not record their segments)."""
    baseline = _yaml(
        tmp_path / "check.yaml",
        f"baseline: {runs['baseline'] / 'result.json'}\n"
        "metrics:\n"
        "  toxicity.average_precision: {tolerance: 0.0}\n"
        "  toxicity.brier: {tolerance: 0.0, higher_is_better: false}\n"
        "  toxicity.bias_score: {tolerance: 0.0}\n"
        "  ner.exact_f1: {tolerance: 0.0}\n",
    )
    noisy = {r.key: r for r in check(runs["noisy"], baseline).rows}
    assert noisy["toxicity.average_precision"].verdict == "noise"
    assert noisy["toxicity.brier"].verdict == "noise"
    assert noisy["toxicity.brier"].p_value >= 0.05
    assert noisy["toxicity.bias_score"].verdict == "regression"
    assert "needs the items' identities" in noisy["toxicity.bias_score"].reason
    scrambled = {r.key: r for r in check(runs["scrambled"], baseline).rows}
    for key in ("toxicity.average_precision", "toxicity.brier"):
        assert scrambled[key].verdict == "regression" and scrambled[key].p_value < 0.05, key
    halved = {r.key: r for r in check(runs["halved"], baseline).rows}
    assert halved["ner.exact_f1"].verdict == "regression"  # on the 40 segments
    assert halved["ner.exact_f1"].p_value < 0.05
    for run in ("baseline", "halved"):  # samples written before they recorded segments
        shutil.copytree(runs[run], tmp_path / run)
        samples = tmp_path / run / "samples" / "ner.jsonl"
        rows = [json.loads(line) for line in samples.read_text().splitlines()]
        samples.write_text("".join(json.dumps(row | {"segments": []}) + "\n" for row in rows))
    old = _yaml(tmp_path / "old.yaml", baseline.read_text().replace(
        str(runs["baseline"]), str(tmp_path / "baseline")))  # fmt: skip
    halved = {r.key: r for r in check(tmp_path / "halved", old).rows}
    assert halved["ner.exact_f1"].verdict == "regression"
    assert "not attempted: 3 clusters to resample, fewer than the 20" in (
        halved["ner.exact_f1"].reason
    )


def test_the_primary_tests_follow_the_same_minimum_of_units(runs, monkeypatch):
    """check and compare share one rule: raised above the clusters of the seed article,
    the primary NER test is not attempted and the drop fails with the reason."""
    import bench.report.compare

    monkeypatch.setattr(bench.report.compare, "MIN_UNITS", 1000)
    report = check(runs["halved"], runs["baseline"])
    row = {r.key: r for r in report.rows}["ner.strict_f1"]
    assert row.verdict == "regression" and row.p_value is None
    assert row.units == "40 clusters"  # the seed article's gold segments
    assert f"not attempted: {row.units} to resample, fewer than the 1000" in row.reason
    line = next(x for x in report.render().splitlines() if x.startswith("| ner.strict_f1 "))
    assert f"| not attempted | {row.units} " in line
    ok = {r.key: r for r in report.rows}["toxicity.roc_auc"]  # no drop: a note, not a failure
    assert ok.verdict == "ok" and "no p-value: toxicity.roc_auc: not attempted" in report.render()


def test_tiny_noise_within_tolerance_passes(runs):
    report = check(runs["jitter"], runs["baseline"], tolerance=0.02)
    assert report.passed and set(_verdicts(report).values()) == {"ok"}
    auc = next(r for r in report.rows if r.key == "toxicity.roc_auc")
    assert -0.02 < auc.delta < 0  # it did move, a little
    assert report.warnings() == []


def test_drop_beyond_tolerance_not_significant_is_noise(runs):
    report = check(runs["noisy"], runs["baseline"])
    auc = next(r for r in report.rows if r.key == "toxicity.roc_auc")
    assert auc.delta < -0.05 and auc.p_value >= 0.05
    assert auc.verdict == "noise"
    assert report.passed
    [warning] = report.warnings()
    assert "toxicity.roc_auc" in warning and "not significant" in warning
    # a larger alpha calls the same drop significant
    assert _verdicts(check(runs["noisy"], runs["baseline"], alpha=0.2))["toxicity.roc_auc"] == (
        "regression"
    )


def test_without_baseline_samples_a_drop_beyond_tolerance_is_a_regression(runs, tmp_path):
    shutil.copy(runs["baseline"] / "result.json", tmp_path / "result.json")  # no samples/
    report = check(runs["noisy"], tmp_path / "result.json")
    assert _verdicts(report)["toxicity.roc_auc"] == "regression"
    assert all(r.p_value is None for r in report.rows)
    assert "no samples/" in report.render()


def test_cli_noise_exits_zero_with_a_warning(runs, capsys):
    assert _report_cli(runs["noisy"], "--baseline", runs["baseline"], "--resamples", "500") == 0
    out = capsys.readouterr().out
    assert "| noise " in out and "warning: toxicity.roc_auc" in out and "1 noise" in out


# ------------------------------------------------------------------ YAML baselines


def test_yaml_min_and_value_with_tolerance(runs, tmp_path):
    sha = json.loads((runs["baseline"] / "result.json").read_text())["dataset"]["sha256"]
    baseline = _yaml(
        tmp_path / "expected.yaml",
        f"dataset_sha256: {sha}\n"
        "metrics:\n"
        "  ner.strict_f1: {min: 0.80}\n"
        "  toxicity.roc_auc: {value: 0.78, tolerance: 0.05}\n"
        "  toxicity.brier: {max: 0.2}\n"
        "  attribution.e2e_f1: {value: 0.66}\n",  # −0.0055: within the default 0.01
    )
    report = check(runs["rules"], baseline)
    assert report.passed, report.render()
    assert [r.key for r in report.rows] == [
        "ner.strict_f1", "toxicity.roc_auc", "toxicity.brier", "attribution.e2e_f1",
    ]  # fmt: skip
    cells = {r.key: r.cells() for r in report.rows}
    assert cells["ner.strict_f1"][1] == "≥ 0.8000" and cells["ner.strict_f1"][4] is None
    assert cells["toxicity.roc_auc"][4] == 0.05
    assert all(r.p_value is None for r in report.rows)  # no samples: no paired test

    halved = check(runs["halved"], baseline)
    assert _verdicts(halved)["ner.strict_f1"] == "regression"  # 0.595 < min 0.80
    assert "below the minimum 0.8000" in halved.render()
    assert _verdicts(check(runs["rules"], baseline, tolerance=0.001))["attribution.e2e_f1"] == (
        "regression"
    )


def test_yaml_on_top_of_a_baseline_run_overrides_tolerances(runs, tmp_path):
    shutil.copytree(runs["baseline"], tmp_path / "baseline")
    baseline = _yaml(
        tmp_path / "check.yaml",
        "baseline: baseline\n"
        "metrics:\n"
        "  ner.strict_recall: {tolerance: 0.5}\n"
        "  toxicity.ece: {tolerance: 0.02}\n",
    )
    report = check(runs["halved"], baseline)
    verdicts = _verdicts(report)
    assert len(verdicts) == 11 and verdicts["toxicity.ece"] == "ok"
    assert verdicts["ner.strict_recall"] == "ok"  # −0.41, within its own 0.5
    assert verdicts["ner.strict_f1"] == "regression"  # still the paired test's verdict


def test_a_yaml_value_is_not_judged_by_the_paired_test(runs, tmp_path):
    shutil.copytree(runs["baseline"], tmp_path / "baseline")
    text = "baseline: baseline\nmetrics:\n  toxicity.roc_auc: {%s}\n"
    measured = check(runs["noisy"], _yaml(tmp_path / "a.yaml", text % "tolerance: 0.01"))
    written = check(runs["noisy"], _yaml(tmp_path / "b.yaml", text % "value: 0.7884"))
    assert _verdicts(measured)["toxicity.roc_auc"] == "noise"
    assert _verdicts(written)["toxicity.roc_auc"] == "regression"
    assert "set in the YAML" in written.render()


def test_lower_is_better_metrics_regress_upwards(runs, tmp_path):
    baseline = _yaml(tmp_path / "b.yaml", "metrics:\n  toxicity.brier: {value: 0.10}\n")
    [row] = check(runs["rules"], baseline).rows  # brier 0.1396: 0.04 worse
    assert row.verdict == "regression" and row.delta > 0.01
    baseline = _yaml(tmp_path / "c.yaml", "metrics:\n  toxicity.brier: {value: 0.20}\n")
    assert check(runs["rules"], baseline).rows[0].verdict == "improved"


# ------------------------------------------------------------------ unusable input: exit 2


def _tampered(runs, tmp_path, **dataset) -> Path:
    target = tmp_path / "tampered"
    shutil.copytree(runs["baseline"], target)
    result = json.loads((target / "result.json").read_text())
    result["dataset"] |= dataset
    (target / "result.json").write_text(json.dumps(result))
    return target


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing baseline", "nothing.yaml: not found"),
        ("missing run", "no-run: not found"),
        ("different gold", "tampered/result.json: dataset.sha256 000000000000… differs"),
        ("different gold in yaml", "bad.yaml: dataset_sha256 ffffffffffff… differs"),
        ("metric missing", "result.json: tasks.ner.metrics.strict_f2: missing"),
        ("task missing", "result.json: tasks.attribution.status: unsupported"),
        ("failed task", "failed/result.json: tasks.ner.status: failed (PredictionError"),
        ("bad yaml", "bad.yaml:3: (yaml) expected ',' or '}'"),
        ("bad rule", "bad.yaml: metrics.ner.strict_f1.min: expected a finite number, got 'high'"),
        ("unknown key", "bad.yaml: metrics.ner.strict_f1.minimum: unknown key"),
        ("no rule", "bad.yaml: metrics.ner.strict_f1: expected min, max or value"),
        ("bad json", "result.json:1: (json)"),
        ("bad baseline samples", "tampered/samples/ner.jsonl:2: (json): Expecting"),
        ("bad run samples", "tampered/samples/toxicity.jsonl:3: score: missing"),
    ],
)
def test_unusable_input_exits_two_with_one_line_naming_file_and_field(
    runs, tmp_path, capsys, case, message
):
    run_dir, baseline = runs["rules"], runs["baseline"]
    bad = tmp_path / "bad.yaml"
    if case == "missing baseline":
        baseline = tmp_path / "nothing.yaml"
    elif case == "missing run":
        run_dir = tmp_path / "no-run"
    elif case == "different gold":
        baseline = _tampered(runs, tmp_path, sha256="0" * 64)
    elif case == "different gold in yaml":
        baseline = _yaml(
            bad, f"dataset_sha256: {'f' * 64}\nmetrics:\n  ner.strict_f1: {{min: 0}}\n"
        )
    elif case == "metric missing":
        baseline = _yaml(bad, "metrics:\n  ner.strict_f2: {min: 0.5}\n")
    elif case == "task missing":
        run_dir = _tampered(runs, tmp_path)
        result = json.loads((run_dir / "result.json").read_text())
        result["tasks"]["attribution"] = {"status": "unsupported", "reason": "no attribution"}
        (run_dir / "result.json").write_text(json.dumps(result))
    elif case == "failed task":
        run_dir, baseline = runs["failed"], _yaml(bad, "metrics:\n  toxicity.roc_auc: {min: 0}\n")
    elif case == "bad yaml":
        baseline = _yaml(bad, "metrics:\n  ner.strict_f1: {min: 0.8\n  toxicity: [\n")
    elif case == "bad rule":
        baseline = _yaml(bad, "metrics:\n  ner.strict_f1: {min: high}\n")
    elif case == "unknown key":
        baseline = _yaml(bad, "metrics:\n  ner.strict_f1: {minimum: 0.8}\n")
    elif case == "no rule":
        baseline = _yaml(bad, "metrics:\n  ner.strict_f1: {tolerance: 0.8}\n")
    elif case == "bad json":
        (tmp_path / "b").mkdir()
        baseline = tmp_path / "b" / "result.json"
        baseline.write_text("{not json")
    elif case == "bad baseline samples":
        baseline = _tampered(runs, tmp_path)
        lines = (baseline / "samples" / "ner.jsonl").read_text().splitlines()
        lines[1] = "{broken"
        (baseline / "samples" / "ner.jsonl").write_text("\n".join(lines) + "\n")
    elif case == "bad run samples":
        run_dir = _tampered(runs, tmp_path)
        lines = (run_dir / "samples" / "toxicity.jsonl").read_text().splitlines()
        lines[2] = lines[2].replace('"score": ', '"x": ')
        (run_dir / "samples" / "toxicity.jsonl").write_text("\n".join(lines) + "\n")
    junit = tmp_path / "junit.xml"
    assert _report_cli(run_dir, "--baseline", baseline, "--junit", junit) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("bench-report check: ") and message in line, line
    suite = ET.parse(junit).getroot()  # CI still gets a report, with one <error>
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")


def test_load_baseline_reads_a_run_directory_or_its_result_file(runs):
    from_dir, from_file = (
        load_baseline(runs["baseline"]),
        load_baseline(runs["baseline"] / "result.json"),
    )
    assert from_dir.rules == from_file.rules and len(from_dir.rules) == 10
    assert from_file.run is not None and from_file.run.directory == runs["baseline"]


def test_bad_options_are_unusable_input(runs):
    with pytest.raises(CheckError, match="alpha: expected a number in"):
        check(runs["rules"], runs["baseline"], alpha=1.5)
    with pytest.raises(CheckError, match="tolerance: expected a number ≥ 0"):
        check(runs["rules"], runs["baseline"], tolerance=-0.1)


# ------------------------------------------------------------------ bench.testing


def test_assert_no_regression_passes_and_returns_the_report(runs, tmp_path):
    report = assert_no_regression(runs["rules"], runs["baseline"], junit=tmp_path / "j.xml")
    assert report.passed
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "0"


def test_assert_no_regression_raises_with_the_table(runs):
    with pytest.raises(AssertionError) as info:
        assert_no_regression(runs["halved"], runs["baseline"], resamples=300)
    text = str(info.value)
    assert "| ner.strict_f1 " in text and "regression" in text and "FAIL" in text


def test_assert_no_regression_warns_on_noise(runs):
    with pytest.warns(RegressionNoiseWarning, match="toxicity.roc_auc"):
        assert_no_regression(runs["noisy"], runs["baseline"])


def test_assert_no_regression_lets_unusable_input_through(runs, tmp_path):
    with pytest.raises(CheckError, match="not found"):
        assert_no_regression(runs["rules"], tmp_path / "missing.yaml")


# ------------------------------------------------------------------ bench +check.baseline


def _bench(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(TESTS_DIR)}
    return subprocess.run(
        [BENCH, "+model=rules", "bootstrap.resamples=0", "hydra.run.dir=out", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_bench_checks_its_run_against_its_own_baseline(runs, tmp_path):
    baseline = tmp_path / "baselines"
    shutil.copytree(runs["baseline"], baseline)
    done = _bench(tmp_path, "+check.baseline=baselines/result.json")
    assert done.returncode == 0, done.stderr
    assert "PASS: 10 metrics" in done.stdout
    suite = ET.parse(tmp_path / "out" / "check" / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("10", "0")
    assert (tmp_path / "out" / "check" / "report.md").read_text().startswith("check: ")


@pytest.mark.slow
def test_bench_fails_against_a_stricter_yaml(tmp_path):
    _yaml(tmp_path / "strict.yaml", "metrics:\n  ner.strict_f1: {min: 0.99}\n")
    done = _bench(tmp_path, "+check.baseline=strict.yaml", "+check.junit=junit.xml")
    assert done.returncode == 1, done.stderr
    assert "bench: check: FAIL" in done.stderr and "ner.strict_f1" in done.stderr
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")


def test_check_after_run_writes_an_error_junit_on_unusable_input(runs, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(runs["rules"], out)
    with pytest.raises(CheckError, match="missing.yaml: not found"):
        check_after_run(out, {"baseline": str(tmp_path / "missing.yaml")})
    suite = ET.parse(out / "check" / "junit.xml").getroot()
    assert suite.find("testcase/error").get("message").endswith("missing.yaml: not found")
    with pytest.raises(CheckError, match="check.tolerence: unknown option"):
        check_after_run(out, {"baseline": str(runs["baseline"]), "tolerence": 0.1})
    with pytest.raises(CheckError, match="check.baseline: missing"):
        check_after_run(out, {"junit": str(tmp_path / "x.xml")})
    assert (tmp_path / "x.xml").is_file()  # the error is reported where CI looks
    report = check_after_run(out, OmegaConf.create({"baseline": str(runs["baseline"]), "seed": 1}))
    assert report.passed and (out / "check" / "report.md").is_file()


# ------------------------------------------------------------------ examples/

EXAMPLES = TESTS_DIR.parent / "examples"


def test_the_example_workflow_runs_bench_with_the_check_and_uploads_artifacts():
    import yaml

    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "bench-regression.yml").read_text())
    steps = workflow["jobs"]["bench"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    command = next(s["run"] for s in steps if "+check.baseline=" in s.get("run", ""))
    assert command.startswith("bench +model=") and "hydra.run.dir=out" in command
    uploaded = [s["with"]["path"] for s in steps if "upload-artifact" in s.get("uses", "")]
    assert uploaded == ["out/check/junit.xml", "out/"]
    # PyPI's "bench" is an unrelated project: the recipe must install bench from source
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert "pip install bench" not in install["run"]
    assert install["env"]["BENCH_SOURCE"].startswith("bench-nlp @ git+https://")


def test_the_readme_yaml_baseline_works(runs, tmp_path):
    import re

    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    [text] = re.findall(r"```yaml\n(# baselines/check\.yaml\n.*?)```", readme, re.S)
    shutil.copytree(runs["baseline"], tmp_path / "baselines")
    baseline = _yaml(tmp_path / "baselines" / "check.yaml", text)
    assert check(runs["rules"], baseline).passed
    assert check(runs["noisy"], baseline).passed
    assert not check(runs["halved"], baseline).passed


# ------------------------------------------------------------------ robustness


@pytest.fixture(scope="module")
def perturbed_run(tmp_path_factory) -> Path:
    """rules under casing=lower (it reads capitals: NER falls), with paired intervals."""
    out = tmp_path_factory.mktemp("robust") / "run"
    run_model(out, "rules", "+perturb=casing", "bootstrap.resamples=200", preset="rules")
    return out


def _bench_report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("bench-report")), "check",
                           *map(str, args)], env=env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_a_robustness_drop_beyond_the_allowed_fails_only_when_asked(perturbed_run):
    f1 = json.loads((perturbed_run / "result.json").read_text())["robustness"]["casing"]["ner"][
        "metrics"]["strict_f1"]  # fmt: skip
    assert f1["ci95"]["high"] < -0.05
    base = (perturbed_run, "--baseline", perturbed_run)
    done = _bench_report(*base)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "worst" not in done.stdout
    done = _bench_report(*base, "--max-robustness-drop", "ner.strict_f1=0.05")
    assert done.returncode == 1, done.stdout + done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("regression: ")]
    assert line == (
        f"regression: ner.strict_f1 worst Δ (casing): dropped by {-f1['delta']:.4f} under casing "
        f"(allowed 0.0500), across its paired 95% interval "
        f"[{f1['ci95']['low']:.4f}, {f1['ci95']['high']:.4f}]"
    )
    assert "FAIL: 11 metrics" in done.stdout  # the 10 main metrics, and this one
    generous = _bench_report(*base, "--max-robustness-drop", "ner.strict_f1=0.9")
    assert generous.returncode == 0 and ": 11 ok" in generous.stdout


def test_a_drop_within_its_interval_is_noise_and_lower_is_better_rises(perturbed_run):
    record = json.loads((perturbed_run / "result.json").read_text())["robustness"]["casing"]["ner"]
    f1 = record["metrics"]["strict_f1"]
    between = (-f1["delta"] - f1["ci95"]["high"]) / 2  # above the least drop, below the drop
    report = check(perturbed_run, perturbed_run, max_robustness_drop={"ner.strict_f1": between})
    assert report.passed and _verdicts(report)["ner.strict_f1 worst Δ (casing)"] == "noise"
    lost = record["entities_lost"]
    assert lost["ci95"]["low"] > 0.05  # entities lost: a rise is the drop
    report = check(perturbed_run, perturbed_run, max_robustness_drop={"ner.entities_lost": 0.05})
    assert _verdicts(report)["ner.entities_lost worst Δ (casing)"] == "regression"
    report = check(perturbed_run, perturbed_run, max_robustness_drop={"ner.entities_lost": 0.99})
    assert report.passed
    # no drop allowed: the bound reads "≥ 0.0000" (it read "≥ -0.0000")
    report = check(perturbed_run, perturbed_run, max_robustness_drop={"ner.strict_f1": 0.0})
    [row] = [r for r in report.rows if r.key == "ner.strict_f1 worst Δ (casing)"]
    assert row.cells()[1] == "≥ 0.0000"


def test_a_robustness_check_of_a_run_without_perturbations_is_exit_2(runs):
    done = _bench_report(runs["rules"], "--baseline", runs["baseline"],
                         "--max-robustness-drop", "ner.strict_f1=0.05")  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line == (
        f"bench-report check: {runs['rules'] / 'result.json'}: robustness: no change of "
        "ner.strict_f1 under any perturbation (run it with +perturb=NAME to check its robustness)"
    )
    bad = _bench_report(runs["rules"], "--baseline", runs["baseline"],
                        "--max-robustness-drop", "strict_f1")  # fmt: skip
    assert bad.returncode == 2 and "expected TASK.METRIC=DROP" in bad.stderr


@pytest.mark.slow
def test_bench_fails_its_run_on_a_robustness_drop(tmp_path):
    _yaml(tmp_path / "floor.yaml", "metrics:\n  ner.strict_f1: {min: 0.0}\n")
    common = ("+model=rules", "task=ner", "+perturb=casing", "bootstrap.resamples=50",
              "+check.baseline=floor.yaml", "hydra.run.dir=out")  # fmt: skip

    def bench(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([BENCH, *common, *extra], cwd=tmp_path, env=env(),
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    done = bench('+check.max_robustness_drop=["ner.strict_f1=0.05"]')
    assert done.returncode == 1, done.stderr
    assert "regression: ner.strict_f1 worst Δ (casing): dropped by" in done.stdout
    passed = bench()
    assert passed.returncode == 0, passed.stderr
