"""A leaderboard of runs scored on the same gold: tables, a paper table, a static page, plots.

One row per run (model), one column group per task with its primary metric
(:data:`bench.report.compare.PRIMARY_METRIC`) and 95% interval, read from each
run's ``result.json``.

Ranking rule (per task)
-----------------------
Runs whose task is ``ok`` with a defined primary metric are sorted by that
metric, best first (ties in value broken by model name). The first gets rank 1.
Each next run is tested against the run ranked *immediately above it* with a
two-sided paired bootstrap on the same units (clusters or items; see
:func:`bench.report.compare.compare_task`), ``n_resamples`` resamples, ``seed``:

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

Rows are ordered by mean rank over the tasks shown (a task without a result
counts as one place below the last ranked run of that task), then by mean place
in value order (so tied runs are listed best value first), then by name.

Gold: every run must have been scored on the same gold (``dataset.version`` and ``sha256``);
otherwise :class:`LeaderboardError` is raised and nothing is written.
"""

from __future__ import annotations

import glob
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import html as page_html
from bench.report.compare import (
    CLUSTER_UNIT,
    PRIMARY_METRIC,
    CompareError,
    Run,
    check_same_definitions,
    compare_task,
    items_scored,
    sample_clusters,
)
from bench.report.files import write_bytes_atomic, write_json_atomic, write_text_atomic
from bench.report.tables import degraded, to_csv, to_markdown

SCHEMA_VERSION = 1
MISSING = page_html.MISSING

TASK_TITLES = {"ner": "NER", "attribution": "Attribution", "toxicity": "Toxicity"}
METRIC_TITLES = {
    "strict_precision": "strict precision",
    "strict_recall": "strict recall",
    "strict_f1": "strict F1",
    "content_exact_f1": "content exact F1",
    "content_overlap_f1": "content overlap F1",
    "content_token_f1": "content token F1",
    "source_accuracy": "source accuracy",
    "e2e_f1": "end-to-end F1",
    "roc_auc": "ROC-AUC",
    "average_precision": "average precision",
    "f1": "F1",
}
# Hugging Face model-index: task type and name; metric type per metric name.
HF_TASKS = {
    "ner": ("token-classification", "Named entity recognition"),
    "attribution": ("quote-attribution", "Quote attribution"),
    "toxicity": ("text-classification", "Toxicity classification"),
}
HF_METRIC_TYPES = {
    "strict_precision": "precision",
    "strict_recall": "recall",
    "strict_f1": "f1",
    "content_exact_f1": "f1",
    "content_overlap_f1": "f1",
    "content_token_f1": "f1",
    "source_accuracy": "accuracy",
    "e2e_f1": "f1",
    "roc_auc": "roc_auc",
    "average_precision": "average_precision",
    "f1": "f1",
}
BIAS_METRICS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
BIAS_TITLES = {"subgroup_auc": "Subgroup AUC", "bpsn_auc": "BPSN AUC", "bnsp_auc": "BNSP AUC"}

RULE = (
    "Per task, runs are sorted by the primary metric (best first). Each run is compared "
    "with the run ranked immediately above it by a two-sided paired bootstrap on the same "
    "units (clusters or items); if p < alpha the run takes its position "
    "(competition ranking 1, 1, 3), otherwise, or if the test is undefined, it shares the "
    "rank above. Ties chain. Failed, unsupported or undefined results are not ranked (—), "
    "nor are degraded ones (some items failed and were left out: other items than the rest)."
)


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
    def label(self) -> str:
        """The status as shown: ``degraded (k/n failed)`` or the status."""
        return f"degraded ({self.reason})" if self.status == "degraded" else self.status

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.scored:
            out |= {"value": self.value, "ci95": {"low": self.low, "high": self.high}}
        if self.status == "ok":
            out |= {"rank": self.rank, "vs_above": self.vs_above}
        elif self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Entry:
    run: Run
    source: str  # the run directory as given
    name: str  # display name: the run's name (or preset), disambiguated when two runs share it
    slug: str  # file-name-safe form of the name
    cells: dict[str, Cell] = field(default_factory=dict)
    mean_rank: float = 0.0

    @property
    def result(self) -> dict[str, Any]:
        return self.run.result


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

    def entries_with(self, task: str) -> list[Entry]:
        return [e for e in self.entries if e.cells[task].status == "ok"]


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
        entries.append(Entry(run, source, run.name, ""))
    # Disambiguate display names: name, then name (fingerprint), then a counter.
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.name] = counts.get(e.name, 0) + 1
    for e in entries:
        if counts[e.name] > 1:
            e.name = f"{e.name} ({str(e.result['model'].get('fingerprint', ''))[:8]})"
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
    entries: list[Entry], task: str, alpha: float, n_resamples: int, seed: int
) -> list[Entry]:
    """Rank the task's ``ok`` runs (see the module docstring); returns them best first."""
    ranked = sorted(
        (e for e in entries if e.cells[task].status == "ok"),
        key=lambda e: (-e.cells[task].value, e.name),
    )
    significant = [True] if ranked else []  # none: no run has a value (e.g. a quick try)
    for above, below in zip(ranked, ranked[1:], strict=False):
        try:
            test = compare_task(above.run, below.run, task, n_resamples, seed)
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
        } | ({"undefined": test.undefined} if test.undefined else {})
    for entry, rank in zip(ranked, ranks_from_tests(significant), strict=True):
        entry.cells[task].rank = rank
    return ranked


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
    sources: Sequence[str], n_resamples: int = 1000, seed: int = 0, alpha: float = 0.05
) -> Leaderboard:
    """Load, check the gold, rank. Raises :class:`LeaderboardError`."""
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
    for t in tasks:
        ranked = _rank_task(entries, t, alpha, n_resamples, seed)
        positions[t] = {e.name: i for i, e in enumerate(ranked, 1)}
    mean_position = {}
    for e in entries:
        ranks, places = [], []
        for t in tasks:
            cell = e.cells[t]
            last = max((x.cells[t].rank or 0 for x in entries), default=0)
            ranks.append(cell.rank if cell.rank is not None else last + 1)
            places.append(positions[t].get(e.name, len(positions[t]) + 1))
        e.mean_rank = sum(ranks) / len(ranks)
        mean_position[e.name] = sum(places) / len(places)
    entries.sort(key=lambda e: (e.mean_rank, mean_position[e.name], e.name))
    first = entries[0].result["dataset"]
    board = Leaderboard(
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
    )
    if "ner" in tasks:
        for e in board.entries_with("ner"):
            try:
                board.ner_labels[e.name] = ner_label_f1(e.run, n_resamples, seed, alpha)
            except CompareError as err:
                raise LeaderboardError(str(err)) from None
    return board


# ----------------------------------------------------------------------------- text formats


def _fmt(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _value_with_ci(cell: Cell) -> str:
    if not cell.scored:
        return MISSING
    if cell.low is None or cell.high is None:
        return _fmt(cell.value)
    return f"{_fmt(cell.value)} [{_fmt(cell.low)}, {_fmt(cell.high)}]"


def _column_title(task: str) -> str:
    return f"{TASK_TITLES[task]} {METRIC_TITLES.get(PRIMARY_METRIC[task], PRIMARY_METRIC[task])}"


def _md_escape(text: str) -> str:
    """Markdown text: HTML-escaped (raw HTML is live in Markdown); backslashes, pipes, code,
    emphasis and link brackets backslash-escaped, so the text shows as written."""
    for ch in "\\`*[]|":
        text = text.replace(ch, "\\" + ch)
    return html.escape(text, quote=False).replace("\n", " ").replace("\r", " ")


def _tested_with(board: Leaderboard) -> str:
    return (
        f"paired bootstrap, {board.n_resamples} resamples, seed {board.seed}, alpha {board.alpha}"
    )


def to_markdown_text(board: Leaderboard, plots: Sequence[tuple[str, str]] = ()) -> str:
    d = board.dataset
    headers = ["model"]
    for t in board.tasks:
        headers += [f"{_column_title(t)} [95% CI]", "rank"]
    rows = []
    for e in board.entries:
        row = [_md_escape(e.name)]
        for t in board.tasks:
            cell = e.cells[t]
            rank = cell.label if cell.status == "degraded" else cell.rank
            row += [_value_with_ci(cell), MISSING if rank is None else str(rank)]
        rows.append(row)
    lines = [
        f"# Leaderboard: {_md_escape(str(d['name']))} {_md_escape(str(d['version']))}",
        "",
        f"- Dataset: {_md_escape(str(d['name']))}, version {_md_escape(str(d['version']))}, "
        f"sha256 {_md_escape(str(d['sha256']))}"
        + (f", {_md_escape(items_scored({'dataset': d}))}" if "limit" in d else ""),
        f"- bench version: {', '.join(board.bench_versions)}",
        f"- Ranking ({_tested_with(board)}): {RULE}",
        "",
        to_markdown(headers, rows).rstrip("\n"),
        "",
    ]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{_md_escape(caption)}]({name})" for name, caption in plots]
        lines.append("")
    return "\n".join(lines)


def csv_table(board: Leaderboard) -> tuple[list[str], list[list[Any]]]:
    headers = ["position", "model", "preset", "fingerprint", "mean_rank"]
    for t in board.tasks:
        m = PRIMARY_METRIC[t]
        headers += [f"{t}.{m}", f"{t}.ci95_low", f"{t}.ci95_high", f"{t}.rank", f"{t}.status"]
    rows = []
    for i, e in enumerate(board.entries, 1):
        row: list[Any] = [
            i,
            e.name,
            e.result["model"]["preset"],
            e.result["model"].get("fingerprint"),
            e.mean_rank,
        ]
        for t in board.tasks:
            c = e.cells[t]
            row += [c.value, c.low, c.high, c.rank, c.label]
        rows.append(row)
    return headers, rows


def to_json_data(board: Leaderboard) -> dict[str, Any]:
    tasks = {}
    for t in board.tasks:
        ranked = sorted(
            (e for e in board.entries_with(t) if e.cells[t].rank is not None),
            key=lambda e: (e.cells[t].rank, -e.cells[t].value, e.name),
        )
        tasks[t] = {
            "metric": PRIMARY_METRIC[t],
            "ranking": [{"model": e.name} | e.cells[t].to_json() for e in ranked],
        }
    models = []
    for e in board.entries:
        model = e.result["model"]
        prov = e.result.get("provenance", {})
        models.append(
            {
                "name": e.name,
                "preset": model["preset"],
                "target": model.get("target"),
                "fingerprint": model.get("fingerprint"),
                "run": e.source,
                "bench_version": prov.get("bench_version"),
                "git": prov.get("git"),
                "started_at": prov.get("started_at"),
                "finished_at": prov.get("finished_at"),
                "mean_rank": e.mean_rank,
                "tasks": {t: e.cells[t].to_json() for t in board.tasks},
            }
        )
    return {
        "leaderboard_schema_version": SCHEMA_VERSION,
        "dataset": board.dataset,
        "bench_versions": board.bench_versions,
        "ranking": {
            "primary_metric": {t: PRIMARY_METRIC[t] for t in board.tasks},
            "test": "paired bootstrap",
            "n_resamples": board.n_resamples,
            "seed": board.seed,
            "alpha": board.alpha,
            "rule": RULE,
        },
        "tasks": tasks,
        "models": models,
        "ner_per_label": board.ner_labels,
    }


# ----------------------------------------------------------------------------- LaTeX

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\n": " ",
    "\r": " ",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters so that the text prints as written."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(board: Leaderboard) -> str:
    """A booktabs table (needs ``\\usepackage{booktabs}``): value, 95% CI and rank per task;
    rank-1 values in bold."""
    d = board.dataset
    n = len(board.tasks)
    spec = "l" + "rc" * n
    head1 = " & ".join(
        [""] + [f"\\multicolumn{{2}}{{c}}{{{latex_escape(_column_title(t))}}}" for t in board.tasks]
    )
    rules = " ".join(f"\\cmidrule(lr){{{2 + 2 * i}-{3 + 2 * i}}}" for i in range(n))
    head2 = " & ".join(["Model"] + ["score [95\\% CI]", "rank"] * n)
    body = []
    for e in board.entries:
        cells = [latex_escape(e.name)]
        for t in board.tasks:
            c = e.cells[t]
            if not c.scored:
                cells += ["---", "---"]
                continue
            value = _fmt(c.value)
            if c.rank == 1:
                value = f"\\textbf{{{value}}}"
            if c.low is not None and c.high is not None:
                value += f" {{\\scriptsize [{_fmt(c.low)}, {_fmt(c.high)}]}}"
            rank = latex_escape(c.label) if c.status == "degraded" else c.rank
            cells += [value, "---" if rank is None else str(rank)]
        body.append(" & ".join(cells) + r" \\")
    caption = (
        f"Results on {latex_escape(str(d['name']))} {latex_escape(str(d['version']))} "
        f"(sha256 \\texttt{{{latex_escape(str(d['sha256'])[:12])}}}\\ldots, bench "
        f"{latex_escape(', '.join(board.bench_versions))}). Scores with 95\\% percentile-"
        f"bootstrap intervals; rank ties where a paired bootstrap against the model ranked "
        f"above gives $p \\geq {board.alpha}$ ({board.n_resamples} resamples). "
        "--- : task not supported or failed."
    )
    lines = [
        f"% Generated by bench-report leaderboard: dataset {latex_escape(str(d['name']))}, "
        f"sha256 {d['sha256']}.",
        "% Requires \\usepackage{booktabs}.",
        "\\begin{table}[t]",
        "\\centering",
        "\\small",
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        head1 + r" \\",
        rules,
        head2 + r" \\",
        "\\midrule",
        *body,
        "\\bottomrule",
        "\\end{tabular}",
        f"\\caption{{{caption}}}",
        "\\label{tab:leaderboard}",
        "\\end{table}",
    ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- model-index


def model_index(board: Leaderboard, entry: Entry) -> dict[str, Any]:
    """Hugging Face model-card ``model-index`` metadata for one run."""
    d = board.dataset
    results = []
    for t in board.tasks:
        record = entry.result["tasks"].get(t, {})
        if entry.cells[t].status != "ok":  # failed, unsupported, or degraded: not published
            continue
        names = [PRIMARY_METRIC[t]] + [
            m for m in record.get("main_metrics", []) if m != PRIMARY_METRIC[t]
        ]
        metrics = []
        for m in names:
            value = record["metrics"].get(m, {}).get("value")
            if value is None:
                continue
            metrics.append(
                {
                    "type": HF_METRIC_TYPES.get(m, m),
                    "name": f"{METRIC_TITLES.get(m, m)} ({m})",
                    "value": round(float(value), 6),
                }
            )
        task_type, task_name = HF_TASKS[t]
        results.append(
            {
                "task": {"type": task_type, "name": task_name},
                "dataset": {
                    "type": str(d["name"]),
                    "name": str(d["name"]),
                    "config": str(d["version"]),
                    "split": "test",
                    "revision": str(d["sha256"]),
                },
                "metrics": metrics,
            }
        )
    return {"model-index": [{"name": entry.name, "results": results}]}


def to_yaml(data: Any) -> str:
    import yaml  # PyYAML: a dependency of omegaconf, hence of hydra-core

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


# ----------------------------------------------------------------------------- HTML


def _html_header(board: Leaderboard, title: str) -> str:
    d = board.dataset
    esc = page_html.esc
    return (
        f"<h1>{esc(title)}</h1>\n"
        f'<p class="meta">Dataset <code>{esc(d["name"])}</code> version '
        f"<code>{esc(d['version'])}</code>, sha256 <code>{esc(d['sha256'])}</code></p>\n"
        f'<p class="meta">bench version {esc(", ".join(board.bench_versions))}; '
        f"ranking: {esc(_tested_with(board))}.</p>\n"
    )


def _main_table(board: Leaderboard) -> str:
    esc = page_html.esc
    headers = [("#", "ascending"), ("Model", "ascending")]
    for t in board.tasks:
        headers += [
            (f"{_column_title(t)} [95% CI]", "descending"),
            (f"{TASK_TITLES[t]} rank", "ascending"),
        ]
    headers.append(("Mean rank", "ascending"))
    rows = []
    for i, e in enumerate(board.entries, 1):
        cells = [page_html.num_cell(i, 0), page_html.text_cell(e.name, e.name, "model")]
        for t in board.tasks:
            c = e.cells[t]
            if not c.scored:
                title = f"{c.status}: {c.reason}" if c.reason else c.status
                cells += [
                    f'<td class="missing" data-sort="" title="{esc(title)}">{MISSING}</td>',
                    f'<td class="missing" data-sort="">{MISSING}</td>',
                ]
                continue
            ci = (
                f' <span class="ci">[{_fmt(c.low)}, {_fmt(c.high)}]</span>'
                if c.low is not None and c.high is not None
                else ""
            )
            cells.append(page_html.num_cell(c.value, 3, ci))
            if c.status == "degraded":
                title = "items failed and were left out of the score: not ranked"
                cells.append(f'<td class="missing" data-sort="" title="{title}">'
                             f"{esc(c.label)}</td>")  # fmt: skip
                continue
            test = c.vs_above
            title = (
                f"vs {test['model']}: difference {_fmt(test['difference'])}, "
                f"p = {_fmt(test['p_value'], 4)}"
                if test
                else "best"
            )
            css = "num rank-1" if c.rank == 1 else "num"
            cells.append(
                f'<td class="{css}" data-sort="{c.rank}" title="{esc(title)}">{c.rank}</td>'
            )
        cells.append(page_html.num_cell(e.mean_rank, 2))
        rows.append(cells)
    return page_html.sortable_table(headers, rows, "leaderboard")


def _ner_label_table(board: Leaderboard) -> str:
    names = [e.name for e in board.entries_with("ner") if e.name in board.ner_labels]
    labels = sorted({lab for n in names for lab in board.ner_labels[n]})
    support = {
        lab: max((board.ner_labels[n].get(lab, {}).get("support", 0) for n in names), default=0)
        for lab in labels
    }
    headers = [("Label", "ascending"), ("Gold support", "descending")]
    headers += [(f"{n} F1", "descending") for n in names]
    rows = []
    for lab in labels:
        cells = [page_html.text_cell(lab, lab), page_html.num_cell(support[lab], 0)]
        for n in names:
            v = board.ner_labels[n].get(lab)
            if v is None:
                cells.append(page_html.num_cell(None))
                continue
            ci = (
                f' <span class="ci">[{_fmt(v["low"])}, {_fmt(v["high"])}]</span>'
                if v["low"] is not None
                else ""
            )
            cells.append(page_html.num_cell(v["f1"], 3, ci))
        rows.append(cells)
    note = (
        '<p class="meta">Strict F1 per label; 95% percentile-bootstrap interval over the '
        "label's entities (gold or predicted spans), resampled within the label.</p>"
    )
    return note + page_html.sortable_table(headers, rows, "ner-per-label")


def _bias_tables(board: Leaderboard) -> str:
    esc = page_html.esc
    parts = [
        '<p class="meta">Unintended-bias AUCs per identity (Borkan et al., 2019): subgroup AUC '
        "(within the identity), BPSN (background positive, subgroup negative) and BNSP "
        "(background negative, subgroup positive). — : undefined (one class only).</p>"
    ]
    for e in board.entries_with("toxicity"):
        subgroups = (
            e.result["tasks"]["toxicity"].get("breakdown", {}).get("bias", {}).get("subgroups", {})
        )
        if not subgroups:
            continue
        headers = [("Identity", "ascending"), ("Items", "descending"), ("Toxic", "descending")]
        headers += [(BIAS_TITLES[m], "descending") for m in BIAS_METRICS]
        rows = []
        for identity in sorted(subgroups):
            g = subgroups[identity]
            cells = [
                page_html.text_cell(identity, identity),
                page_html.num_cell(g.get("n_items"), 0),
                page_html.num_cell(g.get("n_toxic"), 0),
            ]
            cells += [page_html.num_cell((g.get(m) or {}).get("value")) for m in BIAS_METRICS]
            rows.append(cells)
        parts.append(f"<h3>{esc(e.name)}</h3>")
        parts.append(page_html.sortable_table(headers, rows, f"bias-{e.slug}"))
    return "\n".join(parts)


def _models_table(board: Leaderboard) -> str:
    esc = page_html.esc
    headers = [
        ("Model", "ascending"),
        ("Target", "ascending"),
        ("Fingerprint", "ascending"),
        ("Git commit", "ascending"),
        ("bench", "ascending"),
        ("Started", "ascending"),
    ]
    rows = []
    for e in board.entries:
        model = e.result["model"]
        prov = e.result.get("provenance", {})
        git = prov.get("git") or {}
        commit = str(git.get("commit") or MISSING)[:12] + (" (dirty)" if git.get("dirty") else "")
        fingerprint = str(model.get("fingerprint") or "")
        rows.append(
            [
                page_html.text_cell(e.name, e.name),
                f'<td class="mono">{esc(model.get("target") or MISSING)}</td>',
                f'<td class="mono" title="{esc(fingerprint)}">{esc(fingerprint[:12])}</td>',
                f'<td class="mono">{esc(commit)}</td>',
                page_html.text_cell(prov.get("bench_version", MISSING)),
                page_html.text_cell(prov.get("started_at", MISSING)),
            ]
        )
    return page_html.sortable_table(headers, rows, "models")


def to_html(board: Leaderboard, plots: dict[str, tuple[str, bytes]]) -> str:
    """The static page; ``plots`` maps file name -> (caption, PNG bytes)."""
    esc = page_html.esc
    d = board.dataset
    title = f"Leaderboard: {d['name']} {d['version']}"
    parts = [
        _html_header(board, title),
        "<h2>Ranking</h2>",
        f'<p class="meta">{esc(RULE)} Click a column header to sort.</p>',
        _main_table(board),
    ]
    if board.ner_labels:
        parts += ["<h2>NER F1 per label</h2>", _ner_label_table(board)]
    if "toxicity" in board.tasks:
        parts += ["<h2>Toxicity bias per identity</h2>", _bias_tables(board)]
    if plots:
        parts.append("<h2>Plots</h2>")
        for name, (caption, data) in plots.items():
            parts.append(
                f'<figure id="plot-{esc(name.removesuffix(".png"))}">'
                f"{page_html.png_img(data, caption)}"
                f"<figcaption>{esc(caption)}</figcaption></figure>"
            )
    parts += ["<h2>Runs</h2>", _models_table(board)]
    return page_html.page(title, "\n".join(parts))


# ----------------------------------------------------------------------------- output


def write_leaderboard(board: Leaderboard, out: Path, with_plots: bool = True) -> list[Path]:
    """Write every output file into ``out`` (atomically each); return their paths."""
    plots: dict[str, tuple[str, bytes]] = {}
    if with_plots:
        from bench.report import plots as plot_module

        plots = plot_module.leaderboard_plots(board)
    written: list[Path] = []

    def text(name: str, content: str) -> None:
        write_text_atomic(out / name, content)
        written.append(out / name)

    for name, (_, data) in plots.items():
        write_bytes_atomic(out / name, data)
        written.append(out / name)
    captions = [(name, caption) for name, (caption, _) in plots.items()]
    text("leaderboard.md", to_markdown_text(board, captions))
    text("leaderboard.csv", to_csv(*csv_table(board)))
    write_json_atomic(out / "leaderboard.json", to_json_data(board))
    written.append(out / "leaderboard.json")
    text("leaderboard.tex", to_latex(board))
    text("index.html", to_html(board, plots))
    for e in board.entries:
        text(f"model-index/{e.slug}.yaml", to_yaml(model_index(board, e)))
    return written
