"""Model adapters: one module per model family, built by name from conf/model/*.yaml."""

from bench.adapters.base import Adapter

__all__ = ["Adapter"]
