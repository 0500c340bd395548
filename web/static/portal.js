// Supplier portal: autosave drafts, and add table rows. The server validates everything;
// nothing here is the only check.
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.getElementById("questionnaire-form");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var lock = form.querySelector("input[name=lock_version]");
  var timer = null;
  var dirty = false;
  var conflicted = false;

  function say(text) { if (status) { status.textContent = text; } }

  function payload() {
    var data = new FormData(form);
    data.delete("go");
    return data;
  }

  function autosave() {
    if (!dirty || conflicted) { return; }
    dirty = false;
    fetch(form.action, {
      method: "POST", body: payload(), credentials: "same-origin",
      headers: { "X-Autosave": "1" }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status === 200 && result.body.ok) {
        lock.value = result.body.lock_version;
        var now = new Date();
        say(script.dataset.saved.replace("__TIME__", now.toLocaleTimeString()));
      } else if (result.status === 409) {
        conflicted = true;
        say(script.dataset.conflict);
      } else {
        dirty = true;
        say(script.dataset.failed);
      }
    }).catch(function () { dirty = true; say(script.dataset.failed); });
  }

  function changed() {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(autosave, 1500);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () { dirty = false; clearTimeout(timer); });

  // Leaving the page: send what is left even if the tab is closing.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && dirty && !conflicted && navigator.sendBeacon) {
      var data = payload();
      data.append("beacon", "1");
      navigator.sendBeacon(form.action + "?autosave=1", data);
      dirty = false;
    }
  });

  document.querySelectorAll("button.add-row").forEach(function (button) {
    button.addEventListener("click", function () {
      var tbody = document.querySelector("table[data-table='" + button.dataset.table + "'] tbody");
      var last = tbody.querySelector("tr:last-child");
      var index = tbody.querySelectorAll("tr").length;
      var copy = last.cloneNode(true);
      copy.dataset.row = index;
      copy.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/^(q\.[^.]+\.)\d+\./, "$1" + index + ".");
        if (el.tagName === "SELECT") { el.selectedIndex = 0; } else if (el.type !== "checkbox" && el.type !== "radio") { el.value = ""; } else { el.checked = false; }
      });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      tbody.appendChild(copy);
    });
  });
})();
