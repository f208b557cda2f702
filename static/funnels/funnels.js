/* Funnels tab.
   - The funnel chart: horizontal stacked bars (units reaching each step, and, paler, those lost since
     the previous step), with counts and % drawn on each bar and the drop-off drawn between bars by a
     small inline Chart.js plugin. Data: {"labels", "datasets", "conversion_pct", "dropoff_pct"}
     (funnels/charts.py), from the canvas's data-chart attribute or the builder's preview.
   - The builder: dependent feature → action → detail pickers fed by the catalog endpoint, add/remove
     steps, client-side hints, and a live preview that posts the form to preview.json and shows the
     server's messages next to the fields (or the results).
   Everything works without this script; text shown to people comes from data- attributes rendered by
   the templates, so it is translated there. No inline scripts (CSP). */
(function () {
  "use strict";

  var lang = document.documentElement.lang || undefined;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var numberFormat = new Intl.NumberFormat(lang);
  var pctFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function pct(value) {
    return value === null || value === undefined ? "—" : pctFormat.format(value) + "%";
  }

  // Time units in the page's language, from the browser's own data ("5 min", "5分钟").
  function unitFormat(unit) {
    return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "short", maximumFractionDigits: 1 });
  }
  var units = { second: unitFormat("second"), minute: unitFormat("minute"), hour: unitFormat("hour"), day: unitFormat("day") };

  function duration(seconds) {
    if (seconds === null || seconds === undefined) {
      return "—";
    }
    if (seconds < 60) {
      return units.second.format(Math.round(seconds));
    }
    if (seconds < 3600) {
      return units.minute.format(Math.round(seconds / 60));
    }
    if (seconds < 86400) {
      return units.hour.format(seconds / 3600);
    }
    return units.day.format(seconds / 86400);
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
          if (i > 0 && options.dropoff[i] !== null && options.dropoff[i] !== undefined) {
            ctx.font = "600 11px " + family;
            ctx.fillStyle = "#b91c1c";
            ctx.textAlign = "right";
            ctx.fillText("▼ " + pct(options.dropoff[i]), chart.chartArea.right, line);
          }
        }
        var text = numberFormat.format(counts[i]) + " · " + pct(options.conversion[i]);
        ctx.font = "600 12px " + family;
        var width = ctx.measureText(text).width;
        var inside = bar.x - bar.base > width + 20;
        ctx.fillStyle = inside ? "#ffffff" : "#0f172a";
        ctx.textAlign = inside ? "right" : "left";
        ctx.fillText(text, inside ? bar.x - 8 : bar.x + 8, bar.y);
        if (!options.above && i > 0 && options.dropoff[i] !== null && options.dropoff[i] !== undefined) {
          var previous = meta.data[i - 1];
          var gapTop = previous.y + previous.height / 2;
          var gapBottom = bar.y - bar.height / 2;
          ctx.font = "600 11px " + family;
          ctx.fillStyle = "#b91c1c";
          ctx.textAlign = "left";
          ctx.fillText("▼ " + options.dropText.replace("%s", pct(options.dropoff[i])), chart.chartArea.left + 6, (gapTop + gapBottom) / 2);
        }
      });
      ctx.restore();
    },
  };

  function drawFunnel(canvas, data) {
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    var steps = data.labels.length;
    var narrow = box.clientWidth < 560;
    box.style.height = Math.max(220, steps * (narrow ? 76 : 62) + 70) + "px";
    var existing = Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    var style = getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = "#475569";
    var dropText = canvas.dataset.textDrop || "%s";
    var ofFirst = canvas.dataset.textOfFirst || "%s";
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
            conversion: data.conversion_pct || [],
            dropoff: data.dropoff_pct || [],
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
                var lines = [ofFirst.replace("%s", pct(data.conversion_pct[i]))];
                if (i > 0) {
                  lines.push(dropText.replace("%s", pct(data.dropoff_pct[i])));
                }
                return lines;
              },
            },
          },
        },
      },
    });
  }

  function setStatus(box, state, text) {
    var status = box.querySelector(".chart-box__status");
    box.classList.toggle("is-loading", state === "loading");
    box.classList.toggle("has-error", state === "error");
    if (status) {
      status.textContent = text || "";
    }
  }

  function startDetailChart(canvas) {
    var box = canvas.closest(".chart-box") || canvas.parentElement;
    var ready = canvas.dataset.chart
      ? Promise.resolve(JSON.parse(canvas.dataset.chart))
      : fetch(canvas.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
          function (response) {
            if (!response.ok) {
              throw new Error("HTTP " + response.status);
            }
            return response.json();
          }
        );
    ready
      .then(function (data) {
        if (typeof Chart === "undefined") {
          throw new Error("Chart.js is not loaded");
        }
        drawFunnel(canvas, data);
        setStatus(box, "ready", "");
      })
      .catch(function (error) {
        setStatus(box, "error", canvas.dataset.errorText);
        if (window.console) {
          console.error("Funnel chart", error);
        }
      });
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
      table: form.querySelector("[data-preview-table]"),
      breakdown: form.querySelector("[data-preview-breakdown]"),
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
      if (submitter && (submitter.hasAttribute("data-add-step") || submitter.hasAttribute("data-remove-step"))) {
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
    fillSelect(action, this.text("ChooseAction"), actions.map(function (a) { return [a, a]; }), action.value);
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
    this.preview.table.hidden = !visible;
    if (!visible) {
      this.preview.breakdown.hidden = true;
    }
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
      if (name === "steps" || name === "__all__") {
        list = form.querySelector("[data-errors-for='" + name + "']");
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
    if (typeof Chart !== "undefined") {
      drawFunnel(preview.canvas, data.chart);
    }
    var header = preview.table.querySelector("[data-unit-header]");
    if (header) {
      header.textContent = data.unit_label;
    }
    var body = preview.table.querySelector("tbody");
    body.replaceChildren();
    data.steps.forEach(function (s, i) {
      var tr = document.createElement("tr");
      [s.step + ". " + s.label, numberFormat.format(s.count), pct(s.conversion_pct), i ? pct(s.dropoff_pct) : "—", duration(s.median_seconds_from_previous)].forEach(
        function (text, column) {
          var cell = document.createElement(column === 0 ? "th" : "td");
          if (column === 0) {
            cell.scope = "row";
          } else {
            cell.className = "num";
          }
          cell.textContent = text;
          tr.appendChild(cell);
        }
      );
      body.appendChild(tr);
    });
    this.renderBreakdown(data);
  };

  Builder.prototype.renderBreakdown = function (data) {
    var box = this.preview.breakdown;
    if (!data.breakdown || !data.breakdown.length) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    var title = box.querySelector("[data-breakdown-title]");
    var headRow = box.querySelector("thead tr");
    var body = box.querySelector("tbody");
    headRow.replaceChildren();
    var last = data.steps[data.steps.length - 1];
    var cells = [data.breakdown_label, this.text("Entered"), last.step + ". " + last.label, this.text("Completion")];
    cells.forEach(function (text, i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      if (i) {
        th.className = "num";
      }
      headRow.appendChild(th);
    });
    if (title) {
      title.textContent = data.breakdown_label;
    }
    body.replaceChildren();
    data.breakdown.forEach(function (group) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = group.group || "—";
      tr.appendChild(th);
      var end = group.steps[group.steps.length - 1];
      [numberFormat.format(group.steps[0].count), numberFormat.format(end.count), pct(end.conversion_pct)].forEach(function (text) {
        var td = document.createElement("td");
        td.className = "num";
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  };

  function start() {
    document.querySelectorAll("canvas[data-funnel-chart]").forEach(startDetailChart);
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
