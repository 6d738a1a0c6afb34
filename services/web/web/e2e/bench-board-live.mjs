// The team board with 1,000 people online against the real services: an
// admin's board in headless Chromium while the members' agents post
// activity, each post going through ingest, Kafka and realtime to the
// board's WebSocket. test/system's board benchmark seeds the organization
// and runs this script with:
//   BASE_URL, PASSWORD, ADMIN_EMAIL   the front door and the admin
//   MEMBERS_FILE   JSON of the online members: [{"id", "token", "session"}]
//   RATE           posts per second (50); SECONDS how long (10), one post per member at most
// It prints the figures as one JSON line and exits 1 when an update never showed.
import { readFileSync } from "node:fs";
import { latencies, watchRows } from "./board-latency.mjs";
import { base, browser, env, signedIn } from "./lib.mjs";

const members = JSON.parse(readFileSync(env("MEMBERS_FILE"), "utf8"));
const rate = Number(process.env.RATE || 50);
const seconds = Number(process.env.SECONDS || 10);

let failed = false;
try {
  const { page } = await signedIn(env("ADMIN_EMAIL"));
  page.setDefaultTimeout(120000);
  const loadStart = Date.now();
  await page.goto(base + "/board");
  await page.waitForFunction((n) => document.querySelectorAll("tr[data-user]").length >= n, members.length, { timeout: 300000 });
  const loadMs = Date.now() - loadStart;
  await page.waitForFunction(() => document.querySelector("p.live")?.textContent.startsWith("Live"));
  await watchRows(page);

  const total = Math.min(rate * seconds, members.length);
  const sent = new Map();
  // When each post was answered: what the pipeline after the API adds is
  // the row's change less this.
  const answered = new Map();
  const posts = [];
  const errors = [];
  for (let n = 0; n < total; n++) {
    const m = members[n];
    sent.set(m.id, Date.now());
    posts.push(fetch(`${base}/api/sessions/${m.session}/activity`, {
      method: "POST",
      headers: { Authorization: `Bearer ${m.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ activity_type: "active", duration_seconds: 60, client_activity_id: `bench-${n}`, timestamp: new Date().toISOString() }),
    }).then((r) => {
      answered.set(m.id, Date.now());
      if (r.status !== 201) errors.push(r.status);
    }, (e) => errors.push(String(e))));
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(posts);
  // The updates still on their way get five seconds more.
  await page.waitForTimeout(5000);
  const figures = await latencies(page, sent);
  const { p50, p95, p99, max } = await latencies(page, answered);
  const answers = [...answered].map(([u, at]) => at - sent.get(u)).sort((a, b) => a - b);
  const q = (p) => answers[Math.min(answers.length - 1, Math.floor(p * answers.length))]?.toFixed(1);
  console.log(JSON.stringify({ people: members.length, rate, seconds, posts: total, refused: errors.length, initialLoadMs: loadMs, ...figures,
    answer: { p50: q(0.5), p95: q(0.95), max: q(1) }, afterAnswer: { p50, p95, p99, max } }));
  failed = errors.length > 0 || figures.missed > 0;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
