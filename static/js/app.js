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

/* Forms marked data-autosubmit (the language switcher) submit as soon as their <select> changes, so
   their submit button is hidden; without JavaScript the button stays and does the same. */
(function () {
  "use strict";

  function setUp() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-autosubmit]"), function (form) {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.hidden = true;
      }
      form.addEventListener("change", function (event) {
        if (!(event.target instanceof HTMLSelectElement)) {
          return;
        }
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit();
        } else {
          form.submit();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
