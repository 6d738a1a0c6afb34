// The team board with 1,000 people online: how long a live update takes from
// the WebSocket message to the row on screen, and the longest task that blocks
// the page meanwhile. The app is the real build served by the web service
// (BASE_URL); the API and the feed are answered here with a synthetic
// organization, so that the number is the browser's work alone.
//   BASE_URL=http://127.0.0.1:3006 node e2e/bench-board.mjs
import { chromium } from "playwright-core";
import { latencies, mainThread, watchRows } from "./board-latency.mjs";

const base = process.env.BASE_URL || "http://127.0.0.1:3006";
const people = Number(process.env.PEOPLE || 1000);
const rate = Number(process.env.RATE || 50); // updates per second
const seconds = Number(process.env.SECONDS || 10); // at most PEOPLE updates: one per person

const org = "00000000-0000-4000-8000-000000000000";
const id = (i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`;
const sid = (i) => `10000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`;
const now = new Date();
const members = Array.from({ length: people }, (_, i) => ({
  id: id(i), email: `p${i}@example.com`, name: `Person ${String(i).padStart(4, "0")}`, role: i === 0 ? "admin" : "employee",
  organization_id: org, active: true, created_at: now.toISOString(),
}));
const totals = members.map(() => ({ active: 600, idle: 60 }));
const session = (i) => ({
  id: sid(i), organization_id: org, user_id: id(i), project_id: "20000000-0000-4000-8000-000000000001", start_time: new Date(now - 3600e3).toISOString(),
  end_time: null, status: "active", total_active_seconds: totals[i].active, total_idle_seconds: totals[i].idle, last_activity_at: now.toISOString(),
});
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const token = `${b64({ alg: "EdDSA" })}.${b64({ sub: id(0), exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, timezoneId: "UTC" });
await context.addInitScript(([token, user]) => {
  localStorage.setItem("workpulse.session", JSON.stringify({ access: token, refresh: "unused", expiresAt: Date.now() + 3600000, user }));
}, [token, members[0]]);
const page = await context.newPage();
await page.route("**/api/**", (route) => {
  const u = new URL(route.request().url());
  const json = (v) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(v) });
  if (u.pathname === "/api/users/employees") return json(members);
  if (u.pathname === "/api/presence") return json(members.map((m) => ({ user_id: m.id, name: m.name, organization_id: org })));
  if (u.pathname === "/api/alerts") return json([]);
  if (u.pathname === "/api/projects") return json([{ id: "20000000-0000-4000-8000-000000000001", name: "Website", description: "", created_at: now.toISOString() }]);
  if (u.pathname === "/api/sessions/today") {
    // Pages of the size asked for (the app asks for 500), as the session service cuts them.
    const limit = Number(u.searchParams.get("limit") || 100);
    const from = Number(u.searchParams.get("cursor") || 0);
    const next = from + limit < people ? { "X-Next-Cursor": String(from + limit) } : {};
    return route.fulfill({ status: 200, contentType: "application/json", headers: next,
      body: JSON.stringify(members.slice(from, from + limit).map((_, i) => session(from + i))) });
  }
  if (u.pathname.startsWith("/api/sessions/")) return json(session(Number(u.pathname.slice(-12)) - 1));
  return route.fulfill({ status: 404, body: "{}" });
});
let feed;
await page.routeWebSocket("**/api/ws", (ws) => {
  feed = ws;
});

const loadStart = Date.now();
await page.goto(base + "/board");
await page.waitForFunction((n) => document.querySelectorAll("tr[data-user]").length === n, people, { timeout: 120000 });
const loadMs = Date.now() - loadStart;
await page.waitForFunction(() => document.querySelector("p.live")?.textContent.startsWith("Live"));

// Each update changes one person's total (each person at most once, so that
// a change on screen names its update).
await watchRows(page);
const work = await mainThread(page);
const total = Math.min(rate * seconds, people);
const sent = new Map();
for (let n = 0; n < total; n++) {
  const i = n;
  totals[i].active += 60;
  sent.set(id(i), Date.now());
  feed.send(JSON.stringify({ event: "session:update", timestamp: new Date().toISOString(),
    data: { session_id: sid(i), user_id: id(i), total_active_seconds: totals[i].active, total_idle_seconds: totals[i].idle, last_activity_at: new Date().toISOString() } }));
  await new Promise((r) => setTimeout(r, 1000 / rate));
}
await page.waitForTimeout(1000);
const mainThreadWork = await work(total);
console.log(JSON.stringify({ people, rate, seconds, updates: total, initialLoadMs: loadMs, ...(await latencies(page, sent)), mainThread: mainThreadWork }));
await browser.close();
