/*
 * The star-share cap warning, live: as the approver picks a level in a decision form, the
 * form says whether that level would exceed the cycle's cap on its share of the decisions,
 * before anything is saved. The numbers come from the page (#star-caps-config, written by
 * the view from reviews.selectors.star_shares); the server's own warning after saving stays.
 *
 * A form takes part with data-cap-form and data-current-stars (the level this assessment
 * counts at now, or empty); its select is [name=stars], its message box [data-cap-live].
 */
(function () {
  "use strict";

  var element = document.getElementById("star-caps-config");
  if (!element) {
    return;
  }
  var config = JSON.parse(element.textContent);

  /** The share (in tenths of a percent, rounded like the server) of ``stars`` if this form chose it. */
  function shareIfChosen(stars, current) {
    var count = config.counts[String(stars)] || 0;
    var total = config.total;
    if (String(current) !== String(stars)) {
      count += 1;
      if (!current) {
        total += 1; // this assessment was not counted at any level yet
      }
    }
    return total ? Math.floor((count * 1000) / total + 0.5) / 10 : 0;
  }

  function update(form) {
    var select = form.querySelector("select[name=stars]");
    var box = form.querySelector("[data-cap-live]");
    if (!select || !box) {
      return;
    }
    var stars = select.value;
    var cap = config.caps[String(stars)];
    var current = form.getAttribute("data-current-stars");
    var share = shareIfChosen(stars, current);
    // The level it counts at now is the server's own warning (shown above); warn about a change.
    if (String(stars) === String(current) || cap === undefined || cap === null || share <= cap) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    box.textContent = config.message
      .replace("{stars}", stars)
      .replace("{share}", share.toFixed(1))
      .replace("{cap}", String(cap));
    box.hidden = false;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-cap-form]"), function (form) {
    var select = form.querySelector("select[name=stars]");
    if (select) {
      select.addEventListener("change", function () {
        update(form);
      });
      update(form);
    }
  });
})();
