/* Activity tab: the checkboxes of the feature table choose the lines of the chart. Each change reloads
   the chart JSON with the ticked features (lines=…) and puts them in the address bar, so the view can
   be bookmarked. Without JavaScript the "Update chart" button submits the same query. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("lines-form");
    var canvas = document.getElementById("activity-chart");
    if (!form || !canvas || !window.CrmCharts) {
      return;
    }
    Array.prototype.forEach.call(form.querySelectorAll(".js-hide"), function (element) {
      element.hidden = true;
    });

    function ticked() {
      return Array.prototype.map.call(form.querySelectorAll("input[name=lines]:checked"), function (input) {
        return input.value;
      });
    }

    function withLines(href, lines) {
      var url = new URL(href, window.location.href);
      url.searchParams.delete("lines");
      lines.forEach(function (line) {
        url.searchParams.append("lines", line);
      });
      return url;
    }

    // The period form carries the lines as hidden inputs, so that Apply keeps the choice.
    function keepInPeriodForm(lines) {
      var periodForm = document.querySelector("form.toolbar");
      if (!periodForm) {
        return;
      }
      Array.prototype.forEach.call(periodForm.querySelectorAll("input[type=hidden][name=lines]"), function (input) {
        input.remove();
      });
      lines.forEach(function (line) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "lines";
        input.value = line;
        periodForm.appendChild(input);
      });
    }

    form.addEventListener("change", function (event) {
      if (!event.target.matches("input[name=lines]")) {
        return;
      }
      var lines = ticked();
      var page = withLines(window.location.href, lines);
      window.history.replaceState(null, "", page.pathname + page.search + page.hash);
      keepInPeriodForm(lines);
      if (lines.length) {
        var chart = withLines(canvas.dataset.chartUrl, lines);
        window.CrmCharts.load(canvas, chart.pathname + chart.search);
      } else {
        // No "lines" parameter means "the top five": show the empty chart instead of asking.
        window.CrmCharts.clear(canvas);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
