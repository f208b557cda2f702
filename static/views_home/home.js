/* Home tab charts. Each <canvas data-chart-url="…"> fetches its JSON ({"labels": [...],
   "datasets": [...]}, see views_home/charts.py) and draws it with Chart.js 4. Text shown to the user
   comes from data- attributes rendered by the template, so it is translated there. */
(function () {
  "use strict";

  var lang = document.documentElement.lang || undefined;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var numberFormat = new Intl.NumberFormat(lang);
  var shortDate = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" });
  var longDate = new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });

  // Labels are ISO dates (YYYY-MM-DD) of the workspace's calendar: format them as dates, not instants.
  function asDate(label) {
    return /^\d{4}-\d{2}-\d{2}$/.test(label) ? new Date(label + "T00:00:00Z") : null;
  }

  function formatLabel(label, format) {
    var date = asDate(label);
    return date ? format.format(date) : label;
  }

  function setStatus(box, state, text) {
    var status = box.querySelector(".chart-box__status");
    box.classList.toggle("is-loading", state === "loading");
    box.classList.toggle("has-error", state === "error");
    if (status) {
      status.textContent = text || "";
    }
  }

  function barChart(canvas, data) {
    var style = getComputedStyle(document.body);
    var weekLabel = canvas.dataset.weekLabel || "%s";
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = "#475569";
    data.datasets.forEach(function (dataset) {
      dataset.borderWidth = 1;
      dataset.borderRadius = 4;
      dataset.maxBarThickness = 56;
    });
    return new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 400 },
        plugins: {
          legend: { display: data.datasets.length > 1 },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? weekLabel.replace("%s", formatLabel(items[0].label, longDate)) : "";
              },
              label: function (item) {
                return " " + item.dataset.label + ": " + numberFormat.format(item.parsed.y);
              },
            },
          },
        },
        scales: {
          x: {
            grid: { display: false },
            ticks: {
              callback: function (value) {
                return formatLabel(this.getLabelForValue(value), shortDate);
              },
            },
          },
          y: {
            beginAtZero: true,
            border: { display: false },
            grid: { color: "#e2e8f0" },
            ticks: {
              precision: 0,
              callback: function (value) {
                return numberFormat.format(value);
              },
            },
          },
        },
      },
    });
  }

  function load(canvas) {
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    setStatus(box, "loading", canvas.dataset.loadingText);
    fetch(canvas.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (typeof Chart === "undefined") {
          throw new Error("Chart.js is not loaded");
        }
        if (!data || !Array.isArray(data.labels) || !Array.isArray(data.datasets)) {
          throw new Error("Unexpected chart data");
        }
        barChart(canvas, data);
        setStatus(box, "ready", "");
      })
      .catch(function (error) {
        setStatus(box, "error", canvas.dataset.errorText);
        if (window.console) {
          console.error("Chart", canvas.id, error);
        }
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart-url]"), load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
