// The team board with 1,000 people online against the real services: an
// admin's board in headless Chromium while the members' agents post
// activity, each post going through ingest, Kafka and realtime to the
// board's WebSocket. test/system's board benchmark seeds the organization
// and runs this script with:
//   BASE_URL, PASSWORD, ADMIN_EMAIL   the front door and the admin
//   MEMBERS_FILE   JSON of the online members: [{"id", "token", "session"}]
//   RATE           posts per second (50); SECONDS how long (10), one post per member at most
//   REALTIME_METRICS  realtime's /metrics, read before and after the posts
// It prints the figures as one JSON line and exits 1 when an update never showed.
import { readFileSync } from "node:fs";
import { latencies, mainThread, watchRows } from "./board-latency.mjs";
import { base, browser, env, signedIn } from "./lib.mjs";

const members = JSON.parse(readFileSync(env("MEMBERS_FILE"), "utf8"));
const rate = Number(process.env.RATE || 50);
const seconds = Number(process.env.SECONDS || 10);

let failed = false;
try {
  const { page } = await signedIn(env("ADMIN_EMAIL"));
  page.setDefaultTimeout(120000);
  // Each session:update as it reaches the page, before the app handles it,
  // with the time its envelope was made (ingest's, at the post): the
  // pipeline after the post and the page's own work are then told apart.
  await page.addInitScript(() => {
    window.__arrived = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (m) => {
          const e = JSON.parse(m.data);
          if (e.event === "session:update") window.__arrived.push([e.data.user_id, Date.parse(e.timestamp), performance.timeOrigin + performance.now()]);
        });
      }
    };
  });
  const loadStart = Date.now();
  await page.goto(base + "/board");
  await page.waitForFunction((n) => document.querySelectorAll("tr[data-user]").length >= n, members.length, { timeout: 300000 });
  const loadMs = Date.now() - loadStart;
  await page.waitForFunction(() => document.querySelector("p.live")?.textContent.startsWith("Live"));
  await watchRows(page);

  const work = await mainThread(page);
  const metricsBefore = await realtimeMetrics();
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
  const hops = await hopsOf(page, sent, answered);
  const mainThreadWork = await work(total);
  const metricsAfter = await realtimeMetrics();
  const { p50, p95, p99, max } = await latencies(page, answered);
  const answers = [...answered].map(([u, at]) => at - sent.get(u)).sort((a, b) => a - b);
  const q = (p) => answers[Math.min(answers.length - 1, Math.floor(p * answers.length))]?.toFixed(1);
  console.log(JSON.stringify({ people: members.length, rate, seconds, posts: total, refused: errors.length, initialLoadMs: loadMs, ...figures,
    answer: { p50: q(0.5), p95: q(0.95), max: q(1) }, afterAnswer: { p50, p95, p99, max }, hops, mainThread: mainThreadWork,
    realtime: metricsAfter && metricsBefore && histogramsDelta(metricsBefore, metricsAfter) }));
  failed = errors.length > 0 || figures.missed > 0;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

// hopsOf splits each update's time at the moments the page knows on the
// machine's one clock: the post sent, the envelope made in ingest, the
// post answered, the message on the socket, and the row on screen.
async function hopsOf(page, sent, answered) {
  const { arrived, shown } = await page.evaluate(() => ({ arrived: window.__arrived, shown: window.__shown }));
  const firstShown = new Map();
  for (const [u, at] of shown) if (sent.has(u) && at >= sent.get(u) && !firstShown.has(u)) firstShown.set(u, at);
  const seen = new Set();
  const parts = { sentToEnvelope: [], envelopeToAnswer: [], envelopeToSocket: [], answerToSocket: [], socketToScreen: [] };
  for (const [u, stamp, at] of arrived) {
    if (seen.has(u) || !sent.has(u) || at < sent.get(u) || !firstShown.has(u)) continue;
    seen.add(u);
    parts.sentToEnvelope.push(stamp - sent.get(u));
    parts.envelopeToAnswer.push(answered.get(u) - stamp);
    parts.envelopeToSocket.push(at - stamp);
    parts.answerToSocket.push(at - answered.get(u));
    parts.socketToScreen.push(firstShown.get(u) - at);
  }
  const out = {};
  for (const [k, v] of Object.entries(parts)) {
    v.sort((a, b) => a - b);
    const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))]?.toFixed(1);
    out[k] = { n: v.length, p50: q(0.5), p95: q(0.95), max: q(1) };
  }
  return out;
}

// realtimeMetrics reads the histograms of realtime's /metrics: when its
// consumer applied each event, and when it wrote it to a socket, both from
// the event's creation.
async function realtimeMetrics() {
  const url = process.env.REALTIME_METRICS;
  if (!url) return null;
  const text = await (await fetch(url)).text();
  const out = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^(workpulse_kafka_event_age_seconds|workpulse_realtime_delivery_latency_seconds)_(bucket|count)\{([^}]*)\} (\S+)$/);
    if (!m) continue;
    const le = m[3].match(/le="([^"]+)"/)?.[1] ?? "count";
    out[`${m[1]} ${le}`] = Number(m[4]);
  }
  return out;
}

// histogramsDelta is, per bucket, the share of the events in between that
// took at most that long.
function histogramsDelta(before, after) {
  const out = {};
  for (const name of ["workpulse_kafka_event_age_seconds", "workpulse_realtime_delivery_latency_seconds"]) {
    const n = (after[`${name} count`] ?? 0) - (before[`${name} count`] ?? 0);
    const shares = {};
    for (const k of Object.keys(after)) {
      const [metric, le] = k.split(" ");
      if (metric !== name || le === "count") continue;
      shares[le] = n ? +(((after[k] - (before[k] ?? 0)) / n).toFixed(3)) : null;
    }
    out[name] = { events: n, atMost: shares };
  }
  return out;
}
