"""Self-contained static HTML pages: inline CSS and JS, images as data: URIs, no network.

Every piece of text that comes from a result file (model names, labels,
identities, document text) goes through :func:`esc` — ``html.escape`` with
quotes — before it reaches a page, so a run named (``name=…``) or a preset
called ``<script>alert(1)</script>`` renders as text. The pages also carry a
Content-Security-Policy that forbids any network request (``default-src 'none'``):
only the page's own inline style and script and ``data:`` images are allowed.

Tables with class ``sortable`` sort when a header button is clicked: by the
cells' ``data-sort`` value (numbers numerically, text case-insensitively),
cells without a value ("—") last in either direction, ties kept in page order.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

MISSING = "\u2014"  # em dash: a task that failed, is unsupported or is undefined

CSS = """
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --head: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); margin: 0 auto; padding: 1.5rem 2rem 4rem; max-width: 1400px; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.meta { color: var(--muted); margin: .2rem 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .88em; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left;
  vertical-align: top; }
thead th { background: var(--head); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.missing { color: var(--muted); text-align: center; }
.ci { color: var(--muted); font-size: .85em; }
.rank-1 { font-weight: 700; }
th button { all: unset; cursor: pointer; display: block; width: 100%; }
th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort="ascending"] button::after { content: " \\25B2"; color: var(--accent); }
th[aria-sort="descending"] button::after { content: " \\25BC"; color: var(--accent); }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; }
.scroll { overflow-x: auto; }
"""

SORT_JS = """
(function () {
  "use strict";
  function key(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (raw === "" || raw === "\\u2014") { return null; }
    var num = Number(raw);
    return isNaN(num) ? raw.toLowerCase() : num;
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;
  }
  function sortTable(table, th, index) {
    var body = table.tBodies[0];
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") || "ascending";
    var dir = current === "none" || current === null ? first
      : (current === "ascending" ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { key: key(row.cells[index]), order: i, row: row };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) { return a.order - b.order; }
        return a.key === null ? 1 : -1;
      }
      var c = compare(a.key, b.key);
      if (dir === "descending") { c = -c; }
      return c || a.order - b.order;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].setAttribute("aria-sort", "none"); }
    th.setAttribute("aria-sort", dir);
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
      for (var i = 0; i < heads.length; i++) {
        (function (th, index) {
          var button = th.querySelector("button");
          if (button) {
            button.addEventListener("click", function () { sortTable(table, th, index); });
          }
        })(heads[i], i);
      }
    })(tables[t]);
  }
})();
"""


def esc(value: Any) -> str:
    """Escape text for HTML content and attribute values (``&``, ``<``, ``>``, quotes)."""
    return html.escape(str(value), quote=True)


def fmt(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def num_cell(value: float | None, digits: int = 3, extra: str = "") -> str:
    """A right-aligned number cell sortable by its value, or a "—" cell."""
    if value is None:
        return f'<td class="missing" data-sort="">{MISSING}</td>'
    return f'<td class="num" data-sort="{value!r}">{fmt(value, digits)}{extra}</td>'


def text_cell(value: Any, sort: Any = None, css: str = "") -> str:
    cls = f' class="{esc(css)}"' if css else ""
    key = "" if sort is None else f' data-sort="{esc(sort)}"'
    return f"<td{cls}{key}>{esc(value)}</td>"


def sortable_table(
    headers: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], table_id: str = ""
) -> str:
    """``headers`` are (label, first sort direction); ``rows`` hold ready ``<td>`` strings."""
    ident = f' id="{esc(table_id)}"' if table_id else ""
    head = "".join(
        f'<th scope="col" aria-sort="none" data-first="{esc(first)}">'
        f'<button type="button">{esc(label)}</button></th>'
        for label, first in headers
    )
    body = "\n".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return (
        f'<div class="scroll"><table class="sortable"{ident}>\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def png_img(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{esc(alt)}">'


def page(title: str, body: str, extra_css: str = "") -> str:
    """A complete HTML5 document; ``title`` is escaped here, ``body`` must be built escaped."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{SORT_JS}</script>\n</body>\n</html>\n"
    )
