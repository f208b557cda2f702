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

/* Type-ahead: an <input data-suggest-url> gets a <datalist> of the users whose name, email or external
   ID holds what is typed (the browser shows it as a list under the field). Each option's value is the
   user's external ID, which the server resolves exactly; its label, the name and email. Without
   JavaScript the field still takes an external ID or an email. */
(function () {
  "use strict";

  var DELAY_MS = 150;

  function attach(input, index) {
    var list = document.createElement("datalist");
    list.id = "suggestions-" + index;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value.trim();
      if (text.length < 2 || text === asked) {
        return;
      }
      timer = setTimeout(function () {
        asked = text;
        var url = input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(text);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { users: [] }; })
          .then(function (answer) {
            if (input.value.trim() !== text) {
              return; // typed on since: a later answer fills the list
            }
            list.textContent = "";
            answer.users.forEach(function (user) {
              var option = document.createElement("option");
              option.value = user.external_id;
              option.label = [user.name, user.email].filter(Boolean).join(" · ") || user.external_id;
              list.appendChild(option);
            });
          })
          .catch(function () { /* no suggestions: the field still takes an ID or email */ });
      }, DELAY_MS);
    });
  }

  function setUp() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest-url]"), attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
