/* The Behaviour tab's own charts: a "stacked" drawer (the lifecycle: bars stacked around the axis,
   dormant users below it) and a "matrix" drawer for static/js/charts.js (chartjs-chart-matrix,
   vendored). The chart JSON (behaviour/charts.py) gives {"labels": hours, "weekdays": names,
   "names": {"events", "rate"} (translated), "datasets": [{"label", "color", "data": [{"x": hour,
   "y": weekday, "v", "events", "failures", "rate"}]}]}; a cell's shade is its value over the largest one. */
(function () {
  "use strict";

  function rgba(color, alpha) {
    return color.replace(/^rgb\(/, "rgba(").replace(/\)$/, ", " + alpha + ")");
  }

  CrmCharts.drawer("matrix", function (canvas, data) {
    var dataset = data.datasets[0];
    var max = 0;
    dataset.data.forEach(function (cell) {
      if (cell.v !== null && cell.v > max) {
        max = cell.v;
      }
    });
    var color = dataset.color || "rgb(54, 162, 235)";
    var rate = canvas.id.indexOf("failure") !== -1;
    var format = CrmCharts.numberFormat;
    return new Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [
          {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: function (context) {
              var cell = context.dataset.data[context.dataIndex];
              if (!cell || cell.v === null || !max) {
                return "rgba(226, 232, 240, 0.6)";
              }
              return rgba(color, 0.08 + 0.92 * (cell.v / max));
            },
            borderColor: "rgba(255, 255, 255, 1)",
            borderWidth: 1,
            width: function (context) {
              var area = context.chart.chartArea;
              return area ? area.width / 24 - 1 : 10;
            },
            height: function (context) {
              var area = context.chart.chartArea;
              return area ? area.height / 7 - 1 : 10;
            },
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                var cell = items[0].raw;
                return cell.y + " " + cell.x + ":00";
              },
              label: function (item) {
                var cell = item.raw;
                var lines = [" " + data.names.events + ": " + format.format(cell.events)];
                if (cell.rate !== null) {
                  lines.push(" " + data.names.rate + ": " + cell.rate.toFixed(1) + "%");
                }
                return rate ? lines.reverse() : lines;
              },
            },
          },
        },
        scales: {
          x: { type: "category", labels: data.labels, offset: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
          // A vertical category axis counts upwards: Sunday first puts Monday at the top.
          y: { type: "category", labels: data.weekdays.slice().reverse(), offset: true, grid: { display: false } },
        },
      },
    });
  });

  CrmCharts.drawer("stacked", function (canvas, data) {
    var format = CrmCharts.numberFormat;
    var kind = canvas.dataset.labelFormat || "week";
    data.datasets.forEach(function (dataset) {
      dataset.borderWidth = 1;
      dataset.maxBarThickness = 48;
    });
    return new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                return " " + item.dataset.label + ": " + format.format(Math.abs(item.parsed.y));
              },
            },
          },
        },
        scales: {
          x: {
            stacked: true,
            grid: { display: false },
            ticks: {
              maxRotation: 0,
              callback: function (value) {
                return CrmCharts.axisLabel(this.getLabelForValue(value), kind);
              },
            },
          },
          y: {
            stacked: true,
            grid: { color: "#e2e8f0" },
            ticks: {
              precision: 0,
              callback: function (value) {
                return format.format(Math.abs(value));
              },
            },
          },
        },
      },
    });
  });

  /* A day series with its baseline (dashed) and its anomalies (points only). */
  CrmCharts.drawer("anomaly", function (canvas, data) {
    var format = CrmCharts.numberFormat;
    var value = data.datasets[0], baseline = data.datasets[1], marks = data.datasets[2];
    value.borderWidth = 2;
    value.pointRadius = 0;
    value.tension = 0.2;
    baseline.borderDash = [6, 4];
    baseline.borderWidth = 1.5;
    baseline.pointRadius = 0;
    baseline.spanGaps = false;
    marks.showLine = false;
    marks.pointRadius = 5;
    marks.pointHoverRadius = 7;
    marks.backgroundColor = "rgb(220, 38, 38)";
    marks.borderColor = "rgb(220, 38, 38)";
    return new Chart(canvas, {
      type: "line",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            filter: function (item) {
              return item.parsed.y !== null;
            },
            callbacks: {
              title: function (items) {
                return items.length ? CrmCharts.axisLabel(items[0].label, "day") : "";
              },
              label: function (item) {
                return " " + item.dataset.label + ": " + format.format(item.parsed.y);
              },
            },
          },
        },
        scales: {
          x: {
            grid: { display: false },
            ticks: {
              maxRotation: 0,
              autoSkip: true,
              callback: function (v) {
                return CrmCharts.axisLabel(this.getLabelForValue(v), "day");
              },
            },
          },
          y: { beginAtZero: true, grid: { color: "#e2e8f0" }, ticks: { precision: 0 } },
        },
      },
    });
  });

  /* The paths: a Sankey (chartjs-chart-sankey) of the flows between the nodes of consecutive steps. */
  var SANKEY_COLORS = ["#36a2eb", "#ff6384", "#ff9f40", "#ffcd56", "#4bc0c0", "#9966ff", "#c9cbcf", "#2563eb", "#16a34a", "#db2777"];
  CrmCharts.drawer("sankey", function (canvas, data) {
    var dataset = data.datasets[0];
    var names = Object.keys(dataset.labels).map(function (id) { return dataset.labels[id]; });
    var palette = {};
    names.forEach(function (name) {
      if (!(name in palette)) {
        palette[name] = SANKEY_COLORS[Object.keys(palette).length % SANKEY_COLORS.length];
      }
    });
    function color(id) {
      return palette[dataset.labels[id]] || "#94a3b8";
    }
    return new Chart(canvas, {
      type: "sankey",
      data: {
        datasets: [
          {
            label: dataset.label,
            data: dataset.data,
            labels: dataset.labels,
            column: dataset.column,
            colorFrom: function (c) { return color(c.dataset.data[c.dataIndex].from); },
            colorTo: function (c) { return color(c.dataset.data[c.dataIndex].to); },
            colorMode: "gradient",
            size: "max",
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        // A click on a flow lists the users behind it (the page's drill-down, as the tables link).
        onClick: function (event, elements) {
          // Only on the Paths page, which lists the users (a board or a share page draws it too).
          if (!elements.length || !document.getElementById("path-users")) {
            return;
          }
          var flow = dataset.data[elements[0].index];
          var step = flow.from.split(". ")[0];
          var params = new URLSearchParams(window.location.search);
          params.set("at_step", step);
          params.set("at_node", dataset.labels[flow.from]);
          params.set("to_node", dataset.labels[flow.to]);
          window.location.assign(window.location.pathname + "?" + params.toString() + "#path-users");
        },
      },
    });
  });
})();
