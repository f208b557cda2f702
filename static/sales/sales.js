/* The Sales tab's own chart drawers for static/js/charts.js:
   - "sales-stacked": bars stacked per dataset "stack" (activities per rep and week; the forecast by
     category), a dataset of type "line" (the quota) drawn over them, not stacked;
   - "sales-mixed": bars side by side with a line over them (pipeline generated against target).
   The chart JSON (sales/charts.py) is {"labels": ISO dates, "datasets": [{"label", "data",
   "backgroundColor", "borderColor", "stack"?, "type"?, "order"?}]}; text comes translated from it and
   from the canvas's data- attributes. */
(function () {
  "use strict";

  function drawer(stacked) {
    return function (canvas, data) {
      var format = CrmCharts.numberFormat;
      var kind = canvas.dataset.labelFormat || "month";
      data.datasets.forEach(function (dataset) {
        if (dataset.type === "line") {
          dataset.borderWidth = 2;
          dataset.pointRadius = 3;
          dataset.pointBackgroundColor = dataset.borderColor;
          dataset.fill = false;
          dataset.tension = 0;
        } else {
          dataset.borderWidth = 1;
          dataset.borderRadius = stacked ? 0 : 4;
          dataset.maxBarThickness = 56;
        }
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
                title: function (items) {
                  return items.length ? CrmCharts.axisLabel(items[0].label, kind) : "";
                },
                label: function (item) {
                  return item.parsed.y === null ? null : " " + item.dataset.label + ": " + format.format(item.parsed.y);
                },
              },
            },
          },
          scales: {
            x: {
              stacked: stacked,
              grid: { display: false },
              ticks: {
                maxRotation: 0,
                callback: function (value) {
                  return CrmCharts.axisLabel(this.getLabelForValue(value), kind);
                },
              },
            },
            y: {
              stacked: stacked,
              beginAtZero: true,
              border: { display: false },
              grid: { color: "#e2e8f0" },
              ticks: {
                callback: function (value) {
                  return format.format(value);
                },
              },
            },
          },
        },
      });
    };
  }

  CrmCharts.drawer("sales-stacked", drawer(true));
  CrmCharts.drawer("sales-mixed", drawer(false));
})();
