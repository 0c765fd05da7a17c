"""Exports of the gold round-trip: Hugging Face, CoNLL and JSONL; the tokenizer fits the gold."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from bench.data.conll import ConllError, parse_conll
from bench.data.export import (
    BIO_LABELS,
    CONFIGS,
    SPLIT,
    bio_tags,
    features,
    from_dataset_dicts,
    from_jsonl,
    rows_from_dataset,
    to_conll,
    to_dataset_dict,
    to_jsonl,
    to_rows,
    tokenize,
)
from bench.data.records import GoldDataset
from bench.data.schema import ATTRIBUTION_TYPES, ENTITY_LABELS, IDENTITIES, TOXICITY_ATTRIBUTES
from bench.metrics.bio import decode


@pytest.fixture(scope="module")
def dataset_dicts(gold: GoldDataset) -> dict[str, Any]:
    return {config: to_dataset_dict(gold, config) for config in CONFIGS}


def local_entities(gold: GoldDataset, doc_id: str) -> list[tuple[str, int, int]]:
    """``(label, start, end)`` of a document's gold entities, relative to its text."""
    start = gold.document(doc_id).start
    return [(e.label, e.start - start, e.end - start) for e in gold.entities if e.doc_id == doc_id]


def by_id(items: Any) -> list[Any]:
    return sorted(items, key=lambda item: item.id)


# ---------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Mexico’s", ["Mexico", "’s"]),
        ("Mexico's", ["Mexico", "'s"]),
        ("U.S.-Mexico", ["U.S.", "-", "Mexico"]),
        ("the U.S. said", ["the", "U.S.", "said"]),
        ("to the U.S.", ["to", "the", "U.S."]),
        ("$21 billion", ["$", "21", "billion"]),
        ("more than 400,000 people.", ["more", "than", "400,000", "people", "."]),
        ("Sept. 30,", ["Sept", ".", "30", ","]),
        ("MEXICO CITY—Top", ["MEXICO", "CITY", "—", "Top"]),
        ("non-Mexicans", ["non", "-", "Mexicans"]),
        ("don’t", ["don", "’t"]),
        ("“Accept ‘PROVISIONS’???", ["“", "Accept", "‘", "PROVISIONS", "’", "???"]),
        ("Enrique Peña Nieto", ["Enrique", "Peña", "Nieto"]),
        ("F%&K a$$", ["F", "%", "&", "K", "a", "$$"]),
        ("", []),
    ],
)
def test_tokenize_examples(text: str, tokens: list[str]) -> None:
    assert [text[s:e] for s, e in tokenize(text)] == tokens


def test_tokens_cover_every_non_space_character(gold: GoldDataset) -> None:
    text = gold.raw_text
    spans = tokenize(text)
    assert spans == tokenize(text)  # deterministic
    assert all(a[1] <= b[0] for a, b in pairwise(spans))
    assert all(s < e and not any(c.isspace() for c in text[s:e]) for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == "".join(text.split())


def test_tokenizer_respects_every_gold_entity_boundary(gold: GoldDataset) -> None:
    for doc in gold.documents:
        tokens = tokenize(doc.text)
        starts, ends = {s for s, _ in tokens}, {e for _, e in tokens}
        for label, start, end in local_entities(gold, doc.id):
            where = f"{doc.id} [{start}, {end}) {label} {doc.text[start:end]!r}"
            assert start in starts, f"entity start inside a token: {where}"
            assert end in ends, f"entity end inside a token: {where}"


# ---------------------------------------------------------------------------- BIO


def test_bio_tags_reject_an_entity_off_token_boundaries() -> None:
    tokens = tokenize("Mexico’s wall")
    assert bio_tags(tokens, [(0, 6, "GPE")]) == ["B-GPE", "O", "O"]
    with pytest.raises(ValueError, match="token boundaries"):
        bio_tags(tokens, [(0, 4, "GPE")])


@pytest.mark.parametrize(
    ("tags", "entities"),
    [
        (["B-GPE", "I-GPE", "O", "B-PERSON"], [("GPE", 0, 2), ("PERSON", 3, 4)]),
        (["B-GPE", "B-GPE"], [("GPE", 0, 1), ("GPE", 1, 2)]),
        (["O", "I-ORG", "I-ORG"], [("ORG", 1, 3)]),
        (["B-GPE", "I-ORG"], [("GPE", 0, 1), ("ORG", 1, 2)]),
        (["B-WORK_OF_ART", "I-WORK_OF_ART"], [("WORK_OF_ART", 0, 2)]),
        ([], []),
    ],
)
def test_decode_bio(tags: list[str], entities: list[tuple[str, int, int]]) -> None:
    assert decode(tags) == [(s, e, label) for label, s, e in entities]
    assert get_entities(tags) == [(label, s, e - 1) for label, s, e in entities]


# ---------------------------------------------------------------------------- Hugging Face


def test_one_test_split_per_config(gold: GoldDataset, dataset_dicts: dict[str, Any]) -> None:
    rows = dict.fromkeys(("ner", "attribution", "toxicity_document"), len(gold.documents))
    rows["toxicity_segment"] = len(gold.segments)
    for config, dd in dataset_dicts.items():
        assert list(dd) == [SPLIT]
        assert dd[SPLIT].num_rows == rows[config]
        assert dd[SPLIT].features == features(config)
        assert dd[SPLIT].info.config_name == config
    with pytest.raises(ValueError, match="unknown config"):
        to_dataset_dict(gold, "sentiment")


def test_features_types(dataset_dicts: dict[str, Any]) -> None:
    from datasets import ClassLabel, Value

    ner = dataset_dicts["ner"][SPLIT].features
    assert ner["entities"]["label"].feature == ClassLabel(names=list(ENTITY_LABELS))
    assert ner["entities"]["start"].feature == Value("int32")
    assert ner["ner_tags"].feature == ClassLabel(names=list(BIO_LABELS))
    assert ner["ner_tags"].feature.names[:3] == ["O", "B-PERSON", "I-PERSON"]
    assert ner["tokens"].feature == Value("string")
    assert ner["token_offsets"].feature.length == 2
    attribution = dataset_dicts["attribution"][SPLIT].features
    assert attribution["attributions"]["type"].feature == ClassLabel(names=list(ATTRIBUTION_TYPES))
    assert attribution["attributions"]["source_entity"].feature == Value("string")
    assert attribution["attributions"]["content"].feature.feature.length == 2
    for config in ("toxicity_segment", "toxicity_document"):
        toxicity = dataset_dicts[config][SPLIT].features
        for name in ("toxic", "severity", *TOXICITY_ATTRIBUTES):
            assert toxicity[name] == Value("int8")
        assert toxicity["identities"].feature == ClassLabel(names=list(IDENTITIES))
    assert "doc_id" in dataset_dicts["toxicity_segment"][SPLIT].features


def test_hf_round_trip_gives_the_gold_records(
    gold: GoldDataset, dataset_dicts: dict[str, Any]
) -> None:
    for config, dd in dataset_dicts.items():
        assert rows_from_dataset(dd[SPLIT]) == to_rows(gold, config)
    records = from_dataset_dicts(dataset_dicts)
    assert records.entities == gold.entities
    assert by_id(records.attributions) == by_id(gold.attributions)
    assert records.segments == gold.segments
    assert records.documents == gold.documents


def test_hf_offsets_are_relative_to_the_document(dataset_dicts: dict[str, Any]) -> None:
    for row in rows_from_dataset(dataset_dicts["ner"][SPLIT]):
        for entity in row["entities"]:
            assert row["text"][entity["start"] : entity["end"]] == entity["text"]
        assert [row["text"][s:e] for s, e in row["token_offsets"]] == row["tokens"]
    for row in rows_from_dataset(dataset_dicts["attribution"][SPLIT]):
        for a in row["attributions"]:
            assert [row["text"][s:e] for s, e in a["content"]] == a["content_text"]
            assert row["text"][a["cue"][0] : a["cue"][1]] == a["cue_text"]
            assert row["text"][a["source"][0] : a["source"][1]] == a["source_text"]


def test_hf_bio_view_decodes_to_the_gold_entities(
    gold: GoldDataset, dataset_dicts: dict[str, Any]
) -> None:
    dataset = dataset_dicts["ner"][SPLIT]
    names = dataset.features["ner_tags"].feature.names
    for row in dataset:
        offsets = row["token_offsets"]
        tags = [names[i] for i in row["ner_tags"]]
        decoded = [(lab, offsets[i][0], offsets[j - 1][1]) for i, j, lab in decode(tags)]
        assert decoded == local_entities(gold, row["id"])


# ---------------------------------------------------------------------------- CoNLL


def test_conll_round_trip_gives_the_gold_entities(gold: GoldDataset) -> None:
    sentences = parse_conll(to_conll(gold))
    assert len(sentences) == len(gold.documents)
    for doc, sentence in zip(gold.documents, sentences, strict=True):
        offsets = tokenize(doc.text)
        assert list(sentence.tokens) == [doc.text[s:e] for s, e in offsets]
        tags = sentence.tags
        assert set(tags) <= set(BIO_LABELS)
        decoded = [(lab, offsets[i][0], offsets[j - 1][1]) for i, j, lab in decode(tags)]
        assert decoded == local_entities(gold, doc.id)
        assert get_entities(tags) == [(lab, i, j - 1) for i, j, lab in decode(tags)]


def test_conll_layout(gold: GoldDataset) -> None:
    text = to_conll(gold)
    assert "-DOCSTART-" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text.count("\n\n") == len(gold.documents) - 1
    assert all(line.count("\t") == 1 for line in text.splitlines() if line)


def test_parse_conll_tolerates_docstart_spaces_crlf_and_no_final_blank_line() -> None:
    text = "-DOCSTART- -X- O\r\n\r\nU.S. NNP B-GPE\r\nsaid VBD O\r\n\r\n\r\nMexico\tNNP\tB-GPE"
    sentences = parse_conll(text)
    assert [(s.tokens, s.tags, s.line) for s in sentences] == [
        (("U.S.", "said"), ["B-GPE", "O"], 3),
        (("Mexico",), ["B-GPE"], 7),
    ]


@pytest.mark.parametrize("text", ["U.S.\tB-GPE\nsaid\n", "U.S.\tB-GPE\nsaid\tVBD\tO\n"])
def test_parse_conll_reports_the_line_of_a_bad_column_count(text: str) -> None:
    with pytest.raises(ConllError, match=r"^f\.conll:2: columns:"):
        parse_conll(text, "f.conll")


# ---------------------------------------------------------------------------- JSONL


def test_jsonl_round_trip_gives_the_gold_records(gold: GoldDataset) -> None:
    texts = to_jsonl(gold)
    assert tuple(texts) == CONFIGS
    for config, text in texts.items():
        assert [json.loads(line) for line in text.splitlines()] == to_rows(gold, config)
    records = from_jsonl(texts)
    assert records.entities == gold.entities
    assert by_id(records.attributions) == by_id(gold.attributions)
    assert records.segments == gold.segments
    assert records.documents == gold.documents


def test_from_jsonl_reads_only_the_given_tasks(gold: GoldDataset) -> None:
    records = from_jsonl({"ner": to_jsonl(gold)["ner"]})
    assert records.entities == gold.entities
    assert records.attributions == records.segments == records.documents == ()
