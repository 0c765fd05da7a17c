"""Mapping a model's entity labels onto the label set a dataset scores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bench.data.schema import ENTITY_LABELS


class LabelMap:
    """``label_map`` entries rename a model's labels (``PER: PERSON``) or drop them
    (``MISC: null``); unmapped labels pass through and must be in ``labels``
    (OntoNotes by default; e.g. WNUT-17's lower-case types for ``dataset=wnut17``)."""

    def __init__(
        self,
        mapping: Mapping[str, str | None] | None,
        owner: str,
        labels: Iterable[str] | None = None,
    ) -> None:
        self.mapping: dict[str, str | None] = dict(mapping or {})
        self.owner = owner
        self.labels = tuple(labels) if labels is not None else ENTITY_LABELS
        for source, target in self.mapping.items():
            if target is not None and target not in self.labels:
                raise ValueError(
                    f"label_map[{source!r}] = {target!r} is not a target label; "
                    f"expected one of {', '.join(self.labels)} or null (drop)"
                )

    def __call__(self, label: str) -> str | None:
        """The target label of ``label``, or None when it is dropped."""
        return self.mapping.get(label, label)

    def check(self, model_labels: Iterable[str]) -> None:
        """Refuse a model whose labels would map outside the target label set."""
        unknown = sorted(
            label for label in model_labels
            if (target := self(label)) is not None and target not in self.labels
        )  # fmt: skip
        if unknown:
            raise ValueError(
                f"{self.owner} predicts labels outside the target set: {', '.join(unknown)}; "
                f"map each in the model config, e.g. label_map: "
                f"{{{unknown[0]}: {self.labels[0]}}} or {{{unknown[0]}: null}} to drop it"
            )
