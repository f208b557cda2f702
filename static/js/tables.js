/* Sortable tables: <table data-sortable> whose <th data-sort="number|text"> holds a <button>.
   Each cell gives its sort key in data-value (else its text). Clicking a heading sorts by that column,
   descending first for numbers and ascending first for text; a second click reverses. aria-sort tells
   assistive technology the current order. Without JavaScript the table keeps the server's order. */
(function () {
  "use strict";

  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });

  function key(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? (cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim()) : "";
    return numeric ? parseFloat(raw) || 0 : raw;
  }

  function sort(table, th) {
    var headings = Array.prototype.slice.call(th.parentElement.children);
    var index = headings.indexOf(th);
    var numeric = th.dataset.sort === "number";
    var current = th.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, index, numeric);
      var y = key(b, index, numeric);
      var order = numeric ? x - y : collator.compare(x, y);
      return descending ? -order : order;
    });
    rows.forEach(function (row) {
      body.appendChild(row);
    });
    headings.forEach(function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), function (table) {
      table.addEventListener("click", function (event) {
        var button = event.target.closest("th[data-sort] .sort-button");
        if (button && table.contains(button)) {
          sort(table, button.closest("th"));
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
