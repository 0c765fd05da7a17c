"""The three tasks: what a model is given, what it must return, how it is scored."""

from bench.tasks.attribution import AttributionTask
from bench.tasks.base import PredictionError, Task, TaskScore
from bench.tasks.ner import NerTask
from bench.tasks.toxicity import ToxicityTask

TASKS: dict[str, type[Task]] = {
    "ner": NerTask,
    "attribution": AttributionTask,
    "toxicity": ToxicityTask,
}

__all__ = ["TASKS", "PredictionError", "Task", "TaskScore"]
