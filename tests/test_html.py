"""The HTML pages' templates escape structurally: whatever string a result file holds,
in any field of any cell, renders as that text and never as markup."""

from __future__ import annotations

from html.parser import HTMLParser

from bench.report.html import ENVIRONMENT, Table, Td, num_cell

HOSTILE = "<script>alert('x')</script> \"quoted\" & <b>bold</b>"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def _table_html(table: Table) -> str:
    macro = '{% from "macros.html.j2" import sortable_table %}{{ sortable_table(table) }}'
    return ENVIRONMENT.from_string(macro).render(table=table)


def test_every_field_of_a_table_renders_as_text():
    table = Table(
        [(HOSTILE, "ascending")],
        [[Td(HOSTILE, HOSTILE, HOSTILE, HOSTILE, (HOSTILE, HOSTILE))]],
        id=HOSTILE,
    )
    page = _table_html(table)
    parsed = _Elements()
    parsed.feed(page)
    assert set(parsed.tags) == {"div", "table", "thead", "tr", "th", "button", "tbody", "td",
                                "span"}  # fmt: skip
    assert "script" not in parsed.tags and "b" not in parsed.tags
    assert ("id", HOSTILE) in parsed.attrs
    for name in ("class", "data-sort", "title"):
        assert (name, HOSTILE) in parsed.attrs
    text = "".join(parsed.text)
    assert text.count(HOSTILE) == 4  # the header, the cell and the two bounds
    # html.escape's entities, quotes included
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;quoted&quot; &amp;" in page


def test_an_expression_is_escaped_and_template_markup_is_not():
    assert ENVIRONMENT.from_string("<p>{{ x }}</p>").render(x=HOSTILE).count("<") == 2
    cell = num_cell(0.5, 3, (0.25, None))
    page = _table_html(Table([("value", "descending")], [[cell]]))
    assert '<td class="num" data-sort="0.5">0.500 <span class="ci">[0.250, —]</span></td>' in page


def test_a_number_rounding_to_zero_has_no_sign():
    # a worst change of -0.0002 (spaCy under casing on the seed article) read "-0.000"
    cell = num_cell(-0.0002, 3, (-0.0481, -0.0004))
    assert (cell.text, cell.ci, cell.sort) == ("0.000", ("-0.048", "0.000"), "-0.0002")
    assert num_cell(-0.0006, 3).text == "-0.001"
