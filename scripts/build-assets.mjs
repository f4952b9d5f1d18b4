// Copies the front-end libraries we use from node_modules into static/vendor/.
// static/vendor/ is ignored by git: third-party code is never committed.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");

// [package-relative source, destination name under static/vendor]
const files = [
  ["socket.io-client/dist/socket.io.min.js", "socket.io.min.js"],
  ["echarts/dist/echarts.min.js", "echarts.min.js"],
];

mkdirSync(vendor, { recursive: true });
for (const [src, dest] of files) {
  copyFileSync(join(root, "node_modules", src), join(vendor, dest));
}
writeFileSync(join(vendor, ".built"), new Date().toISOString() + "\n");
console.log(`static/vendor: ${files.length} file(s) copied`);
