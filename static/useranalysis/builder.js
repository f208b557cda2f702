/* Filter-set builder (templates/useranalysis/filter_set.html). Everything works without JavaScript:
   "Add a condition" then submits the form for one more row, and each row has a "Remove" checkbox.
   With JavaScript:
   1. Rows are added from the <template id="<part>-template"> (a Django formset empty form, its
      __prefix__ replaced by the next index) and removed in place; the remaining rows are renumbered
      so the formset's TOTAL_FORMS stays the number of rows.
   2. A feature row's action select offers only the actions seen for the chosen feature, from the
      catalog embedded by the page (<script type="application/json" id="feature-actions">:
      {feature: [action, …]}), as the server does when it renders the row.
   3. "at least N times" is disabled while the row says "did not use" (it does not apply then). */
(function () {
  "use strict";

  function catalog() {
    var element = document.getElementById("feature-actions");
    try {
      return element ? JSON.parse(element.textContent) : {};
    } catch (error) {
      return {};
    }
  }

  var actions = catalog();

  function fillActions(row) {
    var feature = row.querySelector("select[name$='-feature']");
    var action = row.querySelector("select[name$='-action']");
    if (!feature || !action) {
      return;
    }
    var keep = action.value;
    var values = actions[feature.value] || [];
    var first = action.options[0] ? action.options[0].cloneNode(true) : new Option("", "");
    action.textContent = "";
    action.appendChild(first);
    values.forEach(function (value) {
      action.appendChild(new Option(value, value));
    });
    action.value = values.indexOf(keep) >= 0 ? keep : "";
    action.disabled = !feature.value;
  }

  function syncCount(row) {
    var used = row.querySelector("select[name$='-used']");
    var count = row.querySelector("input[name$='-min_count']");
    if (used && count) {
      count.disabled = used.value === "false";
    }
  }

  function renumber(container, prefix) {
    var rows = container.querySelectorAll("[data-row]");
    var pattern = new RegExp("^(id_)?" + prefix + "-\\d+-");
    Array.prototype.forEach.call(rows, function (row, index) {
      var replacement = function (value, id) {
        return value.replace(pattern, (id ? "id_" : "") + prefix + "-" + index + "-");
      };
      Array.prototype.forEach.call(row.querySelectorAll("[name], [id], label[for], [aria-describedby]"), function (el) {
        if (el.name) {
          el.name = replacement(el.name, false);
        }
        if (el.id) {
          el.id = replacement(el.id, true);
        }
        if (el.htmlFor) {
          el.htmlFor = replacement(el.htmlFor, true);
        }
        var described = el.getAttribute("aria-describedby");
        if (described) {
          el.setAttribute("aria-describedby", described.split(" ").map(function (id) { return replacement(id, true); }).join(" "));
        }
      });
    });
    var total = document.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    if (total) {
      total.value = String(rows.length);
    }
    return rows.length;
  }

  function updateAddButton(form, prefix, count) {
    var button = form.querySelector("[data-add-row='" + prefix + "']");
    var max = parseInt(form.dataset.maxRows || "20", 10);
    if (button) {
      button.disabled = count >= max;
    }
  }

  function wire(form, row, prefix, container) {
    var check = row.querySelector("[data-remove-check]");
    var remove = row.querySelector("[data-remove-row]");
    if (check && remove) {
      check.hidden = true;
      remove.hidden = false;
      remove.addEventListener("click", function () {
        row.remove();
        var count = renumber(container, prefix);
        updateAddButton(form, prefix, count);
        var add = form.querySelector("[data-add-row='" + prefix + "']");
        if (add) {
          add.focus();
        }
      });
    }
    var feature = row.querySelector("select[name$='-feature']");
    if (feature) {
      feature.addEventListener("change", function () {
        fillActions(row);
      });
      // Keep an unknown value from the URL (shown with its error) until the feature changes.
      if (!row.classList.contains("has-error")) {
        fillActions(row);
      }
    }
    var used = row.querySelector("select[name$='-used']");
    if (used) {
      used.addEventListener("change", function () {
        syncCount(row);
      });
      syncCount(row);
    }
  }

  function start() {
    var form = document.getElementById("builder");
    if (!form) {
      return;
    }
    Array.prototype.forEach.call(form.querySelectorAll("[data-rows]"), function (container) {
      var prefix = container.dataset.rows;
      var template = document.getElementById(prefix + "-template");
      var add = form.querySelector("[data-add-row='" + prefix + "']");
      Array.prototype.forEach.call(container.querySelectorAll("[data-row]"), function (row) {
        wire(form, row, prefix, container);
      });
      updateAddButton(form, prefix, container.querySelectorAll("[data-row]").length);
      if (!template || !add) {
        return;
      }
      add.addEventListener("click", function (event) {
        event.preventDefault();
        var index = container.querySelectorAll("[data-row]").length;
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
        var row = holder.querySelector("[data-row]");
        if (!row) {
          return;
        }
        container.appendChild(row);
        wire(form, row, prefix, container);
        var count = renumber(container, prefix);
        updateAddButton(form, prefix, count);
        var first = row.querySelector("select, input:not([type=hidden])");
        if (first) {
          first.focus();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
