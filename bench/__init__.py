"""bench: an NLP evaluation benchmark harness."""

from bench.api import evaluate  # imports nothing heavy until it is called
from bench.version import __version__

__all__ = ["__version__", "evaluate"]
