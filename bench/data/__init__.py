"""Gold data: typed records, the built-in dataset loader and its exports."""

from bench.data.gold import GoldError, load_dataset, load_gold
from bench.data.records import (
    Attribution,
    Document,
    Entity,
    GoldDataset,
    Segment,
    Speaker,
    ToxicityLabels,
)

__all__ = [
    "Attribution",
    "Document",
    "Entity",
    "GoldDataset",
    "GoldError",
    "Segment",
    "Speaker",
    "ToxicityLabels",
    "load_dataset",
    "load_gold",
]
