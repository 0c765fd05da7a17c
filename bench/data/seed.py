"""The built-in seed-article dataset as task views."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from bench.data.dataset import Dataset
from bench.data.gold import GOLD_FILES, default_gold_dir, load_dataset
from bench.data.records import Document, GoldDataset, Segment
from bench.data.schema import ENTITY_LABELS
from bench.data.views import AttributionGold, NerGold, ToxicityGold, toxicity_gold
from bench.metrics.attribution import AttributionRecord
from bench.predictions import TextItem


class SeedArticle(Dataset):
    """One news article and its comments (``datasets/seed-article``), all three tasks."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner", "attribution", "toxicity"})

    def __init__(
        self, path: str | Path | None = None, name: str = "seed_article", version: str | None = None
    ) -> None:
        self.gold: GoldDataset = load_dataset(path)
        self.name = name
        self.version = version or self.gold.version
        self.sha256 = self.gold.files_sha256
        directory = Path(path) if path is not None else default_gold_dir()
        self.verify({f: directory / f for f in (self.gold.raw_file, *GOLD_FILES)})

    @cached_property
    def _starts(self) -> dict[str, int]:
        return {d.id: d.start for d in self.gold.documents}

    def _local(self, doc_id: str, span: tuple[int, int]) -> tuple[int, int]:
        return span[0] - self._starts[doc_id], span[1] - self._starts[doc_id]

    def _documents(self) -> tuple[TextItem, ...]:
        return tuple(TextItem(d.id, d.text) for d in self.gold.documents)

    def _segments(self) -> tuple[tuple[str, int, int, str], ...]:
        return tuple((s.doc_id, *self._local(s.doc_id, (s.start, s.end)), s.id)
                     for s in self.gold.segments)  # fmt: skip

    def ner(self) -> NerGold:
        spans = tuple(
            (e.doc_id, *self._local(e.doc_id, (e.start, e.end)), e.label)
            for e in self.gold.entities
        )
        return NerGold(self._documents(), spans, ENTITY_LABELS, segments=self._segments())

    def attribution(self) -> AttributionGold:
        records = tuple(
            AttributionRecord(
                a.doc_id,
                tuple(self._local(a.doc_id, piece) for piece in a.content),
                a.source_entity,
                self._local(a.doc_id, a.cue),
                self._local(a.doc_id, a.source),
                a.type,
            )
            for a in self.gold.attributions
        )
        speakers = tuple((s.id, s.aliases) for s in self.gold.speakers)
        return AttributionGold(self._documents(), records, speakers, segments=self._segments())

    def toxicity(self) -> ToxicityGold:
        units: list[tuple[Segment | Document, str]] = [(s, "segment") for s in self.gold.segments]
        units += [(d, "document") for d in self.gold.documents]
        names = sorted({name for u, _ in units for name in u.labels.attributes})
        return toxicity_gold(
            [TextItem(u.id, u.text) for u, _ in units],
            [u.labels.toxic for u, _ in units],
            ("segment", "document"),
            level=[level for _, level in units],
            identities=[u.labels.identities for u, _ in units],
            attributes={
                name: [u.labels.attributes.get(name, -1) for u, _ in units] for name in names
            },
        )

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"raw_sha256": self.gold.raw_sha256}
