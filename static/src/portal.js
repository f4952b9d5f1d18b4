// Wide tables scroll sideways inside .table-wrap on a phone. A region that scrolls must be
// reachable by keyboard (WCAG 2.1.1), so each wrap that actually overflows becomes a named,
// focusable region; one that fits stays out of the Tab order.
(function () {
  "use strict";

  function nameOf(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.caption;
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    // the nearest heading of its card, section or folding summary, else the page's own
    var box = wrap.closest("section, .card, details");
    var heading = box && box.querySelector("h1, h2, h3, summary");
    heading = heading || document.querySelector("main h1");
    return heading ? heading.textContent.trim() : "";
  }

  function mark() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        if (!wrap.hasAttribute("tabindex")) {
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("role", "region");
          var name = nameOf(wrap);
          if (name) wrap.setAttribute("aria-label", name);
          wrap.setAttribute("data-scrolls", "");
        }
      } else if (wrap.hasAttribute("data-scrolls")) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.removeAttribute("data-scrolls");
      }
    }
  }

  var pending = null;
  function later() {
    if (pending) return;
    pending = window.requestAnimationFrame(function () { pending = null; mark(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
  window.addEventListener("resize", later);
  window.addEventListener("load", mark);
})();

// Logging out clears what this browser kept (the server sends Clear-Site-Data). An observation
// draft that never reached the server would be lost with it: ask first (form.js keeps drafts
// under "obs-draft:<user>:…", with pending = not yet on the server).
(function () {
  "use strict";

  function unsentDrafts() {
    var count = 0;
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key.indexOf("obs-draft:") !== 0) continue;
        var copy = JSON.parse(window.localStorage.getItem(key) || "null");
        if (copy && copy.pending) count++;
      }
    } catch (e) { /* storage disabled: nothing kept */ }
    return count;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-logout")) return;
    var count = unsentDrafts();
    if (count && !window.confirm(form.getAttribute("data-unsent").replace("{count}", count))) {
      event.preventDefault();
    }
  });
})();
