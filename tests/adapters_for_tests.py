"""Deliberately broken adapters, built by Hydra from ``_target_`` in the tests."""

from __future__ import annotations

from typing import ClassVar

from bench.adapters.base import Adapter, Batching
from bench.adapters.baselines import EmptyAdapter, OracleAdapter
from bench.predictions import EntityPrediction, PredictionFailure, TextItem, ToxicityPrediction


class OutOfRangeNer(Adapter):
    """Returns an entity ending past the document; toxicity stays valid."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner", "toxicity"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[EntityPrediction(0, len(d.text) + 5, "PERSON")] for d in documents]

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(0.5) for _ in items]


class UnknownLabelNer(Adapter):
    tasks: ClassVar[frozenset[str]] = frozenset({"ner"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [[EntityPrediction(0, 3, "VILLAIN")] for _ in documents]


class NanToxicity(Adapter):
    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [ToxicityPrediction(float("nan")) for _ in items]


class RaisingAdapter(Adapter):
    """Raises inside the model call for NER; attribution works (returns nothing)."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner", "attribution"})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        raise RuntimeError("model server went away")

    def predict_attribution(self, documents: list[TextItem]) -> list[list]:
        return [[] for _ in documents]


class CountingToxicity(Adapter):
    """A cacheable model that records every item it is asked about in ``log`` (a file),
    and raises once, on its ``crash_on_batch``-th call, if ``crash_marker`` is missing."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def __init__(self, log: str, crash_marker: str = "", crash_on_batch: int = 0) -> None:
        self.log, self.marker, self.crash_on, self.calls = log, crash_marker, crash_on_batch, 0

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        from pathlib import Path

        self.calls += 1
        if self.crash_on and self.calls == self.crash_on and not Path(self.marker).exists():
            Path(self.marker).touch()
            raise RuntimeError("interrupted")
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{item.id}\n" for item in items))
        return [ToxicityPrediction(min(len(item.text) / 300, 1.0)) for item in items]


class GatedToxicity(Adapter):
    """Touches ``started`` when asked to predict, then waits (up to a minute) for ``gate``
    to exist: a run that stays live until the test lets it finish."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})
    cacheable: ClassVar[bool] = False

    def __init__(self, started: str, gate: str) -> None:
        self.started, self.gate = started, gate

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        import time
        from pathlib import Path

        Path(self.started).touch()
        deadline = time.monotonic() + 60
        while not Path(self.gate).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return [ToxicityPrediction(0.5) for _ in items]


class ConfiguredEmpty(EmptyAdapter):
    """The empty baseline taking any parameter (``api_key`` …): the model group is open to
    the schema, the adapter decides which parameters it takes."""

    def __init__(self, score: float = 0.0, **params: object) -> None:
        super().__init__(score)
        self.params = params


class RefusesShouting(Adapter):
    """Scores toxicity by length, but refuses every upper-case text of even length (half
    the items under ``+perturb=casing perturb.casing.mode=upper``)."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})
    cacheable: ClassVar[bool] = False

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        return [
            PredictionFailure("refusal", "shouting")
            if item.text.isupper() and len(item.text) % 2 == 0
            else ToxicityPrediction(min(len(item.text) / 300, 1.0))
            for item in items
        ]


class SometimesFailingToxicity(Adapter):
    """Scores toxicity by text length; fails the items whose id's CRC-32 is a multiple of
    4 (whatever the batch), as a generative model that answered garbage would."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def predict_toxicity(
        self, items: list[TextItem]
    ) -> list[ToxicityPrediction | PredictionFailure]:
        import zlib

        return [
            PredictionFailure("parse", f"no score in the answer to {item.id}", item.text, "Hmm.")
            if zlib.crc32(item.id.encode()) % 4 == 0
            else ToxicityPrediction(min(len(item.text) / 300, 1.0))
            for item in items
        ]


class LengthSortedToxicity(Adapter):
    """Prefers 3 items a call, shortest first; writes each call's item ids as a line of
    ``log``. Scores as :class:`CountingToxicity`."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})
    preferred_batching: ClassVar[Batching] = Batching(3, sort_by_length=True)

    def __init__(self, log: str) -> None:
        self.log = log

    def predict_toxicity(self, items: list[TextItem]) -> list[ToxicityPrediction]:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(" ".join(item.id for item in items) + "\n")
        return [ToxicityPrediction(min(len(item.text) / 300, 1.0)) for item in items]


class CapitalOracle(OracleAdapter):
    """The gold entities whose text starts with a capital letter: a model that relies on
    case (under ``+perturb=casing`` it loses the entities of the recased items)."""

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        return [
            [e for e in entities if doc.text[e.start].isupper()]
            for doc, entities in zip(documents, super().predict_ner(documents), strict=True)
        ]
