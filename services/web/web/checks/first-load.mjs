// The first-load budget, checked on every build (npm run build runs it after
// Vite): the JavaScript that index.html makes the browser fetch before the app
// starts (its module scripts and the chunks it preloads), gzipped at level 9
// as the web service serves it, must stay within the limit docs/benchmarks.md
// states ("The limit is N KB of compressed JavaScript"). The limit is read
// from there so that the documented budget and the enforced one cannot part.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, "../../internal/web/dist/app");
const doc = join(here, "../../../../docs/benchmarks.md");

const stated = readFileSync(doc, "utf8").match(/The limit is (\d+) KB of compressed JavaScript/);
if (!stated) {
  console.error(`first-load budget: ${doc} no longer states "The limit is N KB of compressed JavaScript"; say it there again or change this check with it`);
  process.exit(1);
}
const limit = Number(stated[1]) * 1024;

const html = readFileSync(join(app, "index.html"), "utf8");
const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\srel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map((m) => m[1]);
if (scripts.length === 0) {
  console.error("first-load budget: index.html loads no script; the check no longer understands the build");
  process.exit(1);
}
const total = scripts.reduce((n, s) => n + gzipSync(readFileSync(join(app, s)), { level: 9 }).length, 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
if (total > limit) {
  console.error(`first-load budget: ${kb(total)} of compressed JavaScript on first load, over the ${kb(limit)} docs/benchmarks.md allows`);
  process.exit(1);
}
console.log(`first-load budget: ${kb(total)} of compressed JavaScript (${scripts.join(", ")}) of the ${kb(limit)} allowed`);
