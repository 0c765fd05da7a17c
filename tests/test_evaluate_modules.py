"""bench's metrics loaded offline as Hugging Face ``evaluate`` modules give the same numbers."""

from __future__ import annotations

import evaluate
import numpy as np
import pytest

from bench.evaluate_modules import module_path
from bench.metrics import ranking


@pytest.fixture(scope="module")
def toxicity():
    return evaluate.load(module_path("bench_toxicity"))


def test_toxicity_module_equals_the_library_functions(toxicity):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200).tolist()
    scores = np.round(rng.random(200), 3).tolist()
    out = toxicity.compute(predictions=scores, references=labels, threshold=0.4)
    assert out["roc_auc"] == ranking.roc_auc(labels, scores).value
    assert out["average_precision"] == ranking.average_precision(labels, scores).value
    assert out["f1"] == ranking.f1_at_threshold(labels, scores, 0.4).value
    assert out["brier"] == ranking.brier_score(labels, scores).value
    assert out["ece"] == ranking.expected_calibration_error(labels, scores).value
    best = ranking.f1_best_threshold(labels, scores)
    assert (out["f1_best"], out["f1_best_threshold"]) == (best.f1.value, best.threshold)


def test_toxicity_module_reports_undefined_as_none(toxicity):
    out = toxicity.compute(predictions=[0.2, 0.4], references=[0, 0])
    assert out["roc_auc"] is None and out["average_precision"] is None


def test_unknown_module_is_refused():
    with pytest.raises(FileNotFoundError):
        module_path("bench_nothing")


@pytest.mark.parametrize(("mode", "scheme"), [("default", None), ("strict", "IOB2")])
def test_ner_module_equals_seqeval(mode, scheme):
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    references = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "I-ORG", "I-ORG", "B-PER"]]
    predictions = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "I-ORG", "I-PER"]]
    ner = evaluate.load(module_path("bench_ner"))
    out = ner.compute(predictions=predictions, references=references, mode=mode, scheme=scheme)
    kwargs = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    reference = classification_report(references, predictions, output_dict=True, **kwargs)
    assert out["overall_f1"] == pytest.approx(reference["micro avg"]["f1-score"])
    assert out["overall_precision"] == pytest.approx(reference["micro avg"]["precision"])
    for label in ("PER", "LOC", "ORG"):
        assert out[label]["f1"] == pytest.approx(reference[label]["f1-score"])
        assert out[label]["number"] == reference[label]["support"]


def test_attribution_module_equals_the_library_function():
    from dataclasses import replace

    from bench.data.seed import SeedArticle
    from bench.metrics.attribution import attribution_scores, content_tokens

    view = SeedArticle().view("attribution")
    items = [item.id for item in view.items]

    def rows(records):
        return [
            [{"content": [list(p) for p in r.content], "speaker": r.speaker or "",
              "cue": list(r.cue or ()), "source": list(r.source or ()), "type": r.type or ""}
             for r in records if r.item_id == item]
            for item in items
        ]  # fmt: skip

    texts = {item.id: item.text for item in view.items}
    gold = [replace(g, tokens=content_tokens(texts[g.item_id], g.content)) for g in view.records]
    # a degraded system: every second record dropped, speakers of the rest swapped, and
    # every third content cut to its first half
    pred = []
    for k, r in enumerate(gold[::2]):
        start, end = r.content[0]
        content = ((start, (start + end) // 2),) if k % 3 == 0 else r.content
        tokens = content_tokens(texts[r.item_id], content)
        pred.append(replace(r, speaker="someone", source=None, content=content, tokens=tokens))
    module = evaluate.load(module_path("bench_attribution"))
    out = module.compute(
        predictions=rows(pred), references=rows(gold), texts=[texts[i] for i in items]
    )
    expected, _ = attribution_scores(gold, pred)
    assert out == {name: value.value for name, value in expected.items()}
    assert 0 < out["content_overlap_f1"] < 1 and out["source_accuracy"] == 0.0
    assert 0 < out["content_token_recall"] < out["content_token_precision"] == 1.0
    # without the texts, no token metrics (rather than zeros)
    untokenised = module.compute(predictions=rows(pred), references=rows(gold))
    assert untokenised == {k: v for k, v in out.items() if not k.startswith("content_token_")}
