/*
 * Confirmation before an action that cannot be taken back: any button or link with a
 * data-confirm="…" attribute asks first, and does nothing if the user says no. Loaded on
 * every page by base.html; the message is written (and translated) by the template.
 */
(function () {
  "use strict";

  document.addEventListener(
    "click",
    function (event) {
      var target = event.target.closest ? event.target.closest("[data-confirm]") : null;
      if (target && !window.confirm(target.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );
})();
