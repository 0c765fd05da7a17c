"""bench's version: one place, read by the package, provenance, the cache and the build."""

__version__ = "0.1.0"
