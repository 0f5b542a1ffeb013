// Sort and filter the tables of the batch pages (triage index, cluster report). No network, no eval.
// A <table class="sortable"> sorts on a header click, by each cell's data-sort (numbers compare as numbers).
// An <input data-filter="ID"> keeps the rows of table ID whose text contains every typed word;
// a <select data-filter-attr="NAME" data-filter="ID"> keeps the rows whose data-NAME equals the choice.
(function () {
  "use strict";
  function key(cell) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var num = Number(raw);
    return raw !== "" && !isNaN(num) ? num : raw.toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : a > b ? 1 : 0; }
    return typeof a === "number" ? -1 : 1;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.setAttribute("role", "button");
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var order = compare(key(r1.cells[col]), key(r2.cells[col]));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  function applyFilters(tableId) {
    var table = document.getElementById(tableId);
    if (!table) { return; }
    var controls = document.querySelectorAll("[data-filter='" + tableId + "']");
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var text = row.textContent.toLowerCase();
      var keep = true;
      controls.forEach(function (control) {
        var value = control.value.trim().toLowerCase();
        if (!value) { return; }
        var attr = control.getAttribute("data-filter-attr");
        if (attr) {
          keep = keep && (row.getAttribute("data-" + attr) || "") === value;
        } else {
          value.split(/\s+/).forEach(function (word) { keep = keep && text.indexOf(word) !== -1; });
        }
      });
      row.hidden = !keep;
    });
    var counter = document.querySelector("[data-count='" + tableId + "']");
    if (counter) {
      counter.textContent = table.querySelectorAll("tbody tr:not([hidden])").length + " shown";
    }
  }
  document.querySelectorAll("[data-filter]").forEach(function (control) {
    control.addEventListener("input", function () { applyFilters(control.getAttribute("data-filter")); });
  });
})();
