"""Experiment trackers, each a Hydra callback chosen with ``+tracker=NAME`` (conf/tracker/)."""
