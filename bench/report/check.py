"""Regression check of a run against a baseline: does CI fail on a real drop, and only then?

Baselines
---------
``--baseline`` (``+check.baseline=`` for ``bench``) is one of:

- a **run directory** or its **result.json** (e.g. a committed ``baselines/result.json``):
  every main metric of every task whose status is ``ok`` in the baseline is
  expected at the baseline's value, within the default tolerance. When
  ``samples/`` sits beside that ``result.json`` (a whole run directory was
  committed), the paired test below is available;
- a **YAML file** of expectations::

      dataset_sha256: 5c7f…          # optional; must equal the run's dataset.sha256
      baseline: result.json          # optional; a run directory or result.json, relative
                                     # to this file: its main metrics are checked too
      metrics:                       # TASK.METRIC: one rule each
        ner.strict_f1: {min: 0.80}                          # a floor (max: a ceiling)
        toxicity.roc_auc: {value: 0.78, tolerance: 0.05}    # a value within a tolerance
        toxicity.average_precision: {tolerance: 0.10}       # baseline's value, own tolerance
        toxicity.brier: {value: 0.14, higher_is_better: false}

  Each rule has ``value`` (optionally ``tolerance``, ``higher_is_better``), or
  ``min`` and/or ``max``, or — with ``baseline:`` — only ``tolerance`` and/or
  ``higher_is_better``, the value being the baseline run's.

The rule, per metric
--------------------
Let *b* be the expected value, *r* the run's, *d = r − b*, *t* the metric's
``tolerance`` if the YAML sets one, else ``--tolerance`` (default 0.01; absolute,
in the metric's units), and *drop = −d* (*= d* for a lower-is-better metric:
``brier``, ``ece``, or ``higher_is_better: false``). Every comparison allows
1e-9 for floating-point rounding.

1. *drop ≤ t*: **ok** (**improved** if also *−drop > t*). Passes.
2. *drop > t*, *b* was measured by a baseline run (not written as a YAML
   ``value``), and **both** the run and that baseline have
   ``samples/<task>.jsonl``: a paired bootstrap (run − baseline, ``--resamples``,
   ``--seed``) gives a two-sided p-value on the same units — for a task's primary
   metric (``ner.strict_f1``, ``attribution.e2e_f1``, ``toxicity.roc_auc``) that of
   :func:`bench.report.compare.compare_task` (clusters, items); for any other
   metric the test of :func:`bench.report.compare_items.compare_metric` on the same
   units. Either is attempted only on at least :data:`bench.report.compare.MIN_UNITS`
   units (the rule of ``bench-report compare`` too); the table gives the number of
   units (and their kind) beside each p-value, and the test: a ROC-AUC on more than
   ``--analytic-above`` items (default 100,000) is tested by DeLong's test (``delong``)
   instead of the bootstrap.

   - *p < alpha* (default 0.05): **regression**. Fails.
   - *p ≥ alpha*: **noise** — the drop is within what resampling the gold
     explains. Passes, with a warning.
3. *drop > t* otherwise — a ``value`` written in the YAML (not measured by a
   baseline run), no ``samples/`` on either side, fewer than ``MIN_UNITS`` units,
   a metric the samples cannot recompute (e.g. the bias metrics), or a paired test
   undefined on these units: **regression**, the reason given. Fails.

``min``/``max`` rules are absolute: *r < min* or *r > max* is a **regression**;
no tolerance, no test. A metric undefined in the run (``null``) but defined in
the baseline is a **regression**; one undefined in the baseline is **skipped**.

Robustness
----------
``--max-robustness-drop TASK.METRIC=DROP`` (repeatable; ``+check.max_robustness_drop=
[TASK.METRIC=DROP]`` for ``bench``) also checks the run's ``robustness`` section (a run
made with ``+perturb``): the worst change of the metric over its perturbations
(:func:`bench.report.robustness.worst_case`, lower-is-better metrics and measures such as
``ner.entities_lost`` by their rise) is judged as a drop above: within DROP **ok**; beyond
it across the whole paired 95% interval of the change (its bound nearest to no change)
**regression**; beyond it by the point value only **noise**; beyond it with no interval
**regression**. A run without that change is unusable input (exit 2).

Commands
--------
``bench-report check RUN_DIR --baseline FILE [--junit FILE] [--markdown FILE]
[--tolerance 0.01] [--alpha 0.05] [--resamples 1000] [--seed 0]
[--max-robustness-drop TASK.METRIC=DROP]``; after a run,
``bench +model=NAME +check.baseline=FILE [+check.tolerance=…] [+check.alpha=…]
[+check.resamples=…] [+check.seed=…] [+check.junit=FILE] [+check.markdown=FILE]``
(JUnit and Markdown default to ``RUN_DIR/check/junit.xml`` and ``report.md``);
in a test, :func:`bench.testing.assert_no_regression`.

Exit codes (``bench-report check``; ``bench`` maps them onto its own)
---------------------------------------------------------------------
0 pass (ok, improved, noise, skipped only), 1 at least one regression, 2 unusable
input — a missing file, a different gold (``dataset.sha256``) or metric definitions
than the baseline run's (:func:`bench.report.compare.check_same_definitions`), a metric
missing in the run, a failed task in the run, malformed JSON/YAML or an invalid rule —
with a one-line error naming the file and the field.
"""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from bench.metrics.analytic import ANALYTIC_ABOVE
from bench.metrics.bootstrap import PairedTest
from bench.metrics.values import higher_is_better
from bench.report.compare import (
    MIN_UNITS,
    PRIMARY_METRIC,
    CompareError,
    Run,
    check_same_definitions,
    compare_task,
    items_scored,
    no_p_value,
    units_text,
)
from bench.report.compare_items import compare_metric
from bench.report.files import write_text_atomic
from bench.report.robustness import worst_case
from bench.report.tables import degraded, fmt, to_markdown

DEFAULT_TOLERANCE = 0.01
DEFAULT_ALPHA = 0.05
DEFAULT_RESAMPLES = 1000
EPSILON = 1e-9  # floating-point slack of every comparison

PASSING = ("ok", "improved", "noise", "skipped")
HEADERS = ["metric", "baseline", "run", "delta", "tolerance", "p-value", "units", "test",
           "verdict"]  # fmt: skip

_RULE_KEYS = {"value", "tolerance", "min", "max", "higher_is_better"}
_YAML_KEYS = {"dataset_sha256", "baseline", "metrics"}


class CheckError(ValueError):
    """The check cannot be made (exit code 2); the message names the file and field."""


# ----------------------------------------------------------------------- baselines


@dataclass(frozen=True)
class Rule:
    """What one metric of the run is expected to be."""

    task: str
    metric: str
    value: float | None = None  # expected value (None: undefined in the baseline)
    minimum: float | None = None
    maximum: float | None = None
    tolerance: float | None = None  # None: the default tolerance
    higher_is_better: bool = True
    relative: bool = True  # True: value ± tolerance; False: min/max bounds
    measured: bool = False  # value is the baseline run's: the paired test may judge a drop

    @property
    def key(self) -> str:
        return f"{self.task}.{self.metric}"


@dataclass(frozen=True)
class Baseline:
    path: Path
    rules: tuple[Rule, ...]
    dataset_sha256: str | None
    run: Run | None  # the baseline run, when there is one (its samples allow the paired test)
    sha_field: str = ""  # where dataset_sha256 comes from, for messages: "FILE: field"


def _load_result(path: Path) -> Run:
    """A run from its directory or its result.json file."""
    try:
        return Run.load(path)
    except CompareError as err:
        raise CheckError(str(err)) from None


def _result_path(run: Run) -> Path:
    return run.directory / "result.json"


def _rules_from_run(run: Run) -> list[Rule]:
    rules = []
    for task, record in run.result["tasks"].items():
        if record.get("status") != "ok":
            continue
        for name in record.get("main_metrics", []):
            value = record.get("metrics", {}).get(name, {}).get("value")
            higher = higher_is_better(name)
            rules.append(Rule(task, name, value, higher_is_better=higher, measured=True))
    return rules


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CheckError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _parse_rule(where: str, key: Any, spec: Any, run: Run | None) -> Rule:
    if not isinstance(key, str) or "." not in key:
        raise CheckError(f"{where}: expected TASK.METRIC as the key, e.g. ner.strict_f1")
    task, metric = key.split(".", 1)
    if task not in PRIMARY_METRIC:
        raise CheckError(
            f"{where}: unknown task {task!r} (expected one of {', '.join(PRIMARY_METRIC)})"
        )
    if not isinstance(spec, dict):
        raise CheckError(
            f"{where}: expected a mapping such as {{min: 0.8}} or {{value: 0.8, tolerance: 0.02}}"
        )
    unknown = sorted(set(map(str, spec)) - _RULE_KEYS)
    if unknown:
        raise CheckError(
            f"{where}.{unknown[0]}: unknown key (expected {', '.join(sorted(_RULE_KEYS))})"
        )
    numbers = {k: _number(f"{where}.{k}", v) for k, v in spec.items() if k != "higher_is_better"}
    if "tolerance" in numbers and numbers["tolerance"] < 0:
        raise CheckError(f"{where}.tolerance: must be ≥ 0, got {numbers['tolerance']}")
    higher = spec.get("higher_is_better", higher_is_better(metric))
    if not isinstance(higher, bool):
        raise CheckError(f"{where}.higher_is_better: expected true or false, got {higher!r}")
    bounds = {"min", "max"} & set(numbers)
    if bounds:
        if "value" in numbers or "tolerance" in numbers:
            raise CheckError(f"{where}: give either min/max or value (with tolerance), not both")
        return Rule(task, metric, minimum=numbers.get("min"), maximum=numbers.get("max"),
                    higher_is_better=higher, relative=False)  # fmt: skip
    if "value" in numbers:
        return Rule(task, metric, numbers["value"], tolerance=numbers.get("tolerance"),
                    higher_is_better=higher)  # fmt: skip
    if run is None:
        raise CheckError(f"{where}: expected min, max or value")
    record = run.result["tasks"].get(task, {})
    if record.get("status") != "ok" or metric not in record.get("metrics", {}):
        raise CheckError(
            f"{where}: no value given, and baseline: {_result_path(run)} has no "
            f"tasks.{task}.metrics.{metric}"
        )
    value = record["metrics"][metric].get("value")
    return Rule(task, metric, value, tolerance=numbers.get("tolerance"),
                higher_is_better=higher, measured=True)  # fmt: skip


def _load_yaml(path: Path) -> Baseline:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CheckError(f"{path}{line}: (yaml) {problem}") from None
    except UnicodeDecodeError as err:
        raise CheckError(f"{path}: not UTF-8 text ({err.reason})") from None
    if not isinstance(data, dict):
        raise CheckError(f"{path}: expected a mapping with metrics: (and optionally baseline:)")
    unknown = sorted(set(map(str, data)) - _YAML_KEYS)
    if unknown:
        raise CheckError(
            f"{path}: {unknown[0]}: unknown key (expected {', '.join(sorted(_YAML_KEYS))})"
        )
    run = None
    if data.get("baseline") is not None:
        if not isinstance(data["baseline"], str):
            raise CheckError(f"{path}: baseline: expected a path, got {data['baseline']!r}")
        target = path.parent / data["baseline"]
        if not target.exists():
            raise CheckError(f"{path}: baseline: {target}: not found")
        run = _load_result(target)
    metrics = data.get("metrics")
    if metrics is None and run is None:
        raise CheckError(f"{path}: metrics: missing")
    if metrics is not None and not isinstance(metrics, dict):
        raise CheckError(f"{path}: metrics: expected a mapping of TASK.METRIC to a rule")
    base = {r.key: r for r in _rules_from_run(run)} if run is not None else {}
    for key, spec in (metrics or {}).items():
        base[key] = _parse_rule(f"{path}: metrics.{key}", key, spec, run)
    sha = data.get("dataset_sha256")
    if sha is not None and not isinstance(sha, str):
        raise CheckError(f"{path}: dataset_sha256: expected a string, got {sha!r}")
    if sha is not None and run is not None and sha != run.result["dataset"]["sha256"]:
        raise CheckError(
            f"{path}: dataset_sha256: differs from {_result_path(run)}'s dataset.sha256"
        )
    if not base:
        raise CheckError(f"{path}: metrics: nothing to check")
    sha_field = f"{path}: dataset_sha256" if sha else f"{path}: baseline: dataset.sha256"
    return Baseline(path, tuple(base.values()), sha or _sha(run), run, sha_field)


def _sha(run: Run | None) -> str | None:
    return None if run is None else run.result["dataset"]["sha256"]


def load_baseline(path: str | Path) -> Baseline:
    """A baseline from a run directory, a result.json, or a YAML file of expectations."""
    path = Path(path)
    if not path.exists():
        raise CheckError(f"{path}: not found")
    if path.is_dir() or path.suffix == ".json":
        run = _load_result(path)
        rules = _rules_from_run(run)
        if not rules:
            raise CheckError(f"{path}: tasks: no task is ok in the baseline, nothing to check")
        return Baseline(path, tuple(rules), _sha(run), run, f"{_result_path(run)}: dataset.sha256")
    return _load_yaml(path)


# -------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Row:
    """The verdict on one metric."""

    rule: Rule
    run_value: float | None
    tolerance: float | None
    p_value: float | None
    verdict: str
    reason: str
    test: PairedTest | None = None  # the paired test behind p_value, if one was made

    @property
    def units(self) -> str | None:
        """How many units the paired test resampled, and their kind (``162 entities``)."""
        return None if self.test is None else units_text(self.test.n_units, self.test.unit)

    @property
    def not_tested(self) -> str | None:
        """Why the paired test gave no p-value (not attempted, undefined), None otherwise."""
        return None if self.test is None else self.test.undefined

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def delta(self) -> float | None:
        """run − expected value; for min/max rules, run − the bound nearest to being crossed."""
        r, value = self.rule, self.run_value
        if value is None:
            return None
        if r.relative:
            return None if r.value is None else value - r.value
        if r.maximum is not None and (r.minimum is None or value > r.maximum):
            return value - r.maximum
        # A min/max rule has at least one bound (_rule), and a lone maximum returned above.
        assert r.minimum is not None, f"{r.key}: a min/max rule without a bound"
        return value - r.minimum

    def cells(self) -> list[Any]:
        r = self.rule
        if r.relative:
            expected: Any = r.value
        elif r.maximum is None:
            expected = f"≥ {fmt(r.minimum, 4)}"
        elif r.minimum is None:
            expected = f"≤ {fmt(r.maximum, 4)}"
        else:
            expected = f"[{fmt(r.minimum, 4)}, {fmt(r.maximum, 4)}]"
        delta = self.delta
        p = None if self.test is None else no_p_value(self.test)  # not attempted, undefined
        if self.p_value is not None:
            p = f"{self.p_value:.3f}"
        return [
            self.key,
            expected,
            self.run_value,
            None if delta is None else f"{delta:+.4f}",
            self.tolerance,
            p,
            self.units,
            None if self.test is None else self.test.method,
            self.verdict,
        ]


@dataclass
class CheckReport:
    run_dir: Path
    baseline: Path
    rows: list[Row]
    alpha: float
    resamples: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    analytic_above: int = ANALYTIC_ABOVE

    @property
    def passed(self) -> bool:
        return all(row.verdict in PASSING for row in self.rows)

    def with_verdict(self, verdict: str) -> list[Row]:
        return [row for row in self.rows if row.verdict == verdict]

    def summary(self) -> str:
        counts = {v: len(self.with_verdict(v)) for v in ("regression", *PASSING)}
        parts = [f"{n} {v}{'s' * (v == 'regression' and n > 1)}" for v, n in counts.items() if n]
        head = "PASS" if self.passed else "FAIL"
        failing = ", ".join(r.key for r in self.with_verdict("regression"))
        return (
            f"{head}: {len(self.rows)} metrics of {self.run_dir} checked against "
            f"{self.baseline}: " + ", ".join(parts) + (f" ({failing})" if failing else "")
        )

    def warnings(self) -> list[str]:
        """Noise, and paired tests without a p-value where the verdict does not say why."""
        untested = [
            f"no p-value: {row.key}: {row.not_tested}"
            for row in self.rows
            if row.not_tested and row.verdict != "regression"
        ]
        return [
            f"warning: {row.key}: {row.reason}" for row in self.with_verdict("noise")
        ] + untested

    def markdown(self) -> str:
        return to_markdown(HEADERS, [row.cells() for row in self.rows])

    def render(self) -> str:
        """The table, the warnings, the reasons for failures and a one-line summary."""
        lines = [
            f"check: {self.run_dir} against {self.baseline} (paired bootstrap: "
            f"{self.resamples} resamples, alpha {self.alpha}, at least {MIN_UNITS} units; "
            f"ROC-AUC on more than {self.analytic_above} items: DeLong's test)",
            "",
            self.markdown(),
            *self.warnings(),
            *(f"regression: {r.key}: {r.reason}" for r in self.with_verdict("regression")),
            *self.notes,
            self.summary(),
        ]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        """JUnit XML: one testsuite, one testcase per metric, <failure> for each regression."""
        suite = ET.Element("testsuite", {
            "name": "bench check",
            "tests": str(len(self.rows)),
            "failures": str(len(self.with_verdict("regression"))),
            "errors": "0",
            "skipped": str(len(self.with_verdict("skipped"))),
            "time": f"{self.seconds:.3f}",
        })  # fmt: skip
        props = ET.SubElement(suite, "properties")
        for name, value in (("run", self.run_dir), ("baseline", self.baseline),
                            ("alpha", self.alpha), ("resamples", self.resamples),
                            ("analytic_above", self.analytic_above)):  # fmt: skip
            ET.SubElement(props, "property", {"name": name, "value": str(value)})
        for row in self.rows:
            case = ET.SubElement(suite, "testcase", {
                "classname": f"bench.check.{row.rule.task}", "name": row.key, "time": "0",
            })  # fmt: skip
            detail = " | ".join(f"{h}: {c if c is not None else '-'}"
                                for h, c in zip(HEADERS, row.cells(), strict=True))  # fmt: skip
            if row.verdict == "regression":
                ET.SubElement(
                    case, "failure", {"type": "regression", "message": row.reason}
                ).text = detail
            elif row.verdict == "skipped":
                ET.SubElement(case, "skipped", {"message": row.reason})
            else:
                ET.SubElement(case, "system-out").text = f"{row.verdict}: {row.reason}\n{detail}"
        return _xml(suite)


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def error_junit(message: str) -> str:
    """JUnit XML for a check that could not be made: one testcase with an <error>."""
    suite = ET.Element("testsuite", {"name": "bench check", "tests": "1", "failures": "0",
                                     "errors": "1", "skipped": "0", "time": "0"})  # fmt: skip
    case = ET.SubElement(suite, "testcase", {"classname": "bench.check", "name": "baseline"})
    ET.SubElement(case, "error", {"type": "unusable input", "message": message}).text = message
    return _xml(suite)


def _write(path: str | Path, text: str, what: str) -> None:
    try:
        write_text_atomic(Path(path), text)
    except OSError as err:
        raise CheckError(f"{path}: cannot write {what} ({err.strerror or err})") from None


def write_junit(path: str | Path, text: str) -> None:
    _write(path, text, "JUnit XML")


def write_markdown(path: str | Path, text: str) -> None:
    _write(path, text, "the Markdown report")


def _run_metric(run: Run, rule: Rule) -> float | None:
    where = _result_path(run)
    record = run.result["tasks"].get(rule.task)
    if record is None:
        raise CheckError(f"{where}: tasks.{rule.task}: missing (the baseline checks {rule.key})")
    if record.get("status") != "ok":
        raise CheckError(
            f"{where}: tasks.{rule.task}.status: {record.get('status')}"
            f" ({record.get('error') or record.get('reason') or 'no metrics'})"
        )
    metrics = record.get("metrics", {})
    if rule.metric not in metrics:
        raise CheckError(
            f"{where}: tasks.{rule.task}.metrics.{rule.metric}: missing (the baseline checks it)"
        )
    return metrics[rule.metric].get("value")


def _has_samples(run: Run | None, task: str) -> TypeGuard[Run]:
    """The run is there and has the task's samples (then the paired test can read them)."""
    return run is not None and (run.directory / "samples" / f"{task}.jsonl").is_file()


def _drop(rule: Rule, value: float | None) -> float | None:
    """How much worse the run's value is than the expected one (< 0: better); None when
    either is undefined."""
    if rule.value is None or value is None:
        return None
    delta = value - rule.value
    return -delta if rule.higher_is_better else delta


def _item_test(
    run: Run, base: Baseline, rule: Rule, resamples: int, seed: int, analytic_above: int
) -> Any:
    """The item-level paired test of a secondary metric, or why there is none (a string)."""
    if not (_has_samples(run, rule.task) and _has_samples(base.run, rule.task)):
        return None
    try:
        test = compare_metric(run, base.run, rule.task, rule.metric, resamples, seed,
                              analytic_above=analytic_above)  # fmt: skip
    except CompareError as err:
        return str(err)
    return test


def _judge(rule: Rule, value: float | None, tolerance: float, test: Any, alpha: float) -> Row:
    """The verdict on one metric; ``test`` is its paired test, or a string saying why
    there is none, or None."""

    paired = test if isinstance(test, PairedTest) else None

    def row(verdict: str, reason: str, p: float | None = None) -> Row:
        own = tolerance if rule.relative else None
        return Row(rule, value, own, p, verdict, reason, paired)

    p = getattr(test, "p_value", None)  # None without a test (or with a reason string)
    if not rule.relative:
        if value is None:
            return row("regression", "undefined in the run")
        if rule.minimum is not None and value < rule.minimum - EPSILON:
            return row("regression", f"{value:.4f} is below the minimum {rule.minimum:.4f}")
        if rule.maximum is not None and value > rule.maximum + EPSILON:
            return row("regression", f"{value:.4f} is above the maximum {rule.maximum:.4f}")
        return row("ok", "within bounds")
    if rule.value is None:
        return row("skipped", "undefined in the baseline", p)
    drop = _drop(rule, value)
    if drop is None:
        return row("regression", "undefined in the run, defined in the baseline", p)
    if drop <= tolerance + EPSILON:
        if -drop > tolerance + EPSILON:
            return row("improved", f"better by {-drop:.4f} (> tolerance {tolerance:.4f})", p)
        return row("ok", f"within tolerance {tolerance:.4f}", p)
    moved = f"worse by {drop:.4f} (> tolerance {tolerance:.4f})"
    if p is None:
        if isinstance(test, str):
            why = test
        elif test is not None:
            why = test.undefined
        elif not rule.measured:
            why = "the expected value is set in the YAML, not measured by a baseline run"
        else:
            why = "samples/ missing from the run or the baseline"
        return row("regression", f"{moved}; no paired test: {why}")
    if p < alpha:
        return row("regression", f"{moved}, significant: paired p = {p:.3f} < alpha {alpha}", p)
    return row("noise", f"{moved}, not significant: paired p = {p:.3f} ≥ alpha {alpha}", p)


def _robustness_rows(run: Run, drops: dict[str, float]) -> list[Row]:
    """The verdict on the worst change of each ``TASK.METRIC`` in ``drops`` over the run's
    perturbations, against its allowed drop (see the module docstring)."""
    where = _result_path(run)
    worst = worst_case(run.result)
    rows = []
    for key, allowed in drops.items():
        task, _, metric = key.partition(".")
        if task not in PRIMARY_METRIC or not metric:
            raise CheckError(f"max_robustness_drop: {key}: expected TASK.METRIC with a task "
                             f"of {', '.join(PRIMARY_METRIC)}")  # fmt: skip
        _number(f"max_robustness_drop: {key}", allowed)
        change = worst.get((task, metric))
        if change is None:
            raise CheckError(f"{where}: robustness: no change of {key} under any perturbation "
                             "(run it with +perturb=NAME to check its robustness)")  # fmt: skip
        higher = higher_is_better(metric)
        rule = Rule(task, f"{metric} worst Δ ({change.perturbation})", higher_is_better=higher,
                    minimum=-allowed if higher else None, maximum=None if higher else allowed,
                    relative=False)  # fmt: skip
        sign = -1 if higher else 1  # a drop is a fall of a higher-is-better metric, else a rise
        assert change.value is not None  # worst_case keeps defined changes only
        drop = sign * change.value
        low, high = change.low, change.high
        has_ci = low is not None and high is not None
        least = None if low is None or high is None else sign * (high if higher else low)
        moved = f"dropped by {drop:.4f} under {change.perturbation} (allowed {allowed:.4f})"
        ci = f"[{change.low:.4f}, {change.high:.4f}]" if has_ci else ""
        if drop <= allowed + EPSILON:
            verdict, reason = "ok", f"within the allowed drop {allowed:.4f}"
        elif least is None:
            verdict, reason = "regression", f"{moved}; no paired interval"
        elif least > allowed + EPSILON:
            verdict, reason = "regression", f"{moved}, across its paired 95% interval {ci}"
        else:
            verdict, reason = "noise", f"{moved}, not across its paired 95% interval {ci}"
        rows.append(Row(rule, change.value, allowed, None, verdict, reason))
    return rows


def _degraded_notes(run: Run, base: Baseline) -> dict[str, str]:
    """Per task checked, a note when the run or the baseline run is degraded in it."""
    notes = {}
    runs = {"run": run, "baseline": base.run}
    for task in dict.fromkeys(rule.task for rule in base.rules):
        partial = [
            f"{what} {task}: degraded ({degraded(r.result['tasks'].get(task, {}))})"
            for what, r in runs.items()
            if r is not None and degraded(r.result["tasks"].get(task, {}))
        ]
        if partial:
            notes[task] = (
                f"note: {'; '.join(partial)}: failed items were left out of its metrics, "
                "no paired test (a drop beyond tolerance is a regression)"
            )
    return notes


def _check_settings(
    tolerance: Any, alpha: Any, resamples: Any, seed: Any, analytic_above: Any = ANALYTIC_ABOVE
) -> None:
    if not _number("tolerance", tolerance) >= 0:
        raise CheckError(f"tolerance: expected a number ≥ 0, got {tolerance!r}")
    if not 0 < _number("alpha", alpha) < 1:
        raise CheckError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    for name, value in (("resamples", resamples), ("analytic_above", analytic_above)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckError(f"{name}: expected a positive integer, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CheckError(f"seed: expected a non-negative integer, got {seed!r}")


def check(
    run_dir: str | Path,
    baseline: str | Path | Baseline,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    alpha: float = DEFAULT_ALPHA,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    max_robustness_drop: dict[str, float] | None = None,
    analytic_above: int = ANALYTIC_ABOVE,
) -> CheckReport:
    """Check the run in ``run_dir`` against ``baseline`` (and, with
    ``max_robustness_drop``, its robustness); raise :class:`CheckError` if unusable.
    A ROC-AUC on more than ``analytic_above`` items is tested by DeLong's test."""
    started = time.perf_counter()
    _check_settings(tolerance, alpha, resamples, seed, analytic_above)
    base = baseline if isinstance(baseline, Baseline) else load_baseline(baseline)
    run_path = Path(run_dir)
    if not run_path.exists():
        raise CheckError(f"{run_path}: not found")
    run = _load_result(run_path)
    run_sha = run.result["dataset"]["sha256"]
    if base.dataset_sha256 is not None and base.dataset_sha256 != run_sha:
        raise CheckError(
            f"{base.sha_field} {base.dataset_sha256[:12]}… differs from "
            f"{_result_path(run)}: dataset.sha256 {str(run_sha)[:12]}… (scored on different gold)"
        )
    run_items = items_scored(run.result)
    base_items = "every item" if base.run is None else items_scored(base.run.result)
    if run_items != base_items:
        raise CheckError(
            f"{_result_path(run)}: dataset.limit: the run scored {run_items}, the baseline "
            f"{base.path} {base_items}; a limited run is checked only against the same limit"
        )
    for task, record in run.result["tasks"].items():
        if record.get("status") == "failed":
            error = " ".join(str(record.get("error")).split())
            raise CheckError(f"{_result_path(run)}: tasks.{task}.status: failed ({error})")
    if base.run is not None:
        try:
            check_same_definitions((run, base.run), sorted({r.task for r in base.rules}))
        except CompareError as err:
            raise CheckError(f"{err} (checking against {base.path})") from None

    values = [_run_metric(run, rule) for rule in base.rules]  # exit 2 before any work
    robust = _robustness_rows(run, max_robustness_drop or {})
    notes = _degraded_notes(run, base)
    tests: dict[str, Any] = {}
    for task in {r.task for r in base.rules if r.measured and r.metric == PRIMARY_METRIC[r.task]}:
        if task in notes:
            tests[task] = "the task is degraded (items failed and were left out)"
        elif _has_samples(run, task) and _has_samples(base.run, task):
            try:
                tests[task] = compare_task(run, base.run, task, resamples, seed,
                                           analytic_above=analytic_above)  # fmt: skip
            except CompareError as err:
                raise CheckError(f"{err} (paired test of {task} against {base.path})") from None

    rows = []
    for rule, value in zip(base.rules, values, strict=True):
        own = rule.tolerance if rule.tolerance is not None else float(tolerance)
        test = None
        if rule.measured and rule.metric == PRIMARY_METRIC[rule.task]:
            test = tests.get(rule.task)
        elif rule.measured and rule.relative and (_drop(rule, value) or 0.0) > own + EPSILON:
            # only for a drop: it costs
            test = _item_test(run, base, rule, resamples, seed, analytic_above)
        rows.append(_judge(rule, value, own, test, alpha))
    rows += robust
    report = CheckReport(run_path, base.path, rows, alpha, resamples,
                         notes=list(notes.values()), analytic_above=analytic_above)  # fmt: skip
    if base.run is not None and not any(_has_samples(base.run, t) for t in PRIMARY_METRIC):
        report.notes.append(
            f"note: {base.path} has no samples/ beside its result.json: no paired tests, "
            "every drop beyond tolerance is a regression"
        )
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------ bench +check.*

CHECK_OPTIONS = ("baseline", "tolerance", "alpha", "resamples", "seed", "junit", "markdown",
                 "max_robustness_drop")  # fmt: skip


def _drops(options: dict[str, Any]) -> dict[str, float]:
    """``check.max_robustness_drop``: a list of ``TASK.METRIC=DROP`` as a dict."""
    from argparse import ArgumentTypeError

    from bench.report.options import metric_drop

    given = options.get("max_robustness_drop") or []
    if isinstance(given, str):  # one, not a list
        given = [given]
    try:
        return dict(metric_drop(str(text)) for text in given)
    except ArgumentTypeError as err:
        raise CheckError(f"check.max_robustness_drop: {err}") from None


def check_options(options: Any) -> dict[str, Any]:
    """The ``check.*`` options of ``bench`` as a dict, checked (names, settings, that the
    baseline exists) so that a bad one is refused before the run; :class:`CheckError`."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(options, DictConfig):
        options = OmegaConf.to_container(options, resolve=True)
    if not isinstance(options, dict) or options.get("baseline") is None:
        raise CheckError("check.baseline: missing (e.g. +check.baseline=baselines/result.json)")
    unknown = sorted(set(options) - set(CHECK_OPTIONS))
    if unknown:
        raise CheckError(
            f"check.{unknown[0]}: unknown option (expected {', '.join(CHECK_OPTIONS)})"
        )
    defaults = {"tolerance": DEFAULT_TOLERANCE, "alpha": DEFAULT_ALPHA,
                "resamples": DEFAULT_RESAMPLES, "seed": 0}  # fmt: skip
    try:
        _check_settings(*(options.get(k, v) for k, v in defaults.items()))
    except CheckError as err:
        raise CheckError(f"check.{err}") from None
    _drops(options)
    if not Path(options["baseline"]).exists():
        raise CheckError(f"check.baseline: {options['baseline']}: not found")
    return options


def check_after_run(out_dir: Path, options: Any) -> CheckReport:
    """``bench … +check.baseline=FILE [+check.tolerance=…]``: check the fresh run in ``out_dir``.

    Writes ``out_dir/check/junit.xml`` and ``out_dir/check/report.md`` unless
    ``check.junit`` / ``check.markdown`` name other files; on unusable input the
    JUnit file holds one <error> and :class:`CheckError` is raised.
    """
    from omegaconf import DictConfig, OmegaConf

    if isinstance(options, DictConfig):
        options = OmegaConf.to_container(options, resolve=True)
    named = options if isinstance(options, dict) else {}
    junit = Path(named.get("junit") or out_dir / "check" / "junit.xml")
    markdown = Path(named.get("markdown") or out_dir / "check" / "report.md")
    try:
        options = check_options(options)
        settings = ("tolerance", "alpha", "resamples", "seed")
        kwargs = {k: options[k] for k in settings if k in options}
        report = check(out_dir, options["baseline"], **kwargs,
                       max_robustness_drop=_drops(options))  # fmt: skip
    except CheckError as err:
        write_junit(junit, error_junit(str(err)))
        raise
    write_junit(junit, report.to_junit())
    write_markdown(markdown, report.render())
    return report
