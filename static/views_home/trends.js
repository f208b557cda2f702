/* Trends tab.
   1. Dependent pickers: the feature, action and detail selects offer only what was seen together,
      from the catalog embedded by the page (<script type="application/json" id="feature-catalog">:
      {feature: {"name", "actions": {action: [detail, …]}}}). The server renders the same options for
      the chosen feature, so the form works without JavaScript after an Apply.
   2. Chart / table views: the switch shows one pane without a reload, keeps the choice in the address
      bar and the form (view=…), and loads the chart the first time its pane is shown. */
(function () {
  "use strict";

  function catalog() {
    var element = document.getElementById("feature-catalog");
    try {
      return element ? JSON.parse(element.textContent) : {};
    } catch (error) {
      return {};
    }
  }

  function fill(select, values) {
    var keep = select.value;
    var first = select.options[0] ? select.options[0].cloneNode(true) : new Option("", "");
    select.textContent = "";
    select.appendChild(first);
    values.forEach(function (value) {
      select.appendChild(new Option(value, value));
    });
    select.value = values.indexOf(keep) >= 0 ? keep : "";
    select.disabled = values.length === 0;
  }

  function pickers(form) {
    var data = catalog();
    var feature = form.querySelector("select[name=feature]");
    var action = form.querySelector("select[name=action]");
    var detail = form.querySelector("select[name=detail]");
    if (!feature || !action || !detail) {
      return;
    }
    function actionsOf(key) {
      return data[key] ? Object.keys(data[key].actions).sort() : [];
    }
    function detailsOf(key, name) {
      return data[key] && data[key].actions[name] ? data[key].actions[name] : [];
    }
    function refreshDetails() {
      fill(detail, detailsOf(feature.value, action.value));
    }
    function refreshActions() {
      fill(action, actionsOf(feature.value));
      refreshDetails();
    }
    feature.addEventListener("change", refreshActions);
    action.addEventListener("change", refreshDetails);
    // Keep an unknown value typed in the URL (the server shows it with its error) until changed.
    if (!feature.closest(".has-error") && !action.closest(".has-error") && !detail.closest(".has-error")) {
      refreshActions();
    }
  }

  function views(form) {
    var links = document.querySelectorAll(".view-switch a[data-view]");
    var input = form.querySelector("input[name=view]");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var view = link.dataset.view;
        Array.prototype.forEach.call(document.querySelectorAll(".view-pane"), function (pane) {
          pane.hidden = pane.dataset.pane !== view;
        });
        Array.prototype.forEach.call(links, function (other) {
          var active = other === link;
          other.classList.toggle("is-active", active);
          if (active) {
            other.setAttribute("aria-current", "true");
          } else {
            other.removeAttribute("aria-current");
          }
        });
        if (input) {
          input.value = view;
        }
        window.history.replaceState(null, "", link.getAttribute("href"));
        var canvas = document.querySelector('.view-pane[data-pane="' + view + '"] canvas[data-chart-url]');
        if (canvas && !canvas.dataset.loaded && window.CrmCharts) {
          window.CrmCharts.load(canvas);
        }
      });
    });
  }

  function start() {
    var form = document.getElementById("trends-form");
    if (!form) {
      return;
    }
    pickers(form);
    views(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
