// What the browser scripts share: the checks' bookkeeping, the API, Chromium
// launched for a machine without network, signing in, and axe-core.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
export const base = env("BASE_URL");
export const password = env("PASSWORD");
// shots is the directory to write screenshots to, when asked for.
export const shots = process.env.SCREENSHOTS || "";
const axeSource = readFileSync(join(dirname(createRequire(import.meta.url).resolve("axe-core")), "axe.min.js"), "utf8");

let passed = 0;
let failed = 0;
export async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e?.stack || e).split("\n").slice(0, 4).join("\n     ")}`);
  }
}
export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// duration is the app's (src/time.ts), to compare what it shows.
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : m > 0 ? `${m} min` : `${s % 60} s`;
}

export async function api(path, token, init = {}) {
  const resp = await fetch(base + "/api" + path, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(init.headers || {}) },
  });
  if (!resp.ok) throw new Error(`${init.method || "GET"} ${path}: ${resp.status} ${await resp.text()}`);
  return resp;
}

// login answers a fresh access token of email, for API calls of a script
// that runs longer than a token lives (or, in refresh.mjs, tokens that
// expire as fast as the page's).
export async function login(email) {
  const resp = await fetch(base + "/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  assert(resp.ok, `the login of ${email} answered ${resp.status}`);
  return (await resp.json()).access_token;
}

// The flags keep Chromium off the network it has not got: without them it
// waits on connections to update and sync services. Playwright gives every
// launch a fresh profile directory of its own.
export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

export async function signedIn(email, viewport = { width: 1366, height: 850 }) {
  const context = await browser.newContext({ viewport, timezoneId: "UTC", locale: "en-GB", acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  await page.goto(base + "/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("workpulse.session")).access);
  return { context, page, token };
}

export async function axe(page, name) {
  // Evaluated, not added as a script tag: the app's Content-Security-Policy
  // refuses inline scripts, as it should.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(bad.length === 0, `${name}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`).join("; ")}`);
}

// fitsPhone checks that the page, at a phone's width, scrolls only down:
// wide tables scroll inside their own box.
export async function fitsPhone(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 1366, height: 850 });
  assert(wide <= 390, `${name} is ${wide} px wide in a 390 px window`);
}

// screenshots writes the page at laptop width and again at phone width.
export async function screenshots(context, page, name) {
  mkdirSync(shots, { recursive: true });
  await page.setViewportSize({ width: 1366, height: 850 });
  await page.screenshot({ path: join(shots, `${name}-laptop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1366, height: 850 });
}

// finish prints the tally and exits 1 on a failure.
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
