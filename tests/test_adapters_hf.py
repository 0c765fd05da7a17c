"""The Hugging Face adapters on tiny models built here (needs the `hf` extra installed).

The token classifiers are 2-layer encoders whose attention and feed-forward outputs
are zeroed and whose position embeddings are zero, so each token's tag depends on its
id alone, set through one-hot word embeddings and an identity classifier: the expected
entities of any text are known exactly, wherever a token falls in a window. One is a
BERT with a WordPiece vocabulary written here (lowercased, accents stripped), the other
a RoBERTa with a byte-level BPE trained here on the test texts (cased, multi-byte
characters split into bytes, no maximum length in its tokenizer config). The toxicity
classifier has seeded random weights; its scores are checked against the model's own
logits.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers
from bench_config import run_model, shipped_task
from tokenizers import ByteLevelBPETokenizer, Tokenizer, processors
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertTokenizerFast,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaForTokenClassification,
)

from bench.adapters.huggingface import HFTextClassification, HFTokenClassification
from bench.data.schema import ENTITY_LABELS
from bench.predictions import PredictionFailure, TextItem
from bench.runner import predict

MAX_POSITIONS = 64  # the models' token limit, so that short texts already need windows
CONLL = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
CONLL_TO_ONTONOTES = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "MISC": None}
# The tag of each word piece (after BERT's lowercasing and accent stripping); others are O.
TAGS = {
    "juan": "B-PER", "pena": "I-PER", "villa": "B-PER", "##raig": "I-PER", "##osa": "I-PER",
    "los": "B-LOC", "angeles": "I-LOC", "reuters": "B-ORG", "spanish": "B-MISC",
    "mexico": "B-LOC",
}  # fmt: skip
OTHER_WORDS = ["said", "in", "the", "met", "and", "“", "”", ".", ",", "?", "who", "it"]
TOXICITY_LABELS = ["toxic", "severe_toxic", "insult", "threat", "neutral"]
# The BPE model's tags, by whole word (each of these words is one token).
WORD_TAGS = {
    "Juan": "B-PER", "Peña": "I-PER", "Villaraigosa": "B-PER", "Los": "B-LOC",
    "Angeles": "I-LOC", "Reuters": "B-ORG", "Spanish": "B-MISC", "Mexico": "B-LOC",
}  # fmt: skip
UNICODE_SENTENCE = "Ça, “naïve” — 😀 Juan Peña said in Mexico."

SENTENCE = "“Juan Peña met Villaraigosa in Los Angeles,” Reuters said in Spanish."
SENTENCE_ENTITIES = [
    ("Juan Peña", "PERSON"),  # accent stripped by the tokenizer, offsets still in the text
    ("Villaraigosa", "PERSON"),  # three word pieces, one span
    ("Los Angeles", "GPE"),  # CoNLL LOC -> GPE
    ("Reuters", "ORG"),
]  # "Spanish" is MISC, mapped to null: dropped
EXPECTED_PATTERNS = [
    (r"Juan Peña|Juan|Peña", "PERSON"),  # a lone "Peña" is I-PER: a span of its own
    (r"Villaraigosa", "PERSON"),
    (r"Los Angeles", "GPE"),
    (r"Reuters", "ORG"),
    (r"Mexico", "GPE"),
]


def _vocab() -> dict[str, int]:
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TAGS, *OTHER_WORDS]
    return {w: i for i, w in enumerate(words)}


def _tokenizer() -> BertTokenizerFast:
    return BertTokenizerFast(vocab=_vocab(), model_max_length=MAX_POSITIONS)


def _config(vocab: dict[str, int], labels: list[str], **kwargs) -> BertConfig:
    return BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **kwargs,
    )


def _tag_by_token(model, encoder, tags: list[str]) -> None:
    """Make ``model`` tag token id i as ``tags[i]``, whatever its context and position."""
    with torch.no_grad():
        embeddings = encoder.embeddings
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        embeddings.word_embeddings.weight.zero_()
        for index, tag in enumerate(tags):  # one-hot: dimension k means tag CONLL[k]
            embeddings.word_embeddings.weight[index, CONLL.index(tag)] = 1.0
        for layer in encoder.encoder.layer:  # residual connections carry the embeddings
            for dense in (layer.attention.output.dense, layer.output.dense):
                dense.weight.zero_()
                dense.bias.zero_()
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for k in range(len(CONLL)):
            model.classifier.weight[k, k] = 10.0


def _save_ner_model(path: Path) -> Path:
    vocab = _vocab()
    model = BertForTokenClassification(_config(vocab, CONLL))
    _tag_by_token(model, model.bert, [TAGS.get(word, "O") for word in vocab])
    model.save_pretrained(path)
    _tokenizer().save_pretrained(path)
    return path


def _save_bpe_ner_model(path: Path) -> Path:
    bpe = ByteLevelBPETokenizer(add_prefix_space=True, trim_offsets=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    corpus = [_long_document(), SENTENCE, UNICODE_SENTENCE]
    bpe.train_from_iterator(corpus, vocab_size=600, special_tokens=specials, show_progress=False)
    bpe.post_processor = processors.RobertaProcessing(
        ("</s>", bpe.token_to_id("</s>")),
        ("<s>", bpe.token_to_id("<s>")),
        trim_offsets=True,
        add_prefix_space=True,
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(bpe.to_str()),
        bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
        pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
    )  # fmt: skip
    for word in WORD_TAGS:
        assert len(tokenizer(word, add_special_tokens=False)["input_ids"]) == 1, word
    tags = [WORD_TAGS.get(tokenizer.decode([i]).strip(), "O") for i in range(len(tokenizer))]
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS + 2,  # RoBERTa's positions start at pad + 1
        pad_token_id=1,
        id2label=dict(enumerate(CONLL)),
        label2id={label: i for i, label in enumerate(CONLL)},
    )
    model = RobertaForTokenClassification(config)
    _tag_by_token(model, model.roberta, tags)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _save_toxicity_model(path: Path) -> Path:
    torch.manual_seed(0)
    config = _config(_vocab(), TOXICITY_LABELS, problem_type="multi_label_classification")
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # spread the logits so that scores differ visibly between texts
        model.classifier.weight.mul_(50.0)
    model.save_pretrained(path)
    _tokenizer().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def ner_dir(tmp_path_factory) -> Path:
    return _save_ner_model(tmp_path_factory.mktemp("hf") / "ner")


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory) -> Path:
    return _save_bpe_ner_model(tmp_path_factory.mktemp("hf") / "bpe")


@pytest.fixture(scope="module")
def tox_dir(tmp_path_factory) -> Path:
    return _save_toxicity_model(tmp_path_factory.mktemp("hf") / "toxicity")


@pytest.fixture(scope="module")
def ner(ner_dir) -> HFTokenClassification:
    return HFTokenClassification(str(ner_dir), label_map=CONLL_TO_ONTONOTES)


def _spans(text: str, entities) -> list[tuple[str, str]]:
    return [(text[e.start : e.end], e.label) for e in entities]


def _expected(text: str) -> set[tuple[int, int, str]]:
    return {
        (m.start(), m.end(), label)
        for pattern, label in EXPECTED_PATTERNS
        for m in re.finditer(rf"\b(?:{pattern})\b", text, re.IGNORECASE)
    }


def _long_document() -> str:
    """~7,800 characters: paragraphs, sentences ending in . ? and quotes, and one run-on
    sentence of several windows with no sentence end."""
    paragraphs = []
    for i in range(48):
        sentences = [
            "“Juan Peña met Villaraigosa in Los Angeles,” Reuters said.",
            "Who said it in Mexico?",
            f"The Spanish met {'the ' * (i % 5)}Juan Peña and Villaraigosa.",
        ]
        paragraphs.append(" ".join(sentences))
    run_on = " ".join(["the met said and Reuters in the"] * 40)  # ~1,300 chars, no end
    return "\n\n".join(paragraphs[:20] + [run_on] + paragraphs[20:]) + "\n"


# -- NER ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["simple", "first", "average", "max"])
def test_offsets_and_mapped_labels_of_a_known_sentence(ner_dir, strategy):
    adapter = HFTokenClassification(
        str(ner_dir), label_map=CONLL_TO_ONTONOTES, aggregation_strategy=strategy
    )
    [entities] = adapter.predict_ner([TextItem("s", SENTENCE)])
    assert _spans(SENTENCE, entities) == SENTENCE_ENTITIES
    assert [(e.start, e.end) for e in entities] == [(1, 10), (15, 27), (31, 42), (45, 52)]


def test_offsets_after_non_ascii_text_are_str_indices(ner):
    text = UNICODE_SENTENCE
    [entities] = ner.predict_ner([TextItem("u", text)])
    assert _spans(text, entities) == [("Juan Peña", "PERSON"), ("Mexico", "GPE")]
    assert {(e.start, e.end, e.label) for e in entities} == _expected(text)


def test_long_document_is_tagged_in_windows_with_global_offsets(ner, ner_dir):
    text = _long_document()
    assert len(text) > 7000
    windows = ner.windows(text)
    assert len(windows) > 20  # far beyond one 64-token window
    [entities] = ner.predict_ner([TextItem("long", text)])
    got = {(e.start, e.end, e.label) for e in entities}
    assert got == _expected(text)  # every occurrence, to the last one, at its exact offsets
    assert max(e.end for e in entities) > len(text) - 100
    assert len(entities) == len(got)  # no duplicates
    # The plain pipeline truncates at 64 tokens: without windows the rest would be lost.
    plain = ner.pipe(text, aggregation_strategy="simple")
    assert max(int(e["end"]) for e in plain) < 300
    assert len(plain) < len(entities) / 20


def test_byte_level_bpe_offsets_are_character_offsets(bpe_dir):
    """Multi-byte characters are several byte tokens; offsets must still be str indices."""
    adapter = HFTokenClassification(str(bpe_dir), label_map=CONLL_TO_ONTONOTES)
    assert adapter.max_length == MAX_POSITIONS  # from the positions: the tokenizer has no limit
    [entities] = adapter.predict_ner([TextItem("s", SENTENCE)])
    assert _spans(SENTENCE, entities) == SENTENCE_ENTITIES
    [entities] = adapter.predict_ner([TextItem("u", UNICODE_SENTENCE)])
    assert _spans(UNICODE_SENTENCE, entities) == [("Juan Peña", "PERSON"), ("Mexico", "GPE")]
    text = _long_document()
    [entities] = adapter.predict_ner([TextItem("long", text)])
    assert {(e.start, e.end, e.label) for e in entities} == _expected(text)


def test_windows_fit_cover_the_text_and_prefer_sentence_ends(ner_dir):
    for max_length in (16, 24, 64):
        adapter = HFTokenClassification(
            str(ner_dir), label_map=CONLL_TO_ONTONOTES, max_length=max_length
        )
        assert adapter.window_tokens == max_length - 2  # [CLS] and [SEP]
        word = "villa" + "raig" * 20  # one word of 21 word pieces: cut at a token boundary
        unknown_words = " ".join(["x" * 150] * 40)  # 6,000 characters, 40 tokens
        texts = (_long_document(), SENTENCE * 3, f"in {word} in the", unknown_words, "", " \n ")
        for text in texts:
            windows = adapter.windows(text)
            covered = set()
            previous_end = 0
            for start, end in windows:
                assert previous_end <= start < end <= len(text)
                previous_end = end
                assert adapter._count([text[start:end]])[0] <= adapter.window_tokens
                covered.update(range(start, end))
            assert all(text[i].isspace() for i in set(range(len(text))) - covered)
    adapter = HFTokenClassification(str(ner_dir), label_map=CONLL_TO_ONTONOTES)
    text = _long_document()
    run_on = text.index("the met said")
    for start, _ in adapter.windows(text):
        if start < run_on:  # before the run-on sentence every window starts a sentence
            assert start == 0 or text[start - 2 : start] in (". ", "? ", "\n\n")


def test_long_documents_in_a_batch_match_one_by_one(ner_dir):
    documents = [
        TextItem("a", _long_document()[:3000]),
        TextItem("b", SENTENCE),
        TextItem("c", ""),
        TextItem("d", "no entity here"),
    ]
    batched = HFTokenClassification(
        str(ner_dir), label_map=CONLL_TO_ONTONOTES, batch_size=8
    ).predict_ner(documents)
    single = HFTokenClassification(
        str(ner_dir), label_map=CONLL_TO_ONTONOTES, batch_size=1
    ).predict_ner(documents)
    assert batched == single
    assert batched[2] == [] and batched[3] == []


def _in_dataset_order(predict_batch, items, size=32):
    """What the runner did before per-adapter batching: 32 items a call, in dataset order."""
    return [p for k in range(0, len(items), size) for p in predict_batch(items[k : k + size])]


def test_windows_go_to_the_pipeline_by_length_and_come_back_in_order(ner_dir):
    """Issue 16: a call's windows (long documents cut into several, short ones whole)
    reach the pipeline shortest first, so its batches pad little; each document gets
    the entities of its own windows, as when predicted alone."""
    adapter = HFTokenClassification(str(ner_dir), label_map=CONLL_TO_ONTONOTES, batch_size=4)
    documents = [
        TextItem("a", _long_document()[:3000]),
        TextItem("b", SENTENCE),
        TextItem("c", "no entity here"),
        TextItem("d", f"{SENTENCE} {SENTENCE}"),
    ]
    sent: list[list[str]] = []
    pipe = adapter.pipe

    def recording(texts, **options):  # noqa: ANN001, ANN003, ANN202
        sent.append(list(texts))
        return pipe(texts, **options)

    adapter.pipe = recording
    predictions = adapter.predict_ner(documents)
    assert len(adapter.windows(documents[0].text)) > 2  # the long one is cut
    [texts] = sent
    assert [len(t) for t in texts] == sorted(len(t) for t in texts)
    assert texts[0] == "no entity here"
    adapter.pipe = pipe
    assert predictions == [adapter.predict_ner([d])[0] for d in documents]
    assert predictions[1] and predictions[3] and predictions[2] == []


def test_length_sorted_batches_give_the_same_predictions_in_input_order(ner):
    """WNUT-17 tweets of every length, some with entities the tiny model knows (checked
    as the seed article's task, whose labels are the model's)."""
    task = shipped_task("seed_article", "ner")
    items = [
        TextItem(item.id, " ".join([SENTENCE] * (k % 4) + [item.text]))
        for k, item in enumerate(shipped_task("wnut17", "ner").inputs()[:120])
    ]
    predictions, stats = predict(task, ner, items, None, None)
    assert stats["batching"] == {"size": 16, "sort_by_length": True, "inside": {}}
    assert predictions == _in_dataset_order(ner.predict_ner, items)
    assert sum(map(len, predictions)) > 100


def test_length_sorted_toxicity_scores_are_identical(tox_dir):
    adapter = HFTextClassification(str(tox_dir), batch_size=16)
    task = shipped_task("madlibs", "toxicity")
    items = task.inputs()[:300]
    predictions, _ = predict(task, adapter, items, None, None)
    assert predictions == _in_dataset_order(adapter.predict_toxicity, items)


def test_conll_labels_without_a_map_are_a_clear_error(ner_dir):
    with pytest.raises(ValueError, match=r"outside the target set: MISC, PER; .*label_map"):
        HFTokenClassification(str(ner_dir))
    with pytest.raises(ValueError, match="'PLACE' is not a target label"):
        HFTokenClassification(str(ner_dir), label_map={"LOC": "PLACE"})
    with pytest.raises(ValueError, match="aggregation_strategy"):
        HFTokenClassification(
            str(ner_dir), label_map=CONLL_TO_ONTONOTES, aggregation_strategy="none"
        )


def test_label_map_renames_and_drops(ner_dir):
    text = "Reuters said the Spanish met Juan Peña in Los Angeles."
    adapter = HFTokenClassification(
        str(ner_dir), label_map={"PER": None, "LOC": "LOC", "MISC": "NORP", "ORG": "ORG"}
    )
    [entities] = adapter.predict_ner([TextItem("m", text)])
    assert _spans(text, entities) == [
        ("Reuters", "ORG"),
        ("Spanish", "NORP"),
        ("Los Angeles", "LOC"),
    ]


def test_whitespace_is_stripped_and_unknown_labels_fail_at_prediction_time(ner, monkeypatch):
    text = "Juan met  Reuters  ."

    def fake_pipe(texts, **kwargs):
        return [[
            {"entity_group": "PER", "start": 0, "end": 5, "score": 1.0},  # "Juan "
            {"entity_group": "ORG", "start": 8, "end": 19, "score": 1.0},  # "  Reuters  "
            {"entity_group": "LOC", "start": 8, "end": 9, "score": 1.0},  # " ": dropped
        ] for _ in texts]  # fmt: skip

    monkeypatch.setattr(ner, "pipe", fake_pipe)
    [entities] = ner.predict_ner([TextItem("w", text)])
    assert [(e.start, e.end, e.label) for e in entities] == [(0, 4, "PERSON"), (10, 17, "ORG")]

    def villain_pipe(texts, **kwargs):
        return [[{"entity_group": "VILLAIN", "start": 0, "end": 4, "score": 1.0}] for _ in texts]

    monkeypatch.setattr(ner, "pipe", villain_pipe)
    with pytest.raises(ValueError, match="VILLAIN"):
        ner.predict_ner([TextItem("w", text)])


def test_an_entity_without_offsets_fails_its_document_not_the_others(ner, monkeypatch):
    """A slow tokenizer gives no offsets: the document failed, it did not lack the entity."""

    def pipe(texts, **kwargs):
        spans = [(None, None) if "Juan" in text else (0, 4) for text in texts]
        return [[{"entity_group": "PER", "start": s, "end": e, "word": "juan", "score": 1.0}]
                for s, e in spans]  # fmt: skip

    monkeypatch.setattr(ner, "pipe", pipe)
    failed, ok = ner.predict_ner([TextItem("a", "Juan met."), TextItem("b", "Pena met.")])
    assert isinstance(failed, PredictionFailure) and failed.reason == "error"
    assert "'juan' without character offsets" in failed.message
    assert [(e.start, e.end, e.label) for e in ok] == [(0, 4, "PERSON")]


def test_missing_model_is_a_one_line_error(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ValueError, match="is not a directory") as missing_dir:
        HFTokenClassification(str(tmp_path / "no_such_model"))
    with pytest.raises(ValueError, match="neither a local directory nor in the hub cache") as hub:
        HFTokenClassification("no-such-org/no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="could not load") as empty:
        HFTextClassification(str(tmp_path / "empty"))
    for err in (missing_dir, hub, empty):
        assert "\n" not in str(err.value)


def test_hub_id_resolves_from_the_local_cache_only(ner_dir, tmp_path, monkeypatch):
    import huggingface_hub.constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    storage = tmp_path / "hub" / "models--someone--tiny-ner"
    shutil.copytree(ner_dir, storage / "snapshots" / commit)
    (storage / "refs").mkdir()
    (storage / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    offline_before = huggingface_hub.constants.HF_HUB_OFFLINE
    adapter = HFTokenClassification("someone/tiny-ner", label_map=CONLL_TO_ONTONOTES)
    assert offline_before == huggingface_hub.constants.HF_HUB_OFFLINE  # restored after loading
    identity = adapter.identity()
    assert identity["model"] == "someone/tiny-ner"
    assert identity["revision"] == commit
    [entities] = adapter.predict_ner([TextItem("s", SENTENCE)])
    assert _spans(SENTENCE, entities) == SENTENCE_ENTITIES
    with pytest.raises(ValueError, match="at revision 'v2'"):
        HFTokenClassification("someone/tiny-ner", label_map=CONLL_TO_ONTONOTES, revision="v2")


def test_identity_hashes_the_weights_and_records_versions(ner, ner_dir):
    identity = ner.identity()
    weights = hashlib.sha256((ner_dir / "model.safetensors").read_bytes()).hexdigest()
    assert identity["weights_sha256"] == {"model.safetensors": weights}
    assert identity["path"] == str(ner_dir.resolve())
    assert identity["model_type"] == "bert"
    assert identity["architectures"] == ["BertForTokenClassification"]
    assert "name_or_path" in identity  # config.json's _name_or_path (absent from new saves)
    assert identity["revision"] is None
    assert len(identity["config_tokenizer_sha256"]) == 64
    assert identity["max_length"] == MAX_POSITIONS
    assert identity["transformers_version"] == transformers.__version__
    assert identity["torch_version"] == torch.__version__


# -- toxicity ----------------------------------------------------------------------------------


def _logits(model_dir: Path, text: str) -> torch.Tensor:
    model = BertForSequenceClassification.from_pretrained(model_dir).eval()
    encoded = _tokenizer()(text, truncation=True, max_length=MAX_POSITIONS, return_tensors="pt")
    with torch.no_grad():
        return model(**encoded).logits[0]


TOXIC_TEXTS = ["Juan Peña said it.", "the the the", "Who met Reuters in Mexico?", ""]


def test_toxicity_scores_are_the_models_sigmoid_probabilities(tox_dir):
    adapter = HFTextClassification(
        str(tox_dir), attribute_labels={"insult": "insult", "severe_toxic": "severe_toxicity"}
    )
    predictions = adapter.predict_toxicity([TextItem(str(i), t) for i, t in enumerate(TOXIC_TEXTS)])
    assert len(predictions) == len(TOXIC_TEXTS)
    for text, prediction in zip(TOXIC_TEXTS, predictions, strict=True):
        probabilities = torch.sigmoid(_logits(tox_dir, text))
        index = TOXICITY_LABELS.index
        assert prediction.score == pytest.approx(float(probabilities[index("toxic")]), abs=1e-5)
        assert prediction.attributes == pytest.approx(
            {
                "insult": float(probabilities[index("insult")]),
                "severe_toxicity": float(probabilities[index("severe_toxic")]),
            },
            abs=1e-5,
        )
    assert len({round(p.score, 4) for p in predictions}) > 1  # the text matters


def test_toxicity_softmax_and_truncation(tox_dir):
    adapter = HFTextClassification(str(tox_dir), function_to_apply="softmax", batch_size=2)
    long_text = " ".join(["Juan Peña said it in Mexico."] * 60)  # ~420 tokens > 64
    texts = ["Who met Reuters in Mexico?", long_text]
    predictions = adapter.predict_toxicity([TextItem(str(i), t) for i, t in enumerate(texts)])
    for text, prediction in zip(texts, predictions, strict=True):
        expected = torch.softmax(_logits(tox_dir, text), dim=-1)[0]  # "toxic" is label 0
        assert prediction.score == pytest.approx(float(expected), abs=1e-5)
        assert prediction.attributes == {}
        assert 0.0 <= prediction.score <= 1.0


def test_toxicity_label_errors_list_the_models_labels(tox_dir):
    with pytest.raises(ValueError, match=r"no label 'toxicity'.*its labels: toxic, severe_toxic"):
        HFTextClassification(str(tox_dir), toxic_label="toxicity")
    with pytest.raises(ValueError, match="no label 'identity_hate'"):
        HFTextClassification(str(tox_dir), attribute_labels={"identity_hate": "identity_attack"})
    with pytest.raises(ValueError, match="'rude' is not a toxicity attribute"):
        HFTextClassification(str(tox_dir), attribute_labels={"insult": "rude"})
    with pytest.raises(ValueError, match="function_to_apply"):
        HFTextClassification(str(tox_dir), function_to_apply="none")


# -- through the runner ------------------------------------------------------------------------


def _run_preset(tmp_path: Path, preset: str, *overrides: str):
    return run_model(tmp_path, preset, *overrides)


def test_ner_preset_runs_through_the_runner(ner_dir, gold, tmp_path):
    outcome = _run_preset(tmp_path, "hf_ner", f"model.model={ner_dir}", "bootstrap.resamples=0")
    assert outcome.ok
    tasks = outcome.result["tasks"]
    assert tasks["ner"]["status"] == "ok", tasks["ner"]
    assert tasks["attribution"]["status"] == "unsupported"
    assert tasks["toxicity"]["status"] == "unsupported"
    assert outcome.result["model"]["identity"]["model"] == str(ner_dir)
    # The runner validated every span; check them again against the documents' text.
    adapter = HFTokenClassification(str(ner_dir), label_map=CONLL_TO_ONTONOTES)
    documents = [TextItem(d.id, d.text) for d in gold.documents]
    predictions = adapter.predict_ner(documents)
    assert max(len(d.text) for d in documents) > 6000
    found = 0
    for item, entities in zip(documents, predictions, strict=True):
        assert {(e.start, e.end, e.label) for e in entities} == _expected(item.text)
        for e in entities:
            assert 0 <= e.start < e.end <= len(item.text)
            assert e.label in ENTITY_LABELS
        found += len(entities)
    assert found > 30  # "Mexico" and "Peña" (Nieto) occur in the gold


def test_toxicity_preset_runs_through_the_runner(tox_dir, tmp_path):
    outcome = _run_preset(
        tmp_path,
        "hf_toxicity",
        f"model.model={tox_dir}",
        "+model.attribute_labels.insult=insult",
        "+model.attribute_labels.threat=threat",
        "bootstrap.resamples=0",
    )
    assert outcome.ok
    tasks = outcome.result["tasks"]
    assert tasks["toxicity"]["status"] == "ok", tasks["toxicity"]
    assert tasks["ner"]["status"] == "unsupported"
    roc_auc = tasks["toxicity"]["metrics"]["roc_auc"]["value"]
    assert roc_auc is not None and 0.0 <= roc_auc <= 1.0
    identity = outcome.result["model"]["identity"]
    assert identity["architectures"] == ["BertForSequenceClassification"]
    assert set(identity["weights_sha256"]) == {"model.safetensors"}


def test_presets_require_a_model(tmp_path):
    from omegaconf.errors import MissingMandatoryValue

    for preset in ("hf_ner", "hf_toxicity"):
        with pytest.raises(MissingMandatoryValue, match="model.model"):
            _run_preset(tmp_path, preset)


def test_torch_and_transformers_are_not_imported_with_bench():
    code = (
        "import sys, bench, bench.cli, bench.runner, bench.adapters.huggingface;"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
