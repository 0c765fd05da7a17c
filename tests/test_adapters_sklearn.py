"""The scikit-learn toxicity adapters, run for real (needs the `sklearn` extra installed)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from bench_config import compose_config, run_model, shipped_task
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from bench.adapters.sklearn import ProfanityCheckAdapter, SklearnPipelineAdapter
from bench.predictions import TextItem
from bench.runner import predict

PROFANE = "You are a fucking idiot and a piece of shit."
NEUTRAL = "The city council meets on Monday to discuss the budget."

TRAIN_TEXTS = [
    "you are a stupid idiot",
    "shut up you moron",
    "what a disgusting pathetic loser",
    "idiots like you ruin everything",
    "thank you for the kind words",
    "the meeting is on monday",
    "lovely weather in the park today",
    "the report was published this morning",
]
TRAIN_LABELS = ["toxic"] * 4 + ["ok"] * 4
PROBE = [PROFANE, NEUTRAL, "stupid meeting", "kind idiot", "", "completely unseen words"]


def _items(texts):
    return [TextItem(str(i), t) for i, t in enumerate(texts)]


def _scores(adapter, texts):
    return [p.score for p in adapter.predict_toxicity(_items(texts))]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pipeline():
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TRAIN_TEXTS, TRAIN_LABELS)


@pytest.fixture(scope="module")
def expected(pipeline):
    column = list(pipeline.classes_).index("toxic")
    return pipeline.predict_proba(PROBE)[:, column].tolist()


# --- alt-profanity-check ---------------------------------------------------------------


def test_profanity_check_ranks_profane_above_neutral():
    adapter = ProfanityCheckAdapter()
    profane, neutral = _scores(adapter, [PROFANE, NEUTRAL])
    assert 0.0 <= neutral < 0.5 < profane <= 1.0


def test_profanity_check_matches_the_packages_own_predict_prob():
    import profanity_check

    texts = [PROFANE, NEUTRAL, "go to hell", "nice one"]
    ours = _scores(ProfanityCheckAdapter(), texts)
    assert ours == pytest.approx(profanity_check.predict_prob(texts).tolist(), abs=1e-12)


def test_profanity_check_identity_hashes_its_model_files():
    identity = ProfanityCheckAdapter().identity()
    data_dir = Path(importlib.util.find_spec("profanity_check").origin).parent / "data"
    assert identity["package"] == "alt-profanity-check"
    assert identity["version"]
    assert identity["sha256"] == {
        name: _sha256(data_dir / name) for name in ("vectorizer.joblib", "model.joblib")
    }
    assert identity["positive_class"] == 1


def test_profanity_check_preset_runs_through_the_runner(tmp_path):
    outcome = run_model(tmp_path, "profanity_check")
    assert outcome.ok
    tasks = outcome.result["tasks"]
    assert tasks["toxicity"]["status"] == "ok"
    assert tasks["ner"]["status"] == "unsupported"
    assert tasks["toxicity"]["metrics"]["roc_auc"]["value"] is not None


def test_profanity_check_large_batches_give_the_same_scores():
    task = shipped_task("madlibs", "toxicity")
    items = task.inputs()[:10_000]
    adapter = ProfanityCheckAdapter()
    large, stats = predict(task, adapter, items, None, None)
    assert stats["batching"] == {"size": 4096, "sort_by_length": False, "inside": {}}
    small, stats = predict(task, adapter, items, 32, None)  # the user's override
    assert stats["batching"]["size"] == 32
    assert large == small


# --- any scikit-learn pipeline -----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".skops", ".joblib"])
def test_saved_pipeline_gives_the_in_memory_probabilities(tmp_path, pipeline, expected, suffix):
    path = tmp_path / f"model{suffix}"
    if suffix == ".skops":
        sio.dump(pipeline, path)
    else:
        joblib.dump(pipeline, path)
    adapter = SklearnPipelineAdapter(str(path), positive_class="toxic")
    assert _scores(adapter, PROBE) == pytest.approx(expected, abs=1e-12)
    identity = adapter.identity()
    assert identity["sha256"] == _sha256(path)
    assert identity["format"] == suffix[1:]
    assert identity["classes"] == ["ok", "toxic"]
    assert identity["positive_class"] == "toxic"
    assert identity["steps"] == ["TfidfVectorizer", "LogisticRegression"]


def test_positive_class_picks_the_column(tmp_path, pipeline, expected):
    path = tmp_path / "model.skops"
    sio.dump(pipeline, path)
    ok = _scores(SklearnPipelineAdapter(str(path), positive_class="ok"), PROBE)
    assert ok == pytest.approx([1 - p for p in expected], abs=1e-12)
    with pytest.raises(ValueError, match=r"positive_class=1 is not one of .*\['ok', 'toxic'\]"):
        SklearnPipelineAdapter(str(path))


def test_integer_classes_and_yaml_string_class(tmp_path):
    y = [1 if label == "toxic" else 0 for label in TRAIN_LABELS]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TRAIN_TEXTS, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    expected = model.predict_proba(PROBE)[:, 1].tolist()
    for positive in (1, "1"):
        adapter = SklearnPipelineAdapter(str(path), positive_class=positive)
        assert _scores(adapter, PROBE) == pytest.approx(expected, abs=1e-12)


def test_skops_untrusted_types_must_be_listed_by_name(tmp_path):
    model = make_pipeline(
        FunctionTransformer(np.char.lower), TfidfVectorizer(), LogisticRegression()
    ).fit(np.array(TRAIN_TEXTS), TRAIN_LABELS)
    path = tmp_path / "lower.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted  # numpy's lower() is not trusted by default
    with pytest.raises(ValueError, match=f"trusted: \\[{untrusted[0]}\\]"):
        SklearnPipelineAdapter(str(path), positive_class="toxic")
    for blanket in (True, "all"):
        with pytest.raises(ValueError, match="blanket trust"):
            SklearnPipelineAdapter(str(path), positive_class="toxic", trusted=blanket)
    adapter = SklearnPipelineAdapter(str(path), positive_class="toxic", trusted=untrusted)
    expected = model.predict_proba(np.array(PROBE))[:, 1].tolist()
    assert _scores(adapter, PROBE) == pytest.approx(expected, abs=1e-12)
    assert adapter.identity()["trusted"] == sorted(untrusted)


def test_refuses_what_it_cannot_load_or_score(tmp_path, pipeline):
    with pytest.raises(ValueError, match="no such file"):
        SklearnPipelineAdapter(str(tmp_path / "missing.skops"))
    odd = tmp_path / "model.bin"
    joblib.dump(pipeline, odd)
    with pytest.raises(ValueError, match="cannot tell the format"):
        SklearnPipelineAdapter(str(odd), positive_class="toxic")
    assert SklearnPipelineAdapter(str(odd), positive_class="toxic", format="joblib")
    svm = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(TRAIN_TEXTS, TRAIN_LABELS)
    path = tmp_path / "svm.skops"
    sio.dump(svm, path)
    with pytest.raises(ValueError, match="has no predict_proba"):
        SklearnPipelineAdapter(str(path), positive_class="toxic")


def test_template_preset_needs_a_path(tmp_path, pipeline, expected):
    from hydra.utils import instantiate
    from omegaconf.errors import MissingMandatoryValue

    with pytest.raises(MissingMandatoryValue):
        instantiate(compose_config(model="sklearn_pipeline").model)
    path = tmp_path / "model.skops"
    sio.dump(pipeline, path)
    overrides = [f"model.path='{path}'", "model.positive_class=toxic"]
    outcome = run_model(tmp_path, "sklearn_pipeline", *overrides)
    assert outcome.ok
    assert outcome.result["tasks"]["toxicity"]["status"] == "ok"
    assert outcome.result["model"]["identity"]["sha256"] == _sha256(path)


def test_empty_batch():
    assert ProfanityCheckAdapter().predict_toxicity([]) == []
