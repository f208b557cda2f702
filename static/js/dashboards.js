/* Dashboards in the browser.

   - "Pin to dashboard" on every chart box (templates/dashboards/_chart_tools.html): lists the boards
     the user may change (the API's dashboards/), posts the chart's current URL (its query included)
     to the pin page, which turns it into a tile.
   - A board page (#dash-grid): places the tiles on the 12-column grid, loads every table tile in
     parallel from its endpoint (chart tiles are loaded by charts.js), and saves a reorder or a
     removal with a PATCH of the board's tiles.
   - The share page (#dash-grid[data-shared]): draws the tiles the page was given (#shared-board),
     asking the server nothing.
   Texts come from data- attributes rendered (and translated) by the templates. */
(function () {
  "use strict";
  if (window.CrmDashboards) {
    return; // included once per chart box: run once
  }
  window.CrmDashboards = {};

  function strings() {
    var element = document.getElementById("dashboard-strings");
    return element ? element.dataset : {};
  }

  var labelCache = null;
  /* The translated names of the API's column and row keys (#dashboard-labels, from
     dashboards.presenters.LABELS); a key not there reads with its underscores as spaces. */
  function label(key) {
    if (labelCache === null) {
      var element = document.getElementById("dashboard-labels");
      labelCache = element ? JSON.parse(element.textContent) || {} : {};
    }
    return Object.prototype.hasOwnProperty.call(labelCache, key) ? labelCache[key] : key.replace(/_/g, " ");
  }

  function knownLabel(value) {
    return labelCache && Object.prototype.hasOwnProperty.call(labelCache, value) ? labelCache[value] : value;
  }

  function csrf(scope) {
    var input = (scope || document).querySelector("input[name=csrfmiddlewaretoken]");
    var settings = (scope || document).querySelector(".chart-annotate");
    return (input && input.value) || (settings && settings.dataset.csrf) || "";
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  // --- tables -----------------------------------------------------------------------------------------

  function scalar(value) {
    return value === null || ["string", "number", "boolean"].indexOf(typeof value) >= 0;
  }

  /* The rows an API answer shows as a table: its first list of objects (not its annotations), or
     its object of objects (home/summary's metrics), or the answer itself as one row. */
  function rowsOf(data) {
    if (Array.isArray(data)) {
      return data;
    }
    if (!data || typeof data !== "object") {
      return [];
    }
    var keys = Object.keys(data).filter(function (key) {
      return key !== "annotations";
    });
    for (var i = 0; i < keys.length; i++) {
      var value = data[keys[i]];
      if (Array.isArray(value) && value.length && typeof value[0] === "object") {
        return value;
      }
    }
    for (var j = 0; j < keys.length; j++) {
      var nested = data[keys[j]];
      if (nested && typeof nested === "object" && !Array.isArray(nested)) {
        var inner = Object.keys(nested);
        if (inner.length && typeof nested[inner[0]] === "object" && nested[inner[0]] !== null) {
          return inner.map(function (name) {
            return Object.assign({ name: name }, nested[name]);
          });
        }
      }
    }
    return [data];
  }

  function renderTable(container, data) {
    var rows = rowsOf(data).slice(0, 100);
    container.textContent = "";
    if (!rows.length) {
      var empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = strings().empty || "";
      container.appendChild(empty);
      return;
    }
    var columns = Object.keys(rows[0]).filter(function (key) {
      return scalar(rows[0][key]);
    });
    // The page's locale (charts.js's format, or the same one if charts.js is not on the page).
    var format = window.CrmCharts ? window.CrmCharts.numberFormat : new Intl.NumberFormat(document.documentElement.lang || undefined);
    var table = document.createElement("table");
    table.className = "table table--compact";
    var head = table.createTHead().insertRow();
    columns.forEach(function (column) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = label(column);
      head.appendChild(th);
    });
    var body = table.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (column) {
        var td = tr.insertCell();
        var value = row[column];
        if (typeof value === "number") {
          td.className = "num";
          td.textContent = format.format(value);
        } else {
          // A row's key (a metric's name) reads as the tab names it; any other text as it is.
          var text = value === null || value === undefined ? "—" : String(value);
          td.textContent = column === "name" || column === "metric" ? knownLabel(text) : text;
        }
      });
    });
    container.appendChild(table);
  }

  function loadTable(container) {
    container.textContent = strings().loading || "";
    return getJSON(container.dataset.tileUrl)
      .then(function (data) {
        renderTable(container, data);
      })
      .catch(function () {
        container.textContent = strings().error || "";
      });
  }

  // --- the board page --------------------------------------------------------------------------------

  function place(grid) {
    Array.prototype.forEach.call(grid.querySelectorAll(".dash-tile"), function (tile) {
      // Spans from the tile's position (style properties set here: the CSP allows no style attribute).
      tile.style.gridColumn = "span " + Math.max(1, Math.min(12, Number(tile.dataset.w) || 6));
    });
  }

  function setStatus(text) {
    var status = document.querySelector(".dash-status");
    if (status) {
      status.textContent = text;
    }
  }

  function saveTiles(grid) {
    var order = Array.prototype.map.call(grid.querySelectorAll(".dash-tile"), function (tile) {
      return Number(tile.dataset.tileId);
    });
    return getJSON(grid.dataset.apiUrl)
      .then(function (board) {
        var byId = {};
        board.tiles.forEach(function (tile) {
          byId[tile.id] = tile;
        });
        var tiles = order
          .filter(function (id) {
            return byId[id];
          })
          .map(function (id, index) {
            var tile = byId[id];
            return { id: id, title: tile.title, endpoint: tile.endpoint, query: tile.query, position: { x: 0, y: index, w: tile.position.w, h: tile.position.h } };
          });
        return fetch(grid.dataset.apiUrl, {
          method: "PATCH",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(grid) },
          body: JSON.stringify({ tiles: tiles }),
        });
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        setStatus(strings().saved || "");
      })
      .catch(function () {
        setStatus(strings().saveError || "");
      });
  }

  function editable(grid) {
    grid.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move], button[data-remove]");
      if (!button) {
        return;
      }
      var tile = button.closest(".dash-tile");
      if (button.hasAttribute("data-remove")) {
        tile.remove();
      } else if (button.dataset.move === "-1" && tile.previousElementSibling && tile.previousElementSibling.classList.contains("dash-tile")) {
        grid.insertBefore(tile, tile.previousElementSibling);
      } else if (button.dataset.move === "1" && tile.nextElementSibling && tile.nextElementSibling.classList.contains("dash-tile")) {
        grid.insertBefore(tile.nextElementSibling, tile);
      } else {
        return;
      }
      saveTiles(grid);
    });
  }

  // --- the share page --------------------------------------------------------------------------------

  function shared(grid) {
    var payload = JSON.parse(document.getElementById("shared-board").textContent);
    if (window.CrmAnnotations) {
      window.CrmAnnotations.preset(payload.annotations);
    }
    payload.tiles.forEach(function (tile) {
      var element = grid.querySelector("[data-shared-tile='" + tile.id + "']");
      if (!element) {
        return;
      }
      if (element.tagName === "CANVAS") {
        if (tile.chart && window.CrmCharts) {
          window.CrmCharts.show(element, tile.chart);
        } else if (window.CrmCharts) {
          window.CrmCharts.setStatus(element, "error", element.dataset.errorText);
        }
      } else if (tile.table) {
        renderTable(element, tile.table);
      } else {
        element.textContent = strings().error || "";
      }
    });
  }

  // --- pinning a chart -------------------------------------------------------------------------------

  function pinMenu(details) {
    var select = details.querySelector("[data-field=dashboard]");
    var nameField = details.querySelector(".chart-pin__name");
    var status = details.querySelector(".chart-pin__status");
    var loaded = false;
    function toggleName() {
      nameField.hidden = select.value !== "new";
    }
    var title = details.querySelector("[data-field=title]");
    var section = details.closest("section, .panel");
    var heading = section && section.querySelector("h2, h3");
    if (heading && heading.textContent.trim()) {
      title.value = heading.textContent.trim().slice(0, 200); // the chart's heading reads better than its description
    }
    details.addEventListener("toggle", function () {
      if (!details.open || loaded) {
        return;
      }
      loaded = true;
      getJSON(details.dataset.boardsUrl)
        .then(function (boards) {
          boards
            .filter(function (board) {
              return board.can_edit;
            })
            .forEach(function (board) {
              var option = document.createElement("option");
              option.value = String(board.id);
              option.textContent = board.name;
              select.insertBefore(option, select.lastElementChild);
            });
          select.selectedIndex = 0;
          toggleName();
        })
        .catch(function () {
          loaded = false;
        });
    });
    select.addEventListener("change", toggleName);
    details.querySelector("[data-pin-submit]").addEventListener("click", function () {
      var box = details.closest(".chart-box");
      // The canvas's URL is the chart's current one (a page may reload it with another query); a
      // chart the page drew from its own figures (a funnel's) has it on the menu only.
      var canvas = box.querySelector("canvas[data-chart-url]");
      var body = new URLSearchParams();
      body.set("chart_url", canvas ? canvas.dataset.chartUrl : details.dataset.chartUrl);
      body.set("dashboard", select.value);
      body.set("name", details.querySelector("[data-field=name]").value);
      body.set("title", details.querySelector("[data-field=title]").value);
      fetch(details.dataset.pinUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf(box) },
        body: body,
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) {
              var errors = data.errors || {};
              throw new Error(
                Object.keys(errors)
                  .map(function (key) {
                    return [].concat(errors[key]).join(" ");
                  })
                  .join(" ") || "HTTP " + response.status
              );
            }
            return data;
          });
        })
        .then(function (data) {
          status.textContent = "";
          var link = document.createElement("a");
          link.href = data.url;
          link.textContent = status.dataset.done;
          status.appendChild(link);
          loaded = false; // a new board shows next time
          Array.prototype.slice.call(select.options, 0, -1).forEach(function (option) {
            option.remove();
          });
        })
        .catch(function (error) {
          status.textContent = error.message;
        });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("details.chart-pin"), pinMenu);
    var grid = document.getElementById("dash-grid");
    if (!grid) {
      return;
    }
    place(grid);
    if (grid.dataset.shared) {
      shared(grid);
      return;
    }
    Array.prototype.forEach.call(grid.querySelectorAll("[data-tile-url]"), loadTable);
    if (grid.dataset.editable) {
      editable(grid);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
