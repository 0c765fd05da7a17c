"""Hugging Face ``transformers`` models: token classification (NER) and text
classification (toxicity), run through ``transformers.pipeline`` on the CPU.

``model`` is a local directory saved with ``save_pretrained`` (config, weights,
tokenizer), or a hub id whose snapshot is already in the local hub cache
(``~/.cache/huggingface/hub``, or ``HF_HUB_CACHE``). Nothing is downloaded at run
time: the id is resolved with ``local_files_only=True`` and the model is loaded
with the hub in offline mode; a model that is not on disk is a one-line error.
Download it beforehand where the hub is reachable (``hf download ORG/NAME``) or
save it into a directory. torch and transformers are imported only when an adapter
is built, never when ``bench`` is imported.

``HFTokenClassification`` (``+model=hf_ner``)
    A ``token-classification`` pipeline with ``aggregation_strategy`` (default
    ``simple``: B-/I- tags grouped into spans). Offsets are the pipeline's
    ``start`` / ``end`` character offsets into the text given, with surrounding
    whitespace stripped; a document with an entity the pipeline gave no offsets for
    (a slow tokenizer) is a failed item, not a document without that entity. Labels
    go through ``label_map`` (``{PER: PERSON, MISC: null}`` renames ``PER`` and
    drops ``MISC``; an unmapped label passes as it is);
    a label that is not one of the 18 OntoNotes types after mapping is an error,
    raised when the adapter is built for the labels the model declares
    (``config.id2label``), and at prediction time for any other.

    Long documents: encoders see at most ``max_length`` tokens (512 for BERT-like
    models), and the pipeline would silently truncate the rest. Each document is
    therefore cut into windows that fit, at sentence ends or line breaks (a
    sentence too long for one window is cut at the last whitespace that fits, and
    a single word longer than a window at a token boundary). Windows do not
    overlap; each is tagged on its own and its offsets are shifted back by the
    window's start, so every prediction is an offset into the whole document.

``HFTextClassification`` (``+model=hf_toxicity``)
    A ``text-classification`` pipeline returning every label's score (``top_k=None``)
    after ``function_to_apply``: ``sigmoid`` for multi-label heads (each label its
    own probability, as in Jigsaw-style toxicity models) or ``softmax`` for
    single-label heads (``toxic`` vs ``non-toxic``). The score is that of
    ``toxic_label``; ``attribute_labels`` maps model labels to the benchmark's
    attributes (``{insult: insult, identity_hate: identity_attack}``). Texts longer
    than ``max_length`` tokens are truncated (the tail is not scored).

``identity()`` records the model as configured and the directory it was loaded
from, ``config.json``'s ``_name_or_path``, ``model_type`` and architectures, the
hub commit of a cached snapshot, the sha256 of every weights file loaded and of the
config and tokenizer files, and the transformers and torch versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from bench.adapters.base import Adapter, Batching
from bench.adapters.labels import LabelMap
from bench.data.schema import TOXICITY_ATTRIBUTES
from bench.extras import require
from bench.predictions import EntityPrediction, PredictionFailure, TextItem, ToxicityPrediction

_AGGREGATIONS = ("simple", "first", "average", "max")
_FUNCTIONS = ("sigmoid", "softmax")
_DTYPES = ("float32", "float16", "bfloat16", "auto")
# Files that change what a loaded model predicts, besides its weights.
_SETTINGS_FILES = (
    "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "added_tokens.json", "vocab.txt", "vocab.json", "merges.txt", "spiece.model",
    "sentencepiece.bpe.model", "tokenizer.model",
)  # fmt: skip
# Where a document may be cut between windows: after a line break, or after the
# whitespace that follows a sentence end (and any closing quotes or brackets).
_BOUNDARY = re.compile(r"\s*\n\s*|(?<=[.!?…])[\"'”’»)\]]*\s+")
_WHITESPACE = re.compile(r"\s")
_NO_LIMIT = 1_000_000  # tokenizers without a maximum report ~1e30
# Model types whose position ids start after the padding index (514 positions = 512 tokens).
_PADDED_POSITIONS = ("roberta", "camembert", "longformer", "mpnet")


# -- loading -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """HF_HUB_OFFLINE=1 while loading: any HTTP call of huggingface_hub raises instead."""
    import huggingface_hub.constants as hub_constants

    saved = hub_constants.HF_HUB_OFFLINE, os.environ.get("HF_HUB_OFFLINE")
    hub_constants.HF_HUB_OFFLINE = True
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = saved[0]
        if saved[1] is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved[1]


def _resolve(model: str, revision: str | None) -> tuple[Path, str | None]:
    """The local directory of ``model`` and, for a hub cache snapshot, its commit hash."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), None
    if path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ValueError(f"Hugging Face model {model!r} is not a directory")
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_CACHE

    try:
        with _hub_offline():
            snapshot = snapshot_download(model, revision=revision, local_files_only=True)
    except Exception as err:  # LocalEntryNotFoundError, HFValidationError, ...
        at = f" at revision {revision!r}" if revision else ""
        raise ValueError(
            f"Hugging Face model {model!r}{at} is neither a local directory nor in the hub "
            f"cache {HF_HUB_CACHE} (nothing is downloaded at run time): download it beforehand "
            f"with `hf download {model}` where the hub is reachable, or set model to a "
            f"directory saved with save_pretrained ({type(err).__name__})"
        ) from err
    snapshot_path = Path(snapshot)
    commit = snapshot_path.name if snapshot_path.parent.name == "snapshots" else None
    return snapshot_path, commit


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_files(directory: Path) -> list[Path]:
    """The weights transformers loads: safetensors if any, else PyTorch pickles."""
    for pattern in ("*.safetensors", "pytorch_model*.bin"):
        found = sorted(p for p in directory.glob(pattern) if p.is_file())
        if found:
            return found
    return []


def _token_limit(tokenizer: Any, config: Any, max_length: int | None) -> int:
    """Tokens (special ones included) the model can take in one sequence."""
    limits = []
    if max_length is not None:
        if int(max_length) < 8:
            raise ValueError(f"max_length must be >= 8 tokens, got {max_length}")
        limits.append(int(max_length))
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < _NO_LIMIT:
        limits.append(model_max)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and 0 < positions < _NO_LIMIT:
        if any(kind in str(getattr(config, "model_type", "")) for kind in _PADDED_POSITIONS):
            pad = getattr(config, "pad_token_id", None)
            positions -= (1 if pad is None else int(pad)) + 1  # positions start at pad + 1
        limits.append(positions)
    if not limits:
        raise ValueError(
            "the tokenizer and the model config give no maximum sequence length: set max_length"
        )
    return min(limits)


class _HFAdapter(Adapter):
    """Loading, offline resolution and identity shared by both pipelines."""

    _pipeline_task: ClassVar[str]
    _auto_class: ClassVar[str]

    def _load(
        self,
        model: str,
        revision: str | None,
        device: str,
        batch_size: int,
        max_length: int | None,
        dtype: str,
    ) -> None:
        torch = require("torch", "hf")  # lazy: torch and transformers are optional dependencies
        transformers = require("transformers", "hf")

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        self.model = str(model)
        self.batch_size = int(batch_size)
        self.device = str(device)
        self.path, self.commit = _resolve(self.model, revision)
        auto_model = getattr(transformers, self._auto_class)
        torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
        try:
            with _hub_offline():
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    self.path, local_files_only=True
                )
                network = auto_model.from_pretrained(
                    self.path, local_files_only=True, dtype=torch_dtype
                )
        except (OSError, ValueError, KeyError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ValueError(
                f"could not load Hugging Face model {self.model!r} from {self.path} as "
                f"{self._auto_class}: {type(err).__name__}: {first_line}"
            ) from err
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"Hugging Face model {self.model!r} has no fast (Rust) tokenizer: character "
                "offsets need one (a tokenizer.json in the model directory)"
            )
        network.eval()
        self.tokenizer = tokenizer
        self.max_length = _token_limit(tokenizer, network.config, max_length)
        with _hub_offline():
            self.pipe = transformers.pipeline(
                self._pipeline_task, model=network, tokenizer=tokenizer, device=self.device
            )
        self._identity = self._describe(transformers.__version__, torch.__version__)

    def _describe(self, transformers_version: str, torch_version: str) -> dict[str, Any]:
        config_file = self.path / "config.json"
        config = json.loads(config_file.read_text("utf-8")) if config_file.is_file() else {}
        settings = hashlib.sha256()
        for name in _SETTINGS_FILES:
            if (self.path / name).is_file():
                settings.update(f"{name}\0{_sha256(self.path / name)}\0".encode())
        return {
            "model": self.model,
            "path": str(self.path),
            "name_or_path": config.get("_name_or_path"),
            "model_type": config.get("model_type"),
            "architectures": config.get("architectures"),
            "revision": self.commit,
            "weights_sha256": {p.name: _sha256(p) for p in _weights_files(self.path)},
            "config_tokenizer_sha256": settings.hexdigest(),
            "max_length": self.max_length,
            "transformers_version": transformers_version,
            "torch_version": torch_version,
        }

    def batching(self, task: str) -> Batching:
        """One forward pass a call, of texts of similar length: each batch is padded to
        its longest text, so dataset order would pad short texts far beyond their length."""
        return Batching(self.batch_size, sort_by_length=True)

    def _labels(self) -> list[str]:
        id2label = self.pipe.model.config.id2label
        return [str(id2label[i]) for i in sorted(id2label)]

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)


# -- NER ---------------------------------------------------------------------------------------


def _entity_name(label: str) -> str:
    """The entity type of a tag, as the pipeline's aggregation names its groups."""
    return label[2:] if label.startswith(("B-", "I-")) else label


class HFTokenClassification(_HFAdapter):
    """NER with a token-classification model, over sentence-aligned windows of each document."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner"})
    _pipeline_task: ClassVar[str] = "token-classification"
    _auto_class: ClassVar[str] = "AutoModelForTokenClassification"

    def __init__(
        self,
        model: str,
        label_map: Mapping[str, str | None] | None = None,
        aggregation_strategy: str = "simple",
        batch_size: int = 16,
        device: str = "cpu",
        max_length: int | None = None,
        revision: str | None = None,
        dtype: str = "float32",
        labels: list[str] | None = None,
    ) -> None:
        if aggregation_strategy not in _AGGREGATIONS:
            raise ValueError(
                f"aggregation_strategy must be one of {', '.join(_AGGREGATIONS)} (spans, not "
                f"per-token tags), got {aggregation_strategy!r}"
            )
        self.aggregation_strategy = aggregation_strategy
        self.label_map = LabelMap(label_map, f"Hugging Face model {model!r}", labels)
        self._load(model, revision, device, batch_size, max_length, dtype)
        declared = {_entity_name(label) for label in self._labels()} - {"O"}
        self.label_map.check(declared)
        self._special = len(self.tokenizer("")["input_ids"])
        self.window_tokens = self.max_length - self._special
        if self.window_tokens < 1:
            raise ValueError(f"max_length {self.max_length} leaves no room for text tokens")

    # windows

    def _count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(texts, add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def windows(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping ``[start, end)`` spans of ``text`` of at most ``window_tokens``
        tokens each, cut at sentence ends or line breaks where possible. Spans holding no
        token (whitespace) are left out."""
        budget = self.window_tokens
        cuts = sorted({m.end() for m in _BOUNDARY.finditer(text)} - {0, len(text)})
        bounds = [0, *cuts, len(text)]
        pieces = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]
        counts = self._count([text[a:b] for a, b in pieces])
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(pieces):
            total, j = counts[i], i + 1
            while j < len(pieces) and total + counts[j] <= budget:
                total += counts[j]
                j += 1
            start = pieces[i][0]
            # pieces counted apart may tokenize differently together (BPE): check the whole
            while j > i + 1 and self._count([text[start : pieces[j - 1][1]]])[0] > budget:
                j -= 1
            end = pieces[j - 1][1]
            n = self._count([text[start:end]])[0]
            if n > budget:
                out.extend(self._split_long(text, start, end))
            elif n > 0:
                out.append((start, end))
            i = j
        return out

    def _split_long(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut a span with no sentence boundary at the last whitespace that fits (or, for a
        word longer than a window, at the last token that fits)."""
        budget = self.window_tokens
        out: list[tuple[int, int]] = []
        reach = budget * 8  # characters tokenized at a time, grown while it is not enough
        while start < end:
            stop = min(end, start + reach)
            enc = self.tokenizer(
                text[start:stop], add_special_tokens=False, return_offsets_mapping=True,
                verbose=False,
            )  # fmt: skip
            offsets = enc["offset_mapping"]
            if len(offsets) <= budget:
                if stop == end:
                    if offsets:
                        out.append((start, end))
                    break
                reach *= 2
                continue
            first_out = start + offsets[budget][0]  # where the first token that does not fit starts
            spaces = [m.start() for m in _WHITESPACE.finditer(text, start + 1, first_out + 1)]
            cut = spaces[-1] if spaces else first_out
            if cut <= start:
                cut = max(start + 1, start + offsets[budget - 1][1])
            out.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        return out

    def predict_ner(
        self, documents: list[TextItem]
    ) -> list[list[EntityPrediction] | PredictionFailure]:
        jobs: list[tuple[int, int]] = []  # (document index, window start)
        texts: list[str] = []
        for k, item in enumerate(documents):
            for a, b in self.windows(item.text):
                jobs.append((k, a))
                texts.append(item.text[a:b])
        # windows by length, so that each batch of the pipeline pads little; answers
        # put back in the windows' order
        order = sorted(range(len(texts)), key=lambda j: len(texts[j]))
        answers = (
            self.pipe(
                [texts[j] for j in order],
                aggregation_strategy=self.aggregation_strategy,
                batch_size=self.batch_size,
            )
            if texts
            else []
        )
        if len(texts) == 1 and answers and isinstance(answers[0], dict):
            answers = [answers]  # a single text may come back unwrapped
        outputs: list[Any] = [None] * len(texts)
        for j, answer in zip(order, answers, strict=True):
            outputs[j] = answer
        found: list[set[EntityPrediction]] = [set() for _ in documents]
        failed: dict[int, PredictionFailure] = {}
        for (k, shift), entities in zip(jobs, outputs, strict=True):
            text = documents[k].text
            for entity in entities:
                name = str(entity.get("entity_group", entity.get("entity")))
                self.label_map.check([name])
                label = self.label_map(name)
                if label is None:
                    continue
                if entity.get("start") is None:  # a slow tokenizer gives no offsets
                    failed[k] = PredictionFailure(
                        "error", f"entity {entity.get('word')!r} without character offsets"
                    )
                    continue
                start, end = shift + int(entity["start"]), shift + int(entity["end"])
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if start < end:
                    found[k].add(EntityPrediction(start, end, label))
        return [
            failed.get(k) or sorted(f, key=lambda e: (e.start, e.end, e.label))
            for k, f in enumerate(found)
        ]


# -- toxicity ----------------------------------------------------------------------------------


class HFTextClassification(_HFAdapter):
    """Toxicity with a sequence-classification model: the probability of ``toxic_label``."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})
    _pipeline_task: ClassVar[str] = "text-classification"
    _auto_class: ClassVar[str] = "AutoModelForSequenceClassification"

    def __init__(
        self,
        model: str,
        toxic_label: str = "toxic",
        attribute_labels: Mapping[str, str] | None = None,
        function_to_apply: str = "sigmoid",
        batch_size: int = 32,
        device: str = "cpu",
        max_length: int | None = None,
        revision: str | None = None,
        dtype: str = "float32",
    ) -> None:
        if function_to_apply not in _FUNCTIONS:
            raise ValueError(
                f"function_to_apply must be one of {', '.join(_FUNCTIONS)}, got "
                f"{function_to_apply!r}"
            )
        self.function_to_apply = function_to_apply
        self.toxic_label = str(toxic_label)
        self.attribute_labels = {str(k): str(v) for k, v in (attribute_labels or {}).items()}
        for source, target in self.attribute_labels.items():
            if target not in TOXICITY_ATTRIBUTES:
                raise ValueError(
                    f"attribute_labels[{source!r}] = {target!r} is not a toxicity attribute; "
                    f"expected one of {', '.join(TOXICITY_ATTRIBUTES)}"
                )
        self._load(model, revision, device, batch_size, max_length, dtype)
        labels = self._labels()
        missing = [
            name for name in (self.toxic_label, *self.attribute_labels) if name not in labels
        ]
        if missing:
            raise ValueError(
                f"Hugging Face model {self.model!r} has no label {', '.join(map(repr, missing))} "
                f"(toxic_label / attribute_labels); its labels: {', '.join(labels)}"
            )

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        if not items:
            return []
        outputs = self.pipe(
            [item.text for item in items],
            top_k=None,
            function_to_apply=self.function_to_apply,
            truncation=True,
            max_length=self.max_length,
            batch_size=self.batch_size,
        )
        if len(items) == 1 and outputs and isinstance(outputs[0], dict):
            outputs = [outputs]  # a single text may come back unwrapped
        out = []
        for scores in outputs:
            by_label = {str(s["label"]): min(1.0, max(0.0, float(s["score"]))) for s in scores}
            out.append(
                ToxicityPrediction(
                    score=by_label[self.toxic_label],
                    attributes={
                        target: by_label[source] for source, target in self.attribute_labels.items()
                    },
                )
            )
        return out


__all__ = ["HFTextClassification", "HFTokenClassification"]
