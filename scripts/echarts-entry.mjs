// The parts of ECharts the supervision dashboard draws with (static/src/supervision/dashboard.js):
// bar charts with a scrolling legend, an axis tooltip and a target mark line, drawn as SVG.
// Bundled by scripts/build-assets.mjs into static/vendor/echarts.min.js as the global `echarts`;
// the full library is four times the size, too heavy for a rural phone on 3G.
import * as echarts from "echarts/core";
import { BarChart } from "echarts/charts";
import {
  GridComponent,
  LegendScrollComponent,
  MarkLineComponent,
  TooltipComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendScrollComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);
window.echarts = echarts;
