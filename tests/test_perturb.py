"""Perturbations: the offset map, exact remapped gold on every shipped dataset, the
oracle at 1.0 under each perturbation, and ``bench +perturb=NAME`` end to end."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from bench_config import run_model
from test_cli import bench

from bench.cli import CONF_DIR
from bench.data.conll import ConllNer
from bench.data.csv_sets import HateCheck, Madlibs
from bench.data.dataset import Dataset
from bench.data.seed import SeedArticle
from bench.metrics.bootstrap import (
    ece_statistic,
    f1_best_statistic,
    mean_statistic,
    paired_bootstrap,
)
from bench.metrics.speakers import add_aliases
from bench.perturb import PERTURBATIONS, build_perturbation
from bench.perturb.align import AlignmentError, Edit, OffsetMap, apply_edits
from bench.perturb.dataset import PerturbedDataset
from bench.perturb.typos import Typos
from bench.report.robustness import worst_case
from bench.resources import resource_dir
from bench.tasks import TASKS

SEEDS = (0, 1, 2)


# ----------------------------------------------------------------------- offset map


def test_offset_map_moves_spans_around_and_inside_edits() -> None:
    text = "ab Bob cd"
    new, edits = apply_edits(text, [Edit(0, 2, "xyz"), Edit(4, 5, "oo"), Edit(6, 6, "!")])
    assert new == "xyz Boob! cd"
    offsets = OffsetMap(edits)
    assert offsets.span(3, 6) == (4, 8)  # Bob: shifted by 1, resized by 1; "!" stays out
    assert new[slice(*offsets.span(3, 6))] == "Boob"
    assert new[slice(*offsets.span(7, 9))] == "cd"


def test_insertion_at_a_span_start_stays_outside() -> None:
    new, edits = apply_edits("Bob", [Edit(0, 0, "  ")])
    assert new[slice(*OffsetMap(edits).span(0, 3))] == "Bob"


def test_an_edit_across_a_boundary_is_refused() -> None:
    _, edits = apply_edits("ab Bob", [Edit(1, 4, "")])
    with pytest.raises(AlignmentError, match="cuts span"):
        OffsetMap(edits).span(3, 6)
    with pytest.raises(AlignmentError, match="overlap"):
        apply_edits("abcd", [Edit(0, 2, ""), Edit(1, 3, "")])


# ----------------------------------------------------- remapped gold on every dataset


@cache
def _dataset(name: str) -> Dataset:
    if name == "seed_article":
        return SeedArticle()
    if name == "hatecheck":
        return HateCheck()
    labels = ["person", "location", "corporation", "product", "creative-work", "group"]
    return ConllNer("wnut17", "emerging.test.annotated", labels)


def _options(name: str, seed: int) -> dict:
    """The shipped preset's options (conf/perturb/NAME.yaml) with ``seed``, typos inside
    spans too (the harder case)."""
    options = yaml.safe_load((CONF_DIR / "perturb" / f"{name}.yaml").read_text())
    options["seed"] = seed
    if name == "typos":
        options["inside_spans"] = True
    return options


def _spans(view) -> list[tuple[str, tuple[int, int], str]]:
    """Every gold span of a view (item id, span, what it is), in a fixed order."""
    out = [(i, (s, e), f"segment {seg}") for i, s, e, seg in getattr(view, "segments", ())]
    out += [(i, (s, e), label) for i, s, e, label in getattr(view, "spans", ())]
    for r in getattr(view, "records", ()):
        out += [(r.item_id, piece, "content") for piece in r.content]
        out += [(r.item_id, span, part) for part, span in (("cue", r.cue), ("source", r.source))
                if span is not None]  # fmt: skip
    return out


def check_remapped(base: Dataset, perturbed: PerturbedDataset, task: str) -> int:
    """The perturbed view is exact: same items, labels and spans; each span's text is
    the original's with exactly the edits inside it applied; the task's own span checks
    (those of predictions) accept it. The number of spans whose text changed."""
    old, new = base.view(task), perturbed.view(task)
    assert [i.id for i in old.items] == [i.id for i in new.items]
    old_text = {i.id: i.text for i in old.items}
    new_text = {i.id: i.text for i in new.items}
    changed = 0
    spans_old, spans_new = _spans(old), _spans(new)
    assert [(i, what) for i, _, what in spans_old] == [(i, what) for i, _, what in spans_new]
    for (item_id, (s, e), what), (_, (ns, ne), _) in zip(spans_old, spans_new, strict=True):
        edits = perturbed.items[item_id].edits
        inside = [Edit(x.start - s, x.end - s, x.replacement)
                  for x in edits if s <= x.start and x.end <= e]  # fmt: skip
        expected, _ = apply_edits(old_text[item_id][s:e], inside)
        piece = new_text[item_id][ns:ne]
        assert piece == expected and piece == piece.strip() and piece
        changed += piece != old_text[item_id][s:e] and not what.startswith("segment")
    task_check = TASKS[task](new, "oracle")
    for item in new.items:
        for item_id, span, what in spans_new:
            if item_id == item.id:
                task_check.check_span(item, what, span)
    if getattr(new, "tokenized", False):
        assert all(t == " ".join(t.split()) for t in new_text.values())
    if task == "toxicity":
        assert np.array_equal(new.labels, old.labels) and np.array_equal(new.level, old.level)
    if task == "attribution":  # the speaker table as the gold loader checks it; a renamed
        # alias (name_swap) is in the perturbed text wherever the original was
        table: dict[str, str] = {}
        for (speaker, aliases), (same, renamed) in zip(old.speakers, new.speakers, strict=True):
            assert speaker == same
            add_aliases(table, speaker, renamed)  # no alias names two speakers
            for alias, alias_now in zip(aliases, renamed, strict=True):
                if alias_now != alias and any(alias in t for t in old_text.values()):
                    assert any(alias_now in t for t in new_text.values()), alias_now
    return changed


CASES = [(d, t, p) for d, tasks in (("seed_article", ("ner", "attribution", "toxicity")),
                                    ("wnut17", ("ner",)), ("hatecheck", ("toxicity",)))
         for t in tasks for p in PERTURBATIONS]  # fmt: skip


@pytest.mark.parametrize(("dataset", "task", "name"), CASES)
def test_remapped_gold_is_exact(dataset: str, task: str, name: str) -> None:
    base = _dataset(dataset)
    for seed in SEEDS:
        perturbed = PerturbedDataset(base, build_perturbation(_options(name, seed)))
        check_remapped(base, perturbed, task)
        changed = sum(bool(p.edits) for p in perturbed.items.values())
        applies = {"identity_swap": ("hatecheck",), "name_swap": ("seed_article", "wnut17")}
        if dataset in applies.get(name, (dataset,)):
            assert changed, f"{name} changed no item of {dataset}"


def test_identity_swap_on_madlibs_keeps_labels_and_moves_identities(tmp_path: Path) -> None:
    shipped = resource_dir("datasets") / "madlibs" / "bias_madlibs_77k.csv"
    lines = shipped.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "bias_madlibs_77k.csv").write_text("".join(lines[:2001]), encoding="utf-8")
    terms = yaml.safe_load((CONF_DIR / "dataset" / "madlibs.yaml").read_text())["identity_terms"]
    base = Madlibs(terms, path=str(tmp_path), version="first-2000-rows")  # light: 2000 rows
    perturbed = PerturbedDataset(base, build_perturbation(_options("identity_swap", 0)))
    check_remapped(base, perturbed, "toxicity")
    old, new = base.view("toxicity"), perturbed.view("toxicity")
    swapped = [i for i in new.items if perturbed.items[i.id].edits]
    assert len(swapped) > 0.9 * len(new.items)
    item = swapped[0]
    (old_term, new_term), *_ = perturbed.items[item.id].changes
    k = new.index[item.id]
    assert new_term.lower().replace(" ", "_") in new.identities(k)
    assert old.identities(k) != new.identities(k)


def test_typos_outside_spans_leave_every_span_intact() -> None:
    base = _dataset("seed_article")
    perturbed = PerturbedDataset(base, build_perturbation({"name": "typos", "rate": 0.3}))
    assert check_remapped(base, perturbed, "ner") == 0
    assert check_remapped(base, perturbed, "attribution") == 0
    assert any(p.edits for p in perturbed.items.values())


def test_name_swap_renames_each_person_everywhere_and_the_speakers_follow() -> None:
    base = _dataset("seed_article")
    perturbed = PerturbedDataset(base, build_perturbation(_options("name_swap", 0)))
    changes = {old: new for p in perturbed.items.values() for old, new in p.changes}
    assert changes["Tillerson"] != "Tillerson" and changes["Videgaray"] != "Videgaray"
    renamed = {words for _, words in perturbed.view("attribution").speakers}
    texts = [item.text for item in perturbed.view("ner").items]
    assert not any("Tillerson" in text for text in texts)
    assert not any("Tillerson" in alias for aliases in renamed for alias in aliases)
    ner = perturbed.view("ner")
    person = {ner.items[[i.id for i in ner.items].index(i)].text[s:e]
              for i, s, e, label in ner.spans if label == "PERSON"}  # fmt: skip
    assert f"Rex {changes['Tillerson']}" not in person  # Rex is renamed too
    assert any(text.endswith(changes["Tillerson"]) for text in person)


def test_name_swap_leaves_titles_and_ordinary_words() -> None:
    base = _dataset("wnut17")  # some PERSON mentions there hold "the", "President", "OP"
    perturbed = PerturbedDataset(base, build_perturbation(_options("name_swap", 0)))
    renamed = {old for p in perturbed.items.values() for old, _ in p.changes}
    assert renamed and not renamed & {"the", "The", "President", "OP", "Doctor"}
    assert all(word[0].isupper() for word in renamed)


def test_name_swap_renames_only_person_mentions() -> None:
    """WNUT-17 tags "Supreme Court judge" a person and "the Supreme Court" a group: the
    group, and a name word outside any mention ("Court Reinstates …"), stay."""
    base = _dataset("wnut17")
    perturbed = PerturbedDataset(base, build_perturbation(_options("name_swap", 0)))
    ner = base.view("ner")
    persons = {(i, s, e) for i, s, e, label in ner.spans if label == "person"}
    edits = [(i, e) for i, p in perturbed.items.items() for e in p.edits]
    assert edits
    for item_id, edit in edits:
        assert any(i == item_id and s <= edit.start and edit.end <= e for i, s, e in persons)
    texts = {item.id: perturbed.items[item.id].text for item in ner.items}
    assert "the Supreme Court ?" in texts["s00371"] and texts["s00794"].startswith("Court ")


def test_seed_and_options_change_the_dataset_fingerprint() -> None:
    base = _dataset("seed_article")
    prints = {PerturbedDataset(base, build_perturbation({"name": "typos", "seed": s, "rate": r}))
              .sha256 for s in (0, 1) for r in (0.05, 0.1)}  # fmt: skip
    assert len(prints) == 4 and base.sha256 not in prints

    class Untouched(Typos):  # other code, the same options
        def edits(self, item_id: str, text: str, spans: list, rng: object) -> list:
            return []

    assert Untouched().describe() == Typos().describe()
    assert PerturbedDataset(base, Untouched()).sha256 != PerturbedDataset(base, Typos()).sha256


# ------------------------------------------------------------------------- the runs


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_oracle_scores_one_under_every_perturbation(tmp_path: Path, name: str) -> None:
    extra = ["perturb.typos.inside_spans=true"] if name == "typos" else []
    outcome = run_model(tmp_path, "oracle", f"+perturb={name}", *extra, "bootstrap.resamples=20")
    section = outcome.result["robustness"][name]
    for task in TASKS:
        record = section[task]
        assert record["status"] == "ok"
        assert record["changed"]["items"] > 0 or name == "identity_swap"
        for metric in TASKS[task].main_metrics:
            assert record["metrics"][metric]["value"] == 1.0, (task, metric)
            assert record["metrics"][metric]["delta"] == 0.0
        for metric, m in record["metrics"].items():  # every delta paired, not only the main
            if m["delta"] is not None:
                assert m["ci95"]["n_resamples"] == 20, (task, metric)
    lost = section["ner"]["entities_lost"]
    assert lost["value"] == 0.0 and lost["lost"] == 0 and lost["found"] > 0
    assert lost["ci95"]["low"] == lost["ci95"]["high"] == 0.0


def test_several_perturbations_in_one_run_and_their_worst_case(tmp_path: Path) -> None:
    outcome = run_model(tmp_path, "oracle", "+perturb=[casing,name_swap]", "task=ner",
                        "perturb.casing.mode=upper", "bootstrap.resamples=20")  # fmt: skip
    section = outcome.result["robustness"]
    assert list(section) == ["casing", "name_swap"]
    assert section["casing"]["perturbation"]["mode"] == "upper"
    assert section["casing"]["dataset_sha256"] != section["name_swap"]["dataset_sha256"]
    headers, rows = outcome.tables["robustness_worst"]
    worst = {(row[0], row[1]): row[2:] for row in rows}
    assert worst["ner", "strict_f1"][:2] == ["casing", 0.0]  # a tie: the first perturbation
    assert worst["ner", "entities_lost"][:2] == ["casing", 0.0]


def test_entities_lost_are_those_found_on_the_original_and_missed_after(tmp_path: Path) -> None:
    model = {"_target_": "adapters_for_tests.CapitalOracle", "dataset": "${dataset}"}
    outcome = run_model(tmp_path, model, "dataset=wnut17", "task=ner", "+perturb=casing",
                        "perturb.casing.rate=0.5", "bootstrap.resamples=200")  # fmt: skip
    lost = outcome.result["robustness"]["casing"]["ner"]["entities_lost"]
    base = _dataset("wnut17")
    perturbed = PerturbedDataset(base, build_perturbation({"name": "casing", "rate": 0.5}))
    texts = {item.id: item.text for item in base.view("ner").items}
    found = [(i, s, e) for i, s, e, _ in base.view("ner").spans if texts[i][s].isupper()]
    missed = [(i, s, e) for i, s, e in found if not perturbed.items[i].text[s].isupper()]
    assert (lost["found"], lost["lost"]) == (len(found), len(missed))
    assert 0 < lost["value"] == len(missed) / len(found) < 1
    ci = lost["ci95"]
    assert ci["low"] < lost["value"] < ci["high"] and ci["n_units"] == len(texts)
    assert ci["unit"] == "cluster"  # WNUT-17's sentences, each its own cluster


def test_every_delta_is_a_paired_bootstrap_on_the_same_items(tmp_path: Path) -> None:
    """ECE, Brier and best-threshold F1 (not primary) get the interval of
    ``paired_bootstrap`` over the same items, drawn with the task's own statistics."""
    model = {"_target_": "adapters_for_tests.CountingToxicity", "log": str(tmp_path / "log")}
    outcome = run_model(tmp_path, model, "dataset=hatecheck", "+perturb=whitespace_punctuation",
                        "cache.enabled=false", "bootstrap.resamples=100")  # fmt: skip
    metrics = outcome.result["robustness"]["whitespace_punctuation"]["toxicity"]["metrics"]
    rows = {r["id"]: r for r in outcome.samples["toxicity"]}
    base = _dataset("hatecheck")
    perturbed = PerturbedDataset(base, build_perturbation(_options("whitespace_punctuation", 0)))
    order = [item.id for item in base.view("toxicity").items]  # the task's units, in order
    assert sorted(rows) == sorted(order)
    labels = np.array([rows[i]["gold"] for i in order])
    before = np.array([rows[i]["score"] for i in order])
    after = np.array([min(len(perturbed.items[i].text) / 300, 1.0) for i in order])
    for metric, make, data in (
        ("ece", ece_statistic, lambda s: (labels, s)),
        ("brier", mean_statistic, lambda s: ((s - labels) ** 2,)),
        ("f1_best", f1_best_statistic, lambda s: (labels, s)),
    ):
        expected = paired_bootstrap(make, data(after), data(before), 100, 0)
        ci = metrics[metric]["ci95"]
        assert metrics[metric]["delta"] == pytest.approx(expected.difference)
        assert (ci["low"], ci["high"]) == pytest.approx((expected.low, expected.high)), metric
        assert ci["n_units"] == len(order) and expected.low < expected.high


def test_the_cache_keys_on_the_perturbation_and_its_seed(tmp_path: Path) -> None:
    log = tmp_path / "asked.log"
    model = {"_target_": "adapters_for_tests.CountingToxicity", "log": str(log)}
    options = ("task=toxicity", f"cache.dir={tmp_path / 'cache'}", "bootstrap.resamples=0",
               "+perturb=whitespace_punctuation")  # fmt: skip

    def run(out: str, *extra: str) -> dict:
        result = run_model(tmp_path / out, model, *options, *extra).result
        return result["tasks"]["toxicity"] | {"perturbed": result["robustness"]
                                              ["whitespace_punctuation"]["toxicity"]}  # fmt: skip

    first = run("a")
    n = first["counts"]["segments"] + first["counts"]["documents"]
    assert len(log.read_text().split()) == 2 * n  # each item asked once per text
    assert first["perturbed"]["predictions"]["path"] != first["predictions"]["path"]
    # the adapter saw the perturbed texts: its score is their length
    assert first["perturbed"]["metrics"]["brier"]["delta"] != 0.0
    again = run("b")
    assert again["perturbed"]["predictions"]["hits"] == n and len(log.read_text().split()) == 2 * n
    other_seed = run("c", "perturb.whitespace_punctuation.seed=1")
    assert other_seed["perturbed"]["predictions"]["hits"] == 0
    assert other_seed["predictions"]["hits"] == n


def test_a_limited_run_perturbs_and_counts_only_its_items(tmp_path: Path) -> None:
    log = tmp_path / "asked.log"
    model = {"_target_": "adapters_for_tests.CountingToxicity", "log": str(log)}
    result = run_model(tmp_path, model, "task=toxicity", "dataset=hatecheck", "limit=7",
                       "limit_seed=3", "+perturb=casing", "perturb.casing.mode=upper",
                       "cache.enabled=false", "bootstrap.resamples=20").result  # fmt: skip
    asked = log.read_text().split()
    assert len(asked) == 14 and asked[:7] == asked[7:]  # the same 7 items in both passes
    record = result["robustness"]["casing"]["toxicity"]
    assert record["failures"]["n"] == result["tasks"]["toxicity"]["failures"]["n"] == 7
    assert record["changed"]["n"] == 7 and 0 < record["changed"]["items"] <= 7


def test_a_degraded_perturbed_run_is_reported_without_pairs(tmp_path: Path) -> None:
    model = {"_target_": "adapters_for_tests.RefusesShouting"}
    result = run_model(tmp_path, model, "task=toxicity", "dataset=hatecheck", "+perturb=casing",
                       "perturb.casing.mode=upper", "max_failure_rate=1.0",
                       "bootstrap.resamples=20").result  # fmt: skip
    assert result["tasks"]["toxicity"]["failures"]["count"] == 0
    record = result["robustness"]["casing"]["toxicity"]
    assert 0 < record["failures"]["count"] < record["failures"]["n"]
    assert not any("ci95" in m for m in record["metrics"].values())  # no pairs to resample
    assert record["metrics"]["roc_auc"]["delta"] is not None


@pytest.mark.slow
def test_a_task_failed_on_perturbed_texts_is_a_warning(tmp_path: Path) -> None:
    done = bench(tmp_path, "+model._target_=adapters_for_tests.RefusesShouting",
                 "dataset=hatecheck", "+perturb=casing", "perturb.casing.mode=upper",
                 "bootstrap.resamples=0", f"hydra.run.dir={tmp_path / 'run'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "bench: warning: task toxicity failed under casing: " in done.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["robustness"]["casing"]["toxicity"]["status"] == "failed"


@pytest.mark.slow
def test_bench_rules_typos_writes_a_robustness_table(tmp_path: Path) -> None:
    done = bench(tmp_path, "+model=rules", "+perturb=typos", "bootstrap.resamples=50",
                 f"hydra.run.dir={tmp_path / 'run'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| typos" in done.stdout and "delta_ci95_low" in done.stdout
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    e2e = result["robustness"]["typos"]["attribution"]["metrics"]["e2e_f1"]
    assert e2e["delta"] == pytest.approx(e2e["value"] - result["tasks"]["attribution"]["metrics"]
                                         ["e2e_f1"]["value"])  # fmt: skip
    assert e2e["ci95"]["low"] <= e2e["delta"] <= e2e["ci95"]["high"]
    assert e2e["ci95"]["unit"] == "cluster" and e2e["ci95"]["n_resamples"] == 50
    table = (tmp_path / "run" / "tables" / "robustness.csv").read_text()
    assert "typos,attribution,e2e_f1," in table


@pytest.mark.slow
def test_bench_identity_swap_reports_counterfactual_fairness(tmp_path: Path) -> None:
    done = bench(tmp_path, "+model=empty", "model.score=0.5", "+perturb=identity_swap",
                 "dataset=hatecheck", "bootstrap.resamples=20",
                 f"hydra.run.dir={tmp_path / 'run'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    record = result["robustness"]["identity_swap"]["toxicity"]
    fairness = record["fairness"]
    assert fairness["items"] == record["changed"]["items"] > 0
    assert fairness["gap"]["value"] == 0.0 and fairness["flip_rate"]["value"] == 0.0  # constant
    assert fairness["by_pair"] and all(p["items"] > 0 for p in fairness["by_pair"].values())
    md = (tmp_path / "run" / "tables" / "robustness.md").read_text()
    assert "counterfactual_gap" in md and "counterfactual_flip_rate" in md


def test_a_sharded_run_refuses_a_perturbation(tmp_path: Path) -> None:
    done = bench(tmp_path, "+model=empty", "+perturb=casing", "shard.index=0", "shard.count=2",
                 f"hydra.run.dir={tmp_path / 'run'}")  # fmt: skip
    assert done.returncode == 2
    assert "shard: a shard scores nothing, so +perturb does not apply" in done.stderr
    assert not (tmp_path / "run" / "result.json").exists()


def test_a_bad_perturbation_option_exits_2_before_any_result(tmp_path: Path) -> None:
    done = bench(tmp_path, "+model=empty", "+perturb=casing", "perturb.casing.mode=sideways",
                 f"hydra.run.dir={tmp_path / 'run'}")  # fmt: skip
    assert done.returncode == 2
    assert "perturb.casing.mode='sideways'" in done.stderr
    assert not (tmp_path / "run" / "result.json").exists()


def _record(deltas: dict[str, float], **measures: float) -> dict:
    metrics = {m: {"value": None, "original": None, "delta": d, "ci95": {"low": d - 0.01,
               "high": d + 0.01}} for m, d in deltas.items()}  # fmt: skip
    record = {"status": "ok", "main_metrics": list(deltas), "metrics": metrics}
    return record | {m: {"value": v} for m, v in measures.items()}


def test_the_worst_case_is_the_max_of_a_lower_is_better_metric() -> None:
    """HELM's worst case takes the minimum of every metric: for ECE, Brier and the
    robustness measures that is the best case."""
    result = {"robustness": {
        "typos": {"toxicity": _record({"roc_auc": -0.05, "ece": 0.02, "brier": 0.03}),
                  "ner": _record({"strict_f1": -0.01}, entities_lost=0.3)},
        "casing": {"toxicity": _record({"roc_auc": -0.01, "ece": 0.10, "brier": -0.01}),
                   "ner": _record({"strict_f1": -0.20}, entities_lost=0.1)},
    }}  # fmt: skip
    worst = {key: (c.perturbation, c.value) for key, c in worst_case(result).items()}
    assert worst == {
        ("toxicity", "roc_auc"): ("typos", -0.05),
        ("toxicity", "ece"): ("casing", 0.10),
        ("toxicity", "brier"): ("typos", 0.03),
        ("ner", "strict_f1"): ("casing", -0.20),
        ("ner", "entities_lost"): ("typos", 0.3),
    }
    assert worst_case({"tasks": {}}) == {}
