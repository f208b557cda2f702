/* Drill-down (docs/drilldown.md): a chart of users opens the users behind a clicked bar or point on the
   drill-down page. Nothing to do in charts.js: this listens for its "crm:chart" event (fired on the
   canvas when a chart is drawn) and adds the click to the charts whose canvas says where to go:

     data-drilldown="/w/<slug>/people/?source=…&<the chart's query>"   the page, without people=
     data-drilldown-people='[["2025-03-03", …], …]'   (optional) the selector of each point, per dataset
     data-drilldown-groups='["CN", "US", …]'          (optional) people_group, per dataset

   A point's selector is data-drilldown-people[dataset][index], else the chart JSON's dataset.people[index],
   else the label of the point; null or missing: that point opens nothing (e.g. a comparison line). */
(function () {
  "use strict";

  function parsed(canvas, name) {
    var text = canvas.dataset[name];
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  function selectorOf(canvas, chart, element) {
    var people = parsed(canvas, "drilldownPeople");
    if (Array.isArray(people)) {
      return Array.isArray(people[element.datasetIndex]) ? people[element.datasetIndex][element.index] : null;
    }
    var dataset = chart.data.datasets[element.datasetIndex] || {};
    if (Array.isArray(dataset.people)) {
      return dataset.people[element.index];
    }
    return chart.data.labels[element.index];
  }

  function target(canvas, chart, element) {
    var selector = selectorOf(canvas, chart, element);
    if (selector === null || selector === undefined || selector === "") {
      return null;
    }
    var url = new URL(canvas.dataset.drilldown, window.location.href);
    url.searchParams.set("people", String(selector));
    var groups = parsed(canvas, "drilldownGroups");
    if (Array.isArray(groups) && groups[element.datasetIndex] !== undefined && groups[element.datasetIndex] !== null) {
      url.searchParams.set("people_group", String(groups[element.datasetIndex]));
    }
    return url.pathname + url.search;
  }

  // The element under the pointer: line charts answer every dataset at an index (mode "index"); the
  // one nearest to the pointer is the one clicked.
  function clicked(chart, event, elements) {
    var nearest = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, true);
    return nearest.length ? nearest[0] : elements[0];
  }

  document.addEventListener(
    "crm:chart",
    function (event) {
      var canvas = event.target;
      var chart = event.detail && event.detail.chart;
      if (!chart || !canvas.dataset || !canvas.dataset.drilldown) {
        return;
      }
      canvas.classList.add("is-drillable");
      chart.options.onClick = function (e, elements) {
        var element = elements.length ? clicked(chart, e, elements) : null;
        var url = element ? target(canvas, chart, element) : null;
        if (url) {
          window.location.assign(url);
        }
      };
      chart.options.onHover = function (e, elements) {
        var element = elements.length ? clicked(chart, e, elements) : null;
        canvas.style.cursor = element && target(canvas, chart, element) ? "pointer" : "";
      };
      chart.update("none");
    },
    true
  );
})();
