// The observation form: saved as you type, on this device (localStorage) at once and on the
// server (debounced POST with the CSRF header). Offline, the draft stays on the device and is
// sent when the connection returns ("online" event). On load, an unsent copy on this device
// newer than the server's is restored. Also: "insert the time" in the running record, and
// the teacher and class lists following the chosen school. Logging out deletes the copies on
// this device (Clear-Site-Data); the logout button asks first when one is unsent (portal.js).
(function () {
  "use strict";

  var form = document.getElementById("observation-form");
  if (!form) return;

  var DELAY = 1500;
  var PREFIX = "obs-draft:" + form.getAttribute("data-user") + ":";
  var statusEl = document.querySelector("[data-autosave-status]");
  var restoreBox = document.querySelector("[data-restore]");
  var state = {
    id: parseInt(form.getAttribute("data-observation-id"), 10) || null,
    clientKey: (form.elements.client_key && form.elements.client_key.value) || "",
    revision: parseInt((form.elements.revision && form.elements.revision.value) || "0", 10) || 0,
    timer: null,
    sending: false,
    again: false,
    final: false,
    submitting: false,
    submitAfter: null,
    stale: false,
  };
  var IGNORED = { csrf_token: 1, action: 1, client_key: 1, revision: 1, school_id: 0 };

  function msg(name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function show(text) { if (statusEl) statusEl.textContent = text; }

  function clock(date) {
    var d = date || new Date();
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function csrf() {
    var el = form.querySelector("input[name=csrf_token]");
    return el ? el.value : "";
  }

  // --- reading and writing the form --------------------------------------------------------

  function collect() {
    var data = { scores: {} };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || IGNORED[el.name] || el.type === "submit" || el.type === "button" || el.type === "file") return;
      if (el.name.indexOf("score-") === 0) {
        if (el.value !== "") data.scores[el.name.slice(6)] = parseInt(el.value, 10);
        return;
      }
      data[el.name] = el.value;
    });
    return data;
  }

  function setValue(el, value) {
    if (el.tagName === "SELECT" && value !== "" && !Array.prototype.some.call(el.options, function (o) { return o.value === String(value); })) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = "#" + value;
      el.appendChild(option);
    }
    el.value = value == null ? "" : String(value);
  }

  function fill(data) {
    Object.keys(data).forEach(function (name) {
      if (name === "scores") return;
      var el = form.elements[name];
      if (el && !IGNORED[name] && el.type !== "file") setValue(el, data[name]);
    });
    Array.prototype.forEach.call(form.querySelectorAll("select[name^='score-']"), function (el) {
      var v = (data.scores || {})[el.name.slice(6)];
      el.value = v == null ? "" : String(v);
    });
  }

  // --- this device -------------------------------------------------------------------------

  function storageKey() { return PREFIX + (state.clientKey || ("id:" + state.id)); }

  function readLocal(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function saveLocal(pending) {
    try {
      window.localStorage.setItem(storageKey(), JSON.stringify({
        data: collect(), id: state.id, clientKey: state.clientKey, revision: state.revision,
        savedAt: Date.now(), pending: pending,
      }));
    } catch (e) { /* storage full or disabled: the server copy is all there is */ }
  }

  function dropLocal() { try { window.localStorage.removeItem(storageKey()); } catch (e) { /* ignore */ } }

  // The local copy for this page: by client key, else by the record's id (a page served while
  // offline may be the empty form), else on a new form the newest unsent draft never saved.
  function findLocal() {
    var urlId = (window.location.pathname.match(/\/observations\/(\d+)\/edit/) || [])[1];
    var wanted = state.id || (urlId ? parseInt(urlId, 10) : null);
    var own = state.clientKey ? readLocal(PREFIX + state.clientKey) : null;
    if (own) return own;
    var best = null;
    for (var i = 0; i < window.localStorage.length; i++) {
      var key = window.localStorage.key(i);
      if (key.indexOf(PREFIX) !== 0) continue;
      var copy = readLocal(key);
      if (!copy || !copy.pending) continue;
      var fits = wanted ? copy.id === wanted : !copy.id;
      if (fits && (!best || copy.savedAt > best.savedAt)) best = copy;
    }
    return best;
  }

  // --- the server --------------------------------------------------------------------------

  function adopt(body) {
    var wasKey = storageKey();
    state.id = body.id;
    state.revision = body.revision;
    if (form.elements.revision) form.elements.revision.value = body.revision;
    if (body.edit_url && window.location.pathname !== body.edit_url) {
      form.setAttribute("action", body.edit_url);
      if (window.history && window.history.replaceState) window.history.replaceState(null, "", body.edit_url);
    }
    if (wasKey !== storageKey()) { try { window.localStorage.removeItem(wasKey); } catch (e) { /* ignore */ } }
    var note = document.querySelector("[data-files-note]");
    if (note && body.edit_url && !note.querySelector("a")) {
      var link = document.createElement("a");
      link.href = body.edit_url + "?files=1#files"; // not the current address: a real page load
      link.textContent = note.getAttribute("data-label");
      note.textContent = "";
      note.appendChild(link);
    }
  }

  function send() {
    if (state.final || state.stale || state.submitting) return;
    if (state.sending) { state.again = true; return; }
    if (!navigator.onLine) { show(msg("offline")); return; }
    state.sending = true;
    var data = collect();
    var sent = JSON.stringify(data);
    data.client_key = state.clientKey || undefined;
    if (state.id) { data.id = state.id; data.revision = state.revision; }
    show(msg("saving"));
    fetch(form.getAttribute("data-autosave"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(data),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          adopt(body);
          // Typed while the request was under way: still only on this device until the next save.
          saveLocal(JSON.stringify(collect()) !== sent);
          show(msg("saved", { time: clock() }));
        } else if (response.status === 409 && body.error && body.error.code === "stale") {
          // Saved from another tab or device since this page loaded: kept here, not sent again.
          state.stale = true;
          show(msg("refused", { message: body.error.message }));
        } else if (response.status === 409) {
          state.final = true;
          show(msg("final"));
        } else {
          var message = (body.error && body.error.message) || String(response.status);
          show(msg("refused", { message: message }));
        }
      });
    }).catch(function () {
      show(msg("offline"));
    }).then(function () {
      state.sending = false;
      if (state.submitAfter) {
        // Save or finalise was pressed while this autosave was under way: send the form now, with
        // the revision the autosave just got (else the server would take it for another tab's).
        var submitter = state.submitAfter.submitter;
        state.submitAfter = null;
        if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
        return;
      }
      if (state.again) { state.again = false; schedule(); }
    });
  }

  function schedule() {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(send, DELAY);
  }

  function changed() {
    if (state.final) return;
    saveLocal(true);
    if (!navigator.onLine) show(msg("offline"));
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", function () { if (readPending()) send(); });
  window.addEventListener("offline", function () { show(msg("offline")); });

  function readPending() { var copy = readLocal(storageKey()); return copy && copy.pending; }

  // Submitting (save, finalise) posts the whole form; the local copy goes once the page comes
  // back from the server. Offline, the browser cannot send it: keep it here and say so.
  form.addEventListener("submit", function (event) {
    if (!navigator.onLine) {
      event.preventDefault();
      saveLocal(true);
      show(msg("offline"));
      return;
    }
    if (state.sending && !state.submitting) {
      event.preventDefault();
      state.submitAfter = { submitter: event.submitter || null };
      return;
    }
    state.submitting = true;
    window.clearTimeout(state.timer);
    var copy = readLocal(storageKey());
    if (copy) { copy.pending = false; try { window.localStorage.setItem(storageKey(), JSON.stringify(copy)); } catch (e) { /* ignore */ } }
  });

  // --- restoring on load -------------------------------------------------------------------

  function restore() {
    var copy = findLocal();
    if (!copy || !copy.pending) return;
    var when = clock(new Date(copy.savedAt));
    var text = restoreBox && restoreBox.querySelector("[data-restore-text]");
    if (copy.id && state.id && copy.revision < state.revision) {
      // The server has a later save (another device): offer, do not overwrite.
      if (!restoreBox) return;
      text.textContent = msg("older", { time: when });
      var use = document.createElement("button");
      use.type = "button";
      use.className = "small";
      use.textContent = msg("restore-older");
      use.addEventListener("click", function () { fill(copy.data); restoreBox.hidden = true; changed(); });
      restoreBox.insertBefore(use, restoreBox.querySelector("[data-restore-discard]"));
      restoreBox.hidden = false;
      return;
    }
    if (copy.clientKey) state.clientKey = copy.clientKey;
    if (form.elements.client_key && copy.clientKey) form.elements.client_key.value = copy.clientKey;
    if (copy.id && !state.id) {
      state.id = copy.id;
      state.revision = copy.revision || 0;
    }
    var schoolBefore = form.elements.school_id ? form.elements.school_id.value : "";
    fill(copy.data);
    // Another school was chosen before the reload: load its teachers and classes (the choices kept).
    if (form.elements.school_id && form.elements.school_id.value !== schoolBefore) {
      form.elements.school_id.dispatchEvent(new Event("change"));
    }
    if (restoreBox) { text.textContent = msg("restored", { time: when }); restoreBox.hidden = false; }
    if (navigator.onLine) send(); else show(msg("offline"));
  }

  if (restoreBox) {
    restoreBox.querySelector("[data-restore-discard]").addEventListener("click", function () {
      dropLocal();
      window.location.reload();
    });
  }

  // --- the time stamp button ---------------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll("[data-insert-time]"), function (button) {
    button.addEventListener("click", function () {
      var area = form.elements[button.getAttribute("data-insert-time")];
      if (!area) return;
      var stamp = "[" + clock() + "] ";
      var start = area.selectionStart || 0;
      var end = area.selectionEnd || start;
      var before = area.value.slice(0, start);
      if (before && !/\n$/.test(before)) stamp = "\n" + stamp;
      area.value = before + stamp + area.value.slice(end);
      area.focus();
      area.setSelectionRange(start + stamp.length, start + stamp.length);
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // --- the school's teachers and classes ---------------------------------------------------

  var school = form.elements.school_id;
  if (school) {
    school.addEventListener("change", function () {
      if (!school.value || !navigator.onLine) return;
      fetch(form.getAttribute("data-people") + "?school_id=" + encodeURIComponent(school.value), {
        credentials: "same-origin", headers: { "Accept": "application/json" },
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (!body) return;
        [["observed_teacher_id", body.teachers], ["classroom_id", body.classrooms]].forEach(function (pair) {
          var select = form.elements[pair[0]];
          var keep = select.value;
          while (select.options.length > 1) select.remove(1);
          pair[1].forEach(function (item) {
            var option = document.createElement("option");
            option.value = String(item.id);
            option.textContent = item.name;
            select.appendChild(option);
          });
          select.value = keep;
          if (select.value !== keep) select.value = "";
        });
      }).catch(function () { /* offline: the lists stay */ });
    });
  }

  // --- offline reloads: a service worker keeps the form pages -------------------------------

  if ("serviceWorker" in navigator && form.getAttribute("data-sw")) {
    navigator.serviceWorker.register(form.getAttribute("data-sw"), { scope: form.getAttribute("data-sw-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var files = [form.getAttribute("data-sw-shell"), window.location.pathname];
        Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon]"), function (el) {
          files.push(el.getAttribute("src") || el.getAttribute("href"));
        });
        if (registration.active) registration.active.postMessage({ keep: files });
      })
      .catch(function () { /* not available (plain http, private mode): drafts still stay on this device */ });
  }

  // Copies already sent and older than a week are dropped.
  try {
    for (var i = window.localStorage.length - 1; i >= 0; i--) {
      var key = window.localStorage.key(i);
      if (key.indexOf(PREFIX) !== 0) continue;
      var copy = readLocal(key);
      if (copy && !copy.pending && Date.now() - copy.savedAt > 7 * 86400000) window.localStorage.removeItem(key);
    }
  } catch (e) { /* ignore */ }

  restore();
})();
