"""bench: an NLP evaluation benchmark harness."""

from bench.api import evaluate  # imports nothing heavy until it is called

__version__ = "0.1.0"
__all__ = ["evaluate"]
