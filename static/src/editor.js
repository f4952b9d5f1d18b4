// Rich-text toolbar for <textarea data-rich>: bold, italic, list, quote, link.
// The textarea works alone (plain text becomes paragraphs on the server); this script only
// adds buttons that wrap the selection in the few tags the server's sanitiser keeps.
// Button words come from the textarea's data-label-* attributes (translated by the page).
(function () {
  "use strict";

  var BLOCK_START = /^<(p|ul|ol|li|blockquote|h[2-4]|pre|table|hr|div)[\s>\/]/i;
  var LOOKS_LIKE_MARKUP = /<[a-zA-Z\/!]/;

  function escapeText(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function escapeAttr(text) {
    return escapeText(text).replace(/"/g, "&quot;");
  }

  // Replace the selection with before + selected + after, keeping the selection on the text.
  function replaceSelection(area, build) {
    var start = area.selectionStart;
    var end = area.selectionEnd;
    var selected = area.value.slice(start, end);
    var parts = build(selected);
    if (!parts) return;
    var text = parts[0] + parts[1] + parts[2];
    area.focus();
    if (typeof area.setRangeText === "function") {
      area.setRangeText(text, start, end, "end");
    } else {
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
    }
    var innerStart = start + parts[0].length;
    area.setSelectionRange(innerStart, innerStart + parts[1].length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function wrap(tag) {
    return function (selected) {
      return ["<" + tag + ">", selected, "</" + tag + ">"];
    };
  }

  function list(selected) {
    var lines = selected.split(/\r?\n/).filter(function (line) { return line.trim() !== ""; });
    if (!lines.length) lines = [""];
    var items = lines.map(function (line) { return "<li>" + line.trim() + "</li>"; });
    // An empty selection leaves the cursor inside the first item.
    if (items.length === 1 && lines[0] === "") return ["<ul><li>", "", "</li></ul>"];
    return ["<ul>", items.join(""), "</ul>"];
  }

  function link(area) {
    return function (selected) {
      var url = window.prompt(area.getAttribute("data-label-url") || "URL", "https://");
      if (url === null) return null;
      url = url.trim();
      if (!/^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i.test(url)) return null; // the server would drop it anyway
      return ['<a href="' + escapeAttr(url) + '">', selected || escapeText(url), "</a>"];
    };
  }

  // Once the text holds markup the server no longer makes paragraphs from blank lines, so
  // do it here: blank-line separated chunks that are not already a block become <p>, and
  // line breaks inside them <br>.
  function paragraphs(value) {
    if (!LOOKS_LIKE_MARKUP.test(value)) return value;
    return value.replace(/\r\n/g, "\n").split(/\n\s*\n/).map(function (chunk) {
      chunk = chunk.trim();
      if (!chunk || BLOCK_START.test(chunk)) return chunk;
      return "<p>" + chunk.replace(/\n/g, "<br>") + "</p>";
    }).join("\n");
  }

  function button(text, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = text;
    b.addEventListener("click", action);
    return b;
  }

  function enhance(area) {
    if (area.getAttribute("data-rich-ready")) return;
    area.setAttribute("data-rich-ready", "1");
    var label = function (name, fallback) { return area.getAttribute("data-label-" + name) || fallback; };
    var bar = document.createElement("div");
    bar.className = "rich-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", label("toolbar", "Formatting"));
    if (area.id) bar.setAttribute("aria-controls", area.id);
    var actions = [
      ["bold", "Bold", wrap("strong")],
      ["italic", "Italic", wrap("em")],
      ["list", "List", list],
      ["quote", "Quote", wrap("blockquote")],
      ["link", "Link", link(area)],
    ];
    actions.forEach(function (entry) {
      var b = button(label(entry[0], entry[1]), function () { replaceSelection(area, entry[2]); });
      b.setAttribute("data-rich-action", entry[0]);
      bar.appendChild(b);
    });
    area.parentNode.insertBefore(bar, area);
    if (area.form) {
      area.form.addEventListener("submit", function () { area.value = paragraphs(area.value); });
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-rich]"), enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
