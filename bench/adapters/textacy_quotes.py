"""Direct quotations found by textacy (``textacy.extract.triples.direct_quotations``).

textacy's rules run on a spaCy parse: each pair of quotation marks of four tokens or
more is a quotation when a reporting verb outside every quotation, in an adjacent
sentence, has an active subject. It yields (speaker, cue, content) triples, mapped to
bench's attributions as:

* ``content``: the text between the marks (marks excluded, as in the gold), stripped;
* ``cue``: the verb phrase's span, first to last token (``said``, ``has told``);
* ``source``: the speaker's noun phrase, first to last token; ``speaker`` is its text
  (a pronoun stays a pronoun: textacy does not resolve it);
* ``type``: ``direct`` (textacy finds no indirect or mixed quotes).

textacy refuses a text with an odd number of quotation marks rather than guess which
quotation is unclosed: such an item is a :class:`PredictionFailure` (reason
``refusal``), left out of the metrics within ``max_failure_rate``.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, ClassVar

from bench.adapters.base import Adapter
from bench.adapters.rules.text import strip_span
from bench.adapters.spacy import load_pipeline, pipeline_identity
from bench.extras import require
from bench.predictions import AttributionPrediction, PredictionFailure, Span, TextItem

_PROBE = "“Mexico will not pay for the wall,” she said."  # textacy must find it


class TextacyQuotesAdapter(Adapter):
    """Attribution with textacy's direct-quotation rules on a spaCy pipeline."""

    tasks: ClassVar[frozenset[str]] = frozenset({"attribution"})

    def __init__(self, pipeline: str, batch_size: int = 32) -> None:
        triples = require("textacy.extract.triples", "textacy")  # lazy: an optional dependency
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.pipeline = str(pipeline)
        self.batch_size = int(batch_size)
        self.nlp = load_pipeline(self.pipeline, "textacy")
        self._quotations = triples.direct_quotations
        self._textacy_version = version("textacy")
        try:  # a pipeline without a parser raises; without a lemmatizer it finds nothing
            found, error = list(self._quotations(self.nlp(_PROBE))), ""
        except ValueError as err:
            found, error = [], f": {err}"
        if not found:
            raise ValueError(
                f"textacy's direct_quotations cannot run on spaCy pipeline {self.pipeline!r}: "
                f"no quotation found in {_PROBE!r} (it needs an English pipeline with a "
                f"tagger, lemmatizer and parser){error}"
            )

    def predict_attribution(
        self, documents: list[TextItem]
    ) -> list[list[AttributionPrediction] | PredictionFailure]:
        texts = [d.text for d in documents]
        docs = self.nlp.pipe(texts, batch_size=self.batch_size)
        return [self._attributions(doc) for doc in docs]

    def _attributions(self, doc: Any) -> list[AttributionPrediction] | PredictionFailure:
        try:
            triples = list(self._quotations(doc))
        except ValueError as err:  # the probe passed: only an unbalanced quotation is left
            return PredictionFailure("refusal", f"textacy: {err}")
        out = []
        for speaker, cue, content in triples:
            inside = strip_span(doc.text, content[0].idx + len(content[0]), content[-1].idx)
            if inside[0] == inside[1]:  # only whitespace between the marks
                continue
            source = _tokens_span(speaker)
            out.append(
                AttributionPrediction(
                    content=(inside,),
                    speaker=doc.text[source[0] : source[1]],
                    cue=_tokens_span(cue),
                    source=source,
                    type="direct",
                )
            )
        return out

    def identity(self) -> dict[str, Any]:
        return pipeline_identity(self.pipeline, self.nlp) | {
            "textacy_version": self._textacy_version
        }


def _tokens_span(tokens: list[Any]) -> Span:
    """From the first token's start to the last token's end (textacy sorts them)."""
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])
