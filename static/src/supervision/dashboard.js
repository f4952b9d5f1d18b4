// Charts of the supervision dashboard. Each <div class="chart" data-chart="{...}"> holds its figures
// as JSON: {categories: [...], series: [{name, data}], stack?: true, unit?: "%", target?, target_name?}.
// The same numbers are in the table next to the chart, so without JavaScript nothing is lost.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;
  var charts = [];

  function draw(holder) {
    var spec;
    try {
      spec = JSON.parse(holder.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    if (!spec || !spec.categories || !spec.categories.length) {
      holder.hidden = true;
      return;
    }
    var unit = spec.unit || "";
    var series = spec.series.map(function (s, i) {
      var item = {
        name: s.name, type: "bar", data: s.data, barMaxWidth: 28,
        label: { show: !spec.stack, position: "top", formatter: "{c}" + unit, fontSize: 11 },
      };
      if (spec.stack) item.stack = "total";
      if (i === 0 && spec.target !== null && spec.target !== undefined) {
        item.markLine = {
          symbol: "none", silent: true, data: [{ yAxis: spec.target, name: spec.target_name }],
          label: { formatter: (spec.target_name || "") + " {c}" + unit, position: "insideEndTop" },
        };
      }
      return item;
    });
    var narrow = holder.clientWidth < 480;
    var chart = window.echarts.init(holder, null, { renderer: "svg" });
    var option = {
      animation: false,
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: {
        type: "category", data: spec.categories,
        axisLabel: { interval: 0, rotate: narrow && spec.categories.length > 3 ? 40 : 0, fontSize: 11 },
      },
      yAxis: { type: "value", max: unit === "%" ? 100 : null, axisLabel: { formatter: "{value}" + unit } },
      series: series,
    };
    if (spec.colors) option.color = spec.colors;
    chart.setOption(option);
    holder.setAttribute("data-chart-ready", String(spec.series.reduce(function (n, s) { return n + s.data.length; }, 0)));
    charts.push(chart);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-chart]"), draw);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
