"""bench: an NLP evaluation benchmark harness."""

__version__ = "0.1.0"
