/* Annotations on every time axis (chartjs-plugin-annotation 3, vendored): a vertical line for a day,
   a box for a range, each with its text, and the same notes listed under the chart.

   A chart whose labels are dates (data-label-format day, week or month) gets, once drawn
   ("crm:chart", see charts.js), the workspace's annotations over its dates (the API's annotations/,
   and on a board the board's own too), or on a share page the ones the page was given
   (CrmAnnotations.preset). When the chart box's .chart-annotate says the member may write
   (data-can-write: admins and analysts), a click on a date opens a small form: text, optional end
   date, the whole workspace or this board; it posts to annotations/ and the chart redraws with it. Texts come from .chart-annotate's
   data- attributes (translated by the template). */
(function () {
  "use strict";
  if (window.CrmAnnotations) {
    return; // included once per chart box: run once
  }

  var preset = null; // the share page's notes, instead of asking the API

  function iso(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(text, days) {
    var date = new Date(text + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return iso(date);
  }

  function monthEnd(text) {
    var date = new Date(text + "T00:00:00Z");
    return iso(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)));
  }

  function isDate(label) {
    return typeof label === "string" && /^\d{4}-\d{2}-\d{2}$/.test(label);
  }

  /* The days a chart's axis covers: first label to the end of the last bucket. */
  function axisRange(labels, kind) {
    var last = labels[labels.length - 1];
    var end = kind === "week" ? addDays(last, 6) : kind === "month" ? monthEnd(last) : last;
    return { start: labels[0], end: end };
  }

  /* The label of the bucket a day falls in (the last label not after it), or null when outside. */
  function bucketOf(labels, day, range) {
    if (day < range.start || day > range.end) {
      return null;
    }
    var found = labels[0];
    labels.forEach(function (label) {
      if (label <= day) {
        found = label;
      }
    });
    return found;
  }

  function pluginAnnotations(notes, labels, range) {
    var items = {};
    notes.forEach(function (note) {
      var from = note.date < range.start ? range.start : note.date;
      var to = note.end_date ? (note.end_date > range.end ? range.end : note.end_date) : null;
      var first = bucketOf(labels, from, range);
      if (first === null) {
        return;
      }
      var last = to ? bucketOf(labels, to, range) : null;
      var label = { display: true, content: note.text, position: "start", font: { size: 11 }, backgroundColor: "rgba(30, 41, 59, 0.8)" };
      items["note" + note.id] =
        last && last !== first
          ? { type: "box", xMin: first, xMax: last, backgroundColor: "rgba(255, 205, 86, 0.18)", borderWidth: 0, label: { display: true, content: note.text, position: { x: "start", y: "start" }, font: { size: 11 } } }
          : { type: "line", scaleID: "x", value: first, borderColor: "rgba(217, 119, 6, 0.9)", borderWidth: 1.5, borderDash: [4, 3], label: label };
    });
    return items;
  }

  function listNotes(box, notes) {
    var list = box.querySelector(".chart-notes");
    if (!list) {
      list = document.createElement("ul");
      list.className = "chart-notes visually-hidden";
      box.appendChild(list);
    }
    list.textContent = "";
    notes.forEach(function (note) {
      var item = document.createElement("li");
      item.textContent = note.date + (note.end_date ? " – " + note.end_date : "") + " · " + note.text;
      list.appendChild(item);
    });
  }

  function fetchNotes(settings, range) {
    var url = settings.dataset.annotationsUrl + "?start=" + range.start + "&end=" + range.end + "&page_size=500";
    var board = settings.dataset.board;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (page) {
        // A tab's chart shows the workspace's notes; a board's tile also the board's own.
        return page.results.filter(function (note) {
          return note.dashboard === null || (board && String(note.dashboard) === board);
        });
      });
  }

  function apply(chart, notes, labels, range) {
    // The chart's own options (chart.options is a resolving proxy: assigning through it recurses).
    var options = chart.config.options;
    options.plugins = options.plugins || {};
    options.plugins.annotation = { annotations: pluginAnnotations(notes, labels, range) };
    chart.update("none");
    chart.canvas.dataset.annotations = String(notes.length);
    listNotes(chart.canvas.closest(".chart-box") || chart.canvas.parentElement, notes);
  }

  function refresh(chart, labels, range) {
    var canvas = chart.canvas;
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    var settings = box.querySelector(".chart-annotate");
    if (preset) {
      var shown = preset.filter(function (note) {
        return note.date <= range.end && (note.end_date || note.date) >= range.start;
      });
      apply(chart, shown, labels, range);
      return Promise.resolve();
    }
    if (!settings) {
      return Promise.resolve();
    }
    return fetchNotes(settings, range)
      .then(function (notes) {
        apply(chart, notes, labels, range);
      })
      .catch(function (error) {
        if (window.console) {
          console.error("Annotations", canvas.id, error);
        }
      });
  }

  function field(labelText, input) {
    var label = document.createElement("label");
    label.className = "field";
    label.textContent = labelText;
    label.appendChild(input);
    return label;
  }

  /* The small form under the chart for a note on ``day``. */
  function openForm(chart, settings, day, labels, range) {
    var box = chart.canvas.closest(".chart-box") || chart.canvas.parentElement;
    var old = box.querySelector(".annotation-form");
    if (old) {
      old.remove();
    }
    var t = settings.dataset;
    var form = document.createElement("div");
    form.className = "annotation-form panel";
    form.setAttribute("role", "group");
    var title = document.createElement("p");
    title.className = "annotation-form__title";
    title.textContent = t.title.replace("%s", day);
    var text = document.createElement("input");
    text.maxLength = 500;
    text.className = "annotation-form__text";
    var end = document.createElement("input");
    end.type = "date";
    end.min = day;
    end.className = "annotation-form__end";
    var scope = document.createElement("select");
    scope.className = "annotation-form__scope";
    [["", t.scopeWorkspace]].concat(t.board ? [[t.board, t.scopeBoard]] : []).forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      scope.appendChild(option);
    });
    var save = document.createElement("button");
    save.type = "button";
    save.className = "button button--primary";
    save.textContent = t.save;
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button button--ghost";
    cancel.textContent = t.cancel;
    var status = document.createElement("p");
    status.className = "annotation-form__status";
    status.setAttribute("role", "status");
    form.append(title, field(t.text, text), field(t.end, end), field(t.scope, scope), save, cancel, status);
    box.appendChild(form);
    text.focus();
    cancel.addEventListener("click", function () {
      form.remove();
    });
    save.addEventListener("click", function () {
      var body = { date: day, text: text.value, end_date: end.value || null, dashboard: scope.value ? Number(scope.value) : null };
      fetch(t.annotationsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": t.csrf },
        body: JSON.stringify(body),
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) {
              var messages = Object.keys(data).map(function (key) {
                return key + ": " + [].concat(data[key]).join(" ");
              });
              throw new Error(messages.join("; "));
            }
            return data;
          });
        })
        .then(function () {
          form.remove();
          return refresh(chart, labels, range);
        })
        .catch(function (error) {
          status.textContent = t.error + " " + (error.message || "");
        });
    });
  }

  function onChart(event) {
    var canvas = event.target;
    var chart = event.detail && event.detail.chart;
    var kind = canvas.dataset.labelFormat;
    if (!chart || (kind !== "day" && kind !== "week" && kind !== "month")) {
      return;
    }
    var labels = (chart.data.labels || []).slice();
    if (!labels.length || !labels.every(isDate)) {
      return;
    }
    var range = axisRange(labels, kind);
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    var settings = box.querySelector(".chart-annotate");
    if (settings && settings.dataset.canWrite && !preset) {
      chart.config.options.onClick = function (clickEvent) {
        var index = chart.scales.x.getValueForPixel(clickEvent.x);
        var label = labels[Math.max(0, Math.min(labels.length - 1, Math.round(index)))];
        if (label) {
          openForm(chart, settings, label, labels, range);
        }
      };
      canvas.classList.add("is-annotatable");
      canvas.title = settings.dataset.hint;
    }
    refresh(chart, labels, range);
  }

  document.addEventListener("crm:chart", onChart, true); // capture: the event does not bubble

  window.CrmAnnotations = {
    preset: function (notes) {
      preset = notes || [];
    },
  };
})();
