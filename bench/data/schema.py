"""Closed label sets of the annotation schema (datasets/seed-article/GUIDELINES.md)."""

ENTITY_LABELS: tuple[str, ...] = (
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART",
    "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
)  # fmt: skip
ATTRIBUTION_TYPES: tuple[str, ...] = ("direct", "indirect", "mixed")
TOXICITY_ATTRIBUTES: tuple[str, ...] = (
    "severe_toxicity", "obscene", "insult", "threat", "identity_attack", "sexual_explicit",
)  # fmt: skip
IDENTITIES: tuple[str, ...] = (
    "mexican", "latino", "central_american", "immigrant", "jewish", "american",
)  # fmt: skip
DOCUMENT_IDS: tuple[str, ...] = ("article", "comment-1", "comment-2")
