"""Every output file of a leaderboard, each written atomically by its renderer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.report.files import write_bytes_atomic, write_json_atomic, write_text_atomic
from bench.report.html import Link
from bench.report.leaderboard import Leaderboard
from bench.report.render.csv_table import csv_table
from bench.report.render.html_page import to_html
from bench.report.render.json_data import to_json_data
from bench.report.render.latex import to_latex
from bench.report.render.markdown import to_markdown_text
from bench.report.render.model_index import model_card_data, to_yaml
from bench.report.tables import to_csv


def write_leaderboard(
    board: Leaderboard, out: Path, with_plots: bool = True, nav: Sequence[Link] = ()
) -> list[Path]:
    """Write every output file into ``out`` (atomically each); return their paths.

    ``leaderboard.md``, ``.csv``, ``.json``, ``.tex``, ``index.html`` (linking the others
    as downloads; ``nav``: the site's navigation), the PNG plots (unless ``with_plots`` is
    false; they need matplotlib) and ``model-index/<slug>.yaml`` for each run with a
    published result.
    """
    plots: dict[str, tuple[str, bytes]] = {}
    if with_plots:
        from bench.report.render.plots import leaderboard_plots  # matplotlib, when asked

        plots = leaderboard_plots(board)
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
    downloads = [f"leaderboard.{ext}" for ext in ("csv", "json", "md", "tex")] + list(plots)
    text("index.html", to_html(board, plots, downloads, nav))
    for e in board.entries:
        card = model_card_data(board, e)
        if card is not None:
            text(f"model-index/{e.slug}.yaml", to_yaml(card))
    return written
