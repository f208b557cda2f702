/* The one chart loader of every page (Chart.js 4, vendored): fetch the chart JSON, show the status
   (loading, error, empty), draw.

   Markup (templates/partials/chart_box.html):
     <div class="chart-box is-loading">
       <canvas data-chart-url="…json" data-chart-type="line|bar|hbar" data-label-format="day|week|month|text"
               data-loading-text data-error-text data-empty-text data-week-label="Week of %s">
       <p class="chart-box__status" role="status">
   The URL answers {"labels": [...], "datasets": [...]} (core/charts.py), which becomes the chart's
   data as is. Every canvas that is not inside a [hidden] element is loaded when the page is ready; the
   page scripts call CrmCharts.load(canvas[, url]) to load a hidden one once shown or to reload with
   another query. A chart type drawn its own way (the funnel) registers its drawer first:
   CrmCharts.drawer("funnel", function (canvas, data) { return new Chart(…); }). A page that already
   has the data (no URL) calls CrmCharts.show(canvas, data). When a chart is drawn the canvas fires
   "crm:chart" with {detail: {chart: …}}. Text shown to the user comes from data- attributes rendered
   (and translated) by the template. */
(function () {
  "use strict";

  var lang = document.documentElement.lang || undefined;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var numberFormat = new Intl.NumberFormat(lang);
  var formats = {
    short: new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" }),
    long: new Intl.DateTimeFormat(lang, { weekday: "short", year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }),
    medium: new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }),
    monthShort: new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", timeZone: "UTC" }),
    monthLong: new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", timeZone: "UTC" }),
  };
  var pending = new WeakMap(); // canvas → AbortController of the request in flight

  // Labels are ISO dates (YYYY-MM-DD) of the workspace's calendar: format them as dates, not instants.
  function asDate(label) {
    return /^\d{4}-\d{2}-\d{2}$/.test(label) ? new Date(label + "T00:00:00Z") : null;
  }

  function axisLabel(label, kind) {
    var date = kind === "text" ? null : asDate(label);
    if (!date) {
      return label;
    }
    return kind === "month" ? formats.monthShort.format(date) : formats.short.format(date);
  }

  function tooltipTitle(canvas, label, kind) {
    var date = kind === "text" ? null : asDate(label);
    if (!date) {
      return label;
    }
    if (kind === "month") {
      return formats.monthLong.format(date);
    }
    if (kind === "week") {
      return (canvas.dataset.weekLabel || "%s").replace("%s", formats.medium.format(date));
    }
    return formats.long.format(date);
  }

  function box(canvas) {
    return canvas.closest(".chart-box") || canvas.parentElement;
  }

  function setStatus(canvas, state, text) {
    var element = box(canvas);
    var status = element.querySelector(".chart-box__status");
    element.classList.toggle("is-loading", state === "loading");
    element.classList.toggle("has-error", state === "error");
    element.classList.toggle("is-empty", state === "empty");
    if (status) {
      status.textContent = text || "";
    }
  }

  function options(canvas, data) {
    var type = canvas.dataset.chartType || "line";
    var kind = canvas.dataset.labelFormat || "day";
    var horizontal = type === "hbar";
    var valueAxis = horizontal ? "x" : "y";
    var categoryAxis = horizontal ? "y" : "x";
    var scales = {};
    scales[valueAxis] = {
      beginAtZero: true,
      border: { display: false },
      grid: { color: "#e2e8f0" },
      ticks: {
        precision: 0,
        callback: function (value) {
          return numberFormat.format(value);
        },
      },
    };
    scales[categoryAxis] = {
      grid: { display: false },
      ticks: {
        autoSkip: !horizontal,
        maxRotation: 0,
        callback: function (value) {
          return axisLabel(this.getLabelForValue(value), kind);
        },
      },
    };
    return {
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      animation: reduceMotion ? false : { duration: 400 },
      interaction: type === "line" ? { mode: "index", intersect: false } : { mode: "nearest", intersect: true },
      plugins: {
        legend: {
          display: data.datasets.length > 1,
          position: "bottom",
          labels: { boxWidth: 10, boxHeight: 10, usePointStyle: type === "line", pointStyleWidth: 10 },
        },
        tooltip: {
          callbacks: {
            title: function (items) {
              return items.length ? tooltipTitle(canvas, items[0].label, kind) : "";
            },
            label: function (item) {
              var value = horizontal ? item.parsed.x : item.parsed.y;
              return " " + item.dataset.label + ": " + numberFormat.format(value);
            },
          },
        },
      },
      scales: scales,
    };
  }

  function style(canvas, data) {
    var chartType = canvas.dataset.chartType || "line";
    var points = data.labels.length;
    // A period that ends today is still running: its last point is drawn dashed ("so far").
    var running = canvas.dataset.incomplete === "true";
    data.datasets.forEach(function (dataset) {
      var type = dataset.type || chartType; // a bar chart's previous-period line is a line
      if (type === "line" && running && points > 1) {
        dataset.segment = {
          borderDash: function (context) {
            return context.p1DataIndex === points - 1 ? [6, 4] : undefined;
          },
        };
      }
      if (type === "line") {
        dataset.borderWidth = 2;
        dataset.tension = 0.25;
        dataset.fill = false;
        dataset.pointRadius = points > 45 ? 0 : 2.5;
        dataset.pointHoverRadius = 4;
        dataset.pointBackgroundColor = dataset.borderColor;
      } else {
        dataset.borderWidth = 1;
        dataset.borderRadius = 4;
        dataset.maxBarThickness = type === "hbar" ? 22 : 64;
      }
    });
    if (chartType === "hbar") {
      // One row per bar: the box grows with the number of features instead of squeezing them.
      box(canvas).style.height = Math.max(160, points * 30 + 40) + "px";
    }
    return data;
  }

  var drawers = {}; // chart type → function (canvas, data) returning a Chart, for types drawn their own way

  function draw(canvas, data) {
    var bodyStyle = getComputedStyle(document.body);
    Chart.defaults.font.family = bodyStyle.fontFamily;
    Chart.defaults.color = "#475569";
    var type = canvas.dataset.chartType || "line";
    var existing = Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    var chart = drawers[type]
      ? drawers[type](canvas, data)
      : new Chart(canvas, {
          type: type === "hbar" ? "bar" : type,
          data: style(canvas, data),
          options: options(canvas, data),
        });
    canvas.dispatchEvent(new CustomEvent("crm:chart", { detail: { chart: chart } }));
    return chart;
  }

  /* Draw data the page already has, with the same status handling as a fetched chart. */
  function show(canvas, data) {
    try {
      if (typeof Chart === "undefined") {
        throw new Error("Chart.js is not loaded");
      }
      if (!data || !Array.isArray(data.labels) || !Array.isArray(data.datasets)) {
        throw new Error("Unexpected chart data");
      }
      draw(canvas, data);
      setStatus(canvas, data.datasets.length ? "ready" : "empty", data.datasets.length ? "" : canvas.dataset.emptyText);
    } catch (error) {
      setStatus(canvas, "error", canvas.dataset.errorText);
      if (window.console) {
        console.error("Chart", canvas.id, error);
      }
    }
  }

  /* Fetch the chart JSON (the canvas's URL, or ``url`` which then becomes the canvas's URL) and draw
     it; a newer call cancels a request still in flight. */
  function load(canvas, url) {
    if (url) {
      canvas.dataset.chartUrl = url;
    }
    var previous = pending.get(canvas);
    if (previous) {
      previous.abort();
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    pending.set(canvas, controller);
    canvas.dataset.loaded = "true";
    setStatus(canvas, "loading", canvas.dataset.loadingText);
    return fetch(canvas.dataset.chartUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(canvas, data);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        setStatus(canvas, "error", canvas.dataset.errorText);
        if (window.console) {
          console.error("Chart", canvas.id, error);
        }
      });
  }

  /* Show the empty state without asking the server (e.g. no line ticked). */
  function clear(canvas) {
    var previous = pending.get(canvas);
    if (previous) {
      previous.abort();
    }
    var existing = typeof Chart !== "undefined" && Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    setStatus(canvas, "empty", canvas.dataset.emptyText);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart-url]"), function (canvas) {
      if (canvas.dataset.chartUrl && !canvas.closest("[hidden]")) {
        load(canvas);
      }
    });
  }

  window.CrmCharts = {
    load: load,
    show: show,
    clear: clear,
    draw: draw,
    setStatus: setStatus,
    axisLabel: axisLabel,
    numberFormat: numberFormat,
    drawer: function (type, drawFn) {
      drawers[type] = drawFn;
    },
  };

  // Page scripts (deferred, after this one) register their drawers before the charts load: start
  // at DOMContentLoaded, which fires once every deferred script has run. (A timeout started while
  // this script runs could fire between two deferred scripts, before a page's drawers exist.)
  var started = false;
  function startOnce() {
    if (!started) {
      started = true;
      start();
    }
  }
  if (document.readyState === "complete") {
    window.setTimeout(startOnce, 0);
  } else {
    document.addEventListener("DOMContentLoaded", startOnce);
    window.addEventListener("load", startOnce);
  }
})();
