"""Rule attribution: quotation marks plus a reporting verb, nearest-name speaker.

- A sentence with a quotation of three or more words and a cue verb outside it
  is a direct quote (a mixed one when the quotation continues a clause that
  follows the cue: ``said the measures represent a “…”``).
- A quotation in a sentence without a cue continues the previous speaker.
- A sentence with a cue verb and no quotation is indirect speech: the clause
  after the cue (``X said [that] …``), or before it (``…, officials said.``).
- The source is the noun phrase next to the cue; a pronoun resolves to the
  nearest preceding person name found by the rule NER.
"""

from __future__ import annotations

import re
from functools import cache

from bench.adapters.rules.lexicon import alternation, lexicon
from bench.adapters.rules.ner import find_entities
from bench.adapters.rules.text import quotations, sentences
from bench.predictions import AttributionPrediction

Span = tuple[int, int]
_WORD = re.compile(r"[^\s,;:“”\"()]+")


@cache
def _cue_pattern() -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternation(lexicon()['cue_verbs'])})\b")


def _source_before(text: str, sentence_start: int, cue_start: int) -> Span | None:
    """The words right before the cue, back to punctuation, without determiners (max 6).

    When the cue directly follows a comma (``Mark Feierstein, a former aide …, said``),
    the source is the sentence's first clause instead.
    """
    lex = lexicon()
    skip = set(lex["determiners"]) | set(lex["function_words"]) - set(lex["pronouns"])
    commas = [m.end() for m in re.finditer(r"[,;:”\"]", text[:cue_start])]
    clause_start = max(sentence_start, *commas)
    words = list(_WORD.finditer(text, clause_start, cue_start))[-6:]
    if not words:
        first_comma = text.find(",", sentence_start, cue_start)
        words = (
            list(_WORD.finditer(text, sentence_start, first_comma))[:6] if first_comma > 0 else []
        )
    while words and words[0].group() in skip:
        words = words[1:]
    while words and words[-1].group() in lex["determiners"]:
        words = words[:-1]
    return (words[0].start(), words[-1].end()) if words else None


def _source_after(text: str, cue_end: int, sentence_end: int) -> Span | None:
    """A capitalised name or a pronoun right after the cue (``said Duncan Wood``)."""
    match = re.compile(r" +((?:[A-Z][^\W\d_]*\.? ?)+|he|she|they)").match(
        text, cue_end, sentence_end
    )
    return (match.start(1), match.start(1) + len(match.group(1).rstrip(" "))) if match else None


def _speaker(text: str, source: Span | None, persons: list[Span]) -> str | None:
    """The source text, or for a pronoun the nearest person name before it."""
    if source is None:
        return None
    surface = text[source[0] : source[1]]
    if surface.lower() in {"he", "she", "they"}:
        before = [p for p in persons if p[1] <= source[0]]
        return text[before[-1][0] : before[-1][1]] if before else None
    return re.sub(r"^.*[’']s ", "", surface)  # "Mexico’s economy minister" keeps the noun


def find_attributions(text: str) -> list[AttributionPrediction]:
    """Attributions found by the rules, in text order."""
    persons = [(e.start, e.end) for e in find_entities(text) if e.label == "PERSON"]
    quotes = quotations(text)
    out: list[AttributionPrediction] = []
    for s_start, s_end in sentences(text):
        in_quotes = [q for q in quotes if s_start <= q[0] < s_end]
        cues = [m for m in _cue_pattern().finditer(text, s_start, s_end)
                if not any(q[0] <= m.start() < q[1] for q in quotes)]  # fmt: skip
        if in_quotes and not cues:
            if out:  # a quotation without a cue continues the previous speaker
                out.append(AttributionPrediction(tuple(in_quotes), out[-1].speaker, type="direct"))
            continue
        if not cues:
            continue
        cue = cues[0]
        source = _source_before(text, s_start, cue.start())
        if source is None or (in_quotes and in_quotes[0][1] < cue.start()):
            source = _source_after(text, cue.end(), s_end) or source
        speaker = _speaker(text, source, persons)
        cue_span = (cue.start(), cue.end())
        if cue.group() == "according to":  # "…, according to SOURCE."
            source = _clause_after(text, cue.end(), s_end)
            content = (s_start, _last_comma(text, s_start, cue.start()))
            speaker = text[source[0] : source[1]]
            out.append(AttributionPrediction((content,), speaker, cue_span, source, "indirect"))
            continue
        if in_quotes:
            lead = text[cue.end() : in_quotes[0][0]].strip(' ,“"')
            if in_quotes[0][0] > cue.end() and len(lead.split()) > 1:
                content = _clause_after(text, cue.end(), s_end)
                out.append(AttributionPrediction((content,), speaker, cue_span, source, "mixed"))
            else:
                out.append(
                    AttributionPrediction(tuple(in_quotes), speaker, cue_span, source, "direct")
                )
            continue
        if text[cue.end() : s_end].strip(" .") == "":  # "…, officials said."
            content = (
                s_start,
                text.rindex(",", s_start, cue.start())
                if "," in text[s_start : cue.start()]
                else cue.start(),
            )
        else:
            content = _clause_after(text, cue.end(), s_end)
        if content[1] > content[0]:
            out.append(AttributionPrediction((content,), speaker, cue_span, source, "indirect"))
    return out


def _clause_after(text: str, start: int, end: int) -> Span:
    """The reported clause after a cue: skip the complementiser and final punctuation."""
    match = re.compile(r"\s*(?:that\s+)?").match(text, start)
    start = match.end() if match else start
    while end > start and text[end - 1] in '.!?” "':
        end -= 1
    return start, end


def _last_comma(text: str, start: int, end: int) -> int:
    """Offset of the last comma in ``[start, end)``, or ``end`` if there is none."""
    position = text.rfind(",", start, end)
    return position if position >= 0 else end
