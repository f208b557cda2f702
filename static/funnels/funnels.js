/* Funnels tab.
   - The funnel chart: horizontal stacked bars (units reaching each step, and, paler, those lost since
     the previous step), with counts and % drawn on each bar and the drop-off drawn between bars by a
     small inline Chart.js plugin. Data: {"labels", "datasets", "conversion_text", "dropoff_text", …}
     (funnels/presenters.py). It is the "funnel" drawer of the one chart loader (static/js/charts.js):
     a funnel's page has its data in the canvas's data-chart attribute, the builder's preview gets it
     from preview.json; both are shown by CrmCharts.show, which keeps the chart box's status.
   - The builder: dependent feature → action → detail pickers fed by the catalog endpoint, add/remove
     steps, client-side hints, and a live preview that posts the form to preview.json and shows the
     server's messages next to the fields, or its chart and the tables the server rendered.
   Everything works without this script; text shown to people comes from data- attributes rendered
   by the templates, or from the server, so it is translated there. No inline scripts (CSP). */
(function () {
  "use strict";

  var charts = window.CrmCharts;
  var numberFormat = charts.numberFormat;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function known(value) {
    return value !== null && value !== undefined;
  }

  // --- the chart ---------------------------------------------------------------------------------

  var labelsPlugin = {
    id: "funnelLabels",
    afterDatasetsDraw: function (chart, args, options) {
      var meta = chart.getDatasetMeta(0);
      if (!meta || meta.hidden) {
        return;
      }
      var ctx = chart.ctx;
      var counts = chart.data.datasets[0].data;
      var family = Chart.defaults.font.family;
      ctx.save();
      ctx.textBaseline = "middle";
      meta.data.forEach(function (bar, i) {
        if (options.above) {
          // Narrow screens: the step's name above its bar, the drop-off at the end of that line.
          var line = bar.y - bar.height / 2 - 9;
          ctx.font = "600 12px " + family;
          ctx.fillStyle = "#0f172a";
          ctx.textAlign = "left";
          ctx.fillText(i + 1 + ". " + options.labels[i], chart.chartArea.left, line);
          if (i > 0 && options.hasDropoff[i]) {
            ctx.font = "600 11px " + family;
            ctx.fillStyle = "#b91c1c";
            ctx.textAlign = "right";
            ctx.fillText("▼ " + options.dropoff[i], chart.chartArea.right, line);
          }
        }
        var text = numberFormat.format(counts[i]) + " · " + options.conversion[i];
        ctx.font = "600 12px " + family;
        var width = ctx.measureText(text).width;
        var inside = bar.x - bar.base > width + 20;
        ctx.fillStyle = inside ? "#ffffff" : "#0f172a";
        ctx.textAlign = inside ? "right" : "left";
        ctx.fillText(text, inside ? bar.x - 8 : bar.x + 8, bar.y);
        if (!options.above && i > 0 && options.hasDropoff[i]) {
          var previous = meta.data[i - 1];
          var gapTop = previous.y + previous.height / 2;
          var gapBottom = bar.y - bar.height / 2;
          ctx.font = "600 11px " + family;
          ctx.fillStyle = "#b91c1c";
          ctx.textAlign = "left";
          ctx.fillText("▼ " + options.dropText.replace("%s", options.dropoff[i]), chart.chartArea.left + 6, (gapTop + gapBottom) / 2);
        }
      });
      ctx.restore();
    },
  };

  // The "funnel" drawer: CrmCharts.draw has set the fonts and destroyed any previous chart.
  function drawFunnel(canvas, data) {
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    var narrow = box.clientWidth < 560;
    box.style.height = Math.max(220, data.labels.length * (narrow ? 76 : 62) + 70) + "px";
    var dropText = canvas.dataset.textDrop || "%s";
    var ofFirst = canvas.dataset.textOfFirst || "%s";
    var conversion = data.conversion_text || [];
    var dropoff = data.dropoff_text || [];
    data.datasets.forEach(function (dataset) {
      dataset.borderWidth = 1;
      dataset.borderRadius = 4;
      dataset.borderSkipped = false;
      dataset.categoryPercentage = narrow ? 0.5 : 0.6;
      dataset.barPercentage = 1;
    });
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels.map(function (label, i) { return i + 1 + ". " + label; }),
        datasets: data.datasets,
      },
      plugins: [labelsPlugin],
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 400 },
        layout: { padding: { right: narrow ? 8 : 96, top: narrow ? 6 : 0 } },
        scales: {
          x: {
            stacked: true,
            beginAtZero: true,
            border: { display: false },
            grid: { color: "#e2e8f0" },
            ticks: { precision: 0, callback: function (value) { return numberFormat.format(value); } },
          },
          y: {
            stacked: true,
            grid: { display: false },
            ticks: { display: !narrow, color: "#0f172a", font: { weight: "600" } },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
          funnelLabels: {
            conversion: conversion,
            dropoff: dropoff,
            hasDropoff: (data.dropoff_pct || []).map(known),
            dropText: dropText,
            labels: data.labels,
            above: narrow,
          },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? data.labels[items[0].dataIndex] : "";
              },
              label: function (item) {
                return " " + item.dataset.label + ": " + numberFormat.format(item.parsed.x);
              },
              afterBody: function (items) {
                if (!items.length) {
                  return "";
                }
                var i = items[0].dataIndex;
                var lines = [ofFirst.replace("%s", conversion[i])];
                if (i > 0) {
                  lines.push(dropText.replace("%s", dropoff[i]));
                }
                return lines;
              },
            },
          },
        },
      },
    });
  }

  charts.drawer("funnel", drawFunnel);

  // A funnel's page: the figures are in the page already.
  function showDetailChart(canvas) {
    var data;
    try {
      data = JSON.parse(canvas.dataset.chart);
    } catch (error) {
      data = null; // CrmCharts.show reports unexpected data as the chart's error
    }
    charts.show(canvas, data);
  }

  // --- the builder ---------------------------------------------------------------------------------

  function option(value, text, selected) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    element.selected = !!selected;
    return element;
  }

  function fillSelect(select, placeholder, values, current) {
    var keep = current && values.some(function (v) { return v[0] === current; });
    select.replaceChildren(option("", placeholder, !keep));
    values.forEach(function (v) {
      select.appendChild(option(v[0], v[1], v[0] === current));
    });
    if (current && !keep) {
      select.value = "";
    }
  }

  function Builder(form) {
    this.form = form;
    this.list = form.querySelector("[data-steps]");
    this.template = document.getElementById("step-template");
    this.addButton = form.querySelector("[data-add-step]");
    this.min = parseInt(form.dataset.minSteps, 10) || 2;
    this.max = parseInt(form.dataset.maxSteps, 10) || 10;
    this.catalog = null;
    this.sequence = 0;
    this.timer = null;
    this.preview = {
      panel: form.querySelector("[data-preview]"),
      status: form.querySelector("[data-preview-status]"),
      range: form.querySelector("[data-preview-range]"),
      chartBox: form.querySelector("[data-preview-chart]"),
      canvas: form.querySelector("#preview-chart"),
      tables: form.querySelector("[data-preview-tables]"),
    };
    this.bind();
    this.renumber();
    this.loadCatalog();
    this.schedule(0);
  }

  Builder.prototype.text = function (name) {
    return this.form.dataset["text" + name] || "";
  };

  Builder.prototype.bind = function () {
    var self = this;
    this.form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-step]");
      var remove = event.target.closest("[data-remove-step]");
      if (add) {
        event.preventDefault();
        self.addStep();
      } else if (remove) {
        event.preventDefault();
        self.removeStep(remove.closest("[data-step]"));
      }
    });
    this.form.addEventListener("change", function (event) {
      var part = event.target.dataset ? event.target.dataset.part : null;
      if (part === "feature" || part === "action") {
        self.refreshRow(event.target.closest("[data-step]"));
      }
      self.hints();
      self.schedule();
    });
    this.form.addEventListener("input", function (event) {
      if (event.target.matches("input[type=number], input[type=date], input[type=text]")) {
        self.hints();
        self.schedule();
      }
    });
    this.form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (
        submitter &&
        (submitter.hasAttribute("data-add-step") ||
          submitter.hasAttribute("data-remove-step") ||
          submitter.hasAttribute("data-keep-editing"))
      ) {
        return;
      }
      var name = self.form.elements.namedItem("name");
      if (name && !name.value.trim()) {
        event.preventDefault();
        self.setErrors({ name: [self.text("Name")] }, true);
        name.focus();
      }
    });
  };

  Builder.prototype.rows = function () {
    return Array.prototype.slice.call(this.list.querySelectorAll("[data-step]"));
  };

  Builder.prototype.renumber = function () {
    var rows = this.rows();
    var self = this;
    rows.forEach(function (row, index) {
      row.querySelectorAll("[data-part]").forEach(function (select) {
        var part = select.dataset.part;
        select.name = "steps-" + index + "-" + part;
        select.id = "id_steps-" + index + "-" + part;
        var label = select.parentElement.querySelector("label");
        if (label) {
          label.htmlFor = select.id;
        }
      });
      var number = row.querySelector("[data-step-number]");
      if (number) {
        number.textContent = index + 1;
      }
      var remove = row.querySelector("[data-remove-step]");
      remove.value = index;
      remove.disabled = rows.length <= self.min;
    });
    if (this.addButton) {
      this.addButton.disabled = rows.length >= this.max;
    }
  };

  Builder.prototype.addStep = function () {
    if (this.rows().length >= this.max || !this.template) {
      return;
    }
    var fragment = this.template.content.cloneNode(true);
    var row = fragment.querySelector("[data-step]");
    this.list.appendChild(fragment);
    this.renumber();
    if (this.catalog) {
      this.refreshRow(row, true);
    }
    row.querySelector("[data-part=feature]").focus();
    this.schedule();
  };

  Builder.prototype.removeStep = function (row) {
    if (!row || this.rows().length <= this.min) {
      return;
    }
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    this.renumber();
    if (next) {
      next.querySelector("[data-part=feature]").focus();
    }
    this.schedule();
  };

  Builder.prototype.loadCatalog = function () {
    var self = this;
    fetch(this.form.dataset.catalogUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        self.catalog = {};
        data.features.forEach(function (feature) {
          self.catalog[feature.key] = feature;
        });
        self.features = data.features.map(function (f) { return [f.key, f.name || f.key]; });
        self.rows().forEach(function (row) {
          self.refreshRow(row, true);
        });
        // Exclusion rows keep their server-rendered feature list ("No exclusion" first); a feature
        // chosen before the catalog arrived gets its actions now.
        self.form.querySelectorAll("[data-exclusion]").forEach(function (row) {
          self.refreshRow(row, false);
        });
      })
      .catch(function (error) {
        self.preview.status.textContent = self.text("CatalogError");
        if (window.console) {
          console.error("Feature catalog", error);
        }
      });
  };

  // Rebuild the options of a row's pickers: actions of the chosen feature, details of the action.
  Builder.prototype.refreshRow = function (row, withFeatures) {
    if (!this.catalog || !row) {
      return;
    }
    var feature = row.querySelector("[data-part=feature]");
    var action = row.querySelector("[data-part=action]");
    var detail = row.querySelector("[data-part=detail]");
    if (withFeatures) {
      fillSelect(feature, this.text("ChooseFeature"), this.features, feature.value);
    }
    var entry = this.catalog[feature.value];
    var actions = entry ? Object.keys(entry.actions).sort() : [];
    // An exclusion row's action is optional: its placeholder is "Any action".
    var actionPlaceholder = row.dataset.textChooseAction || this.text("ChooseAction");
    fillSelect(action, actionPlaceholder, actions.map(function (a) { return [a, a]; }), action.value);
    var details = entry && entry.actions[action.value] ? entry.actions[action.value].filter(Boolean).sort() : [];
    fillSelect(detail, this.text("AnyDetail"), details.map(function (d) { return [d, d]; }), detail.value);
    detail.disabled = !details.length;
  };

  // Client-side hints, before the server is asked.
  Builder.prototype.hints = function () {
    var errors = {};
    var get = function (name) {
      var field = this.form.elements.namedItem(name);
      return field ? field.value.trim() : "";
    }.bind(this);
    var windowDays = get("window_days");
    if (windowDays && !(Number(windowDays) >= 1 && Number(windowDays) <= 365 && /^\d+$/.test(windowDays))) {
      errors.window_days = [this.text("Window")];
    }
    var start = get("start");
    var end = get("end");
    if ((start && !end) || (!start && end)) {
      errors[start ? "end" : "start"] = [this.text("BothDates")];
    } else if (start && end && end < start) {
      errors.start = [this.text("EndBeforeStart")];
    }
    this.hinted = Object.keys(errors).length > 0;
    this.setErrors(errors, true);
    return !this.hinted;
  };

  Builder.prototype.completeSteps = function () {
    return this.rows().filter(function (row) {
      return row.querySelector("[data-part=feature]").value && row.querySelector("[data-part=action]").value;
    }).length;
  };

  Builder.prototype.schedule = function (delay) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      self.runPreview();
    }, delay === undefined ? 350 : delay);
  };

  Builder.prototype.showPreview = function (visible) {
    this.preview.chartBox.hidden = !visible;
    this.preview.tables.hidden = !visible;
  };

  Builder.prototype.runPreview = function () {
    var self = this;
    if (this.completeSteps() < this.min || this.rows().length < this.min) {
      this.preview.status.textContent = this.text("NeedSteps");
      this.showPreview(false);
      return;
    }
    if (this.hinted) {
      this.preview.status.textContent = this.text("Invalid");
      this.showPreview(false);
      return;
    }
    var body = new FormData(this.form);
    var token = body.get("csrfmiddlewaretoken");
    var sequence = ++this.sequence;
    this.preview.panel.classList.add("is-busy");
    this.preview.status.textContent = this.text("Loading");
    fetch(this.form.dataset.previewUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { status: response.status, data: data };
        });
      })
      .then(function (answer) {
        if (sequence !== self.sequence) {
          return; // a newer preview was asked for meanwhile
        }
        self.preview.panel.classList.remove("is-busy");
        if (answer.status === 400 && answer.data.errors) {
          self.setErrors(answer.data.errors, false);
          self.preview.status.textContent = self.text("Invalid");
          self.showPreview(false);
          return;
        }
        if (answer.status !== 200) {
          throw new Error("HTTP " + answer.status);
        }
        self.setErrors({}, false);
        self.render(answer.data);
      })
      .catch(function (error) {
        if (sequence === self.sequence) {
          self.preview.panel.classList.remove("is-busy");
          self.preview.status.textContent = self.text("Error");
          self.showPreview(false);
        }
        if (window.console) {
          console.error("Funnel preview", error);
        }
      });
  };

  // Messages by field name, next to the field. ``hintsOnly``: the client's own hints, kept apart from
  // the server's so that either can be cleared without the other.
  Builder.prototype.setErrors = function (errors, hintsOnly) {
    var kind = hintsOnly ? "hint" : "server";
    var form = this.form;
    form.querySelectorAll("[data-live=" + kind + "]").forEach(function (item) {
      var list = item.parentElement;
      item.remove();
      if (list && !list.querySelector("li")) {
        var field = list.closest(".field, .step-row, .dropdown");
        if (field) {
          field.classList.remove("has-error");
        }
      }
    });
    if (!hintsOnly) {
      // The messages rendered by the server at page load are replaced by the live ones.
      form.querySelectorAll(".field__errors li:not([data-live])").forEach(function (item) {
        item.remove();
      });
      form.querySelectorAll(".has-error").forEach(function (element) {
        if (!element.querySelector("[data-live=hint]")) {
          element.classList.remove("has-error");
        }
      });
    }
    Object.keys(errors).forEach(function (name) {
      var list = null;
      var container = null;
      var step = /^steps-(\d+)-(feature|action|detail|row)$/.exec(name);
      var exclusion = /^exclusions-(\d+)-(feature|action|detail|between|row)$/.exec(name);
      if (name === "steps" || name === "__all__") {
        list = form.querySelector("[data-errors-for='" + name + "']");
      } else if (exclusion) {
        // Numbered among the rows with a feature chosen, as the server reads them.
        var filled = Array.prototype.filter.call(form.querySelectorAll("[data-exclusion]"), function (r) {
          return r.querySelector("[data-part=feature]").value;
        });
        var excluded = filled[parseInt(exclusion[1], 10)];
        if (excluded) {
          list = excluded.querySelector("[data-errors-for='" + exclusion[2] + "']");
          container = exclusion[2] === "row" ? excluded : list && list.closest(".field");
        }
      } else if (step) {
        var row = form.querySelectorAll("[data-step]")[parseInt(step[1], 10)];
        if (row) {
          list = row.querySelector("[data-errors-for='" + step[2] + "']");
          container = step[2] === "row" ? row : list && list.closest(".field");
        }
      } else {
        var input = form.querySelector("[name='" + name + "']");
        if (input) {
          container = input.closest(".field") || input.closest(".dropdown");
          list = container && container.querySelector(".field__errors");
          if (container && !list) {
            list = document.createElement("ul");
            list.className = "field__errors";
            (container.querySelector(".dropdown__menu fieldset") || container).appendChild(list);
          }
        }
      }
      if (!list) {
        list = form.querySelector("[data-errors-for='__all__']");
      }
      if (container) {
        container.classList.add("has-error");
      }
      errors[name].forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        item.dataset.live = kind;
        list.appendChild(item);
      });
    });
  };

  Builder.prototype.render = function (data) {
    var preview = this.preview;
    var first = data.steps.length ? data.steps[0].count : 0;
    preview.range.textContent = data.range.start + " – " + data.range.end;
    this.showPreview(first > 0);
    if (!first) {
      preview.status.textContent = this.text("Nobody");
      return;
    }
    preview.status.textContent = "";
    preview.tables.innerHTML = data.html; // rendered by the server, as on a funnel's page
    charts.show(preview.canvas, data.chart);
  };

  function start() {
    document.querySelectorAll("canvas[data-funnel-chart]").forEach(showDetailChart);
    document.querySelectorAll("form.builder").forEach(function (form) {
      new Builder(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
