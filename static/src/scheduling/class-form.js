// The dual-teacher class form: "add a row" for receiving classrooms and weekday times.
// Without this script the form still works: the page always carries one blank row of each.
(function () {
  "use strict";
  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/-\d+-/, "-" + index + "-"));
      });
    });
    row.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+$/, function () { return String(index + 1); });
    });
  }
  document.querySelectorAll("[data-class-form] [data-rows]").forEach(function (set) {
    var button = set.querySelector("[data-add-row]");
    var max = parseInt(set.getAttribute("data-max"), 10) || 10;
    function rows() { return set.querySelectorAll("[data-row]"); }
    function update() { button.hidden = rows().length >= max; }
    button.addEventListener("click", function () {
      var all = rows();
      var last = all[all.length - 1];
      var copy = last.cloneNode(true);
      renumber(copy, all.length);
      copy.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
      copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      last.after(copy);
      update();
      var first = copy.querySelector("select, input");
      if (first) first.focus();
    });
    update();
  });
})();
