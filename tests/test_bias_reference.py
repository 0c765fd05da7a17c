"""The Jigsaw bias metrics against the reference code, and the reference's own test cases.

References, followed line by line below (without pandas):

* the subgroup columns and bias AUCs — ``add_subgroup_columns_from_text``,
  ``compute_auc``, ``compute_subgroup_auc``, ``compute_negative_cross_auc`` (BPSN) and
  ``compute_positive_cross_auc`` (BNSP) in github.com/conversationai/
  unintended-ml-bias-analysis, ``archive/unintended_ml_bias/model_bias_analysis.py``;
  its tests, ``model_bias_analysis_test.py``, are ported below (the ASEG, AEG and
  confusion-matrix cases test functions bench does not have);
* the final metric — ``power_mean`` and ``get_final_metric`` of the Kaggle competition
  "Jigsaw Unintended Bias in Toxicity Classification" (its benchmark kernel,
  kaggle.com/dborkan/benchmark-kernel): 0.25 · overall AUC + 0.75 · the mean of the
  three power means (p = −5).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from bench_config import run_model
from omegaconf import OmegaConf
from sklearn import metrics

from bench.adapters.rules import RulesAdapter
from bench.cli import CONF_DIR
from bench.data.csv_sets import Madlibs
from bench.metrics.analytic import delong_roc_auc_ci
from bench.metrics.bias import (
    BIAS_SUMMARIES,
    bnsp_auc,
    bpsn_auc,
    jigsaw_bias_score,
    jigsaw_bias_statistic,
    subgroup_auc,
)
from bench.metrics.bootstrap import bootstrap_cis, roc_auc_bootstrap
from bench.metrics.ranking import (
    average_precision,
    brier_score,
    expected_calibration_error,
    f1_at_threshold,
    f1_best_threshold,
    roc_auc,
)
from bench.tasks.base import Bootstrap
from bench.tasks.toxicity import ToxicityTask

MADLIBS_TERMS = list(OmegaConf.load(CONF_DIR / "dataset" / "madlibs.yaml").identity_terms)


# ------------------------------------------------------------- the reference, without pandas


def add_subgroup_columns_from_text(texts: list[str], subgroups: list[str]) -> dict[str, list]:
    return {
        term: [bool(re.search("\\b" + term + "\\b", x, flags=re.UNICODE | re.IGNORECASE))
               for x in texts]
        for term in subgroups
    }  # fmt: skip


def compute_auc(y_true, y_pred) -> float:
    try:
        return metrics.roc_auc_score(y_true, y_pred)
    except ValueError:
        return np.nan


def reference_aucs(y: np.ndarray, s: np.ndarray, sub: np.ndarray) -> tuple[float, float, float]:
    """Subgroup, BPSN and BNSP AUC: the subgroup, then subgroup negatives + background
    positives, then subgroup positives + background negatives (appended in that order)."""
    bpsn = np.concatenate([np.flatnonzero(sub & ~y), np.flatnonzero(~sub & y)])
    bnsp = np.concatenate([np.flatnonzero(sub & y), np.flatnonzero(~sub & ~y)])
    return (
        compute_auc(y[sub], s[sub]),
        compute_auc(y[bpsn], s[bpsn]),
        compute_auc(y[bnsp], s[bnsp]),
    )


def power_mean(series, p):
    total = sum(np.power(series, p))
    return np.power(total / len(series), 1 / p)


def get_final_metric(records, overall_auc, POWER=-5, OVERALL_MODEL_WEIGHT=0.25):  # noqa: N803
    bias_score = np.average([power_mean([r[k] for r in records], POWER) for k in range(3)])
    return (OVERALL_MODEL_WEIGHT * overall_auc) + ((1 - OVERALL_MODEL_WEIGHT) * bias_score)


def reference_final_metric(columns, labels, scores) -> tuple[float, dict[str, tuple]]:
    """The final metric and each subgroup column's three AUCs, as the reference computes them."""
    y, s = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    records = {term: reference_aucs(y, s, np.asarray(column)) for term, column in columns.items()}
    return get_final_metric(list(records.values()), metrics.roc_auc_score(y, s)), records


# ---------------------------------------------------------------- the reference's test cases


def _madlibs_csv(tmp_path: Path, texts: list[str], labels: list[str]) -> Path:
    with (tmp_path / "madlibs.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Text", "Label"])
        writer.writerows(zip(texts, labels, strict=True))
    return tmp_path


def test_add_subgroup_columns_from_text(tmp_path):
    """Reference ``test_add_subgroup_columns_from_text``: whole words, accented terms."""
    phrases = ["You are a woman", "I am gay", "Je suis chrétien.", "je suis handicapé"]
    terms = ["woman", "gay", "chrétien", "handicapé"]
    path = _madlibs_csv(tmp_path, phrases, ["NOT_BAD"] * 4)
    gold = Madlibs(terms, file="madlibs.csv", path=str(path)).toxicity()
    identities = [gold.identities(k) for k in range(len(gold.items))]
    assert identities == [("woman",), ("gay",), ("chrétien",), ("handicapé",)]


def test_every_term_is_matched_on_its_own(tmp_path):
    texts = ["African American people are great", "an americano", "AMERICAN", "old-fashioned"]
    path = _madlibs_csv(tmp_path, texts, ["NOT_BAD"] * 4)
    gold = Madlibs(["african american", "african", "american", "old"], file="madlibs.csv",
                   path=str(path)).toxicity()  # fmt: skip
    assert [gold.identities(k) for k in range(len(gold.items))] == [
        ("african", "african_american", "american"),
        (),
        ("american",),
        ("old",),
    ]


def _biased_dataset() -> tuple[list[int], list[float], list[bool]]:
    """Reference ``make_biased_dataset``: (scores, label, in subgroup) in four blocks."""
    blocks = [
        ([0.1, 0.2, 0.3], 0, False),
        ([0.21, 0.31, 0.55], 0, True),
        ([0.5, 0.8, 0.9], 1, False),
        ([0.4, 0.6, 0.71], 1, True),
    ]
    rows = [(label, score, sub) for scores, label, sub in blocks for score in scores]
    labels, scores, member = zip(*rows, strict=True)
    return list(labels), list(scores), list(member)


def test_subgroup_auc():
    labels, scores, member = _biased_dataset()
    auc = subgroup_auc(labels, scores, member).value
    assert auc == pytest.approx(0.88, abs=0.05)  # the reference's assertAlmostEqual(places=1)
    assert auc == pytest.approx(8 / 9, abs=1e-12)


def test_cross_aucs():
    labels, scores, member = _biased_dataset()
    negative_cross_auc = bpsn_auc(labels, scores, member).value
    positive_cross_auc = bnsp_auc(labels, scores, member).value
    assert negative_cross_auc == pytest.approx(0.88, abs=0.05)
    assert positive_cross_auc == pytest.approx(1.0, abs=0.05)
    y, s = np.asarray(labels, dtype=bool), np.asarray(scores)
    expected = reference_aucs(y, s, np.asarray(member))
    assert (subgroup_auc(labels, scores, member).value, negative_cross_auc,
            positive_cross_auc) == pytest.approx(expected, abs=1e-12)  # fmt: skip


# ------------------------------------------------------------------- bench = reference on madlibs


@pytest.fixture(scope="module")
def madlibs():
    """The gold, the reference's subgroup columns and the labels."""
    gold = Madlibs(MADLIBS_TERMS).toxicity()
    columns = add_subgroup_columns_from_text([item.text for item in gold.items], MADLIBS_TERMS)
    return gold, columns, gold.labels.tolist()


def test_madlibs_identities_are_the_reference_subgroup_columns(madlibs):
    gold, columns, _ = madlibs
    slug = {term: term.replace(" ", "_") for term in MADLIBS_TERMS}
    expected = [
        tuple(sorted(slug[t] for t in MADLIBS_TERMS if columns[t][i]))
        for i in range(len(gold.items))
    ]
    assert [gold.identities(k) for k in range(len(gold.items))] == expected
    assert sum(columns["american"]) == 3028  # with "african american": not 1,514


def _assert_bench_equals_reference(bias: dict, columns, labels, scores) -> None:
    """``bias``: the ``breakdown.bias`` of a run (``BiasReport.to_json()``)."""
    reference, records = reference_final_metric(columns, labels, scores)
    assert bias["final_score"]["value"] == pytest.approx(reference, abs=1e-6)
    subgroups = bias["subgroups"]
    assert len(subgroups) == len(MADLIBS_TERMS)
    for term, aucs in records.items():
        bench_aucs = [subgroups[term.replace(" ", "_")][name]["value"]
                      for name in ("subgroup_auc", "bpsn_auc", "bnsp_auc")]  # fmt: skip
        assert bench_aucs == pytest.approx(aucs, abs=1e-9), term


def test_bias_score_equals_reference_on_madlibs_for_a_predictions_file(tmp_path, madlibs):
    gold, columns, labels = madlibs
    scores = np.random.default_rng(11).random(len(labels)).round(3)  # some ties
    folder = tmp_path / "submission"
    folder.mkdir()
    rows = (json.dumps({"id": item.id, "score": float(score)}) + "\n"
            for item, score in zip(gold.items, scores, strict=True))  # fmt: skip
    (folder / "toxicity.jsonl").write_text("".join(rows), encoding="utf-8")
    result = run_model(
        tmp_path / "run", "predictions", "dataset=madlibs", f"model.path={folder}",
        "bootstrap.resamples=0",
    ).result  # fmt: skip
    toxicity = result["tasks"]["toxicity"]
    assert toxicity["metrics"]["bias_score"]["value"] == toxicity["breakdown"]["bias"][
        "final_score"]["value"]  # fmt: skip
    _assert_bench_equals_reference(toxicity["breakdown"]["bias"], columns, labels, scores)


def test_bias_score_equals_reference_on_madlibs_for_the_rules_lexicon(madlibs):
    gold, columns, labels = madlibs
    scores = [p.score for p in RulesAdapter().predict_toxicity(list(gold.items))]
    identities = [gold.identities(k) for k in range(len(gold.items))]
    bias = jigsaw_bias_score(labels, scores, identities).to_json()
    _assert_bench_equals_reference(bias, columns, labels, scores)  # many ties at 0


def test_jigsaw_bias_score_equals_reference_on_random_subgroups():
    rng = np.random.default_rng(5)
    n, terms = 400, ["a", "b", "c", "d"]
    labels = rng.integers(0, 2, n)
    scores = rng.random(n).round(2)
    identities = [{t for t in terms if rng.random() < 0.3} for _ in range(n)]
    columns = add_subgroup_columns_from_text([" ".join(ids) for ids in identities], terms)
    report = jigsaw_bias_score(labels, scores, identities, subgroups=terms)
    reference, _ = reference_final_metric(columns, labels, scores)
    assert report.final_score.value == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize(("method", "step"), [("analytic", 1), ("bootstrap", 1), ("analytic", 3)])
def test_the_task_scores_madlibs_as_the_per_item_metrics(madlibs, method, step):
    """Issue 13: the task scores columns (no object per item); on the shipped madlibs with
    the rules lexicon every value, interval, count and sample row equals the metric
    functions on per-item lists built from the gold's dicts — for every item (the gold's
    dicts read in order) and for every third one (looked up by id)."""
    gold = madlibs[0]
    items = list(gold.items)[::step]
    labels = [int(gold.labels[gold.index[item.id]]) for item in items]
    predictions = RulesAdapter().predict_toxicity(items)
    scored = ToxicityTask(gold, "rules", Bootstrap(50, 3, method=method)).score(items, predictions)
    scores = [p.score for p in predictions]
    identities = [gold.identities(gold.index[item.id]) for item in items]
    bias = jigsaw_bias_score(
        labels, scores, identities, alpha=0.05 if method == "analytic" else None
    )
    expected = {
        "roc_auc": roc_auc(labels, scores),
        "average_precision": average_precision(labels, scores),
        "f1": f1_at_threshold(labels, scores, 0.5),
        "f1_best": f1_best_threshold(labels, scores).f1,
        "brier": brier_score(labels, scores),
        "ece": expected_calibration_error(labels, scores),
        "bias_score": bias.final_score,
        **{f"{name}_power_mean": mean.value for name, mean in bias.means.items()},
    }
    assert scored.metrics == expected
    assert scored.breakdown["bias"] == bias.to_json()
    hits: dict[str, list[bool]] = {}
    for label, score, mentioned in zip(labels, scores, identities, strict=True):
        for identity in mentioned:
            hits.setdefault(identity, []).append(int(score >= 0.5) == label)
    assert scored.breakdown["identity_accuracy"] == {
        identity: {"accuracy": float(np.mean(h)), "n": len(h)}
        for identity, h in sorted(hits.items())
    }
    assert scored.counts == {"sentences": len(items), "toxic": sum(labels)}
    assert list(scored.samples) == [
        {"id": item.id, "level": "sentence", "gold": label, "score": score,
         "correct": int(score >= 0.5) == label}
        for item, label, score in zip(items, labels, scores, strict=True)
    ]  # fmt: skip
    if method == "analytic":
        assert {name: scored.intervals[name] for name in bias.intervals} == bias.intervals
        assert scored.intervals["roc_auc"] == delong_roc_auc_ci(labels, scores)
    else:
        drawn = bootstrap_cis(jigsaw_bias_statistic(labels, scores, identities),
                              BIAS_SUMMARIES, len(items), 50, seed=3)  # fmt: skip
        assert {name: scored.intervals[name] for name in BIAS_SUMMARIES} == drawn
        assert scored.intervals["roc_auc"] == roc_auc_bootstrap(labels, scores, 50, seed=3)
