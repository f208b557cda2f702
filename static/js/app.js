/* Small enhancements shared by every page. Everything works without JavaScript; this only makes the
   <details> dropdowns behave like menus: one open at a time, closed by Escape or a click outside. */
(function () {
  "use strict";

  function dropdowns() {
    return Array.prototype.slice.call(document.querySelectorAll("details.dropdown"));
  }

  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.open || !opened.classList.contains("dropdown")) {
      return;
    }
    dropdowns().forEach(function (other) {
      if (other !== opened && other.open && !other.classList.contains("has-error")) {
        other.open = false;
      }
    });
  }, true);

  document.addEventListener("click", function (event) {
    dropdowns().forEach(function (details) {
      if (details.open && !details.contains(event.target) && !details.classList.contains("has-error")) {
        details.open = false;
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    dropdowns().forEach(function (details) {
      if (details.open) {
        details.open = false;
        var summary = details.querySelector("summary");
        if (summary && details.contains(document.activeElement)) {
          summary.focus();
        }
      }
    });
  });
})();
