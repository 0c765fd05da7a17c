"""The dataset protocol: a named, versioned, fingerprinted source of task views."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, overload

from bench.data.manifest import verify
from bench.data.views import AttributionGold, NerGold, ToxicityGold


class Dataset:
    """Subclass it, set ``tasks``, implement the views of those tasks and pass the files
    read to :meth:`verify`."""

    tasks: ClassVar[frozenset[str]] = frozenset()
    name: str
    version: str
    sha256: str  # over every file the gold is read from
    files: dict[str, str]  # each file's sha256, by its name in the dataset folder

    def verify(self, files: dict[str, Path]) -> None:
        """Check the files read against datasets/MANIFEST.json (see bench.data.manifest)."""
        self.files = verify(self.name, self.version, files)

    @overload
    def view(self, task: Literal["ner"]) -> NerGold: ...
    @overload
    def view(self, task: Literal["attribution"]) -> AttributionGold: ...
    @overload
    def view(self, task: Literal["toxicity"]) -> ToxicityGold: ...
    @overload
    def view(self, task: str) -> NerGold | AttributionGold | ToxicityGold: ...

    def view(self, task: str) -> NerGold | AttributionGold | ToxicityGold:
        """The view of ``task``, built once (a CSV of 77k rows is parsed one time only)."""
        views: dict[str, NerGold | AttributionGold | ToxicityGold]
        views = self.__dict__.setdefault("_views", {})
        if task not in views:
            views[task] = getattr(self, task)()
        return views[task]

    def ner(self) -> NerGold:
        raise NotImplementedError(f"{self.name} has no NER gold")

    def attribution(self) -> AttributionGold:
        raise NotImplementedError(f"{self.name} has no attribution gold")

    def toxicity(self) -> ToxicityGold:
        raise NotImplementedError(f"{self.name} has no toxicity gold")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "files": self.files,
        }
