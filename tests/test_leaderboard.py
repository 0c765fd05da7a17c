"""``bench-report leaderboard`` and ``bench-report errors`` on runs made in-process.

The runs (oracle, rules, empty, a copy of rules whose preset is a script tag, and a
model whose every task failed or is unsupported) are built once per module with 200
bootstrap resamples. The HTML pages are also rendered by headless Chromium (Debian's
``chromium`` package) when it is installed; those tests skip otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from bench_config import copy_run, run_model
from headless import TableRows, needs_chromium
from headless import chromium as _chromium
from huggingface_hub import EvalResult, ModelCardData
from huggingface_hub.repocard_data import model_index_to_eval_results

from bench.report import compare, errors_cli, leaderboard_cli
from bench.report.cli import SUBCOMMANDS
from bench.report.leaderboard import (
    ROBUSTNESS_RULE,
    LeaderboardError,
    build_leaderboard,
    ner_label_f1,
    ranks_from_tests,
)
from bench.report.render.html_page import ner_label_table
from bench.report.render.latex import latex_escape

SCRIPT = "<script>alert(1)</script>"
RESAMPLES = "200"
PLOTS = (
    "ner_per_label_f1.png",
    "attribution_by_quote_type.png",
    "toxicity_roc.png",
    "toxicity_pr.png",
    "toxicity_calibration.png",
    "toxicity_bias_heatmap.png",
)


def _make_run(out: Path, model: str | dict, preset: str) -> Path:
    run_model(out, model, f"bootstrap.resamples={RESAMPLES}", preset=preset)
    return out


def _cli(module, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.main(parser.parse_args(list(argv)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    out = {name: _make_run(base / name, name, name) for name in ("oracle", "rules", "empty")}
    out["broken"] = _make_run(
        base / "broken", {"_target_": "adapters_for_tests.NanToxicity"}, "broken"
    )  # toxicity fails (NaN scores), ner and attribution unsupported

    def rename(result):
        result["model"]["preset"] = result["model"]["name"] = SCRIPT

    out["script"] = copy_run(out["rules"], base / "script", rename)
    return out


@pytest.fixture(scope="module")
def board_dir(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("board")
    sources = [str(runs[n]) for n in ("empty", "script", "broken", "rules", "oracle")]
    assert _cli(leaderboard_cli, *sources, "--out", str(out), "--resamples", RESAMPLES) == 0
    return out


def _by_name(data: dict) -> dict[str, dict]:
    return {m["name"]: m for m in data["models"]}


# ----------------------------------------------------------------------------- files


def test_subcommands_are_registered():
    assert SUBCOMMANDS["leaderboard"][0] == "bench.report.leaderboard_cli"
    assert SUBCOMMANDS["errors"][0] == "bench.report.errors_cli"


def test_every_output_file_exists_and_parses(board_dir, runs):
    sha = json.loads((runs["rules"] / "result.json").read_text())["dataset"]["sha256"]
    data = json.loads((board_dir / "leaderboard.json").read_text())
    assert data["dataset"]["sha256"] == sha and data["dataset"]["name"] == "seed_article"
    assert data["bench_versions"] == ["0.1.0"]
    # competitors (ranked on all three tasks, then broken: ranked on none), then references
    names = [m["name"] for m in data["models"]]
    assert names == [SCRIPT, "rules", "broken", "oracle", "empty"]
    assert [m["reference"] for m in data["models"]] == [None, None, None, "ceiling", "floor"]

    rows = list(csv.DictReader(io.StringIO((board_dir / "leaderboard.csv").read_text())))
    assert [r["model"] for r in rows] == [m["name"] for m in data["models"]]
    oracle = next(r for r in rows if r["model"] == "oracle")
    assert (oracle["reference"], oracle["ner.rank"], oracle["position"]) == ("ceiling", "", "")
    assert {r["ner.rank"] for r in rows if r["model"] == "rules"} == {"1"}
    broken = next(r for r in rows if r["model"] == "broken")
    assert (broken["ner.status"], broken["toxicity.status"]) == ("unsupported", "failed")
    assert broken["toxicity.roc_auc"] == ""

    md = (board_dir / "leaderboard.md").read_text()
    assert sha in md and "seed_article" in md and "0.1.0" in md
    broken_line = next(line for line in md.splitlines() if "| broken " in line)
    assert broken_line.count("—") == 8  # position, value and rank of three tasks, mean rank
    assert "not ranked" in broken_line
    assert "## Reference runs (not ranked)" in md

    tex = (board_dir / "leaderboard.tex").read_text()
    for command in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}"):
        assert command in tex
    assert tex.count("\\begin{") == tex.count("\\end{")
    assert "seed\\_article" in tex

    html_text = (board_dir / "index.html").read_text()
    assert html_text.startswith("<!DOCTYPE html>") and "http://" not in html_text
    assert "https://" not in html_text
    for name in PLOTS:
        png = (board_dir / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000, name
        assert f'id="plot-{name.removesuffix(".png")}"' in html_text

    cards = sorted(p.name for p in (board_dir / "model-index").iterdir())
    # broken has no ok result: no card (an empty model-index says nothing)
    assert cards == ["empty.yaml", "oracle.yaml", "rules.yaml", "script_alert_1_script.yaml"]
    card = ModelCardData(**yaml.safe_load((board_dir / "model-index" / "rules.yaml").read_text()))
    assert card.model_name == "rules" and card.datasets is None  # the seed article: no Hub id
    name, results = model_index_to_eval_results(card.to_dict()["model-index"])
    assert name == "rules"
    tasks = {r.task_type for r in results}
    assert tasks == {"token-classification", "quote-attribution", "text-classification"}
    ner = next(r for r in results if r.task_type == "token-classification")  # primary first
    assert (ner.dataset_type, ner.dataset_name, ner.dataset_config) == (
        "seed_article", "seed_article", "1.0.0"
    )  # fmt: skip
    assert ner.dataset_args == {"sha256": sha} and ner.dataset_split == "test"
    rules = json.loads((runs["rules"] / "result.json").read_text())["tasks"]["ner"]
    assert (ner.metric_type, ner.metric_name) == ("f1", "strict F1 (strict_f1)")
    assert ner.metric_value == round(rules["metrics"]["strict_f1"]["value"], 6)
    assert 0 < ner.metric_value < 1


@pytest.fixture(scope="module")
def robust_board(runs, tmp_path_factory) -> Path:
    """rules under two perturbations beside oracle and empty, run without any."""
    base = tmp_path_factory.mktemp("robust")
    run_model(base / "rules", "rules", "+perturb=[casing,typos]", "perturb.typos.rate=0.2",
              f"bootstrap.resamples={RESAMPLES}", preset="rules")  # fmt: skip
    out = base / "board"
    sources = [str(base / "rules"), str(runs["oracle"]), str(runs["empty"])]
    assert _cli(leaderboard_cli, *sources, "--out", str(out), "--resamples", RESAMPLES) == 0
    return out


def test_robustness_columns_show_the_worst_change_and_a_dash_without(robust_board):
    data = _by_name(json.loads((robust_board / "leaderboard.json").read_text()))
    result = json.loads(Path(data["rules"]["run"], "result.json").read_text())["robustness"]
    deltas = {p: result[p]["ner"]["metrics"]["strict_f1"] for p in ("casing", "typos")}
    worst = min(deltas, key=lambda p: deltas[p]["delta"])
    assert deltas[worst]["delta"] < 0  # rules reads capitals: casing=lower costs it
    expected = deltas[worst]["delta"], deltas[worst]["ci95"]["low"], deltas[worst]["ci95"]["high"]
    ner = data["rules"]["robustness"]["ner"]
    assert (ner["change"], ner["low"], ner["high"], ner["perturbation"]) == (*expected, worst)
    assert set(data["rules"]["robustness"]) == {"ner", "attribution", "toxicity"}
    assert data["empty"]["robustness"] == {"ner": None, "attribution": None, "toxicity": None}

    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(
        (robust_board / "leaderboard.csv").read_text()))}  # fmt: skip
    assert rows["rules"]["ner.worst_perturbation"] == worst
    assert float(rows["rules"]["ner.worst_delta"]) == pytest.approx(expected[0])
    assert rows["empty"]["ner.worst_delta"] == rows["empty"]["ner.worst_perturbation"] == ""

    md = (robust_board / "leaderboard.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| #"))
    assert "NER strict F1 worst Δ [95% CI]" in header
    rules_line = next(line for line in md.splitlines() if "| rules " in line)
    assert f"{expected[0]:.3f} [{expected[1]:.3f}, {expected[2]:.3f}] {worst}" in rules_line
    empty_line = next(line for line in md.splitlines() if "| empty " in line)
    assert [c.strip() for c in empty_line.strip(" |").split("|")][-3:] == ["—"] * 3
    page = (robust_board / "index.html").read_text()
    assert "worst Δ" in page and ">Perturbation</button>" in page
    # the columns are explained on the page and in the Markdown, each saying what its
    # table does with a run made without: the page leaves it out, the Markdown a dash
    explained = page.split(f'<p class="meta">{ROBUSTNESS_RULE}')[1].split("</p>")[0]
    assert "Only the runs made under a perturbation are listed" in explained
    assert "made without" not in explained
    # a table beside the ranking (which it is not part of), of the runs made under
    # perturbations only: the reference runs, made without, get no row of dashes
    for table in ("leaderboard", "references"):
        assert "worst Δ" not in page.split(f'id="{table}"')[1].split("</table>")[0]
    robustness = TableRows("robustness")
    robustness.feed(page)
    assert [row[0] for row in robustness.rows] == ["rules"]
    assert f"{expected[0]:.3f} [{expected[1]:.3f}, {expected[2]:.3f}]" in robustness.rows[0][1]
    assert robustness.rows[0][2] == worst
    assert f"- Robustness: {ROBUSTNESS_RULE} — for a run made without." in md
    assert "worst $\\Delta$" in (robust_board / "leaderboard.tex").read_text()
    png = (robust_board / "robustness_deltas.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_runs_of_one_model_are_told_apart_by_their_perturbations(runs, robust_board, tmp_path):
    # a sweep `bench -m +model=rules +perturb=typos,casing` was listed as
    # "rules (f32cb459)" and "rules (f32cb459) #2": the same fingerprint twice
    perturbed = robust_board.parent / "rules"
    again = tmp_path / "again"
    shutil.copytree(runs["rules"], again)
    board = build_leaderboard([str(runs["rules"]), str(perturbed), str(again)], n_resamples=50)
    names = {e.run.directory: e.name for e in board.entries}
    assert [names[runs["rules"]], names[perturbed], names[again]] == [
        "rules", "rules (+perturb=[casing,typos])", "rules #2"
    ]  # fmt: skip


def test_a_board_without_robustness_has_no_robustness_columns(board_dir):
    assert "worst" not in (board_dir / "leaderboard.md").read_text()
    assert "Worst Δ" not in (board_dir / "index.html").read_text()
    assert "worst" not in (board_dir / "leaderboard.csv").read_text()
    assert not (board_dir / "robustness_deltas.png").exists()


def _card(board: Path, slug: str) -> tuple[ModelCardData, list[EvalResult]]:
    """A written card, loaded back with huggingface_hub, and its eval results."""
    card = ModelCardData(**yaml.safe_load((board / "model-index" / f"{slug}.yaml").read_text()))
    return card, model_index_to_eval_results(card.to_dict()["model-index"])[1]


def test_wnut17_card_names_the_hub_dataset(tmp_path):
    """The WNUT-17 board's model card names the dataset by its Hub id, ``leondz/wnut_17``."""
    run_model(tmp_path / "rules", "rules_wnut17", "dataset=wnut17", "bootstrap.resamples=0")
    out = tmp_path / "board"
    assert _cli(leaderboard_cli, str(tmp_path / "rules"), "--out", str(out), "--no-plots",
                "--resamples", "50") == 0  # fmt: skip
    card, results = _card(out, "rules_wnut17")
    assert card.datasets == ["leondz/wnut_17"]
    f1 = json.loads((tmp_path / "rules" / "result.json").read_text())["tasks"]["ner"]
    f1 = f1["metrics"]["strict_f1"]["value"]
    ner = results[0]
    assert (ner.task_type, ner.dataset_type, ner.dataset_name) == (
        "token-classification", "leondz/wnut_17", "wnut17"
    )  # fmt: skip
    assert (ner.metric_type, ner.metric_value) == ("f1", round(f1, 6))
    assert {r.task_type for r in results} == {"token-classification"}


def test_ranks_oracle_first_and_ties_where_not_significant(board_dir):
    data = json.loads((board_dir / "leaderboard.json").read_text())
    for task in ("ner", "attribution", "toxicity"):
        ranking = data["tasks"][task]["ranking"]
        assert ranking[0]["model"] == SCRIPT and ranking[0]["rank"] == 1
        assert ranking[0]["vs_above"] is None
        ranks = {r["model"]: r for r in ranking}
        # The script-named copy of rules has identical predictions: p = 1, same rank.
        assert ranks[SCRIPT]["rank"] == ranks["rules"]["rank"] == 1
        tied = ranks["rules"]["vs_above"]  # equal values: ordered by name, "<" before "r"
        assert tied["model"] == SCRIPT and tied["p_value"] == 1.0 and not tied["significant"]
        # The references (oracle: the gold, empty: nothing) are scored but never ranked.
        assert "oracle" not in ranks and "empty" not in ranks and "broken" not in ranks
    by_name = _by_name(data)
    assert by_name["broken"]["tasks"]["toxicity"]["status"] == "failed"
    assert by_name["oracle"]["tasks"]["ner"]["value"] == 1.0
    assert by_name["oracle"]["tasks"]["ner"]["rank"] is None
    assert by_name["empty"]["position"] is by_name["empty"]["mean_rank"] is None
    assert by_name["rules"]["ranked_on"] == ["ner", "attribution", "toxicity"]


def test_ranks_from_tests_chain_ties():
    assert ranks_from_tests([True]) == [1]
    assert ranks_from_tests([True, False, True, False, False, True]) == [1, 1, 3, 3, 3, 6]
    assert ranks_from_tests([True, True, True]) == [1, 2, 3]


def test_per_label_f1_matches_the_run_breakdown(runs):
    from bench.report.compare import Run

    run_ = Run.load(runs["rules"])
    per_label = run_.result["tasks"]["ner"]["breakdown"]["per_label"]
    computed = ner_label_f1(run_, 200, 0)
    for label, scores in per_label.items():
        assert computed[label]["f1"] == pytest.approx(scores["f1"]), label
        assert computed[label]["support"] == scores["support"]
        assert computed[label]["low"] <= computed[label]["f1"] <= computed[label]["high"]
    # the same clusters and draws as the run's own per-label intervals (issue 10)
    ci = next(iter(per_label.values()))["ci95"]["f1"]
    again = ner_label_f1(run_, ci["n_resamples"], ci["seed"])[next(iter(per_label))]
    assert ci["unit"] == "cluster" and (again["low"], again["high"]) == (ci["low"], ci["high"])


def test_mixed_gold_is_refused_with_exit_2(runs, tmp_path, capsys):
    def other_gold(result):
        result["dataset"]["sha256"] = "0" * 64

    other = copy_run(runs["empty"], tmp_path / "other", other_gold)
    out = tmp_path / "board"
    code = _cli(leaderboard_cli, str(runs["rules"]), str(other), "--out", str(out))
    assert code == 2
    assert "different gold" in capsys.readouterr().err
    assert not out.exists()


def test_missing_run_and_glob_are_exit_2(tmp_path, capsys):
    assert _cli(leaderboard_cli, str(tmp_path / "nope-*"), "--out", str(tmp_path / "o")) == 2
    assert "no run directory matches" in capsys.readouterr().err
    assert _cli(leaderboard_cli, str(tmp_path), "--out", str(tmp_path / "o")) == 2


def test_globs_expand_and_output_is_deterministic(runs, board_dir, tmp_path):
    out = tmp_path / "again"
    parent = runs["rules"].parent  # every run directory of the module lives here
    assert (
        _cli(leaderboard_cli, str(parent / "*"), "--out", str(out), "--resamples", RESAMPLES) == 0
    )
    first = sorted(p.relative_to(board_dir) for p in board_dir.rglob("*") if p.is_file())
    second = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        if rel.name == "leaderboard.json":  # holds the run directories as given
            continue
        assert (board_dir / rel).read_bytes() == (out / rel).read_bytes(), rel
    a = json.loads((board_dir / "leaderboard.json").read_text())
    b = json.loads((out / "leaderboard.json").read_text())
    assert a["tasks"] == b["tasks"]


def test_text_from_results_is_escaped(board_dir):
    html_text = (board_dir / "index.html").read_text()
    assert SCRIPT not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert html_text.count("<script>") == 1  # the page's own sorting script
    md = (board_dir / "leaderboard.md").read_text()
    assert SCRIPT not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    tex = (board_dir / "leaderboard.tex").read_text()
    assert "\\textless{}script\\textgreater{}alert(1)\\textless{}/script\\textgreater{}" in tex
    card, _ = _card(board_dir, "script_alert_1_script")
    assert card.model_name == SCRIPT  # YAML is data: kept verbatim


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
@pytest.mark.parametrize("board", ["board_dir", "robust_board"])
def test_latex_table_compiles(board, tmp_path, request):
    board_dir = request.getfixturevalue(board)
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\usepackage[margin=1cm,landscape]{geometry}\n\\begin{document}\n"
        f"\\input{{{board_dir / 'leaderboard.tex'}}}\n\\end{{document}}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_no_plots_writes_no_png(runs, tmp_path):
    out = tmp_path / "board"
    sources = [str(runs["rules"]), str(runs["empty"])]
    assert (
        _cli(leaderboard_cli, *sources, "--out", str(out), "--resamples", "50", "--no-plots") == 0
    )
    assert not list(out.glob("*.png")) and (out / "index.html").is_file()
    assert "<img" not in (out / "index.html").read_text()


def test_latex_escape_covers_special_characters():
    assert latex_escape("a_b & 50% $x$ #1 {y} ~z ^w \\") == (
        "a\\_b \\& 50\\% \\$x\\$ \\#1 \\{y\\} \\textasciitilde{}z \\textasciicircum{}w "
        "\\textbackslash{}"
    )


def test_build_leaderboard_api(runs):
    board = build_leaderboard([str(runs["rules"]), str(runs["oracle"])], n_resamples=50)
    assert [e.name for e in board.entries] == ["rules", "oracle"]  # oracle: a reference
    assert board.tasks == ["ner", "attribution", "toxicity"]


def test_each_samples_file_is_read_once_per_build(runs, tmp_path, monkeypatch):
    """Three ranked runs (each tested against its neighbours) and the references: every
    samples file is read once per build (the middle run's twice, its NER thrice, before),
    and let go after it."""
    third = copy_run(
        runs["rules"], tmp_path / "third", _only(("ner", "attribution", "toxicity"), "third")
    )
    reads: dict[Path, int] = {}

    def counted(read):
        def reading(path):
            reads[path] = reads.get(path, 0) + 1
            return read(path)

        return reading

    # row by row, or toxicity's as columns
    for reader in ("_read_json_lines", "_toxicity_columns"):
        monkeypatch.setattr(compare, reader, counted(getattr(compare, reader)))
    sources = [runs["rules"], runs["script"], third, runs["oracle"], runs["empty"]]
    board = build_leaderboard([str(s) for s in sources], n_resamples=20)
    ranked = [e for e in board.entries if e.cells["ner"].rank is not None]
    assert len(ranked) == 3 and len(board.ner_labels) == 5
    # the ranked runs' samples of every task, the reference runs' NER (per-label F1)
    files = {Path(s, "samples", f"{t}.jsonl") for s in sources[:3] for t in board.tasks}
    files |= {Path(s, "samples", "ner.jsonl") for s in sources[3:]}
    assert reads == dict.fromkeys(files, 1)
    board.entries[0].run.samples("ner")  # after the build: read again, not held
    assert reads[Path(board.entries[0].run.directory, "samples", "ner.jsonl")] == 2


def _only(tasks: tuple[str, ...], name: str):
    """An edit keeping ``tasks`` of a run (a model answering fewer tasks), named ``name``."""

    def edit(result):
        result["tasks"] = {t: v for t, v in result["tasks"].items() if t in tasks}
        result["model"]["name"] = name

    return edit


def test_runs_of_different_coverage_are_ranked_apart_and_references_never(runs, tmp_path):
    """Issue 15: a mean rank over tasks a run does not cover put the ``empty`` baseline above
    models answering one task. Now each run is ranked overall only against runs ranked on
    the same tasks, and the references (oracle, empty) are listed apart, never ranked."""
    ner_only = copy_run(runs["rules"], tmp_path / "ner", _only(("ner",), "ner-only"))
    tox_only = copy_run(runs["rules"], tmp_path / "tox", _only(("toxicity",), "tox-only"))
    sources = [runs["empty"], runs["oracle"], tox_only, ner_only, runs["rules"]]
    out = tmp_path / "board"
    assert _cli(leaderboard_cli, *map(str, sources), "--out", str(out), "--no-plots",
                "--resamples", "50") == 0  # fmt: skip
    board = build_leaderboard([str(s) for s in sources], n_resamples=50)
    by_name = {e.name: e for e in board.entries}
    assert [e.name for e in board.entries] == ["rules", "ner-only", "tox-only", "oracle", "empty"]
    assert [e.name for e in board.competitors] == ["rules", "ner-only", "tox-only"]
    # coverage: who is ranked against whom
    assert by_name["rules"].coverage == ("ner", "attribution", "toxicity")
    assert by_name["ner-only"].coverage == ("ner",)
    assert by_name["tox-only"].coverage == ("toxicity",)
    # each alone in its coverage group: position 1 there, no ranking across groups
    assert [by_name[n].position for n in ("rules", "ner-only", "tox-only")] == [1, 1, 1]
    # the references: scored, never ranked (per task or overall), listed after every model
    for name, kind in (("oracle", "ceiling"), ("empty", "floor")):
        e = by_name[name]
        assert e.reference == kind and e.position is None and e.mean_rank is None
        assert all(c.rank is None and c.status == "ok" for c in e.cells.values())
    assert by_name["empty"].cells["ner"].value == 0.0
    # the per-task ranks are among competitors only: rules and its copy tie at 1 on NER
    assert by_name["rules"].cells["ner"].rank == by_name["ner-only"].cells["ner"].rank == 1

    md = (out / "leaderboard.md").read_text()
    competitors, references = md.split("## Reference runs (not ranked)")

    def rows_of(text: str) -> list[list[str]]:  # position, model, ranked on
        lines = [line for line in text.splitlines() if line.startswith("| ")][1:]
        return [[c.strip() for c in line.split("|")[1:4]] for line in lines]

    assert rows_of(competitors) == [
        ["1", "rules", "NER, Attribution, Toxicity"], ["1", "ner-only", "NER"],
        ["1", "tox-only", "Toxicity"],
    ]  # fmt: skip
    assert rows_of(references) == [
        ["—", "oracle", "reference (ceiling)"], ["—", "empty", "reference (floor)"],
    ]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert [(r["model"], r["ranked_on"], r["reference"]) for r in rows][1:] == [
        ("ner-only", "ner", ""), ("tox-only", "toxicity", ""),
        ("oracle", "", "ceiling"), ("empty", "", "floor"),
    ]  # fmt: skip


def test_the_reference_mark_comes_from_the_adapter_not_the_name(runs, tmp_path):
    """A run named ``oracle`` by whoever made it competes; only the adapter's mark (recorded
    in ``model.reference``) makes a reference, and a bad mark is refused by name."""
    named = copy_run(runs["rules"], tmp_path / "named", _only(("ner",), "oracle"))
    board = build_leaderboard([str(named), str(runs["rules"])], n_resamples=50)
    assert [(e.name, e.reference) for e in board.competitors] == [
        ("rules", None), ("oracle", None),
    ]  # fmt: skip

    def bad_mark(result):
        result["model"]["reference"] = "best"

    bad = copy_run(runs["rules"], tmp_path / "bad", bad_mark)
    with pytest.raises(LeaderboardError, match=r"bad/result.json: model.reference: .*'best'"):
        build_leaderboard([str(bad), str(runs["rules"])], n_resamples=50)


def test_per_label_views_leave_out_labels_without_gold_or_predictions(runs):
    """A label with neither gold nor predictions (here, the per-label record of a label
    kept with zero counts) has no F1: not in the per-label table, nor the plot's labels."""
    board = build_leaderboard([str(runs["rules"]), str(runs["empty"])], n_resamples=50)
    none = {"f1": 0.0, "low": None, "high": None, "support": 0, "predicted": 0}
    board.ner_labels["empty"]["NOTHING"] = none
    spare = {"f1": 0.0, "low": None, "high": None, "support": 0, "predicted": 2}
    board.ner_labels["rules"]["SPARE"] = spare  # predicted, never gold: kept
    names = board.ner_label_names()
    assert "NOTHING" not in names and "SPARE" in names and "PERSON" in names
    rows = [row[0].text for row in ner_label_table(board).rows]
    assert rows == names


def test_a_board_of_references_only_ranks_nobody(runs, tmp_path):
    out = tmp_path / "board"
    assert _cli(leaderboard_cli, str(runs["oracle"]), str(runs["empty"]), "--out", str(out),
                "--no-plots", "--resamples", "50") == 0  # fmt: skip
    md = (out / "leaderboard.md").read_text()
    assert "No model to rank: every run is a reference run." in md
    data = json.loads((out / "leaderboard.json").read_text())
    assert all(task["ranking"] == [] for task in data["tasks"].values())


def test_hatecheck_board_shows_accuracy_per_functionality(tmp_path):
    """The HateCheck board: a table of toxicity accuracy per functionality (the run's
    ``breakdown.groups``), in index.html and leaderboard.json, for every scored run."""
    sources = [tmp_path / "rules", tmp_path / "empty"]
    for source in sources:
        run_model(source, source.name, "dataset=hatecheck", "bootstrap.resamples=50")
    out = tmp_path / "board"
    assert _cli(leaderboard_cli, *map(str, sources), "--out", str(out), "--no-plots",
                "--resamples", "50") == 0  # fmt: skip
    groups = json.loads((sources[0] / "result.json").read_text())["tasks"]["toxicity"]
    groups = groups["breakdown"]["groups"]
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["toxicity_groups"]["rules"] == groups
    table = TableRows("toxicity-groups")
    table.feed((out / "index.html").read_text())
    assert [row[0] for row in table.rows] == sorted(groups)
    derog = next(row for row in table.rows if row[0] == "derog_neg_emote_h")
    emote = groups["derog_neg_emote_h"]
    assert derog[1:3] == [str(emote["n"]), f"{emote['accuracy']:.3f}"]
    assert derog[3] == "0.000"  # empty predicts nothing toxic: every hateful case missed
    card, results = _card(out, "rules")
    assert card.datasets == ["Paul/hatecheck"]
    assert {(r.task_type, r.dataset_type) for r in results} == {
        ("text-classification", "Paul/hatecheck")
    }


def test_a_run_is_listed_under_its_name(runs, tmp_path):
    """``bench … name=X`` names the entry (e.g. one of several prediction-file submissions);
    result files without a name fall back to the preset."""

    def name_it(result):
        result["model"]["name"] = "team-x"

    def drop_name(result):
        del result["model"]["name"]

    named = copy_run(runs["rules"], tmp_path / "named", name_it)
    unnamed = copy_run(runs["empty"], tmp_path / "unnamed", drop_name)
    board = build_leaderboard([str(named), str(unnamed)], n_resamples=50)
    assert sorted(e.name for e in board.entries) == ["empty", "team-x"]


# ----------------------------------------------------------------------------- errors page


class _Collector(HTMLParser):
    """Classes of <mark> elements and the rows of tables, from a static HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "mark":
            self.marks.append(attrs.get("class", ""))
        if tag == "script":
            self.scripts += 1


def test_errors_page_classes_and_escaping(runs, tmp_path):
    out = tmp_path / "errors.html"
    assert _cli(errors_cli, str(runs["script"]), "--out", str(out)) == 0
    text = out.read_text()
    parser = _Collector()
    parser.feed(text)
    assert {"correct", "missed", "spurious", "wrong-type"} <= set(parser.marks)
    assert parser.scripts == 1 and SCRIPT not in text
    assert "Mexico" in text  # document text re-loaded from the dataset
    for cls in ("missed", "spurious", "wrong speaker"):
        assert f">{cls}" in text, cls
    # toxicity rows sorted by |score - gold|, largest first
    segment = text.split('id="toxicity-segment"')[1].split("</table>")[0]
    errors = [float(x) for x in re.findall(r'<td class="num" data-sort="([0-9.e-]+)">', segment)]
    per_row = errors[2::3]  # gold, score, error per row
    assert per_row == sorted(per_row, reverse=True) and per_row[0] > 0.5


def test_errors_page_without_dataset_lists_spans(runs, tmp_path):
    out = tmp_path / "errors.html"
    assert _cli(errors_cli, str(runs["rules"]), "--out", str(out), "--no-dataset") == 0
    text = out.read_text()
    assert "spans recorded in the samples only" in text
    assert '<ul class="spans">' in text


def test_errors_page_missing_run_is_exit_2(tmp_path):
    assert _cli(errors_cli, str(tmp_path), "--out", str(tmp_path / "x.html")) == 2


# ----------------------------------------------------------------------------- Chromium


@needs_chromium
def test_chromium_renders_rows_without_injection_or_console_errors(board_dir, tmp_path):
    dom, console = _chromium(tmp_path, (board_dir / "index.html").as_uri(), "--dump-dom")
    assert console == []
    table = TableRows("leaderboard")
    table.feed(dom)
    models = [row[1] for row in table.rows]
    assert models == [SCRIPT, "rules", "broken"]  # the preset renders as text
    broken = table.rows[models.index("broken")]
    assert broken[2:9] == ["not ranked"] + ["—"] * 6
    references = TableRows("references")
    references.feed(dom)
    assert [row[1:3] for row in references.rows] == [
        ["oracle", "reference (ceiling)"],
        ["empty", "reference (floor)"],
    ]
    assert len(table.scripts) == 1 and "alert(1)" not in table.scripts[0]
    ner = TableRows("ner-per-label")
    ner.feed(dom)
    assert {row[0] for row in ner.rows} >= {"GPE", "PERSON", "ORG"}
    bias = TableRows("bias-rules")
    bias.feed(dom)
    assert "mexican" in {row[0] for row in bias.rows}
    assert dom.count('<img src="data:image/png;base64,') == len(PLOTS)


@needs_chromium
def test_chromium_shows_every_column_of_the_ranking_at_1280_px(runs, robust_board, tmp_path):
    # three tasks and NER's robustness (spaCy's on the seed article): the last columns were
    # cut off (scrolled out); the intervals now wrap, whole, under their values
    def ner_only(result):
        result["robustness"] = {p: {"ner": r["ner"]} for p, r in result["robustness"].items()}

    rules = copy_run(robust_board.parent / "rules", tmp_path / "rules", ner_only)
    out = tmp_path / "board"
    sources = [str(rules), str(runs["oracle"]), str(runs["empty"])]
    assert _cli(leaderboard_cli, *sources, "--out", str(out), "--resamples", "20",
                "--no-plots") == 0  # fmt: skip
    probe = """<script>
    var table = document.getElementById("leaderboard");
    var ci = table.querySelector(".ci");
    document.body.setAttribute("data-overflow", String(
      table.scrollWidth - table.parentElement.clientWidth));
    document.body.setAttribute("data-ci-lines", String(ci.getClientRects().length));
    </script></body>"""
    probe_page = tmp_path / "probe.html"
    probe_page.write_text((out / "index.html").read_text().replace("</body>", probe))
    dom, console = _chromium(tmp_path, probe_page.as_uri(), "--dump-dom",
                             "--window-size=1280,900")  # fmt: skip
    assert console == []
    body = TableRows("leaderboard")
    body.feed(dom)
    assert int(body.attrs["data-overflow"]) <= 0
    assert body.attrs["data-ci-lines"] == "1"  # an interval is never split


@needs_chromium
def test_chromium_sorts_the_table_on_header_click(board_dir, tmp_path):
    page = (board_dir / "index.html").read_text()
    probe = """<script>
    (function () {
      function order() {
        var rows = document.querySelectorAll("#leaderboard tbody tr:not(.group)");
        return Array.prototype.map.call(rows, function (r) { return r.cells[1].textContent; });
      }
      var buttons = document.querySelectorAll("#leaderboard thead th button");
      buttons[1].click();  // Model: ascending
      document.body.setAttribute("data-by-model", JSON.stringify(order()));
      buttons[1].click();  // Model again: descending
      document.body.setAttribute("data-by-model-desc", JSON.stringify(order()));
      buttons[7].click();  // Toxicity ROC-AUC: best first, missing last
      document.body.setAttribute("data-by-toxicity", JSON.stringify(order()));
    })();
    </script></body>"""
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(page.replace("</body>", probe))
    dom, console = _chromium(tmp_path, probe_page.as_uri(), "--dump-dom")
    assert console == []
    body = TableRows("leaderboard")
    body.feed(dom)
    # sorted within each coverage group (ranked on all three tasks; on none): never mixed
    assert json.loads(body.attrs["data-by-model"]) == [SCRIPT, "rules", "broken"]
    assert json.loads(body.attrs["data-by-model-desc"]) == ["rules", SCRIPT, "broken"]
    by_toxicity = json.loads(body.attrs["data-by-toxicity"])
    assert set(by_toxicity[:2]) == {"rules", SCRIPT} and by_toxicity[-1] == "broken"


@needs_chromium
def test_chromium_screenshot_is_not_blank(board_dir, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    _, console = _chromium(
        tmp_path,
        (board_dir / "index.html").as_uri(),
        f"--screenshot={shot}",
        "--window-size=1280,900",
        "--hide-scrollbars",
    )
    assert console == []
    assert shot.is_file() and shot.stat().st_size > 20_000
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1280)
    assert pixels.std() > 0.05  # not a flat page
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.01  # some dark text on it


@needs_chromium
def test_chromium_renders_the_errors_page(runs, tmp_path):
    out = tmp_path / "errors.html"
    assert _cli(errors_cli, str(runs["script"]), "--out", str(out)) == 0
    dom, console = _chromium(tmp_path, out.as_uri(), "--dump-dom")
    assert console == []
    parser = _Collector()
    parser.feed(dom)
    assert parser.scripts == 1
    assert {"correct", "missed", "spurious", "wrong-type"} <= set(parser.marks)
    rows = TableRows("attribution")
    rows.feed(dom)
    assert {r[0].split(" (")[0] for r in rows.rows} >= {"missed", "wrong speaker", "correct"}


def test_runs_tied_in_rank_are_listed_best_value_first(runs, tmp_path):
    """Same samples (so every paired test ties) but lower reported values: listed second,
    though its name sorts first."""

    def lower(result):
        result["model"]["name"] = "aaa"
        for task in result["tasks"].values():
            for metric in task["metrics"].values():
                if metric["value"] is not None:
                    metric["value"] -= 0.01

    copy = copy_run(runs["rules"], tmp_path / "aaa", lower)
    board = build_leaderboard([str(copy), str(runs["rules"])], n_resamples=50)
    assert [e.cells["ner"].rank for e in board.entries] == [1, 1]
    assert [e.name for e in board.entries] == ["rules", "aaa"]


def test_errors_page_shows_quote_types_and_type_confusions(runs, tmp_path):
    run = copy_run(runs["rules"], tmp_path / "run", lambda result: None)
    path = run / "samples" / "attribution.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    matched = next(r for r in rows if r["gold"] and r["pred"] and r["gold"]["type"] == "direct")
    matched["pred"]["type"] = "mixed"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "errors.html"
    assert _cli(errors_cli, str(run), "--out", str(out)) == 0
    table = out.read_text().split('<table class="sortable" id="attribution">')[1]
    section = table.split("</table>")[0]
    assert ">Type</button>" in section
    assert section.count("direct → mixed") == 1
    assert ">indirect<" in section
