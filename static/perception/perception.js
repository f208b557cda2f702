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

  /* The word cloud. chartjs-chart-wordcloud 4.4.5 lays the words out with d3-cloud in the chart area;
     when they do not all fit it tries again in an area 1.2 times larger (autoGrow) and then draws that
     bigger layout at scale 1 around the canvas's centre, so the outer words fall off the edges. Its
     `fit` option scales the layout down but about the layout's centre, not the words', so a cloud
     that is not centred still loses a word at one edge. (It also measures the words in weight 1 when
     none is set, which may pick a lighter face than the one drawn.) Hence:
     - font sizes come from the chart area and the words themselves: the biggest such that the words'
       measured boxes fill about FILL of the area, bounded (at most a quarter of the height and
       MAX_FONT, at least MIN_FONT), by the square root of the frequency between RATIO and 1 of it;
       a word too long for the width at that size is made smaller, below MIN_FONT if it must;
     - the weight is set, so the layout measures the face that is drawn;
     - after each layout (the first, and every resize: the chart is responsive), fitInside draws each
       word at INK of the size it was laid out at (room between neighbours), measures every word and
       moves and scales the cloud as a whole so that it is centred and lies within the chart area,
       which has PADDING around it. */
  var CLOUD = { PADDING: 8, WORD_PADDING: 2, INK: 0.92, FILL: 0.42, RATIO: 0.32, MIN_FONT: 11, MAX_FONT: 64, WEIGHT: "normal" };

  function cloudFont(family, size) {
    return Chart.helpers.toFont({ family: family, size: size, weight: CLOUD.WEIGHT, style: "normal" });
  }

  // The ink box of a text drawn the word element's way (centred on x, on the alphabetic baseline at y).
  function inkBox(ctx, font, text) {
    ctx.save();
    ctx.font = font.string;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    var metrics = ctx.measureText(text);
    ctx.restore();
    var left = metrics.actualBoundingBoxLeft;
    var right = metrics.actualBoundingBoxRight;
    var ascent = metrics.actualBoundingBoxAscent;
    var descent = metrics.actualBoundingBoxDescent;
    if (!isFinite(left) || !isFinite(right)) {
      left = right = metrics.width / 2;
    }
    if (!isFinite(ascent) || !isFinite(descent)) {
      ascent = font.size;
      descent = font.size * 0.3;
    }
    return { left: left, right: right, ascent: ascent, descent: descent };
  }

  // One font size per word for the chart's current area (cached until the area or the words change).
  function cloudSizes(chart) {
    // Before the first layout (options resolved while the chart is built) there is no chart area yet.
    var area = chart.chartArea || { width: chart.width - 2 * CLOUD.PADDING, height: chart.height - 2 * CLOUD.PADDING };
    var labels = chart.data.labels || [];
    var frequency = (chart.data.datasets[0] && chart.data.datasets[0].frequency) || [];
    var family = Chart.defaults.font.family;
    var key = [area.width, area.height, labels.length, family].join("|");
    var cache = chart.$cloudSizes;
    if (cache && cache.key === key && cache.labels === labels) {
      return cache.sizes;
    }
    var width = Math.max(area.width, 1);
    var height = Math.max(area.height, 1);
    var largest = Math.max.apply(null, frequency.concat([1]));
    var font = cloudFont(family, 100);
    var pad = 2 * CLOUD.WORD_PADDING;
    // Per word: its box per pixel of font size (a, b) and its share of the biggest size (g).
    var words = labels.map(function (text, index) {
      var ink = inkBox(chart.ctx, font, String(text));
      var share = Math.sqrt(Math.max(frequency[index] || 0, 0) / largest);
      return {
        a: Math.max(ink.left + ink.right, 1) / 100,
        b: Math.max(ink.ascent + ink.descent, 1) / 100,
        g: CLOUD.RATIO + (1 - CLOUD.RATIO) * share,
      };
    });
    // The biggest size S such that sum((a S g + pad)(b S g + pad)) = FILL * area: a quadratic in S.
    var qa = 0;
    var qb = 0;
    var qc = -CLOUD.FILL * width * height;
    words.forEach(function (word) {
      qa += word.a * word.b * word.g * word.g;
      qb += pad * word.g * (word.a + word.b);
      qc += pad * pad;
    });
    var biggest = qa > 0 && qc < 0 ? (-qb + Math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa) : CLOUD.MIN_FONT;
    biggest = Math.max(CLOUD.MIN_FONT, Math.min(biggest, CLOUD.MAX_FONT, height / 4));
    var sizes = words.map(function (word) {
      var size = Math.max(CLOUD.MIN_FONT, biggest * word.g);
      // Never wider than the area (nor taller than half of it), whatever the minimum.
      var widest = (width - pad - 2) / word.a;
      var tallest = (height / 2 - pad) / word.b;
      return Math.max(1, Math.min(size, widest, tallest));
    });
    chart.$cloudSizes = { key: key, labels: labels, sizes: sizes };
    return sizes;
  }

  // Move and scale the laid-out cloud so that every drawn word lies inside the chart area, centred.
  function fitInside(chart, meta) {
    var area = chart.chartArea;
    var words = meta.data.filter(function (word) {
      return word.scale > 0;
    });
    // Each word a little smaller than the room the layout gave it, in place: d3-cloud draws a word's
    // padding in a cell only as wide as the text, rounded up to 32 px, so two neighbours can end up
    // 1 px apart ("withinrenew").
    words.forEach(function (word) {
      word.scale *= CLOUD.INK;
    });
    var grow = 1.25; // a cloud smaller than the area may grow this much, to no more than MAX_FONT
    words.forEach(function (word) {
      grow = Math.min(grow, CLOUD.MAX_FONT / Math.max(word.options.size * word.scale, 1));
    });
    for (var pass = 0; pass < 4 && words.length; pass += 1) {
      var box = { left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity };
      words.forEach(function (word) {
        var font = Chart.helpers.toFont(Object.assign({}, word.options, { size: word.options.size * word.scale }));
        var ink = inkBox(chart.ctx, font, word.text);
        box.left = Math.min(box.left, word.x - ink.left);
        box.right = Math.max(box.right, word.x + ink.right);
        box.top = Math.min(box.top, word.y - ink.ascent);
        box.bottom = Math.max(box.bottom, word.y + ink.descent);
      });
      var inside = box.left >= area.left && box.right <= area.right && box.top >= area.top && box.bottom <= area.bottom;
      if (pass > 0 && inside) {
        return;
      }
      // 1 px to spare: text metrics do not scale exactly with the font size (hinting).
      var scale = Math.min(
        pass === 0 ? grow : 1,
        (area.right - area.left - 2) / Math.max(box.right - box.left, 1),
        (area.bottom - area.top - 2) / Math.max(box.bottom - box.top, 1)
      );
      var fromX = (box.left + box.right) / 2;
      var fromY = (box.top + box.bottom) / 2;
      var toX = (area.left + area.right) / 2;
      var toY = (area.top + area.bottom) / 2;
      words.forEach(function (word) {
        word.x = toX + (word.x - fromX) * scale;
        word.y = toY + (word.y - fromY) * scale;
        word.scale *= scale;
        word.width *= scale;
        word.height *= scale;
      });
    }
  }

  var cloudFit = {
    id: "crmCloudFit",
    afterDatasetUpdate: function (chart, args) {
      if (args.mode !== "reset" && chart.chartArea) {
        fitInside(chart, args.meta);
      }
    },
  };

  CrmCharts.drawer("perception-wordcloud", function (canvas, data) {
    var dataset = data.datasets[0] || { data: [], color: [] };
    return new Chart(canvas, {
      type: "wordCloud",
      data: {
        labels: data.labels,
        datasets: [{
          label: dataset.label,
          data: dataset.data,
          frequency: dataset.data,
          color: dataset.color,
          size: function (context) {
            return cloudSizes(context.chart)[context.dataIndex];
          },
          weight: CLOUD.WEIGHT,
          rotate: 0, // every word horizontal: read at a glance, in Chinese as in English
          rotationSteps: 1,
          padding: CLOUD.WORD_PADDING,
          fit: false, // fitInside instead (see above)
          autoGrow: { maxTries: 8, scalingFactor: 1.15 }, // all the words in the layout, scaled down after
          randomRotationSeed: "keywords", // the same words draw the same cloud on every load
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: CLOUD.PADDING },
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
      plugins: [cloudFit],
    });
  });
})();
