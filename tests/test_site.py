"""``bench-report site``: an index and one leaderboard page per dataset, from real runs.

The runs (50 bootstrap resamples) cover three datasets and different task sets: on the
seed article the rules on all three tasks, a copy answering NER only, one answering
toxicity only, a constant predictor that competes (a copy of ``empty`` without its
reference mark) and the reference runs ``oracle`` and ``empty``; the rules, ``oracle`` and
``empty`` on HateCheck; the rules and ``empty`` on WNUT-17. The pages are also rendered by
headless Chromium when it is installed (tests/headless.py); those tests skip otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bench_config import copy_run, run_model
from headless import TableRows, chromium, needs_chromium

from bench.report import site as site_module
from bench.report.leaderboard import build_leaderboard
from bench.report.render import plots
from bench.report.site import build_site
from bench.report.tables import fmt

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
RESAMPLES = 50
DATASETS = {"seed_article", "hatecheck", "wnut17"}
REFERENCES = {"oracle", "empty"}


def _only(tasks: tuple[str, ...], name: str):
    def edit(result):
        result["tasks"] = {t: v for t, v in result["tasks"].items() if t in tasks}
        result["model"]["name"] = name

    return edit


def _competing(result):
    """``empty`` as a competitor: a constant predictor someone submitted as a model."""
    del result["model"]["reference"]
    result["model"]["name"] = "always-no"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    out: dict[str, Path] = {}
    for dataset, presets in (
        ("seed_article", ("oracle", "empty", "rules")),
        ("hatecheck", ("oracle", "empty", "rules")),
        ("wnut17", ("empty", "rules_wnut17")),
    ):
        for preset in presets:
            path = base / dataset / preset
            run_model(path, preset, f"dataset={dataset}", f"bootstrap.resamples={RESAMPLES}")
            out[f"{dataset}/{preset}"] = path
    seed = base / "seed_article"
    out["ner-only"] = copy_run(out["seed_article/rules"], seed / "ner", _only(("ner",), "ner-only"))
    tox = _only(("toxicity",), "tox-only")
    out["tox-only"] = copy_run(out["seed_article/rules"], seed / "tox", tox)
    out["always-no"] = copy_run(out["seed_article/empty"], seed / "always-no", _competing)
    return out


PERTURB = "+perturb=[casing,name_swap]"
DEGRADED = {"_target_": "degraded_adapters.DegradedRules", "drop_every": 2, "noise": 0.05}


@pytest.fixture(scope="module")
def perturbed(tmp_path_factory) -> dict[str, Path]:
    """Runs under two perturbations: on the seed article the rules, a degraded copy of
    them (both ranked) and the empty baseline (a reference run: never in the summary); on
    WNUT-17 the rules alone."""
    base = tmp_path_factory.mktemp("perturbed")
    common = (PERTURB, f"bootstrap.resamples={RESAMPLES}")
    run_model(base / "rules", "rules", *common, "name=rules-perturbed")
    run_model(base / "degraded", DEGRADED, *common, "name=degraded", preset="degraded")
    run_model(base / "empty", "empty", *common)
    run_model(base / "wnut17", "rules_wnut17", "dataset=wnut17", *common, "name=alone")
    return {
        "rules-perturbed": base / "rules",
        "degraded": base / "degraded",
        "empty": base / "empty",
        "alone": base / "wnut17",
    }


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("published") / "site"
    # folders of runs and single runs, as the leaderboard takes them
    sources = [runs["seed_article/rules"].parent, runs["hatecheck/rules"].parent]
    sources += [runs["wnut17/empty"], runs["wnut17/rules_wnut17"]]
    build_site(sources, out, resamples=RESAMPLES, seed=0)
    return out


def _pages(site: Path) -> list[Path]:
    return [site / "index.html", *sorted(site.glob("*/index.html"))]


class _Links(HTMLParser):
    """Every link (``href``) and resource (``src``) of a page, and its tags."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, dict[str, str]]] = []  # (tag, url, attrs)
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        for name in ("href", "src"):
            if name in attrs:
                self.links.append((tag, attrs[name], attrs))


def _links(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text())
    return parser


def _table(page: Path, table_id: str) -> TableRows:
    table = TableRows(table_id)
    table.feed(page.read_text())
    return table


def _headers(page: str, table_id: str) -> list[str]:
    """The column headers of the table ``table_id`` of the HTML ``page``."""
    head = page.split(f'id="{table_id}"', 1)[1].split("</thead>", 1)[0]
    return [cell.split("</button>")[0] for cell in head.split('<button type="button">')[1:]]


def _board(site: Path, dataset: str) -> dict:
    return json.loads((site / dataset / "leaderboard.json").read_text())


# ----------------------------------------------------------------------------- files


def test_every_dataset_has_a_page_and_every_link_resolves(site):
    assert {p.parent.name for p in site.glob("*/index.html")} == DATASETS
    for page in _pages(site):
        links = _links(page)
        hrefs = [url for tag, url, _ in links.links if tag == "a"]
        assert hrefs, page
        for url in hrefs:
            assert not url.startswith(("/", "file:")) and ":" not in url, (page, url)
            assert (page.parent / url).resolve().is_file(), (page, url)
    index_links = {url for tag, url, _ in _links(site / "index.html").links if tag == "a"}
    assert {f"{d}/index.html" for d in DATASETS} <= index_links
    for dataset in DATASETS:  # each page: back to the index and on to every other dataset
        nav = {url for tag, url, _ in _links(site / dataset / "index.html").links if tag == "a"}
        assert {"../index.html"} | {f"../{d}/index.html" for d in DATASETS} <= nav


def test_no_page_loads_anything_from_the_network(site):
    for page in _pages(site):
        text = page.read_text()
        assert "http://" not in text and "https://" not in text, page
        links = _links(page)
        assert "link" not in links.tags, page  # no stylesheet or font to fetch
        for tag, url, _ in links.links:
            if tag == "img":
                assert url.startswith("data:image/png;base64,"), page
            assert tag in ("a", "img"), (page, tag)  # no <script src>, <iframe> …


def test_downloads_exist_and_parse(site):
    for dataset in DATASETS:
        page = site / dataset / "index.html"
        downloads = [url for tag, url, attrs in _links(page).links if "download" in attrs]
        assert {"leaderboard.csv", "leaderboard.json"} <= set(downloads)
        for name in downloads:
            path = page.parent / name
            if name.endswith(".csv"):
                rows = list(csv.DictReader(io.StringIO(path.read_text())))
                models = [m["name"] for m in _board(site, dataset)["models"]]
                assert [r["model"] for r in rows] == models
            elif name.endswith(".json"):
                assert json.loads(path.read_text())["dataset"]["name"] == dataset
            elif name.endswith(".png"):
                assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
            else:
                assert path.stat().st_size > 0
    downloads = {
        url for _, url, a in _links(site / "hatecheck" / "index.html").links if "download" in a
    }
    assert "toxicity_bias_heatmap.png" in downloads
    manifest = json.loads((site / "site.json").read_text())
    assert {d["name"] for d in manifest["datasets"]} == DATASETS
    assert all((site / d["page"]).is_file() for d in manifest["datasets"])


# ----------------------------------------------------------------------------- rankings


def test_reference_runs_are_never_ranked_nor_listed_as_models(site):
    """Issue 15: the ``empty`` baseline was ranked third overall, above real models. On the
    site, reference runs have no position and no rank, and appear as ceiling and floor."""
    for dataset in DATASETS:
        data = _board(site, dataset)
        for model in data["models"]:
            if model["name"] in REFERENCES:
                assert model["reference"] in ("ceiling", "floor")
                assert model["position"] is None and model["mean_rank"] is None
                assert all("rank" not in c or c["rank"] is None for c in model["tasks"].values())
        for task in data["tasks"].values():
            assert not REFERENCES & {r["model"] for r in task["ranking"]}
        page = site / dataset / "index.html"
        ranked = {row[1] for row in _table(page, "leaderboard").rows}
        assert ranked and not ranked & REFERENCES
        if dataset != "wnut17":  # no oracle there
            assert {row[1] for row in _table(page, "references").rows} <= REFERENCES
    best = _table(site / "index.html", "best")
    assert not {row[1] for row in best.rows} & REFERENCES
    floors = {row[0]: row[7] for _, rows in best.groups() for row in rows}
    assert floors["NER strict F1"].startswith("empty 0.000")


def test_index_names_the_best_model_per_task_and_how_sure(site):
    """Per dataset (a row group linking its page), per task: the best competitor, its
    score and interval, tied with or ahead of the runner-up as the paired test says, and
    how many of the page's models are ranked on the task (coverage)."""
    groups = dict(_table(site / "index.html", "best").groups())
    assert set(groups) == DATASETS
    for dataset, rows in groups.items():
        data = _board(site, dataset)
        competitors = [m for m in data["models"] if m["reference"] is None]
        assert [row[0].split(" ")[0] for row in rows] == [
            {"ner": "NER", "attribution": "Attribution", "toxicity": "Toxicity"}[t]
            for t in data["tasks"]
        ]
        for row, (task, record) in zip(rows, data["tasks"].items(), strict=True):
            ranking = record["ranking"]
            best = [r for r in ranking if r["value"] == ranking[0]["value"]]
            rest = ranking[len(best) :]
            assert row[1] == ", ".join(r["model"] for r in best) + " (same score)" * (len(best) > 1)
            assert row[2] == f"{best[0]['value']:.3f} [{best[0]['ci95']['low']:.3f}, " + (
                f"{best[0]['ci95']['high']:.3f}]"
            )
            assert row[5] == f"{len(ranking)} of {len(competitors)} model" + "s" * (
                len(competitors) > 1
            )
            if len(ranking) == 1:
                assert row[3] == "only model ranked"
            elif rest[0]["rank"] == 1:
                assert row[3].startswith(f"tied with {rest[0]['model']}"), (task, row)
            else:
                assert row[3].startswith(f"ahead of {rest[0]['model']} (p"), (task, row)
    seed = {row[0].split(" ")[0]: row for row in groups["seed_article"]}
    # ner-only is the rules' NER: identical predictions, the same score: both are the best
    # (neither picked by its name), ahead of the constant predictor; tox-only not on NER
    always_no = next(r for r in _board(site, "seed_article")["tasks"]["ner"]["ranking"]
                     if r["model"] == "always-no")  # fmt: skip
    assert seed["NER"][1] == "ner-only, rules (same score)" and always_no["rank"] == 3
    assert seed["NER"][3].startswith("ahead of always-no (p")
    assert seed["NER"][5] == "3 of 4 models" and seed["NER"][6] == "oracle 1.000"
    assert groups["wnut17"][0][1:2] == ["rules_wnut17"]


def test_the_index_names_every_model_sharing_the_best_score(runs, tmp_path):
    """Two runs of equal scores on every task: the index names both as the best, marks
    the tie, and names no runner-up (the first named won by its name before)."""
    twin = copy_run(runs["hatecheck/rules"], tmp_path / "twin", _named("a-twin"))
    sources = [twin, runs["hatecheck/rules"], runs["hatecheck/oracle"]]
    build_site(sources, tmp_path / "site", resamples=RESAMPLES, seed=0, with_plots=False)
    ((dataset, rows),) = _table(tmp_path / "site" / "index.html", "best").groups()
    assert dataset == "hatecheck" and rows
    ranking = _board(tmp_path / "site", "hatecheck")["tasks"]["toxicity"]["ranking"]
    interval = f"{ranking[0]['ci95']['low']:.3f}, {ranking[0]['ci95']['high']:.3f}"
    for row in rows:
        assert row[1:4] == [
            "a-twin, rules (same score)",
            f"{ranking[0]['value']:.3f} [{interval}]",
            "every ranked model has the same score",
        ]
        assert row[4] == "—" and row[5] == "2 of 2 models"


def test_index_names_the_most_and_least_robust_model_per_perturbation(runs, perturbed, tmp_path):
    sources = [*perturbed.values(), runs["seed_article/rules"], runs["seed_article/oracle"]]
    sources += [runs["hatecheck/rules"]]  # a dataset without perturbed runs
    build_site(sources, tmp_path / "site", resamples=RESAMPLES, seed=0, with_plots=False)
    table = _table(tmp_path / "site" / "index.html", "robustness")
    [(title, rows), (alone_title, alone)] = table.groups()  # not HateCheck's
    assert (title, alone_title) == ("seed_article", "wnut17")
    result = json.loads((perturbed["alone"] / "result.json").read_text())["robustness"]
    assert [row[:3] + row[4:] for row in alone] == [
        [p, "NER strict F1", "alone", "only model run under it", "—", "1"]
        for p in ("casing", "name_swap")
    ]
    assert alone[0][3].startswith(fmt(result["casing"]["ner"]["metrics"]["strict_f1"]["delta"]))
    results = {name: json.loads((perturbed[name] / "result.json").read_text())
               for name in ("rules-perturbed", "degraded")}  # fmt: skip
    primary = {"ner": "strict_f1", "attribution": "e2e_f1", "toxicity": "roc_auc"}
    titles = {"ner": "NER strict F1", "attribution": "Attribution end-to-end F1",
              "toxicity": "Toxicity ROC-AUC"}  # fmt: skip
    expected = []
    for perturbation in ("casing", "name_swap"):
        for task, metric in primary.items():
            deltas = {name: r["robustness"][perturbation][task]["metrics"][metric]
                      for name, r in results.items()}  # fmt: skip
            order = sorted(deltas, key=lambda name: (-deltas[name]["delta"], name))
            cells = [f"{fmt(deltas[n]['delta'])} [{fmt(deltas[n]['ci95']['low'])}, "
                     f"{fmt(deltas[n]['ci95']['high'])}]" for n in order]  # fmt: skip
            if deltas[order[0]]["delta"] == deltas[order[1]]["delta"]:  # both the best
                row = [", ".join(order), cells[0], "all equal", "—"]
            else:
                row = [order[0], cells[0], order[1], cells[1]]
            expected.append([perturbation, titles[task], *row, "2"])
    assert rows == expected
    # the runs differ: on the rules' weak point (casing), one is the least robust
    assert any(row[4] == "rules-perturbed" for row in rows)


def test_the_index_has_no_robustness_table_without_perturbed_runs(site):
    assert 'id="robustness"' not in (site / "index.html").read_text()


def test_board_pages_group_competitors_by_coverage(site):
    groups = _table(site / "seed_article" / "index.html", "leaderboard").groups()
    assert [(title.split(":")[0], [row[1] for row in rows]) for title, rows in groups] == [
        ("Ranked on NER, Attribution, Toxicity", ["rules", "always-no"]),
        ("Ranked on NER", ["ner-only"]),
        ("Ranked on Toxicity", ["tox-only"]),
    ]
    assert [row[0] for _, rows in groups for row in rows] == ["1", "2", "1", "1"]


def test_the_index_names_the_models_ranked_on_no_task_and_why(runs, tmp_path):
    def fail_all(result):
        for record in result["tasks"].values():
            record.update(status="failed", error="the server answered 500")
        result["model"]["name"] = "down"

    down = copy_run(runs["seed_article/rules"], tmp_path / "down", fail_all)
    out = tmp_path / "site"
    build_site([runs["seed_article/rules"], down], out, resamples=20, seed=0, with_plots=False)
    text = (out / "index.html").read_text()
    assert "<li>Not ranked: down (NER failed, Attribution failed, Toxicity failed)</li>" in text
    assert "1 of 2 models" in text


def test_runs_on_different_gold_get_different_pages(runs, tmp_path):
    def other_gold(result):
        result["dataset"]["sha256"] = "0" * 64
        result["model"]["name"] = "rules-on-other-gold"

    other = copy_run(runs["seed_article/rules"], tmp_path / "other", other_gold)
    out = tmp_path / "site"
    build_site([runs["seed_article/rules"], other], out, resamples=20, seed=0, with_plots=False)
    manifest = json.loads((out / "site.json").read_text())
    pages = {d["sha256"][:8]: d["page"] for d in manifest["datasets"]}
    assert len(pages) == 2 and len(set(pages.values())) == 2
    other_page = json.loads((out / pages["00000000"]).with_name("leaderboard.json").read_text())
    assert [m["name"] for m in other_page["models"]] == ["rules-on-other-gold"]


# ----------------------------------------------------------------------------- HateCheck


def test_hatecheck_page_shows_accuracy_per_target_group(site, runs):
    """Accuracy per target group: of the cases whose ``target_ident`` (HateCheck's CSV) is
    the group, the share the run classifies right (its samples' ``correct``)."""
    from bench.resources import resource_dir

    source = resource_dir("datasets") / "hatecheck" / "test_suite_cases.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        target = {f"case-{r['case_id']}": r["target_ident"] for r in csv.DictReader(handle)}
    lines = (runs["hatecheck/rules"] / "samples" / "toxicity.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    women = [s["correct"] for s in samples if target[s["id"]] == "women"]
    table = _table(site / "hatecheck" / "index.html", "toxicity-identities")
    rows = {row[0]: row for row in table.rows}
    slugs = {t.lower().replace(" ", "_") for t in target.values() if t}
    assert set(rows) == slugs and {"women", "muslims", "trans_people"} <= slugs
    assert rows["women"][1:3] == [str(len(women)), f"{sum(women) / len(women):.3f}"]
    assert rows["women"][3] == "1.000"  # oracle: the reference column, named as such
    women_json = _board(site, "hatecheck")["toxicity_identities"]["rules"]["women"]
    assert women_json == {"accuracy": sum(women) / len(women), "n": len(women)}
    assert _table(site / "hatecheck" / "index.html", "toxicity-groups").rows  # functionalities


# ----------------------------------------------------------------------------- plots


def _png_width(data: bytes) -> int:
    return int.from_bytes(data[16:20], "big")  # IHDR


@pytest.fixture
def figures(monkeypatch) -> list:
    """The matplotlib figures the plots draw, as saved (laid out), in order."""
    drawn: list = []
    save = plots._png

    def keep(fig):
        data = save(fig)
        drawn.append(fig)
        return data

    monkeypatch.setattr(plots, "_png", keep)
    return drawn


def _cut_texts(fig) -> list[str]:
    """The texts of ``fig`` (tick labels, titles, axis labels, legend entries) not wholly
    inside the figure as saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    texts = []
    for ax in fig.axes:
        texts += [*ax.get_xticklabels(), ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += ax.get_legend().get_texts() if ax.get_legend() else []
    texts = [t for t in texts if t.get_text()]
    assert len(texts) > 5
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [text for text, box in boxes
            if not (fig.bbox.contains(*box.min) and fig.bbox.contains(*box.max))]  # fmt: skip


def _named(name: str):
    def edit(result):
        result["model"]["name"] = name

    return edit


def test_reference_runs_are_lines_not_models_on_the_plots(runs, figures):
    """Reference runs add no bars (NER per label) and no heat-map panel: the plots are as
    wide as without them (the heat maps' figures, the bars' axes: the legend names them)."""
    rules = str(runs["seed_article/rules"])
    alone = build_leaderboard([rules], n_resamples=20)
    with_references = build_leaderboard(
        [rules, str(runs["seed_article/oracle"]), str(runs["seed_article/empty"])], n_resamples=20
    )
    heat_maps = [_png_width(plots.bias_heatmap(board)) for board in (with_references, alone)]
    assert heat_maps[0] == heat_maps[1]
    plots.ner_per_label(with_references)
    plots.ner_per_label(alone)
    bars = [fig.axes[0].get_window_extent().width for fig in figures[-2:]]
    assert bars[0] == pytest.approx(bars[1], abs=1)
    assert figures[-2].get_figwidth() > figures[-1].get_figwidth()  # a longer legend


def test_the_bar_plots_keep_every_text_inside_the_figure(runs, perturbed, figures, tmp_path):
    """Long run names (a model's, a reference run's) take room beside the plot, and the
    legend of many runs takes columns: the rotated labels, the titles and the legend were
    cut off the figure when they squeezed the plot or ran past it."""
    long_floor = "floor-" + "b" * 50
    wnut17 = [
        copy_run(runs["wnut17/rules_wnut17"], tmp_path / "long", _named(LONG_NAME)),
        copy_run(runs["wnut17/empty"], tmp_path / "floor", _named(long_floor)),
    ]
    seed = [
        copy_run(perturbed["rules-perturbed"], tmp_path / "seed-long", _named(LONG_NAME)),
        copy_run(runs["seed_article/empty"], tmp_path / "seed-floor", _named(long_floor)),
    ]
    crowd = [runs["wnut17/empty"]] + [
        copy_run(runs["wnut17/rules_wnut17"], tmp_path / f"team-{k:02d}", _named(f"team-{k:02d}"))
        for k in range(24)
    ]
    for sources, draw in (
        (wnut17, plots.ner_per_label),
        (seed, plots.attribution_by_type),
        (seed, plots.robustness_deltas),
        (crowd, plots.ner_per_label),
    ):
        board = build_leaderboard([str(s) for s in sources], n_resamples=5)
        assert draw(board) is not None, draw.__name__
        assert _cut_texts(figures[-1]) == [], (draw.__name__, len(sources))
    labels = [t.get_text() for t in figures[0].axes[0].get_xticklabels()]
    assert labels == sorted(["corporation", "creative-work", "group", "location", "person",
                             "product"])  # fmt: skip


# ----------------------------------------------------------------------------- the command


def _report(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH_REPORT, *map(str, args)], cwd=cwd, env=os.environ.copy(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_help_says_what_the_command_does_and_when_out_is_replaced(tmp_path):
    done = _report("site", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "a static site: one leaderboard per dataset and an index" in text
    assert "--out OUT the site folder: built beside it and swapped in; an existing one is " \
        "replaced only if it is a site (holds site.json)" in text  # fmt: skip


def test_the_installed_command_builds_the_site_from_another_directory(runs, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    seed, wnut17 = runs["seed_article/rules"].parent, runs["wnut17/rules_wnut17"]
    done = _report("site", seed, wnut17, "--out", "published", "--resamples", 20, "--no-plots",
                   cwd=elsewhere)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # where to open it, and what it holds (the 6 runs of the seed folder, 1 on WNUT-17)
    assert done.stdout == f"2 datasets, 7 runs: {Path('published', 'index.html')}\n"
    assert (elsewhere / "published" / "index.html").is_file()
    assert {p.parent.name for p in (elsewhere / "published").glob("*/index.html")} == {
        "seed_article", "wnut17"
    }  # fmt: skip
    assert [p.name for p in elsewhere.iterdir()] == ["published"]  # no temporary folder left


def _broken(result):
    result["tasks"] = ["not", "an", "object"]


_OK_NER = {"status": "ok", "main_metrics": ["strict_f1"]}


@pytest.mark.parametrize(
    ("robustness", "field", "problem"),
    [
        ([1], "robustness", "expected an object"),
        ({"casing": 3}, "robustness.casing", "expected an object"),
        ({"casing": {"ner": {"status": "ok"}}}, "robustness.casing.ner.main_metrics",
         "expected a list"),
        ({"casing": {"ner": {**_OK_NER, "metrics": {"strict_f1": {"delta": "x"}}}}},
         "robustness.casing.ner.metrics.strict_f1.delta", "expected a number or null, got 'x'"),
        ({"casing": {"ner": {**_OK_NER, "metrics": {"strict_f1": {}}}}},
         "robustness.casing.ner.metrics.strict_f1.delta", "missing"),
        ({"casing": {"ner": {**_OK_NER, "metrics": {}, "entities_lost": {"value": 0.1,
          "ci95": {"low": True}}}}}, "robustness.casing.ner.entities_lost.ci95.low",
         "expected a number or null, got 'True'"),
    ],
)  # fmt: skip
def test_a_malformed_robustness_section_is_one_line_exit_2(runs, tmp_path, robustness, field,
                                                           problem):  # fmt: skip
    # it crashed the site (and leaderboard, check) with a traceback
    bad = copy_run(runs["seed_article/rules"], tmp_path / "bad",
                    lambda result: result.update(robustness=robustness))  # fmt: skip
    done = _report("site", bad, "--out", tmp_path / "site", "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"bench-report site: {bad / 'result.json'}: {field}: {problem}"
    ]
    assert not (tmp_path / "site").exists()


def _set(path: str, value: object):
    """An edit of a result.json setting ``tasks.toxicity.breakdown.<path>`` to ``value``."""

    def edit(result: dict) -> None:
        *parents, key = path.split(".")
        node = result["tasks"]["toxicity"]["breakdown"]
        for parent in parents:
            node = node[parent]
        node[key] = value

    return edit


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        ("identity_accuracy", "x", "identity_accuracy", "expected an object, got 'x'"),
        ("identity_accuracy", {"women": 3}, "identity_accuracy.women",
         "expected an object, got 3"),
        ("groups", {"g": {"accuracy": "a", "n": 2}}, "groups.g.accuracy",
         "expected a number or null, got 'a'"),
        ("bias", "x", "bias", "expected an object, got 'x'"),
        ("bias.subgroups", {"women": {"subgroup_auc": "x"}}, "bias.subgroups.women.subgroup_auc",
         "expected an object, got 'x'"),
    ],
)  # fmt: skip
def test_a_malformed_toxicity_breakdown_is_one_line_exit_2(runs, tmp_path, path, value, field,
                                                           problem):  # fmt: skip
    # per group, per identity and bias tables crashed the pages and plots with a traceback
    bad = copy_run(runs["seed_article/rules"], tmp_path / "bad", _set(path, value))
    done = _report("site", bad, "--out", tmp_path / "site", "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"bench-report site: {bad / 'result.json'}: tasks.toxicity.breakdown.{field}: {problem}"
    ]
    assert not (tmp_path / "site").exists()


def test_bad_input_is_one_line_exit_2_and_leaves_the_previous_site(runs, tmp_path):
    bad = copy_run(runs["seed_article/rules"], tmp_path / "bad", _broken)
    out = tmp_path / "out" / "site"
    done = _report("site", runs["seed_article/rules"], bad, "--out", out, cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == f"bench-report site: {bad / 'result.json'}: tasks: expected an object"
    assert not (tmp_path / "out").exists()  # nothing written

    good = _report("site", runs["seed_article/rules"], "--out", out, "--no-plots",
                   "--resamples", 20, cwd=tmp_path)  # fmt: skip
    assert good.returncode == 0, good.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    done = _report("site", runs["seed_article/rules"], bad, "--out", out, cwd=tmp_path)
    assert done.returncode == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in out.parent.iterdir()] == ["site"]


def test_a_folder_that_is_not_a_site_is_never_replaced(runs, tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work")
    done = _report("site", runs["seed_article/rules"], "--out", out, "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == (
        f"bench-report site: --out {out}: a folder that is not a site (no site.json): "
        "refusing to replace it"
    )
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_a_site_holding_its_runs_is_never_replaced(runs, tmp_path):
    out = tmp_path / "site"
    build_site([runs["seed_article/rules"]], out, resamples=20, seed=0, with_plots=False)
    inside = shutil.copytree(runs["seed_article/rules"], out / "runs" / "rules")
    done = _report("site", inside, "--out", out, "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == f"bench-report site: --out {out}: holds the run {inside}: refusing to replace it"
    assert (inside / "result.json").is_file()


def test_a_site_is_never_written_into_one_of_its_runs(runs, tmp_path):
    run = shutil.copytree(runs["seed_article/rules"], tmp_path / "rules")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    done = _report("site", run, "--out", run / "site", "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"bench-report site: --out {run / 'site'}: inside the run {run}: write the site "
        "beside the runs"
    ]
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_a_failure_while_writing_leaves_the_previous_site(runs, tmp_path, monkeypatch):
    out = tmp_path / "site"
    build_site([runs["seed_article/rules"]], out, resamples=20, seed=0, with_plots=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def fail(board, folder, *args, **kwargs):
        (folder / "half-written").parent.mkdir(parents=True)
        (folder / "half-written").write_text("")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_module, "write_leaderboard", fail)
    with pytest.raises(OSError, match="No space left"):
        build_site([runs["seed_article/rules"]], out, resamples=20, seed=0, with_plots=False)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


# ----------------------------------------------------------------------------- Chromium

PROBE = """<script>
window.addEventListener("load", function () {
  function rows(table) {
    return Array.prototype.map.call(table.querySelectorAll("tbody tr:not(.group)"),
      function (r) { return r.textContent; }).join("\\n");
  }
  var sorted = {};
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var several = Array.prototype.some.call(table.tBodies, function (b) {
      return b.querySelectorAll("tr:not(.group)").length > 1;
    });
    if (!several) { return; }
    var before = rows(table), changed = false;
    var buttons = table.querySelectorAll("thead th button");
    for (var i = 0; i < buttons.length && !changed; i++) {
      buttons[i].click();
      changed = rows(table) !== before;
    }
    sorted[table.id] = changed;
  });
  var images = Array.prototype.map.call(document.images, function (img) {
    return img.naturalWidth;
  });
  document.body.setAttribute("data-sorted", JSON.stringify(sorted));
  document.body.setAttribute("data-images", JSON.stringify(images));
});
</script></body>"""


WIDTHS = """<script>
window.addEventListener("load", function () {
  Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
    d.open = true;
  });
  var view = document.documentElement.clientWidth, over = {};
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    var right = table.getBoundingClientRect().right;
    if (right > view) { over[table.id] = Math.round(right); }
  });
  document.body.setAttribute("data-view", view);
  document.body.setAttribute("data-over", JSON.stringify(over));
});
</script></body>"""
LONG_NAME = "a" * 30 + "_unbroken_submission_name_" + "0" * 8  # a folder name, no break


@pytest.fixture(scope="module")
def crowded(runs, perturbed, tmp_path_factory) -> Path:
    """A site of many runs on WNUT-17 (14, one with a 64-character name without a break)
    and on HateCheck (10): tables of one column per run, and rows of many labels; and of
    runs on the seed article under perturbations (robustness columns of three tasks)."""
    base = tmp_path_factory.mktemp("crowded")
    for dataset, preset, n in (("wnut17", "rules_wnut17", 11), ("hatecheck", "rules", 7)):
        names = [f"team-{k:02d}" for k in range(n - 1)] + [LONG_NAME]
        for name in names:
            copy_run(
                runs[f"{dataset}/{preset}"], base / dataset / name, _only(("ner", "toxicity"), name)
            )
    sources = [
        base / "wnut17",
        base / "hatecheck",
        runs["wnut17/empty"],
        runs["wnut17/rules_wnut17"],
    ]
    sources += [runs["hatecheck/rules"].parent, *perturbed.values()]
    out = tmp_path_factory.mktemp("crowded-site") / "site"
    build_site(sources, out, resamples=20, seed=0, with_plots=False)
    return out


@needs_chromium
def test_every_table_fits_a_1280_px_screen(crowded, site, tmp_path):
    for name, folder in (("crowded", crowded), ("site", site)):
        copy = tmp_path / name
        shutil.copytree(folder, copy)
        for page in _pages(copy):
            page.write_text(page.read_text().replace("</body>", WIDTHS))
            dom, console = chromium(tmp_path, page.as_uri(), "--window-size=1280,800", "--dump-dom")
            assert console == [], page
            body = TableRows("")
            body.feed(dom)
            assert 1200 <= int(body.attrs["data-view"]) <= 1280
            assert json.loads(body.attrs["data-over"]) == {}, page  # id -> right edge past it
    # nothing is lost: 14 runs' columns in 3 tables of the 6 labels (at most 6 runs each)
    wnut17 = crowded / "wnut17" / "index.html"
    ids = ("ner-per-label", "ner-per-label-2", "ner-per-label-3")
    assert [len(_table(wnut17, id).rows) for id in ids] == [6, 6, 6]
    headers = [h for id in ids for h in _headers(wnut17.read_text(), id)[2:]]
    assert sorted(headers) == sorted(
        [f"{name} F1" for name in (*(f"team-{k:02d}" for k in range(10)), LONG_NAME,
                                   "rules_wnut17", "alone", "empty (reference: floor)")]
    )  # fmt: skip
    assert [len(_headers(wnut17.read_text(), id)) - 2 for id in ids] == [4, 5, 5]


@needs_chromium
def test_chromium_renders_every_page_sorts_its_tables_and_shows_its_plots(site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    sortable: dict[str, dict[str, bool]] = {}
    for page in _pages(copy):
        page.write_text(page.read_text().replace("</body>", PROBE))
        dom, console = chromium(tmp_path, page.as_uri(), "--dump-dom")
        assert console == [], page
        body = TableRows("")
        body.feed(dom)
        name = page.parent.name if page.parent != copy else "index"
        sortable[name] = json.loads(body.attrs["data-sorted"])
        assert all(sortable[name].values()), (name, sortable[name])  # a click reorders
        images = json.loads(body.attrs["data-images"])
        assert len(images) == len(list(page.parent.glob("*.png"))), name
        assert all(width > 100 for width in images), name  # decoded, drawn
    assert "best" in sortable["index"]
    assert {"leaderboard", "references", "models"} <= set(sortable["seed_article"])
    assert {"toxicity-groups", "toxicity-identities"} <= set(sortable["hatecheck"])
