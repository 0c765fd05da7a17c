"""Model strings mapped back to character offsets (bench.adapters.align), without a model."""

from __future__ import annotations

import pytest

from bench.adapters.align import Locator, locate_quote, map_entities, strip_quote_marks


def test_repeated_mentions_claim_successive_occurrences():
    text = "Mexico City is in Mexico. Mexico, said Mexicans; Mexico."
    mentions = [("Mexico", "GPE"), ("Mexico City", "GPE"), ("Mexico", "GPE")]
    entities, problems = map_entities(text, mentions)
    spans = [(text[e.start : e.end], e.start) for e in entities]
    # the longer mention is placed first; "Mexico" skips "Mexicans" (word boundary)
    assert spans == [("Mexico City", 0), ("Mexico", 18), ("Mexico", 26)]
    assert problems == []
    _, problems = map_entities("one Mexico", [("Mexico", "GPE")] * 2)
    assert problems == ["entities[1] 'Mexico': all 1 occurrences already claimed"]


def test_quote_fallbacks_case_then_ellipsis_fragments():
    text = "He said: “We will not pay for the wall, and we will not accept deportees.”"
    locator = Locator(text)
    content, how = locate_quote(locator, "we will NOT pay for the wall", set())
    assert how == "case-insensitive" and text[slice(*content[0])] == "We will not pay for the wall"
    content, how = locate_quote(locator, "“We will not pay … accept deportees.”", set())
    assert how == "ellipsis fragments"
    assert [text[s:e] for s, e in content] == ["We will not pay", "accept deportees."]
    assert locate_quote(locator, "We will pay", set()) == (None, "not found verbatim or normalised")


def test_matching_is_modulo_marks_dashes_ellipsis_and_whitespace_on_whole_characters():
    text = "It’s a well‐known\n\n fact… “Yes”"
    locator = Locator(text)
    [span] = locator.find_all("It's a well-known fact...")
    assert text[slice(*span)] == "It’s a well‐known\n\n fact…"
    assert locator.find_all("..") == []  # half of the "..." that "…" became is no match
    assert [text[s:e] for s, e in locator.find_all('"yes"', ignore_case=True)] == ["“Yes”"]


def test_entity_mentions_match_only_on_word_boundaries():
    assert Locator("Mexicans in Mexico").find_all("Mexico", words=True) == [(12, 18)]
    entities, problems = map_entities("Mexicans", [("Mexico", "GPE")])
    assert entities == [] and problems == ["entities[0] 'Mexico': not found"]


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("“We won.”", "We won."),
        ('  "We won."  ', "We won."),
        ("“We won.", "We won."),
        ("the order “emphasized …”", "the order “emphasized …”"),  # a balanced inner quotation
        ("'We won.'", "We won."),
        ("We won.", "We won."),
    ],
)
def test_strip_quote_marks_drops_only_the_outer_marks_a_model_added(quote, expected):
    assert strip_quote_marks(quote) == expected
