"""Entity span matching (strict: same boundaries and same type)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bench.metrics.values import precision_recall_f1

# (item id, start, end, label)
LabelledSpan = tuple[str, int, int, str]


def strict_counts(
    gold: Iterable[LabelledSpan], pred: Iterable[LabelledSpan]
) -> dict[str, Counter[str]]:
    """Per-label counts of true positives, predictions and gold spans.

    A prediction is a true positive when a gold span has the same item, start,
    end and label (the CoNLL/seqeval "strict" entity match). Duplicate
    predictions of one span count once.
    """
    gold_set, pred_set = set(gold), set(pred)
    return {
        "tp": Counter(span[3] for span in gold_set & pred_set),
        "pred": Counter(span[3] for span in pred_set),
        "gold": Counter(span[3] for span in gold_set),
    }


def strict_scores(
    gold: Iterable[LabelledSpan], pred: Iterable[LabelledSpan]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Micro-averaged strict precision/recall/F1 and the same per label.

    Micro: P = ΣTP / Σpred, R = ΣTP / Σgold, F1 = 2PR / (P + R), over all labels.
    """
    counts = strict_counts(gold, pred)
    tp, n_pred, n_gold = (sum(counts[k].values()) for k in ("tp", "pred", "gold"))
    p, r, f = precision_recall_f1(tp, n_pred, n_gold)
    micro = {"strict_precision": p, "strict_recall": r, "strict_f1": f}
    per_label = {}
    for label in sorted(set(counts["gold"]) | set(counts["pred"])):
        lp, lr, lf = precision_recall_f1(
            counts["tp"][label], counts["pred"][label], counts["gold"][label]
        )
        per_label[label] = {
            "precision": lp,
            "recall": lr,
            "f1": lf,
            "support": counts["gold"][label],
            "predicted": counts["pred"][label],
        }
    return micro, per_label
