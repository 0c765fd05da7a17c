"""What a leaderboard is: runs scored on the same gold, their cells, ranks and ties.

One row per run (model), one column group per task with its primary metric
(:data:`bench.report.compare.PRIMARY_METRIC`) and 95% interval, read from each
run's ``result.json``.

Ranking rule (per task)
-----------------------
Runs whose task is ``ok`` with a defined primary metric are sorted by that
metric, best first (ties in value broken by model name). The first gets rank 1.
Each next run is tested against the run ranked *immediately above it* with a
two-sided paired bootstrap on the same units (clusters or items; see
:func:`bench.report.compare.compare_task`), ``n_resamples`` resamples, ``seed`` — or, for
a ROC-AUC on more than ``analytic_above`` items, DeLong's test for correlated ROC curves
(each ``vs_above`` names its ``method``):

- p < alpha (0.05): the difference is significant, the run gets its position
  (competition ranking: 1, 1, 3);
- otherwise (or when the test is undefined, or not attempted on fewer than
  :data:`bench.report.compare.MIN_UNITS` units) it shares the rank of the run above.

Ties chain: if B ties A and C ties B, all three share A's rank even if A and C
would differ significantly. A rank therefore claims only "not distinguishable
from the neighbour above on this gold". Runs whose task failed, is unsupported
or has an undefined metric get no rank and show "—". A *degraded* task (some
items failed, as the run's ``max_failure_rate`` allowed, and were left out of
its metrics) shows its value and ``degraded (k/n failed)`` in place of a rank:
scored on other items than the rest, it is not ranked.

Overall: runs are ranked overall only against runs ranked on the same tasks (their
*coverage*): a mean rank over tasks a run does not cover would put a model that
answers one task below a baseline that answers all of them badly. Rows are grouped
by coverage (most tasks first); within a group they are ordered by mean rank over
the group's tasks, then by mean place in value order (so tied runs are listed best
value first), then by name, and numbered by mean rank (equal mean ranks share a
position). Runs ranked on no task get no position.

Reference runs (``model.reference`` in result.json, set by the adapter: ``ceiling``
for ``oracle``, ``floor`` for ``empty``) are yardsticks, not competitors: they are
never ranked, per task or overall, and are listed apart after the competitors. The
mark comes from the adapter class, not from the run's name (names are chosen by
whoever made the run).

Robustness: a run made with ``+perturb`` shows, per task, the worst change of the
primary metric over its perturbations (:func:`bench.report.robustness.worst_case`), its
paired interval and the perturbation that caused it; a run without one shows "—" (the
HTML page's robustness table leaves it out). The columns appear when some run has them.

Gold: every run must have been scored on the same gold (``dataset.version`` and ``sha256``);
otherwise :class:`LeaderboardError` is raised and nothing is written.

How a leaderboard is written (Markdown, CSV, JSON, LaTeX, model-index YAML, HTML, PNG
plots) is :mod:`bench.report.render`; :func:`bench.report.render.outputs.write_leaderboard`
writes them all.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bench.metrics.analytic import ANALYTIC_ABOVE
from bench.metrics.bias import BIAS_AUCS
from bench.report.compare import (
    CLUSTER_UNIT,
    PRIMARY_METRIC,
    CompareError,
    Run,
    check_same_definitions,
    compare_task,
    items_scored,
    keeping_samples,
    sample_clusters,
)
from bench.report.robustness import Change, worst_case
from bench.report.tables import degraded

BIAS_METRICS = BIAS_AUCS

RULE = (
    "Reference runs (ceiling: the gold; floor: a constant predictor) are shown apart and "
    "never ranked. Per task, runs are sorted by the primary metric (best first). Each run "
    "is compared with the run ranked immediately above it by a two-sided paired bootstrap "
    "on the same "
    "units (clusters or items); if p < alpha the run takes its position "
    "(competition ranking 1, 1, 3), otherwise, or if the test is undefined, it shares the "
    "rank above. Ties chain. Failed, unsupported or undefined results are not ranked (—), "
    "nor are degraded ones (some items failed and were left out: other items than the rest). "
    "Overall, a run is ranked (by mean rank) only against runs ranked on the same tasks."
)
ROBUSTNESS_RULE = (
    "Worst Δ: per task, the lowest change of the primary metric (perturbed − original) over "
    "the perturbations a run was made with (bench +perturb=…), its paired 95% interval and "
    "the perturbation causing it. Not part of the ranking."
)
REFERENCES = ("ceiling", "floor")


class LeaderboardError(ValueError):
    """The runs cannot be put on one leaderboard (no runs, different gold, bad files)."""


@dataclass
class Cell:
    """One run's result on one task."""

    status: str  # ok | degraded | failed | unsupported | missing | undefined
    value: float | None = None
    low: float | None = None
    high: float | None = None
    rank: int | None = None
    vs_above: dict[str, Any] | None = None  # the paired test against the run ranked above
    reason: str | None = None

    @property
    def scored(self) -> bool:
        """The cell has a value to show (ok, or degraded)."""
        return self.status in ("ok", "degraded")

    @property
    def score(self) -> float:
        """The value of a scored cell (a ranked one: ok cells are built with their value)."""
        if self.value is None:
            raise ValueError(f"a {self.status} cell has no value to rank")
        return self.value

    @property
    def label(self) -> str:
        """The status as shown: ``degraded (k/n failed)`` or the status."""
        return f"degraded ({self.reason})" if self.status == "degraded" else self.status


@dataclass
class Entry:
    run: Run
    source: str  # the run directory as given
    name: str  # display name: the run's name (or preset), disambiguated when two runs share it
    slug: str  # file-name-safe form of the name
    cells: dict[str, Cell] = field(default_factory=dict)
    mean_rank: float | None = None  # over the tasks of its coverage; None if not ranked
    position: int | None = None  # overall, among runs of the same coverage

    @property
    def reference(self) -> str | None:
        """``ceiling`` or ``floor`` for a reference run (never ranked), else None."""
        return self.result["model"].get("reference")

    @property
    def coverage(self) -> tuple[str, ...]:
        """The tasks the run is ranked on, in task order."""
        return tuple(t for t, c in self.cells.items() if c.rank is not None)

    @property
    def result(self) -> dict[str, Any]:
        return self.run.result

    @cached_property
    def _worst(self) -> dict[tuple[str, str], Change]:
        return worst_case(self.result)

    def worst_change(self, task: str) -> Change | None:
        """The worst change of ``task``'s primary metric over the run's perturbations
        (None for a run without robustness)."""
        return self._worst.get((task, PRIMARY_METRIC[task]))

    @property
    def bias_subgroups(self) -> dict[str, Any]:
        """Toxicity bias AUCs per identity (``{}`` when the run has none)."""
        toxicity = self.result["tasks"].get("toxicity", {})
        return toxicity.get("breakdown", {}).get("bias", {}).get("subgroups") or {}

    @property
    def group_accuracy(self) -> dict[str, Any]:
        """Toxicity accuracy per functional group (HateCheck's functionalities):
        group -> {accuracy, n}; ``{}`` when the dataset has no groups."""
        toxicity = self.result["tasks"].get("toxicity", {})
        return toxicity.get("breakdown", {}).get("groups") or {}

    @property
    def identity_accuracy(self) -> dict[str, Any]:
        """Toxicity accuracy per identity (HateCheck's target groups): identity ->
        {accuracy, n}; ``{}`` when the items have no identities (or older result files)."""
        toxicity = self.result["tasks"].get("toxicity", {})
        return toxicity.get("breakdown", {}).get("identity_accuracy") or {}

    def attribution_by_type(self) -> dict[str, dict[str, Any]]:
        """``content_overlap_f1`` per quote type (direct, indirect, mixed): type -> metric."""
        prefix = "content_overlap_f1."
        return {
            name[len(prefix) :]: metric
            for name, metric in self.result["tasks"]["attribution"]["metrics"].items()
            if name.startswith(prefix)
        }


@dataclass
class Leaderboard:
    entries: list[Entry]  # in row order
    tasks: list[str]
    dataset: dict[str, Any]
    bench_versions: list[str]
    alpha: float
    n_resamples: int
    seed: int
    ner_labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # per entry name
    analytic_above: int = ANALYTIC_ABOVE  # a ROC-AUC on more items: DeLong's test

    def entries_with(self, task: str) -> list[Entry]:
        return [e for e in self.entries if e.cells[task].status == "ok"]

    def ner_label_names(self) -> list[str]:
        """The labels of the per-label NER views: those with gold or predictions in some run
        (a label with neither has no F1 to show)."""
        return sorted(
            {
                label
                for per_label in self.ner_labels.values()
                for label, v in per_label.items()
                if v["support"] or v["predicted"]
            }
        )

    @property
    def robust_tasks(self) -> list[str]:
        """The tasks with a worst-case change in some run (its robustness columns)."""
        return [t for t in self.tasks if any(e.worst_change(t) for e in self.entries)]

    @property
    def competitors(self) -> list[Entry]:
        return [e for e in self.entries if e.reference is None]

    @property
    def references(self) -> list[Entry]:
        return [e for e in self.entries if e.reference is not None]


# ----------------------------------------------------------------------------- loading


def expand_runs(patterns: Sequence[str]) -> list[str]:
    """Run directories from paths or glob patterns, in the order given (globs sorted).

    A directory without ``result.json`` whose sub-directories hold one (e.g. a
    multirun folder) stands for those sub-directories. Duplicates are dropped.
    """
    found: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise LeaderboardError(f"{pattern}: no run directory matches")
        for match in matches:
            path = Path(match)
            if path.is_dir() and not (path / "result.json").is_file():
                children = sorted(str(p.parent) for p in path.glob("*/result.json"))
                if not children:
                    raise LeaderboardError(f"{match}: no result.json here or one level below")
                found += children
            elif path.is_file() and path.name == "result.json":
                found.append(str(path.parent))
            else:
                found.append(match)
    unique: dict[Path, str] = {}
    for item in found:
        unique.setdefault(Path(item).resolve(), item)
    return list(unique.values())


def slugify(name: str) -> str:
    """A file-name-safe form: characters outside [A-Za-z0-9._-] become '_'."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    return slug[:80]


def _load(sources: Sequence[str]) -> list[Entry]:
    entries = []
    for source in sources:
        try:
            run = Run.load(source)  # checks the fields every report reads
        except CompareError as err:
            raise LeaderboardError(str(err)) from None
        reference = run.result["model"].get("reference")
        if reference is not None and reference not in REFERENCES:
            raise LeaderboardError(
                f"{Path(source) / 'result.json'}: model.reference: expected one of "
                f"{', '.join(REFERENCES)}, got {reference!r}"
            )
        entries.append(Entry(run, source, run.name, ""))
    # Disambiguate display names: name, then name (fingerprint) or, for runs of one model
    # (a sweep over perturbations), name (+perturb=…), then a counter.
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(e.name, []).append(e)
    for group in (g for g in groups.values() if len(g) > 1):
        fingerprints = [str(e.result["model"].get("fingerprint", ""))[:8] for e in group]
        for e, fingerprint in zip(group, fingerprints, strict=True):
            if len(set(fingerprints)) > 1:
                e.name = f"{e.name} ({fingerprint})"
            elif perturbations := list(e.result.get("robustness") or {}):
                shown = ",".join(perturbations)
                e.name = f"{e.name} (+perturb={shown if len(perturbations) == 1 else f'[{shown}]'})"
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.name] = seen.get(e.name, 0) + 1
        if seen[e.name] > 1:
            e.name = f"{e.name} #{seen[e.name]}"
    slugs: dict[str, int] = {}
    for e in entries:
        slug = slugify(e.name)
        slugs[slug] = slugs.get(slug, 0) + 1
        e.slug = slug if slugs[slug] == 1 else f"{slug}-{slugs[slug]}"
    return entries


def check_same_gold(entries: Sequence[Entry]) -> None:
    """Every run scored the same gold (version, sha256) and the same items of it
    (``dataset.limit``: a quick try is never ranked beside full runs)."""
    golds: dict[tuple[str, str, str], list[str]] = {}
    for e in entries:
        dataset = e.result["dataset"]
        gold = (str(dataset.get("version")), dataset["sha256"], items_scored(e.result))
        golds.setdefault(gold, []).append(e.source)
    if len(golds) > 1:
        groups = "; ".join(
            f"version {version} sha256 {digest[:12]}… {scored}: {', '.join(sources)}"
            for (version, digest, scored), sources in golds.items()
        )
        raise LeaderboardError(
            f"the runs were scored on different gold (dataset version, sha256 or limit "
            f"differs), refusing to mix them: {groups}"
        )


# ----------------------------------------------------------------------------- ranking


def ranks_from_tests(significant: Sequence[bool]) -> list[int]:
    """Competition ranks of runs sorted best first; ``significant[i]`` (i ≥ 1) says whether
    run i differs significantly from run i − 1 (``significant[0]`` is ignored)."""
    ranks: list[int] = []
    for i, sig in enumerate(significant):
        ranks.append(1 if i == 0 else (i + 1 if sig else ranks[-1]))
    return ranks


def _cell(entry: Entry, task: str) -> Cell:
    record = entry.result["tasks"].get(task)
    if record is None:
        return Cell("missing", reason="task not run")
    if record.get("status") != "ok":
        return Cell(
            record.get("status", "missing"), reason=record.get("reason") or record.get("error")
        )
    metric = record["metrics"].get(PRIMARY_METRIC[task], {})
    if metric.get("value") is None:
        return Cell("undefined", reason=metric.get("undefined", "no value"))
    ci = metric.get("ci95") or {}
    partial = degraded(record)
    status = "degraded" if partial else "ok"
    return Cell(status, metric["value"], ci.get("low"), ci.get("high"), reason=partial)


def _rank_task(
    entries: list[Entry], task: str, alpha: float, n_resamples: int, seed: int, analytic_above: int
) -> list[Entry]:
    """Rank the task's ``ok`` runs (see the module docstring); returns them best first."""
    ranked = sorted(
        (e for e in entries if e.cells[task].status == "ok" and e.reference is None),
        key=lambda e: (-e.cells[task].score, e.name),
    )
    significant = [True] if ranked else []  # none: no run has a value (e.g. a quick try)
    for above, below in zip(ranked, ranked[1:], strict=False):
        try:
            test = compare_task(above.run, below.run, task, n_resamples, seed,
                                analytic_above=analytic_above)  # fmt: skip
        except CompareError as err:
            raise LeaderboardError(str(err)) from None
        sig = test.p_value is not None and test.p_value < alpha
        significant.append(sig)
        below.cells[task].vs_above = {
            "model": above.name,
            "difference": test.difference,
            "low": test.low,
            "high": test.high,
            "p_value": test.p_value,
            "significant": sig,
            "n_units": test.n_units,
            "unit": test.unit,
            "method": test.method,
        } | ({"undefined": test.undefined} if test.undefined else {})
    for entry, rank in zip(ranked, ranks_from_tests(significant), strict=True):
        entry.cells[task].rank = rank
    return ranked


def _order(
    entries: list[Entry], tasks: list[str], positions: dict[str, dict[str, int]]
) -> list[Entry]:
    """Row order and overall positions (see the module docstring): competitors grouped
    by coverage, ranked within their group; then runs ranked on no task; then references."""
    groups: dict[tuple[str, ...], list[Entry]] = {}
    for e in entries:
        if e.reference is None:
            groups.setdefault(e.coverage, []).append(e)
    rows: list[Entry] = []
    for coverage in sorted(groups, key=lambda c: (-len(c), [tasks.index(t) for t in c])):
        group = groups[coverage]
        if not coverage:  # ranked on no task: listed, not ranked
            rows += sorted(group, key=lambda e: e.name)
            continue
        mean: dict[str, float] = {}  # mean rank over the group's tasks (all ranked)
        place: dict[str, float] = {}  # mean place in value order: lists ties best first
        for e in group:
            mean[e.name] = sum(e.cells[t].rank or 0 for t in coverage) / len(coverage)
            place[e.name] = sum(positions[t][e.name] for t in coverage) / len(coverage)
        group.sort(key=lambda e: (mean[e.name], place[e.name], e.name))
        for i, e in enumerate(group):
            e.mean_rank = mean[e.name]
            tied = i > 0 and mean[group[i - 1].name] == mean[e.name]
            e.position = group[i - 1].position if tied else i + 1
        rows += group
    references = [e for e in entries if e.reference is not None]
    rows += sorted(references, key=lambda e: (REFERENCES.index(e.reference or ""), e.name))
    return rows


# --------------------------------------------------------------- NER per-label intervals


def ner_label_f1(run: Run, n_resamples: int, seed: int, alpha: float = 0.05) -> dict[str, Any]:
    """Strict F1 per label with a percentile-bootstrap interval over clusters.

    A unit is a cluster (a gold segment the samples record, or an item without any)
    contributing the (tp, predicted, gold) of the label's spans starting in it, as the
    run's own per-label intervals with ``bootstrap.unit.ner=cluster``.
    Returns {label: {f1, low, high, support, predicted}}.
    """
    from bench.metrics.bootstrap import bootstrap_ci, f1_statistic
    from bench.metrics.spans import strict_units

    samples = run.samples("ner")
    clusters = sample_clusters("ner", samples)
    gold = {(r["id"], s[0], s[1], s[2]) for r in samples for s in r["gold"]}
    pred = {(r["id"], s[0], s[1], s[2]) for r in samples for s in r["pred"]}
    out: dict[str, Any] = {}
    for label in sorted({k[3] for k in gold | pred}):
        rows = strict_units(gold, pred, CLUSTER_UNIT, label=label, clusters=clusters)
        tp, n_pred, n_gold = (int(x) for x in rows.sum(axis=0))
        f1 = 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0
        low = high = None
        if n_resamples > 0:
            ci = bootstrap_ci(
                f1_statistic(rows), len(rows), n_resamples, seed, alpha, unit=CLUSTER_UNIT
            )
            low, high = ci.low, ci.high
        out[label] = {"f1": f1, "low": low, "high": high, "support": n_gold, "predicted": n_pred}
    return out


# ----------------------------------------------------------------------------- build


def build_leaderboard(
    sources: Sequence[str],
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    ner_labels: bool = True,
    analytic_above: int = ANALYTIC_ABOVE,
) -> Leaderboard:
    """Load, check the gold, rank; with ``ner_labels``, the per-label NER F1 intervals
    (:attr:`Leaderboard.ner_labels`, which only the HTML, JSON and plots show). Raises
    :class:`LeaderboardError`."""
    if not sources:
        raise LeaderboardError("no run directories given")
    entries = _load(expand_runs(sources))
    check_same_gold(entries)
    try:
        check_same_definitions([e.run for e in entries], PRIMARY_METRIC)
    except CompareError as err:
        raise LeaderboardError(str(err)) from None
    tasks = [
        t
        for t in PRIMARY_METRIC
        if any(e.result["tasks"].get(t, {}).get("status") == "ok" for e in entries)
    ]
    if not tasks:
        raise LeaderboardError("no run has a successful task: nothing to rank")
    for e in entries:
        e.cells = {t: _cell(e, t) for t in tasks}
    positions: dict[str, dict[str, int]] = {}  # task -> entry name -> place in value order
    per_label: dict[str, dict[str, Any]] = {}
    for t in tasks:
        with keeping_samples((e.run for e in entries), t):  # each run's read once
            ranked = _rank_task(entries, t, alpha, n_resamples, seed, analytic_above)
            positions[t] = {e.name: i for i, e in enumerate(ranked, 1)}
            if t == "ner" and ner_labels:
                for e in (e for e in entries if e.cells[t].status == "ok"):
                    try:
                        per_label[e.name] = ner_label_f1(e.run, n_resamples, seed, alpha)
                    except CompareError as err:
                        raise LeaderboardError(str(err)) from None
    entries = _order(entries, tasks, positions)
    first = entries[0].result["dataset"]
    return Leaderboard(
        entries=entries,
        tasks=tasks,
        dataset={k: first.get(k) for k in ("name", "version", "sha256")}
        | ({"limit": first["limit"]} if first.get("limit") is not None else {}),
        bench_versions=sorted(
            {str(e.result.get("provenance", {}).get("bench_version", "?")) for e in entries}
        ),
        alpha=alpha,
        n_resamples=n_resamples,
        seed=seed,
        ner_labels={e.name: per_label[e.name] for e in entries if e.name in per_label},
        analytic_above=analytic_above,
    )
