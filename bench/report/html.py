"""Self-contained static HTML pages from the Jinja2 templates in ``bench/report/templates/``.

The pages carry their CSS and JS inline, images as ``data:`` URIs, and a
Content-Security-Policy that forbids any network request (``default-src 'none'``; in
the page shell, ``templates/page.html.j2``).

Escaping is structural: the environment autoescapes, and every ``{{ value }}`` goes
through :func:`_escape` (``html.escape`` with quotes), so text from a result file
(a run named ``<script>alert(1)</script>``, a label, a document) renders as text.
Pages are built from data: a table is a :class:`Table` of :class:`Td` cells, never
markup strings.

Tables with class ``sortable`` sort when a header button is clicked: by the cells'
``data-sort`` value (numbers numerically, text case-insensitively), cells without a
value ("—") last in either direction, ties kept in page order (``templates/sort.js``).
A table's row groups (one ``<tbody>`` each, under a header row) are sorted each within
itself: rows of different groups are never interleaved.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bench.report.tables import MISSING, fmt


def _escape(value: Any) -> Markup:
    """Every expression's output: markup from a template passes, anything else is escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


ENVIRONMENT = Environment(
    loader=PackageLoader("bench.report", "templates"),
    autoescape=True,
    finalize=_escape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, **context: Any) -> str:
    """The page ``template`` (a file of ``bench/report/templates/``) rendered with ``context``."""
    return ENVIRONMENT.get_template(template).render(**context)


@dataclass(frozen=True)
class Td:
    """One table cell: its text, class, sort key (``data-sort``), tooltip and interval."""

    text: Any
    css: str = ""
    sort: Any = None  # None: no data-sort attribute (the text sorts)
    title: str | None = None
    ci: tuple[str, str] | None = None  # formatted bounds, shown after the text
    href: str | None = None  # a relative link around the text


def num_cell(value: float | None, digits: int = 3, ci: tuple[Any, Any] | None = None) -> Td:
    """A right-aligned number cell sortable by its value (``ci``: bounds shown after it),
    or a "—" cell."""
    if value is None:
        return Td(MISSING, "missing", "")
    bounds = None if ci is None else (fmt(ci[0]), fmt(ci[1]))
    return Td(fmt(value, digits), "num", repr(value), ci=bounds)


@dataclass
class RowGroup:
    """Rows shown under a header row spanning the table; a sort keeps them together."""

    title: str
    rows: list[list[Td]] = field(default_factory=list)


@dataclass
class Table:
    """A sortable table: ``headers`` are (label, first sort direction); its rows, or
    its ``groups`` (each sorted within itself)."""

    headers: Sequence[tuple[str, str]]
    rows: list[list[Td]] = field(default_factory=list)
    id: str = ""
    groups: list[RowGroup] = field(default_factory=list)

    def bodies(self) -> list[RowGroup]:
        """The table's ``<tbody>`` elements: its groups, or one untitled group of its rows."""
        return self.groups or [RowGroup("", self.rows)]


@dataclass(frozen=True)
class Link:
    """A relative link of a page's navigation (``current``: the page itself)."""

    text: str
    href: str
    current: bool = False


def png_base64(data: bytes) -> str:
    """PNG bytes for a ``data:image/png;base64,`` URI."""
    return base64.b64encode(data).decode("ascii")
