"""A static site of leaderboards: an index and one page per dataset (``bench-report site``).

Runs are grouped by the gold they were scored on (dataset name, version and sha256):
runs on different gold never share a page. Each group is a leaderboard
(:func:`bench.report.leaderboard.build_leaderboard`) written into ``<dataset>/`` by
:func:`bench.report.render.outputs.write_leaderboard`, with the site's navigation. The
index (:mod:`bench.report.render.site_index`) sums up each page: per task, the best
model (:func:`bench.report.site_pages.task_summary`), its score and interval, and
whether it is ahead of the runner-up; reference runs as ceiling and floor; and, where
runs were made under perturbations, the most and least robust ranked model per
perturbation and task (:func:`bench.report.site_pages.robustness_summaries`).

The site is built in a temporary folder beside ``out`` and then swapped in, so a failure
leaves the previous site as it was. An existing ``out`` is replaced only if it is a site
(it holds ``site.json``): a mistyped ``--out`` never deletes a folder of other files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.metrics.analytic import ANALYTIC_ABOVE
from bench.report.compare import PRIMARY_METRIC, CompareError, Run
from bench.report.files import write_json_atomic, write_text_atomic
from bench.report.html import Link
from bench.report.leaderboard import (
    LeaderboardError,
    build_leaderboard,
    expand_runs,
    slugify,
)
from bench.report.render.outputs import write_leaderboard
from bench.report.render.site_index import to_site_index
from bench.report.site_pages import Page

SITE_FILE = "site.json"
SCHEMA_VERSION = 1


def group_by_gold(sources: Sequence[str]) -> dict[tuple[str, str, str], list[str]]:
    """Run directories by the gold they were scored on: (dataset name, version, sha256).
    Raises :class:`LeaderboardError` (a run cannot be read)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for source in expand_runs(sources):
        try:
            dataset = Run.load(source).result["dataset"]
        except CompareError as err:
            raise LeaderboardError(str(err)) from None
        key = (str(dataset.get("name", "")), str(dataset.get("version", "")), dataset["sha256"])
        groups.setdefault(key, []).append(source)
    return groups


def _names(keys: Sequence[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(folder, title) per gold: the dataset's name, with its version (then the start of
    its sha256) where two golds share it."""
    out = []
    for name, version, sha in keys:
        title = name or "dataset"
        if sum(k[0] == name for k in keys) > 1:
            title += f" {version}"
            if sum(k[:2] == (name, version) for k in keys) > 1:
                title += f" {sha[:8]}"
        out.append((slugify(title.replace(" ", "-")), title))
    return out


def nav_links(pages: Sequence[Page], current: Page | None) -> list[Link]:
    """The navigation of the index (``current`` None) or of a dataset page."""
    base = "" if current is None else "../"
    links = [Link("All datasets", f"{base}index.html", current is None)]
    links += [Link(p.title, f"{base}{p.slug}/index.html", p is current) for p in pages]
    return links


def _manifest(pages: Sequence[Page], groups: Sequence[list[str]]) -> dict[str, Any]:
    """``site.json``: the ranking options and, per dataset, its gold (name, version,
    sha256), page, tasks with their primary metric and the run folders as given."""
    first = pages[0].board
    return {
        "site_schema_version": SCHEMA_VERSION,
        "ranking": {"n_resamples": first.n_resamples, "seed": first.seed, "alpha": first.alpha},
        "datasets": [
            {
                "name": p.board.dataset["name"],
                "version": p.board.dataset["version"],
                "sha256": p.board.dataset["sha256"],
                "page": f"{p.slug}/index.html",
                "tasks": {t: PRIMARY_METRIC[t] for t in p.board.tasks},
                "runs": sources,
            }
            for p, sources in zip(pages, groups, strict=True)
        ],
    }


def _check_replaceable(out: Path, sources: Sequence[str]) -> None:
    """``out`` may be replaced: absent, empty, or a site holding none of the runs, and
    inside none of them (a run folder holds one run's files only)."""
    if out.exists() and not out.is_dir():
        raise LeaderboardError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_FILE).is_file():
        raise LeaderboardError(
            f"--out {out}: a folder that is not a site (no {SITE_FILE}): refusing to replace it"
        )
    inside = [s for s in sources if Path(s).resolve().is_relative_to(out.resolve())]
    if inside:
        raise LeaderboardError(f"--out {out}: holds the run {inside[0]}: refusing to replace it")
    holders = [s for s in sources if out.resolve().is_relative_to(Path(s).resolve())]
    if holders:
        raise LeaderboardError(
            f"--out {out}: inside the run {holders[0]}: write the site beside the runs"
        )


def _swap(built: Path, out: Path) -> None:
    """Put the folder ``built`` in place of ``out`` (a rename each; ``out`` restored if
    the second fails)."""
    if not out.exists():
        os.replace(built, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    os.replace(out, old / "site")
    try:
        os.replace(built, out)
    except BaseException:
        os.replace(old / "site", out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def build_site(
    runs: Sequence[Path | str],
    out: Path,
    *,
    resamples: int,
    seed: int,
    alpha: float = 0.05,
    with_plots: bool = True,
    analytic_above: int = ANALYTIC_ABOVE,
) -> list[Page]:
    """Build the site of ``runs`` (run folders, globs, or folders of runs) into ``out``;
    its pages.

    Raises :class:`LeaderboardError` for unusable input (nothing written) and
    ``OSError`` when ``out`` cannot be written (the previous site untouched).
    """
    groups = group_by_gold([str(r) for r in runs])
    if not groups:
        raise LeaderboardError("no run directories given")
    keys = sorted(groups)
    pages = [
        Page(
            slug,
            title,
            build_leaderboard(groups[key], resamples, seed, alpha, analytic_above=analytic_above),
        )  # fmt: skip
        for key, (slug, title) in zip(keys, _names(keys), strict=True)
    ]
    if with_plots:
        from bench.report.render.plots import PlotError, require_matplotlib

        try:
            require_matplotlib()
        except PlotError as err:
            raise LeaderboardError(str(err)) from None

    out = Path(out)
    _check_replaceable(out, [s for key in keys for s in groups[key]])
    out.parent.mkdir(parents=True, exist_ok=True)
    built = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        built.chmod(0o755)
        for page in pages:
            write_leaderboard(page.board, built / page.slug, with_plots, nav_links(pages, page))
        write_text_atomic(built / "index.html", to_site_index(pages, nav_links(pages, None)))
        write_json_atomic(built / SITE_FILE, _manifest(pages, [groups[k] for k in keys]))
        _swap(built, out)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    return pages
