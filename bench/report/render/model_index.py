"""``model-index/<model>.yaml``: Hugging Face model-card metadata, one file per run.

Built with ``huggingface_hub``'s card data classes (``ModelCardData``, ``EvalResult``),
imported only when a card is written. Only ``ok`` results are published (failed,
unsupported and degraded ones are not); a run without any has no file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.report.compare import PRIMARY_METRIC
from bench.report.leaderboard import Entry, Leaderboard
from bench.report.render.text import METRIC_TITLES

if TYPE_CHECKING:
    from huggingface_hub import ModelCardData

# Hugging Face model-index: task type and name; metric type per metric name.
HF_TASKS = {
    "ner": ("token-classification", "Named entity recognition"),
    "attribution": ("quote-attribution", "Quote attribution"),
    "toxicity": ("text-classification", "Toxicity classification"),
}
HF_METRIC_TYPES = {
    "strict_precision": "precision",
    "strict_recall": "recall",
    "strict_f1": "f1",
    "content_exact_f1": "f1",
    "content_overlap_f1": "f1",
    "content_token_f1": "f1",
    "source_accuracy": "accuracy",
    "e2e_f1": "f1",
    "roc_auc": "roc_auc",
    "average_precision": "average_precision",
    "f1": "f1",
}
# The Hub id of a shipped dataset that has one (datasets/wnut17/README.md links the Hub
# loader ``wnut_17``, now ``leondz/wnut_17``; HateCheck is ``Paul/hatecheck``). Others
# (the seed article, madlibs) keep bench's dataset name as their type.
HUB_DATASETS = {"wnut17": "leondz/wnut_17", "hatecheck": "Paul/hatecheck"}


def model_card_data(board: Leaderboard, entry: Entry) -> ModelCardData | None:
    """The model-card metadata of one run, or None when it has no ``ok`` result.

    The dataset's type is its Hub id where it has one; its files' sha256 goes in the
    dataset's ``args`` (a Hub ``revision`` is a commit of the Hub repository, not this).
    """
    from huggingface_hub import EvalResult, ModelCardData  # only when cards are written

    d = board.dataset
    name = str(d["name"])
    hub_id = HUB_DATASETS.get(name)
    results = []
    for t in board.tasks:
        record = entry.result["tasks"].get(t, {})
        if entry.cells[t].status != "ok":  # failed, unsupported, or degraded: not published
            continue
        names: list[str] = [PRIMARY_METRIC[t]] + [
            m for m in record.get("main_metrics", []) if m != PRIMARY_METRIC[t]
        ]
        task_type, task_name = HF_TASKS[t]
        for m in names:
            value = record["metrics"].get(m, {}).get("value")
            if value is None:
                continue
            results.append(
                EvalResult(
                    task_type=task_type,
                    task_name=task_name,
                    dataset_type=hub_id or name,
                    dataset_name=name,
                    dataset_config=str(d["version"]),
                    dataset_split="test",
                    dataset_args={"sha256": str(d["sha256"])},
                    metric_type=HF_METRIC_TYPES.get(m, m),
                    metric_name=f"{METRIC_TITLES.get(m, m)} ({m})",
                    metric_value=round(float(value), 6),
                )
            )
    if not results:
        return None
    return ModelCardData(
        model_name=entry.name, eval_results=results, datasets=[hub_id] if hub_id else None
    )


def to_yaml(card: ModelCardData) -> str:
    """The card's YAML block, as ``ModelCardData.to_yaml`` writes it, newline-ended."""
    return card.to_yaml() + "\n"
