// Copies the front-end libraries we use from node_modules into static/vendor/, and bundles the
// parts of ECharts the dashboard uses (scripts/echarts-entry.mjs) into static/vendor/echarts.min.js.
// static/vendor/ is ignored by git: third-party code is never committed.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");

// [package-relative source, destination name under static/vendor]
const files = [
  ["socket.io-client/dist/socket.io.min.js", "socket.io.min.js"],
];

mkdirSync(vendor, { recursive: true });
for (const [src, dest] of files) {
  copyFileSync(join(root, "node_modules", src), join(vendor, dest));
}
// The whole echarts.min.js is 1.1 MB; the bar charts we draw need half of it.
await build({
  entryPoints: [join(root, "scripts", "echarts-entry.mjs")],
  outfile: join(vendor, "echarts.min.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2017",
  legalComments: "eof",
  logLevel: "warning",
});
writeFileSync(join(vendor, ".built"), new Date().toISOString() + "\n");
console.log(`static/vendor: ${files.length} file(s) copied, echarts.min.js bundled`);
