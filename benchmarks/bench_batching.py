"""Time prediction in each adapter's preferred batching against the old fixed 32 items.

Not a test: run ``.venv/bin/python benchmarks/bench_batching.py [--repeat N]``.

Times the task path the ``bench`` command runs, ``bench.runner.predict`` (batches,
validation; no cache), on the shipped datasets, first checking that every setting gives
the same predictions as the old one:

* ``profanity_check`` on madlibs toxicity (76,564 sentences): its preference (4,096
  items a call) vs ``batch_size=32``.
* spaCy ``en_core_web_sm`` NER on WNUT-17 (1,287 tweets): the ``spacy_sm_wnut17``
  preset (4,096 a call, tagger, attribute_ruler and lemmatizer not run), and the same
  with ``n_process=2``, vs the whole pipeline in batches of 32.
* Hugging Face NER on WNUT-17 with a small random BERT built here (4 layers, hidden
  256, a WordPiece vocabulary of WNUT-17's words): length-sorted batches of 16 (the
  ``hf_ner`` preset's preference) vs 32 items a call in dataset order, and vs one item
  a call. Its entities are random, the forward passes are real.

Each time is the best of ``--repeat`` runs; the ratios are old / new.
"""

from __future__ import annotations

import argparse
import collections
import copy
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.adapters.base import Adapter, Batching
from bench.cli import CONF_DIR
from bench.runner import build, build_task, predict
from bench.tasks.base import Task


def shipped(dataset: str, task: str) -> Task:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"dataset={dataset}"])
    return build_task(task, build(cfg.dataset, dataset), "bench_batching", cfg)


def preset(name: str, **changes: Any) -> Adapter:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"+model={name}", "dataset=wnut17"])
    model = OmegaConf.merge(cfg.model, changes)
    return build(model, name)


def in_dataset_order(adapter: Adapter) -> Adapter:
    """``adapter`` asked as before per-adapter batching: 32 items a call, dataset order."""
    old = copy.copy(adapter)
    old.batching = lambda task: Batching(32)  # type: ignore[method-assign]
    return old


def best(repeat: int, run: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    times, out = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - started)
    return min(times), out


def compare(
    title: str,
    task: Task,
    old: Adapter,
    new: dict[str, tuple[Adapter, int | None]],
    repeat: int,
) -> list[tuple[str, float, float]]:
    """Time ``predict`` with ``old`` :func:`in_dataset_order` and each (adapter,
    batch_size) of ``new``; check that the predictions are equal."""
    items = task.inputs()
    print(f"{title}: {len(items):,} items", flush=True)
    before = in_dataset_order(old)
    old_s, expected = best(repeat, lambda: predict(task, before, items, None, None)[0])
    rows = []
    for name, (adapter, batch_size) in new.items():
        seconds, got = best(repeat, lambda: predict(task, adapter, items, batch_size, None)[0])  # noqa: B023
        if got != expected:
            raise SystemExit(f"{title}, {name}: predictions differ from the old batching")
        rows.append((f"{title}: {name}", old_s, seconds))
    return rows


def tiny_bert(directory: Path, texts: list[str]) -> Path:
    """A random 4-layer BERT token classifier with a vocabulary of the texts' words."""
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    words = collections.Counter(w for t in texts for w in t.lower().split())
    chars = sorted({c for t in texts for c in t.lower() if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    vocab += [w for w, _ in words.most_common(8000) if w not in set(vocab)]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(directory / "vocab.txt"))
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
        intermediate_size=1024, max_position_embeddings=512,
        id2label=dict(enumerate(labels)), label2id={v: k for k, v in enumerate(labels)},
    )  # fmt: skip
    BertForTokenClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per setting (best is kept)")
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []

    profanity = preset("profanity_check")
    rows += compare(
        "profanity_check, madlibs", shipped("madlibs", "toxicity"), profanity,
        {"4096 a call (preferred)": (profanity, None)}, args.repeat,
    )  # fmt: skip

    wnut = shipped("wnut17", "ner")
    whole = preset("spacy_sm_wnut17", disable=[])
    rows += compare(
        "spaCy NER, WNUT-17", wnut, whole,
        {"preset (4096 a call, 3 components off)": (preset("spacy_sm_wnut17"), None),
         "preset, n_process=2": (preset("spacy_sm_wnut17", n_process=2), None)},
        args.repeat,
    )  # fmt: skip

    from bench.adapters.huggingface import HFTokenClassification

    with tempfile.TemporaryDirectory() as tmp:
        model = tiny_bert(Path(tmp), [item.text for item in wnut.inputs()])
        labels = list(OmegaConf.load(CONF_DIR / "dataset" / "wnut17.yaml").labels)
        to_wnut = {"PER": "person", "LOC": "location", "ORG": "corporation"}
        hf = HFTokenClassification(str(model), label_map=to_wnut, labels=labels)
        rows += compare(
            "HF NER (small BERT), WNUT-17", wnut, hf,
            {"length-sorted, 16 a call (preferred)": (hf, None), "1 a call": (hf, 1)},
            args.repeat,
        )  # fmt: skip

    print("\nsame predictions in every setting\n")
    width = max(len(name) for name, _, _ in rows)
    print(f"{'setting (vs 32 a call, dataset order)':<{width}}  {'old s':>7}  {'new s':>7}  ratio")
    for name, old_s, new_s in rows:
        print(f"{name:<{width}}  {old_s:7.2f}  {new_s:7.2f}  {old_s / new_s:4.1f}x")


if __name__ == "__main__":
    main()
