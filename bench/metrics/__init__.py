"""Pure metric functions: span matching, attribution matching, ranking and classification.

Each returns plain numbers or :class:`~bench.metrics.values.MetricValue` records;
none knows about adapters, configs or files.
"""
