
(function () {
  "use strict";
  function key(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (raw === "" || raw === "\u2014") { return null; }
    var num = Number(raw);
    return isNaN(num) ? raw.toLowerCase() : num;
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;
  }
  // Each tbody (a row group) is sorted within itself; its group header row stays first.
  function sortBody(body, index, dir) {
    var rows = Array.prototype.filter.call(body.rows, function (row) {
      return !row.classList.contains("group");
    }).map(function (row, i) {
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
  }
  function sortTable(table, th, index) {
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") || "ascending";
    var dir = current === "none" || current === null ? first
      : (current === "ascending" ? "descending" : "ascending");
    for (var b = 0; b < table.tBodies.length; b++) { sortBody(table.tBodies[b], index, dir); }
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
