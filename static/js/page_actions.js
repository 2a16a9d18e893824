/*
 * Small page behaviours declared in the markup, in place of inline handlers (onchange=,
 * href="javascript:…"), which the Content-Security-Policy refuses. Loaded on every page by
 * base.html.
 *   <select data-auto-submit>   sends its form as soon as it changes (the list filters); the form
 *                               keeps a submit button inside <noscript> for browsers without it
 *   <a href="…" data-history-back>  goes back one page when there is one; else follows its href
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.form && field.hasAttribute && field.hasAttribute("data-auto-submit")) {
      if (typeof field.form.requestSubmit === "function") {
        field.form.requestSubmit();
      } else {
        field.form.submit();
      }
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-history-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
