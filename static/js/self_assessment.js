/*
 * Self-assessment page: running total and star level as the secretary types, and a copy of
 * the typed values in localStorage so that nothing is lost when a save fails (an expired
 * session sends the POST to the login page). The server stays the authority: this file only
 * mirrors scoring/arithmetic.py (one-decimal scores, bonus cap, total capped at the maximum
 * unless the standard allows more, then minus the deductions and never below 0, the highest
 * threshold reached, veto caps).
 *
 * Numbers are handled as integers of tenths, so 0.1 + 0.2 is exactly 0.3 here as in Decimal.
 */
(function () {
  "use strict";

  // --- Arithmetic (mirrors scoring.arithmetic) ---------------------------------------------
  //
  // Pure functions of the page's config (the shape of reviews.views.secretary._js_config:
  // maxScore, bonusCap, allowAboveMax, thresholds [[stars, "min"], ...], items {id: {code, kind,
  // max, vetoCap}}) and of what was typed. Exposed as window.DangjianArithmetic before the page
  // checks below, so tests/browser/test_arithmetic_parity.py runs this very code against Python.

  var FULL_WIDTH_DIGITS = /[\uFF10-\uFF19]/g;

  /** "4.5" → 45; "" → null; anything that is not a one-decimal, non-negative number → NaN. */
  function toTenths(raw) {
    var text = String(raw === null || raw === undefined ? "" : raw)
      .trim()
      .replace(/[．。]/g, ".")
      .replace(FULL_WIDTH_DIGITS, function (digit) {
        return String.fromCharCode(digit.charCodeAt(0) - 0xfee0);
      });
    if (text === "") {
      return null;
    }
    var match = /^\+?(\d*)(?:\.(\d*))?$/.exec(text);
    if (!match || (match[1] === "" && !match[2])) {
      return NaN;
    }
    var fraction = (match[2] || "").replace(/0+$/, "");
    if (fraction.length > 1) {
      return NaN;
    }
    return parseInt(match[1] || "0", 10) * 10 + (fraction ? parseInt(fraction, 10) : 0);
  }

  function formatTenths(tenths) {
    return Math.floor(tenths / 10) + "." + (tenths % 10);
  }

  /** A typed score for the item in tenths: null if empty, NaN if invalid or above its points. */
  function scoreTenths(item, raw) {
    var tenths = toTenths(raw);
    if (tenths === null || isNaN(tenths)) {
      return tenths;
    }
    return tenths <= toTenths(item.max) ? tenths : NaN;
  }

  /**
   * The total in tenths for scores typed as {itemId: "4.5"}: normal points plus bonus points
   * capped by bonusCap, capped at maxScore unless allowAboveMax, minus the points of the
   * deduction items, never below 0 (基础分 + 加分 − 减分). An empty or invalid score counts 0,
   * as on the server; veto items carry no points. Returns {subtotal, deducted, total}, as
   * scoring.arithmetic.total_parts.
   */
  function parts(rules, scores) {
    var normal = 0;
    var bonus = 0;
    var deducted = 0;
    Object.keys(scores).forEach(function (itemId) {
      var item = rules.items[itemId];
      if (!item || item.kind === "veto") {
        return;
      }
      var tenths = scoreTenths(item, scores[itemId]);
      if (tenths === null || isNaN(tenths)) {
        return;
      }
      if (item.kind === "bonus") {
        bonus += tenths;
      } else if (item.kind === "deduction") {
        deducted += tenths;
      } else {
        normal += tenths;
      }
    });
    var bonusCap = toTenths(rules.bonusCap); // null: no cap
    if (bonusCap !== null) {
      bonus = Math.min(bonus, bonusCap);
    }
    var sum = normal + bonus;
    if (!rules.allowAboveMax) {
      sum = Math.min(sum, toTenths(rules.maxScore));
    }
    return { subtotal: sum, deducted: deducted, total: Math.max(sum - deducted, 0) };
  }

  /** The total in tenths, as scoring.arithmetic.total_score. */
  function total(rules, scores) {
    return parts(rules, scores).total;
  }

  /** The highest star level the total (tenths) reaches, 1 below all, capped by the veto caps. */
  function starFor(rules, totalTenths, vetoCaps) {
    var thresholds = rules.thresholds
      .map(function (pair) {
        return { stars: pair[0], min: toTenths(pair[1]) };
      })
      .sort(function (a, b) {
        return b.stars - a.stars;
      });
    var stars = 1;
    for (var i = 0; i < thresholds.length; i += 1) {
      if (totalTenths >= thresholds[i].min) {
        stars = thresholds[i].stars;
        break;
      }
    }
    (vetoCaps || []).forEach(function (cap) {
      stars = Math.min(stars, cap);
    });
    return stars;
  }

  var arithmetic = {
    toTenths: toTenths,
    formatTenths: formatTenths,
    scoreTenths: scoreTenths,
    parts: parts,
    total: total,
    starFor: starFor,
  };
  window.DangjianArithmetic = arithmetic;

  var configElement = document.getElementById("self-assessment-config");
  if (!configElement) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var storageKey = "dangjian:self-assessment:" + config.assessmentId;

  function readStored() {
    try {
      var raw = window.localStorage.getItem(storageKey);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function removeStored() {
    try {
      window.localStorage.removeItem(storageKey);
    } catch (error) {
      /* storage unavailable (private mode): nothing to remove */
    }
  }

  // A save went through (or the assessment was submitted): the browser's copy is obsolete.
  if (config.clearDraft) {
    removeStored();
  }
  // The server says so once, with a ?saved= token in the address: drop it, so that reloading
  // the page later never discards what was typed after that save.
  if (window.history && window.history.replaceState && /[?&]saved=/.test(window.location.search)) {
    var params = new URLSearchParams(window.location.search);
    params.delete("saved");
    var query = params.toString();
    window.history.replaceState(
      window.history.state,
      "",
      window.location.pathname + (query ? "?" + query : "") + window.location.hash
    );
  }

  var form = document.getElementById("self-assessment-form");
  if (!form || !config.items) {
    return; // the read-only page only clears the copy
  }

  // --- The page ------------------------------------------------------------------------------

  var totalElement = document.getElementById("running-total");
  var starsElement = document.getElementById("running-stars");
  var deductedElement = document.getElementById("running-deducted");
  var invalidMessage = form.getAttribute("data-invalid-score");

  function markScore(input, valid) {
    var feedback = document.getElementById(input.id + "-feedback");
    var hint = feedback ? feedback.querySelector(".js-hint") : null;
    var serverErrors = feedback ? feedback.querySelectorAll(".server-error") : [];
    var typedSinceRender = input.value !== input.defaultValue;
    if (valid) {
      // A value the server refused stays marked until the user changes it.
      if (typedSinceRender || serverErrors.length === 0) {
        input.classList.remove("is-invalid");
      }
      if (hint) {
        hint.hidden = true;
      }
    } else {
      input.classList.add("is-invalid");
      // The server's own message says it better until the user types something else.
      if (hint && (typedSinceRender || serverErrors.length === 0)) {
        hint.hidden = false;
        hint.textContent = invalidMessage;
      }
    }
    if (typedSinceRender) {
      Array.prototype.forEach.call(serverErrors, function (element) {
        element.hidden = true;
      });
    }
  }

  function recompute() {
    var scores = {};
    var vetoCaps = [];
    Object.keys(config.items).forEach(function (itemId) {
      var item = config.items[itemId];
      if (item.kind === "veto") {
        var box = form.elements["applies_" + itemId];
        if (box && box.checked) {
          vetoCaps.push(item.vetoCap);
        }
        return;
      }
      var input = form.elements["score_" + itemId];
      if (!input) {
        return;
      }
      var tenths = arithmetic.scoreTenths(item, input.value);
      markScore(input, tenths === null || !isNaN(tenths));
      if (item.kind === "deduction") {
        // The server refuses points deducted without a reason; say so before the save.
        var reason = form.elements["explanation_" + itemId];
        var reasonHint = document.getElementById("id_explanation_" + itemId + "-reason-hint");
        if (reason && reasonHint) {
          reasonHint.hidden = !(tenths > 0 && reason.value.trim() === "");
        }
      }
      scores[itemId] = input.value; // an invalid or empty score counts 0, as on the server
    });
    var result = arithmetic.parts(config, scores);
    var total = result.total;
    var stars = arithmetic.starFor(config, total, vetoCaps);
    if (totalElement) {
      totalElement.textContent = arithmetic.formatTenths(total);
    }
    if (deductedElement) {
      deductedElement.textContent = "−" + arithmetic.formatTenths(result.deducted);
    }
    if (starsElement) {
      var icons = starsElement.querySelectorAll(".bi");
      Array.prototype.forEach.call(icons, function (icon, index) {
        icon.classList.toggle("bi-star-fill", index < stars);
        icon.classList.toggle("bi-star", index >= stars);
      });
      var label = starsElement.querySelector("[role=img]");
      if (label && config.starLabels) {
        label.setAttribute("aria-label", config.starLabels[String(stars)]);
      }
    }
    warnAboutDeclaredLevel(stars);
  }

  // Declaring more stars than the self-scores give is allowed, but worth a second look.
  var declaredSelect = form.elements.declared_stars;
  var declaredWarning = form.querySelector("[data-declared-warning]");

  function warnAboutDeclaredLevel(stars) {
    if (!declaredSelect || !declaredWarning) {
      return;
    }
    var declared = parseInt(declaredSelect.value, 10);
    var above = !isNaN(declared) && declared > stars;
    declaredWarning.hidden = !above;
    declaredWarning.textContent = above
      ? declaredWarning.getAttribute("data-template").replace("{declared}", declared).replace("{stars}", stars)
      : "";
  }

  // --- The browser's copy of what was typed -----------------------------------------------

  function storedFields() {
    return Array.prototype.filter.call(form.elements, function (element) {
      return (
        element.name &&
        element.name !== "csrfmiddlewaretoken" &&
        element.type !== "file" &&
        element.type !== "submit" &&
        element.type !== "button" &&
        element.type !== "hidden"
      );
    });
  }

  function currentValues() {
    var values = {};
    storedFields().forEach(function (element) {
      values[element.name] = element.type === "checkbox" ? element.checked : element.value;
    });
    return values;
  }

  function store() {
    try {
      window.localStorage.setItem(
        storageKey,
        JSON.stringify({ savedAt: Date.now(), version: config.version, values: currentValues() })
      );
    } catch (error) {
      /* storage full or disabled: the page still works, only without the safety copy */
    }
  }

  function differsFromPage(values) {
    var current = currentValues();
    return Object.keys(values).some(function (name) {
      return Object.prototype.hasOwnProperty.call(current, name) && current[name] !== values[name];
    });
  }

  function applyValues(values) {
    Object.keys(values).forEach(function (name) {
      var element = form.elements[name];
      if (!element || element.type === "file") {
        return;
      }
      if (element.type === "checkbox") {
        element.checked = Boolean(values[name]);
      } else {
        element.value = values[name];
      }
    });
  }

  function restoreIfNewer() {
    var stored = readStored();
    if (!stored || !stored.values) {
      return;
    }
    // Newer than the server's: typed on top of the version still on the server (the usual
    // case after an expired session), or typed after the server's last save.
    var newer = stored.version === config.version || stored.savedAt > config.updatedAtMs;
    if (!newer) {
      removeStored();
      return;
    }
    if (!differsFromPage(stored.values)) {
      return;
    }
    applyValues(stored.values);
    var notice = document.getElementById("restore-notice");
    if (notice) {
      var time = notice.querySelector("[data-restore-time]");
      if (time) {
        var when = new Date(stored.savedAt);
        time.setAttribute("datetime", when.toISOString());
        time.textContent = when.toLocaleString();
      }
      notice.classList.remove("d-none");
      var discard = notice.querySelector("[data-discard-restored]");
      if (discard) {
        discard.addEventListener("click", function () {
          removeStored();
          window.location.reload();
        });
      }
    }
  }

  if (!config.clearDraft) {
    restoreIfNewer();
  }
  if (config.hasErrors) {
    // The server kept what it could; keep the rest (the values it refused) in the browser.
    store();
  }
  recompute();

  form.addEventListener("input", function () {
    store();
    recompute();
  });
  form.addEventListener("change", function () {
    store();
    recompute();
  });

  // Confirmations (data-confirm) are asked by static/js/confirm.js, on every page alike.
})();
