// make e2e's Socket.IO check through the front door of an installation whose realtime runs two
// replicas (test/e2e/frontdoor.sh socketio). With the real socket.io-client v4 and the API:
//
//   1. an admin connects (polling, then the upgrade to WebSocket) and an employee of the same
//      organization connects on polling only; both keep the front door's affinity cookie, as a
//      browser does, and each replica's workpulse_realtime_connections gauge then reads 1:
//      one client per pod;
//   2. the admin, on the other pod, is told the employee is online (user:online crosses pods
//      through Redis);
//   3. the employee's ping is acknowledged on polling (its long polls all reach its pod);
//   4. the employee starts a session and posts activity through the API: the admin, on the
//      other pod, gets the session:update with the session's new total.
//
// Options (JSON in the first argument): {api, origin, metrics: [url, ...], timeoutMs}. Prints
// what it checked; exits 1 with the reason on the last line of stderr.
import { io } from "socket.io-client";

const opts = JSON.parse(process.argv[2]);
const timeoutMs = opts.timeoutMs ?? 30000;
const run = Date.now().toString(36);
const say = (s) => process.stderr.write(`socketio: ${s}\n`);
const fail = (s) => {
  process.stderr.write(`${s}\n`);
  process.exit(1);
};

async function api(method, path, token, body) {
  const res = await fetch(opts.api + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// gauges reads each realtime pod's open connections.
async function gauges() {
  return Promise.all(
    opts.metrics.map(async (url) => {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      const line = text.split("\n").find((l) => l.startsWith("workpulse_realtime_connections{"));
      return line ? Number(line.split(" ").pop()) : NaN;
    }),
  );
}

async function until(what, f) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) fail(`not within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// connect opens a socket whose events are kept, for waitFor to find.
function connect(name, token, extra) {
  const socket = io(opts.origin, {
    auth: { token },
    reconnection: false,
    timeout: 10000,
    // A connection of its own (socket.io-client would otherwise share one per origin).
    forceNew: true,
    // The Node client keeps cookies only so: without it every long poll is a new session to the
    // front door, which may send it to the other replica.
    withCredentials: true,
    ...extra,
  });
  const seen = [];
  socket.onAny((event, data) => seen.push({ event, data }));
  socket.on("connect_error", (err) => fail(`${name}: connect_error ${err.message} ${JSON.stringify(err.data ?? null)}`));
  socket.on("disconnect", (reason) => say(`${name} disconnected: ${reason}`));
  return { socket, seen, name };
}

async function waitFor(c, what, pred) {
  return until(`${c.name} ${what}`, () => c.seen.find((e) => pred(e)));
}

const password = "correct horse battery";
const admin = await api("POST", "/auth/register", null, {
  email: `sio-admin-${run}@example.com`, password, name: "Socket Admin", organization_name: `Socket.IO ${run}`,
});
const invite = await api("POST", "/users/invitations", admin.access_token, { email: `sio-ann-${run}@example.com` });
const ann = await api("POST", "/auth/register", null, {
  email: `sio-ann-${run}@example.com`, password, name: "Ann Across", invitation_token: invite.token,
});
const annID = ann.user?.id;
if (!annID) fail(`register answered no user id: ${JSON.stringify(ann)}`);

const before = await gauges();
if (before.some((n) => n !== 0)) fail(`realtime pods' connections before the check: ${before}, want 0 on each`);

const watch = connect("admin", admin.access_token, {});
await until("the admin connected", () => watch.socket.connected);
if (watch.socket.io.engine.transport.name !== "websocket") {
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no upgrade")), timeoutMs);
    watch.socket.io.engine.once("upgrade", (tr) => (clearTimeout(t), resolve(tr.name)));
  }).catch(() => fail(`the admin's socket did not upgrade to WebSocket within ${timeoutMs / 1000} s`));
}
say(`admin connected, on ${watch.socket.io.engine.transport.name}`);

const annc = connect("ann", ann.access_token, { transports: ["polling"], upgrade: false });
await until("ann connected", () => annc.socket.connected);
const perPod = await until("one client per realtime pod", async () => {
  const g = await gauges();
  return g.every((n) => n === 1) && g;
});
say(`ann connected on polling; connections per realtime pod: ${perPod.join(", ")}`);

await waitFor(watch, "was not told ann is online", (e) => e.event === "user:online" && e.data?.userId === annID);
say("user:online of ann (the other pod) reached the admin");

for (let i = 0; i < 3; i++) {
  const ack = await annc.socket.timeout(5000).emitWithAck("ping").catch(() => fail(`ann's ping ${i + 1} on polling was not acknowledged`));
  if (ack !== "pong") fail(`ann's ping acknowledged with ${JSON.stringify(ack)}`);
}
if (annc.socket.io.engine.transport.name !== "polling") fail(`ann's socket is on ${annc.socket.io.engine.transport.name}`);
say("3 pings acknowledged on polling");

const session = await api("POST", "/sessions/start", ann.access_token, {});
await api("POST", `/sessions/${session.id}/activity`, ann.access_token, {
  activity_type: "active", duration_seconds: 42, client_activity_id: `sio-${run}`,
});
const sent = Date.now();
await waitFor(watch, `got no session:update of ann's session ${session.id} with 42 active seconds`,
  (e) => e.event === "session:update" && e.data?.id === session.id && e.data?.total_active_seconds === 42);
say(`session:update of ann's post reached the admin on the other pod in ${Date.now() - sent} ms`);

watch.socket.close();
annc.socket.close();
await until("the pods' connections back to 0", async () => (await gauges()).every((n) => n === 0));
process.exit(0);
