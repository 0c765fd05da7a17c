"""Chat prompts: the system prompt and one template per task, each asking for one JSON object."""

from __future__ import annotations

import hashlib
import json

from bench.data.schema import ATTRIBUTION_TYPES, ENTITY_LABELS, TOXICITY_ATTRIBUTES

SYSTEM_PROMPT = (
    "You are a careful annotator for an evaluation benchmark. "
    "Answer with exactly one JSON object and nothing else: no prose, no code fences."
)

_LABEL_HELP = {
    "PERSON": "people, including fictional",
    "NORP": "nationalities, religious or political groups",
    "FAC": "buildings, airports, highways, bridges",
    "ORG": "companies, agencies, institutions",
    "GPE": "countries, cities, states",
    "LOC": "non-GPE locations: mountain ranges, bodies of water, regions",
    "PRODUCT": "objects, vehicles, foods (not services)",
    "EVENT": "named hurricanes, battles, wars, sports events",
    "WORK_OF_ART": "titles of books, songs, reports",
    "LAW": "named documents made into laws, treaties, orders",
    "LANGUAGE": "any named language",
    "DATE": "absolute or relative dates or periods",
    "TIME": "times smaller than a day",
    "PERCENT": "percentages, including '%'",
    "MONEY": "monetary values, including unit",
    "QUANTITY": "measurements, as of weight or distance",
    "ORDINAL": "first, second …",
    "CARDINAL": "numerals that do not fall under another type",
}
_LABELS = "\n".join(f"- {label}: {_LABEL_HELP.get(label, '')}" for label in ENTITY_LABELS)

NER_PROMPT = f"""Find every named-entity mention in the document below.

Labels:
{_LABELS}

Rules:
- List the mentions in the order they appear in the document. When the same entity
  is mentioned several times, list it once per mention.
- "text" is the mention copied exactly, character for character, from the document.
- "label" is one of the labels above. Do not list a mention nested in a longer one.

Answer with JSON only, following this schema:
{{"entities": [{{"text": "<exact mention>", "label": "<LABEL>"}}]}}

<document>
{{text}}
</document>"""

_TYPES_HELP = {
    "direct": "a verbatim quotation inside quotation marks",
    "indirect": "reported speech or paraphrase, without quotation marks",
    "mixed": "reported speech containing a partial quotation",
}
_TYPES = "\n".join(f"- {t}: {_TYPES_HELP.get(t, '')}" for t in ATTRIBUTION_TYPES)

ATTRIBUTION_PROMPT = f"""Find every attribution in the document below: a passage reporting
what someone said, wrote or thought, together with who is reported as its source.

Types:
{_TYPES}

For each attribution give:
- "quote": the reported content copied exactly from the document, without the
  surrounding quotation marks, the speaker or the reporting verb ("said", "told").
- "speaker": the source, by the fullest name the document gives it (for example
  "Sean Spicer" rather than "he"; "a White House official" when unnamed).
- "type": one of the types above.

Answer with JSON only, following this schema:
{{"attributions": [{{"quote": "<exact text>", "speaker": "<name>", "type": "direct"}}]}}

<document>
{{text}}
</document>"""

_ATTRIBUTE_EXAMPLE = ", ".join(f'"{a}": 0.0' for a in TOXICITY_ATTRIBUTES)

TOXICITY_PROMPT = f"""Rate the toxicity of the text below. Toxic means rude, disrespectful or
unreasonable language likely to make someone leave a discussion.

Give "toxic": the probability, from 0 to 1, that the text is toxic, and "attributes":
a probability from 0 to 1 for each of {", ".join(TOXICITY_ATTRIBUTES)}.

Answer with JSON only, following this schema:
{{"toxic": 0.0, "attributes": {{{_ATTRIBUTE_EXAMPLE}}}}}

<text>
{{text}}
</text>"""

PROMPTS: dict[str, str] = {
    "ner": NER_PROMPT,
    "attribution": ATTRIBUTION_PROMPT,
    "toxicity": TOXICITY_PROMPT,
}
EXPECTED_KEY = {  # the key a task's answer object must hold
    "ner": "entities",
    "attribution": "attributions",
    "toxicity": "toxic",
}


def prompt_sha256() -> str:
    """sha256 of the system prompt and the three templates (canonical JSON)."""
    data = {"system": SYSTEM_PROMPT, **PROMPTS}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def render(task: str, text: str) -> str:
    """The user prompt asking ``task`` about ``text``."""
    return PROMPTS[task].replace("{text}", text, 1)
