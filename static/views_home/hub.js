/* Hub tab: a bar of the popularity chart opens that feature's frequency (the same link as the
   "Frequency" cell of its table row), so the two views read together; unless the bar opens the users
   behind it (data-drilldown, static/js/drilldown.js). */
(function () {
  "use strict";

  function frequencyLink(feature) {
    var rows = document.querySelectorAll("#popularity-table tbody tr");
    for (var i = 0; i < rows.length; i += 1) {
      var name = rows[i].querySelector("th[data-value]");
      if (name && name.getAttribute("data-value") === feature) {
        return rows[i].querySelector("a.row-link");
      }
    }
    return null;
  }

  function start() {
    var canvas = document.getElementById("popularity-chart");
    // A bar that opens its users (static/js/drilldown.js) does that; the frequency stays in the table.
    if (!canvas || canvas.dataset.drilldown) {
      return;
    }
    canvas.addEventListener("crm:chart", function (event) {
      var chart = event.detail.chart;
      chart.options.onHover = function (evt, elements) {
        canvas.style.cursor = elements.length ? "pointer" : "default";
      };
      chart.options.onClick = function (evt, elements) {
        if (!elements.length) {
          return;
        }
        var link = frequencyLink(chart.data.labels[elements[0].index]);
        if (link) {
          window.location.assign(link.href);
        }
      };
      chart.update("none");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
