/* The Perception tab's chart drawers for static/js/charts.js:
   - "perception-doughnut": shares (sentiment, competitors) as a doughnut with the legend below and
     "label: count (share %)" in the tooltip;
   - "perception-wordcloud": keywords sized by frequency and coloured by their sentiment
     (chartjs-chart-wordcloud, vendored). The chart JSON gives the words as labels and one dataset
     whose "data" are frequencies and "color" one colour per word.
   The chart JSON (perception/charts.py) carries the text, translated; numbers are formatted in the
   page's language. */
(function () {
  "use strict";

  CrmCharts.drawer("perception-doughnut", function (canvas, data) {
    var format = CrmCharts.numberFormat;
    return new Chart(canvas, {
      type: "doughnut",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        cutout: "55%",
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var values = item.dataset.data;
                var total = values.reduce(function (sum, value) { return sum + value; }, 0);
                var share = total ? (item.parsed * 100) / total : 0;
                return " " + item.label + ": " + format.format(item.parsed) + " (" + share.toFixed(1) + " %)";
              },
            },
          },
        },
      },
    });
  });

  CrmCharts.drawer("perception-wordcloud", function (canvas, data) {
    var dataset = data.datasets[0] || { data: [], color: [] };
    var largest = Math.max.apply(null, dataset.data.concat([1]));
    var small = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    var biggest = small ? 20 : 32;
    return new Chart(canvas, {
      type: "wordCloud",
      data: {
        labels: data.labels,
        datasets: [{
          label: dataset.label,
          // Font sizes from 10 px to the biggest, by the square root of the frequency (areas in proportion).
          data: dataset.data.map(function (value) { return 10 + (biggest - 10) * Math.sqrt(value / largest); }),
          color: dataset.color,
          frequency: dataset.data,
          rotationSteps: 1, // every word horizontal: read at a glance, in Chinese as in English
          padding: 3,
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return " " + item.label + ": " + CrmCharts.numberFormat.format(item.dataset.frequency[item.dataIndex]);
              },
            },
          },
        },
      },
    });
  });
})();
