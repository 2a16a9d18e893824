/*
 * Self-assessment page: evidence uploaded and removed in place, without reloading the page.
 *
 * Choosing files on an item's input uploads them one after the other, each with its own
 * progress bar; the item's file list is then replaced by the server's (the same template as on
 * a reload), and a refused file is explained under the input with the server's own message.
 * Every upload also carries the whole form, so the draft is saved as by the "Upload" button
 * (reviews.views.secretary._upload_in_place); the page is never reloaded, so nothing typed
 * is lost. Removing a file asks first, then happens in place too.
 *
 * Without this script (or without XMLHttpRequest and FormData) the "Upload" button posts the
 * form and the page reloads, and "Remove" opens its confirmation page: the server handles both.
 *
 * It also keeps the keyboard's focus clear of the page's sticky total bar (first part below).
 */
(function () {
  "use strict";

  // --- The sticky total bar never covers the focus (WCAG 2.2 "focus not obscured") ----------
  //
  // The page's scroll-padding-bottom keeps the browser's own scrolling clear of the bar; a
  // field the browser leaves partly under it (it scrolls only what is wholly out of view) is
  // scrolled up here, just far enough.

  var stickyBar = document.querySelector(".summary-bar");
  if (stickyBar) {
    document.addEventListener("focusin", function (event) {
      var target = event.target;
      if (!target.getBoundingClientRect || stickyBar.contains(target)) {
        return;
      }
      var field = target.getBoundingClientRect();
      var bar = stickyBar.getBoundingClientRect();
      if (field.bottom > bar.top && field.top < bar.bottom) {
        window.scrollBy(0, Math.ceil(field.bottom - bar.top) + 8);
      }
    });
  }

  // --- Evidence in place ------------------------------------------------------------------------

  var form = document.getElementById("self-assessment-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !form.getAttribute("data-upload-url")) {
    return;
  }
  var uploadUrl = form.getAttribute("data-upload-url");
  var loginPath = form.getAttribute("data-login-path");
  var texts = {
    waiting: form.getAttribute("data-upload-waiting"),
    sending: form.getAttribute("data-upload-sending"),
    done: form.getAttribute("data-upload-done"),
    failed: form.getAttribute("data-upload-failed"),
    refused: form.getAttribute("data-upload-refused"),
    signedOut: form.getAttribute("data-upload-signed-out"),
    draftErrors: form.getAttribute("data-upload-draft-errors"),
  };

  // --- Answers --------------------------------------------------------------------------------

  /** The server's JSON answer, or null (a login page after an expired session, a 409 page…). */
  function answerOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") === -1) {
      return null;
    }
    try {
      return JSON.parse(xhr.responseText);
    } catch (error) {
      return null;
    }
  }

  function replaceList(itemId, html) {
    var holder = form.querySelector('[data-evidence-list="' + itemId + '"]');
    if (holder && typeof html === "string") {
      holder.innerHTML = html;
    }
  }

  /** Tell self_assessment.js that the form changed: its browser copy is stamped newer than the save. */
  function touchDraft() {
    var event;
    try {
      event = new Event("input", { bubbles: true });
    } catch (error) {
      event = document.createEvent("Event");
      event.initEvent("input", true, false);
    }
    form.dispatchEvent(event);
  }

  // --- Uploads --------------------------------------------------------------------------------

  // One request at a time for the whole page: each one saves the draft, and they must not race.
  var queue = [];
  var busy = false;

  // Control and bidirectional characters shown as "?", as the server quotes the name: a
  // right-to-left override must not make "x\u202Efdp.docx" read as "xcod.pdf" here.
  var UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

  function shownName(file) {
    return file.name.replace(UNSAFE_IN_NAME, "?");
  }

  function statusRow(list, file) {
    var row = document.createElement("li");
    row.className = "d-flex flex-wrap align-items-center gap-2 py-1 upload-row";
    var name = document.createElement("span");
    name.className = "text-break min-w-0 upload-name";
    name.textContent = shownName(file);
    var bar = document.createElement("progress");
    bar.className = "upload-progress";
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", shownName(file));
    var state = document.createElement("span");
    state.className = "text-body-secondary upload-state";
    state.textContent = texts.waiting;
    row.appendChild(name);
    row.appendChild(bar);
    row.appendChild(state);
    list.appendChild(row);
    return { row: row, bar: bar, state: state };
  }

  function finish(view, ok, messages) {
    view.bar.remove();
    view.row.classList.add(ok ? "upload-ok" : "upload-refused");
    view.state.className = ok ? "text-success upload-state" : "text-danger upload-state w-100";
    view.state.textContent = "";
    if (ok) {
      var icon = document.createElement("i");
      icon.className = "bi bi-check-circle";
      icon.setAttribute("aria-hidden", "true");
      view.state.appendChild(icon);
      view.state.appendChild(document.createTextNode(" " + texts.done));
      return;
    }
    messages.forEach(function (message) {
      var line = document.createElement("span");
      line.className = "d-block upload-error";
      line.textContent = message;
      view.state.appendChild(line);
    });
  }

  function formDataFor(itemId, input, file) {
    var data = new FormData(form);
    // Only this file travels: the other items' inputs are left alone.
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (other) {
      if (other.name) {
        data.delete(other.name);
      }
    });
    data.set("item", itemId);
    data.append(input.name, file, file.name);
    return data;
  }

  function send(task) {
    var view = task.view;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    view.state.textContent = texts.sending;
    if (xhr.upload) {
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && event.total > 0) {
          view.bar.value = Math.round((event.loaded * 100) / event.total);
        }
      });
    }
    xhr.addEventListener("load", function () {
      var answer = answerOf(xhr);
      if (answer && typeof answer.listHtml === "string") {
        replaceList(task.itemId, answer.listHtml);
        touchDraft();
      }
      if (answer && xhr.status === 200) {
        finish(view, true, []);
        if (answer.draftErrors) {
          finish(statusRow(task.list, { name: "" }), false, [texts.draftErrors]);
        }
      } else if (answer && answer.errors && answer.errors.length) {
        finish(view, false, answer.errors);
      } else if ((xhr.responseURL || "").indexOf(loginPath) !== -1) {
        finish(view, false, [texts.signedOut]); // the session ended: the answer is the sign-in page
      } else {
        finish(view, false, [texts.refused.replace("{status}", xhr.status)]); // 403, 409, 413…
      }
      next();
    });
    xhr.addEventListener("error", function () {
      finish(view, false, [texts.failed]);
      next();
    });
    xhr.addEventListener("abort", function () {
      finish(view, false, [texts.failed]);
      next();
    });
    xhr.send(formDataFor(task.itemId, task.input, task.file));
  }

  function next() {
    var task = queue.shift();
    busy = Boolean(task);
    if (task) {
      send(task);
    }
  }

  function uploadChosen(input) {
    var itemId = input.getAttribute("data-upload-item");
    var list = document.getElementById("upload-status-" + itemId);
    var files = Array.prototype.slice.call(input.files || []);
    if (!itemId || !list || files.length === 0) {
      return;
    }
    // What an earlier attempt said (on the page or from a reload) no longer applies.
    list.textContent = "";
    input.classList.remove("is-invalid");
    var feedback = input.parentNode.querySelector(".invalid-feedback");
    if (feedback) {
      feedback.remove();
    }
    files.forEach(function (file) {
      queue.push({ itemId: itemId, input: input, file: file, list: list, view: statusRow(list, file) });
    });
    // The files are in hand; clearing the input lets the same file be chosen again.
    input.value = "";
    if (!busy) {
      next();
    }
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[type=file][data-upload-item]"), function (input) {
    input.addEventListener("change", function () {
      uploadChosen(input);
    });
    // Choosing the files starts the upload: the button is for the page without this script.
    var button = input.parentNode.querySelector("[data-upload-button]");
    if (button) {
      button.remove();
    }
  });

  // --- Removal --------------------------------------------------------------------------------

  form.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-remove-evidence]") : null;
    if (!link) {
      return;
    }
    event.preventDefault();
    if (!window.confirm(link.getAttribute("data-remove-confirm"))) {
      return;
    }
    var holder = link.closest("[data-evidence-list]");
    var itemId = holder ? holder.getAttribute("data-evidence-list") : null;
    var list = itemId ? document.getElementById("upload-status-" + itemId) : null;
    var token = form.elements.csrfmiddlewaretoken;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token ? token.value : "");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", link.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.addEventListener("load", function () {
      var answer = answerOf(xhr);
      if (!answer || xhr.status !== 200 || !itemId) {
        window.location.href = link.href; // its confirmation page says what stands in the way
        return;
      }
      replaceList(itemId, answer.listHtml);
      if (list) {
        list.textContent = "";
        var row = document.createElement("li");
        row.className = "py-1 upload-removed";
        row.textContent = answer.message;
        list.appendChild(row);
      }
      var input = form.querySelector('input[type=file][data-upload-item="' + itemId + '"]');
      if (input) {
        input.focus(); // the removed link had the focus
      }
    });
    xhr.addEventListener("error", function () {
      window.location.href = link.href;
    });
    xhr.send(data);
  });
})();
