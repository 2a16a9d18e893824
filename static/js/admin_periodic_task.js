/*
 * The admin's periodic-task form (templates/admin/djcelery/change_periodictask_form.html):
 * under the crontab field, the chosen schedule in words, updated when another one is chosen.
 */
(function () {
  "use strict";

  function jsonOf(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var readable = jsonOf("readable-crontabs") || {};
  var helpText = jsonOf("crontab-help-text") || "";
  var select = document.getElementById("id_crontab");
  var help = document.querySelector(".field-crontab .help");
  var translation = document.querySelector(".field-crontab_translation");
  if (translation) {
    translation.style.display = "none"; // CSSOM: allowed by the policy, unlike a style attribute
  }
  if (!select || !help) {
    return;
  }

  function update() {
    help.textContent = helpText;
    var words = readable[select.value];
    if (words) {
      help.appendChild(document.createElement("br"));
      help.appendChild(document.createTextNode(words));
    }
  }

  select.addEventListener("change", update);
})();
