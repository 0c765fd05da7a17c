"""Leaderboard plots as PNG bytes (matplotlib, Agg, no pyplot state, deterministic).

Each plot is drawn on a fresh :class:`matplotlib.figure.Figure` and saved without
the "Software" PNG text chunk, so the same runs give byte-identical files.
A model keeps its colour across plots (its position on the leaderboard). Reference
runs (:attr:`bench.report.leaderboard.Entry.reference`) are never drawn as models: they
are grey reference lines (dashed: the ceiling; dotted: the floor) named with their kind.

- ``ner_per_label_f1.png``: strict F1 per label, error bars the 95% bootstrap
  interval over clusters (:func:`bench.report.leaderboard.ner_label_f1`);
- ``attribution_by_quote_type.png``: ``content_overlap_f1.<type>`` (direct,
  indirect, mixed) from ``result.json``, error bars its ``ci95``;
- ``toxicity_roc.png``, ``toxicity_pr.png``, ``toxicity_calibration.png``: from
  ``samples/toxicity.jsonl``, main level only (:meth:`bench.report.compare.Run.toxicity_scores`);
  calibration in 10 equal-width bins;
- ``toxicity_bias_heatmap.png``: identities × (subgroup, BPSN, BNSP) AUC, one panel
  per model; grey cells are undefined; the reference runs' mean AUC are marked on the
  colour bar;
- ``robustness_deltas.png``: per task, the change of the primary metric under each
  perturbation (perturbed − original), one bar per run, error bars its paired interval.

Requires matplotlib (the ``report`` extra).
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Any

import numpy as np

from bench.extras import install_hint
from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import BIAS_METRICS, Entry, Leaderboard
from bench.report.render.text import BIAS_TITLES, column_title
from bench.report.robustness import changes

PALETTE = (
    "#4477aa",
    "#ee6677",
    "#228833",
    "#ccbb44",
    "#66ccee",
    "#aa3377",
    "#bbbbbb",
    "#000000",
    "#ee7733",
    "#009988",
)  # Paul Tol's bright scheme, then more
DPI = 100


class PlotError(RuntimeError):
    """matplotlib is missing or a plot could not be drawn."""


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure  # no pyplot: PNGs are drawn by Agg
    except ImportError as err:
        raise PlotError(
            f"plots need matplotlib: {install_hint('report')} (or pass --no-plots)"
        ) from err
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def require_matplotlib() -> None:
    """Raise :class:`PlotError` (with the install hint) when matplotlib is missing."""
    _figure(1, 1)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def label(text: Any, limit: int = 40) -> str:
    """Plot text from a result file: ``$`` escaped (no mathtext), long names shortened."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


REFERENCE_STYLE = {
    "ceiling": {"color": "#333333", "linestyle": "--"},
    "floor": {"color": "#888888", "linestyle": ":"},
}


def _colours(board: Leaderboard) -> dict[str, str]:
    """A colour per run: the competitors' from the palette in board order (so a model keeps
    its colour whatever the reference runs), the reference runs' grey."""
    colours = {e.name: PALETTE[i % len(PALETTE)] for i, e in enumerate(board.competitors)}
    return colours | {e.name: REFERENCE_STYLE[e.reference or "floor"]["color"]
                      for e in board.references}  # fmt: skip


def _reference_name(entry: Entry) -> str:
    return f"{label(entry.name)} ({entry.reference})"


def _reference_marks(ax: Any, x: np.ndarray, values: np.ndarray, entry: Entry) -> None:
    """A reference run on a bar plot: a grey line across each group of bars at its value."""
    ax.hlines(
        values, x - 0.45, x + 0.45, linewidth=1.4, label=_reference_name(entry),
        **REFERENCE_STYLE[entry.reference or "floor"],
    )  # fmt: skip


# ----------------------------------------------------------------------------- NER


def ner_per_label(board: Leaderboard) -> bytes | None:
    entries = [e for e in board.entries if e.name in board.ner_labels]
    if not entries:
        return None
    names = [e.name for e in entries if e.reference is None]
    labels = board.ner_label_names()
    colours = _colours(board)
    width = 0.8 / max(1, len(names))
    fig = _figure(max(6.0, 0.55 * len(labels) * max(1, len(names) / 2) + 1.2), 4.2)
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    for i, name in enumerate(names):
        per = board.ner_labels[name]
        values = np.array([per.get(lab, {}).get("f1", np.nan) for lab in labels], float)
        lows = np.array([_or_nan(per.get(lab, {}).get("low")) for lab in labels], float)
        highs = np.array([_or_nan(per.get(lab, {}).get("high")) for lab in labels], float)
        _bars(ax, x - 0.4 + width * (i + 0.5), width, values, lows, highs, colours[name], name)
    for e in (e for e in entries if e.reference is not None):
        per = board.ner_labels[e.name]
        _reference_marks(
            ax, x, np.array([_or_nan(per.get(lab, {}).get("f1")) for lab in labels]), e
        )
    ax.set_xticks(x, [label(lab, 18) for lab in labels], rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("strict F1")
    ax.set_title("NER F1 per label (95% bootstrap CI over the label's entities)")
    _legend_beside(fig, ax)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _legend_beside(fig: Any, ax: Any) -> None:
    """The legend right of the axes, in as many columns as its height needs, the figure
    widened by its width: long run names and many runs take room of their own instead of
    squeezing the axes (whose title and labels then ran off the figure) or running off
    the figure themselves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    where = {"fontsize": "small", "loc": "center left", "bbox_to_anchor": (1.01, 0.5)}
    legend = ax.legend(**where)
    height = legend.get_window_extent(renderer).height
    columns = math.ceil(height / (0.8 * fig.get_figheight() * fig.dpi))
    if columns > 1:
        legend = ax.legend(**where, ncols=columns)
    fig.set_figwidth(fig.get_figwidth() + legend.get_window_extent(renderer).width / fig.dpi)


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def _bars(
    ax: Any,
    x: np.ndarray,
    width: float,
    values: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    colour: str,
    name: str,
) -> Any:
    """One model's bars with their interval as error bars (none where a bound is missing)."""
    err = np.vstack([np.clip(values - lows, 0, None), np.clip(highs - values, 0, None)])
    return ax.bar(
        x, np.nan_to_num(values), width, yerr=np.nan_to_num(err), capsize=2, color=colour,
        label=label(name), error_kw={"elinewidth": 0.8},
    )  # fmt: skip


# ----------------------------------------------------------------------------- attribution


def attribution_by_type(board: Leaderboard) -> bytes | None:
    entries = board.entries_with("attribution") if "attribution" in board.tasks else []
    per_model = {e.name: e.attribution_by_type() for e in entries}
    kinds = sorted({k for metrics in per_model.values() for k in metrics})
    if not kinds:
        return None
    colours = _colours(board)
    names = [e.name for e in entries if e.reference is None]
    width = 0.8 / max(1, len(names))
    fig = _figure(max(5.0, 1.2 * len(kinds) + 1.5), 3.8)
    ax = fig.add_subplot()
    x = np.arange(len(kinds))
    for i, name in enumerate(names):
        metrics = [per_model[name].get(k, {}) for k in kinds]
        values = np.array([_or_nan(m.get("value")) for m in metrics], float)
        lows, highs = (
            np.array([_or_nan((m.get("ci95") or {}).get(bound)) for m in metrics], float)
            for bound in ("low", "high")
        )
        bars = _bars(
            ax, x - 0.4 + width * (i + 0.5), width, values, lows, highs, colours[name], name
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    for e in (e for e in entries if e.reference is not None):
        marks = [_or_nan(per_model[e.name].get(k, {}).get("value")) for k in kinds]
        _reference_marks(ax, x, np.array(marks, float), e)
    ax.set_xticks(x, [label(k) for k in kinds])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("content overlap F1")
    ax.set_title("Attribution by quote type (95% bootstrap CI)")
    _legend_beside(fig, ax)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


# ----------------------------------------------------------------------------- toxicity


def _toxicity_entries(board: Leaderboard) -> list[Entry]:
    return board.entries_with("toxicity") if "toxicity" in board.tasks else []


def toxicity_curves(board: Leaderboard) -> tuple[bytes | None, bytes | None, bytes | None]:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    entries = _toxicity_entries(board)
    scored = [(e, e.run.toxicity_scores()) for e in entries]
    data = [(e, level, gold, score) for e, (level, _, gold, score) in scored]
    data = [d for d in data if len(set(d[2].tolist())) == 2]  # both classes: curves defined
    if not data:
        return None, None, None
    colours = _colours(board)
    level = data[0][1]

    roc_fig = _figure(5.6, 4.6)
    roc = roc_fig.add_subplot()
    roc.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8)
    pr_fig = _figure(5.6, 4.6)
    pr = pr_fig.add_subplot()
    cal_fig = _figure(5.6, 4.6)
    cal = cal_fig.add_subplot()
    cal.plot(
        [0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8, label="perfectly calibrated"
    )
    prevalence = float(data[0][2].mean())
    pr.axhline(
        prevalence,
        color="#999999",
        linestyle="--",
        linewidth=0.8,
        label=f"prevalence {prevalence:.2f}",
    )
    data.sort(key=lambda d: d[0].reference is not None)  # references drawn (and listed) last
    for entry, _, gold, score in data:
        if entry.reference is None:
            style, name = {"color": colours[entry.name]}, label(entry.name)
        else:
            style, name = REFERENCE_STYLE[entry.reference], _reference_name(entry)
        fpr, tpr, _ = roc_curve(gold, score)
        roc.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})", **style)
        precision, recall, _ = precision_recall_curve(gold, score)
        ap = average_precision_score(gold, score)
        pr.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f})", **style)
        frac, mean_pred = calibration_curve(gold, score, n_bins=10, strategy="uniform")
        cal.plot(mean_pred, frac, marker="o", markersize=4, label=name, **style)
    for ax, title, xl, yl in (
        (roc, "ROC", "false positive rate", "true positive rate"),
        (pr, "Precision-recall", "recall", "precision"),
        (cal, "Calibration (10 equal-width bins)", "mean predicted score", "fraction toxic"),
    ):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(f"Toxicity {title} ({label(level)} level)", fontsize="medium")
        ax.legend(fontsize="small", loc="lower right" if ax is roc else "best")
        ax.grid(alpha=0.3)
    return _png(roc_fig), _png(pr_fig), _png(cal_fig)


def _bias_grid(subgroups: dict[str, Any], identities: list[str]) -> np.ndarray:
    """identities × BIAS_METRICS of AUC values (NaN: undefined)."""
    return np.array(
        [
            [_or_nan((subgroups.get(i, {}).get(m) or {}).get("value")) for m in BIAS_METRICS]
            for i in identities
        ],
        float,
    )


def bias_heatmap(board: Leaderboard) -> bytes | None:
    with_bias = [e for e in _toxicity_entries(board) if e.bias_subgroups]
    panels = [(e, e.bias_subgroups) for e in with_bias if e.reference is None]
    if not panels:
        return None
    identities = sorted({i for _, s in panels for i in s})
    n = len(panels)
    fig = _figure(max(4.0, 2.9 * n + 1.2), max(2.5, 0.32 * len(identities) + 1.6))
    axes = fig.subplots(1, n, squeeze=False)[0]
    import matplotlib as mpl

    cmap = mpl.colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    image = None
    for ax, (entry, subgroups) in zip(axes, panels, strict=True):
        grid = _bias_grid(subgroups, identities)
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for (r, c), v in np.ndenumerate(grid):
            dark = not np.isnan(v) and (v > 0.85 or v < 0.15)
            text = "n/a" if np.isnan(v) else f"{v:.2f}"
            colour = "white" if dark else "#333333"
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color=colour)
        short = [BIAS_TITLES[m].replace(" AUC", "") for m in BIAS_METRICS]
        ax.set_xticks(range(len(BIAS_METRICS)), short)
        ax.set_yticks(range(len(identities)), [label(i, 24) for i in identities])
        ax.set_title(label(entry.name, 28), fontsize="medium")
        if ax is not axes[0]:
            ax.tick_params(labelleft=False)
    bar = fig.colorbar(image, ax=list(axes), shrink=0.8, label="AUC")
    marks = []
    for e in (e for e in with_bias if e.reference is not None):
        grid = _bias_grid(e.bias_subgroups, identities)
        if not np.isnan(grid).all():
            mean = float(np.nanmean(grid))
            style = REFERENCE_STYLE[e.reference or "floor"]
            bar.ax.axhline(mean, linewidth=2, **style)
            bar.ax.plot(  # a pointer beside the bar: the line alone is lost at 0 or 1
                [-0.25], [mean], marker=">", color=style["color"], markersize=6, clip_on=False,
                transform=bar.ax.get_yaxis_transform(),
            )  # fmt: skip
            marks.append(f"{_reference_name(e)} {mean:.2f}")
    fig.suptitle("Toxicity bias AUC per identity", fontsize="medium")
    if marks:
        text = "Reference runs (mean AUC, marked on the colour bar): " + ", ".join(marks)
        fig.supxlabel(textwrap.fill(text, int(fig.get_figwidth() * 13)), fontsize="small")
    return _png(fig)


# ----------------------------------------------------------------------------- robustness


def robustness_deltas(board: Leaderboard) -> bytes | None:
    """One panel per task with robustness: the primary metric's delta per perturbation
    (x) and run (bars), error bars the paired 95% interval."""
    tasks = board.robust_tasks
    if not tasks:
        return None
    colours = _colours(board)
    fig = _figure(max(4.5, 4.2 * len(tasks) + 0.8), 3.8)
    axes = fig.subplots(1, len(tasks), squeeze=False)[0]
    for ax, task in zip(axes, tasks, strict=True):
        by_run = {e.name: {c.perturbation: c for c in changes(e.result)
                           if (c.task, c.metric) == (task, PRIMARY_METRIC[task])}
                  for e in board.entries}  # fmt: skip
        runs = [name for name, found in by_run.items() if found]
        perturbations = list(dict.fromkeys(p for name in runs for p in by_run[name]))
        width = 0.8 / len(runs)
        x = np.arange(len(perturbations))
        for i, name in enumerate(runs):
            at = [k for k, p in enumerate(perturbations) if p in by_run[name]]  # no bar: not run
            found = [by_run[name][perturbations[k]] for k in at]
            values, lows, highs = (
                np.array([_or_nan(getattr(c, k)) for c in found], float)
                for k in ("value", "low", "high")
            )
            place = x[at] - 0.4 + width * (i + 0.5)
            _bars(ax, place, width, values, lows, highs, colours[name], name)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(x, [label(p) for p in perturbations])
        ax.set_ylabel(f"Δ {column_title(task)}")
        ax.set_title(f"{column_title(task)} under each perturbation")
        ax.grid(axis="y", alpha=0.3)
    _legend_beside(fig, axes[-1])
    return _png(fig)


# ----------------------------------------------------------------------------- all


def leaderboard_plots(board: Leaderboard) -> dict[str, tuple[str, bytes]]:
    """File name -> (caption, PNG bytes), for the plots whose data the runs have."""
    out: dict[str, tuple[str, bytes]] = {}

    def add(name: str, caption: str, data: bytes | None) -> None:
        if data is not None:
            out[name] = (caption, data)

    add(
        "ner_per_label_f1.png",
        "NER strict F1 per label, with 95% bootstrap intervals over the label's entities",
        ner_per_label(board),
    )
    add(
        "attribution_by_quote_type.png",
        "Attribution content overlap F1 by quote type",
        attribution_by_type(board),
    )
    roc, pr, cal = toxicity_curves(board)
    add("toxicity_roc.png", "Toxicity ROC curves (main level)", roc)
    add("toxicity_pr.png", "Toxicity precision-recall curves (main level)", pr)
    add("toxicity_calibration.png", "Toxicity calibration (reliability) curves", cal)
    add(
        "toxicity_bias_heatmap.png",
        "Toxicity subgroup, BPSN and BNSP AUC per identity, per model",
        bias_heatmap(board),
    )
    add(
        "robustness_deltas.png",
        "Change of each task's primary metric under each perturbation (perturbed − original), "
        "with paired 95% bootstrap intervals",
        robustness_deltas(board),
    )
    return out
