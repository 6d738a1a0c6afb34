// The live team board in headless Chromium, against the whole platform: what
// the realtime feed pushes shows on the open board, without a reload, within
// a second of the agent's post. test/system's board test seeds an
// organization and runs this script with:
//   BASE_URL, PASSWORD       the front door and the seeded members' password
//   ADMIN_EMAIL              who watches the board
//   EMPLOYEE_EMAIL, SESSION_ID, PROJECT_ID   Erin, working on her session of that project
//   IDLE_EMAIL               Ivan, on a session with no activity (idle detection's candidate)
//   LATE_EMAIL, LATE_PROJECT_ID              Paul, who starts a session on that project meanwhile
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { api, assert, axe, browser, check, duration, env, finish, login, signedIn } from "./lib.mjs";

// within is how soon after a post's 201 its change must be on screen.
const within = 1000;

try {
  const admin = await signedIn(env("ADMIN_EMAIL"));
  const { page } = admin;
  await page.getByRole("heading", { name: "Team board" }).waitFor();
  await page.locator("table[aria-busy=false]").waitFor();
  await page.locator("p.live", { hasText: /^Live/ }).waitFor();

  const people = await (await api("/users/employees", admin.token)).json();
  const idOf = (email) => people.find((m) => m.email === email).id;
  const erin = { id: idOf(env("EMPLOYEE_EMAIL")), token: await login(env("EMPLOYEE_EMAIL")), session: env("SESSION_ID") };
  const ivan = idOf(env("IDLE_EMAIL"));
  const paul = { id: idOf(env("LATE_EMAIL")), token: await login(env("LATE_EMAIL")) };
  const projects = Object.fromEntries((await (await api("/projects", admin.token)).json()).map((p) => [p.id, p.name]));

  // The page records every change of a row at the frame that shows it, on
  // the machine's wall clock, which this script shares; again after a
  // reload.
  const watch = () => page.evaluate(() => {
    window.__changes = [];
    new MutationObserver((records) => {
      const rows = new Set();
      for (const r of records) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        const tr = el?.closest("tr[data-user]");
        if (tr) rows.add(tr);
      }
      requestAnimationFrame(() => {
        const at = Date.now();
        for (const tr of rows) {
          window.__changes.push({ user: tr.dataset.user, status: tr.querySelector(".badge").textContent,
            project: tr.children[2].textContent, total: tr.querySelector("[data-testid=total]").textContent, at });
        }
      });
    }).observe(document.querySelector("tbody"), { subtree: true, characterData: true, childList: true });
  });
  await watch();
  // shown waits for the first change of user's row that has all of want's
  // fields and answers it.
  const shown = (user, want, timeout = 10000) =>
    page.waitForFunction(
      ([user, want]) => window.__changes.find((c) => c.user === user && Object.entries(want).every(([k, v]) => c[k] === v)),
      [user, want], { timeout, polling: 20 },
    ).then((h) => h.jsonValue());

  // The page's own API requests (the socket aside) since the last take.
  let fetched = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/") && r.resourceType() !== "websocket") fetched.push(u.pathname);
  });
  const take = () => {
    const f = fetched;
    fetched = [];
    return f;
  };

  // Erin's total of today as the API has it, which each post adds to.
  const todays = await (await api("/sessions/today", admin.token)).json();
  let total = todays.filter((x) => x.user_id === erin.id).reduce((n, x) => n + x.total_active_seconds + x.total_idle_seconds, 0);
  let n = 0;
  // post records one activity of kind on Erin's session as her agent does
  // and answers when its 201 came.
  async function post(session, token, kind, seconds = 60) {
    const resp = await api(`/sessions/${session}/activity`, token, {
      method: "POST",
      body: JSON.stringify({ activity_type: kind, duration_seconds: seconds, client_activity_id: `board-${Date.now()}-${n++}`, timestamp: new Date().toISOString() }),
    });
    const at = Date.now();
    assert(resp.status === 201, `the post answered ${resp.status}`);
    return at;
  }
  const took = [];
  // Paul's session, started while the board is open.
  let late = "";

  await check("The board shows each running session's project and who is active", async () => {
    const cells = async (user) => page.locator(`tr[data-user="${user}"]`).locator("td").allTextContents();
    const e = await cells(erin.id);
    assert(e[0] === "active" && e[1] === projects[env("PROJECT_ID")], `Erin's row says ${e.slice(0, 2)}`);
    const i = await cells(ivan);
    assert(i[0] === "idle" && i[1] === "No project", `Ivan's row, a session with no project and no activity, says ${i.slice(0, 2)}`);
  });

  await check(`An agent's post shows as the person's new total within ${within} ms of its 201, five times over`, async () => {
    take();
    for (let i = 0; i < 5; i++) {
      total += 60;
      const posted = await post(erin.session, erin.token, "active");
      const c = await shown(erin.id, { total: duration(total) });
      took.push(c.at - posted);
      assert(c.status === "active", `the row says ${c.status} after an active post`);
      // Apart by more than a frame, so that each change is its own.
      await page.waitForTimeout(200);
    }
    console.log(`     from the 201 to the row on screen: ${took.map((ms) => `${ms} ms`).join(", ")}`);
    assert(took.every((ms) => ms <= within), `a post took longer than ${within} ms to show`);
    const f = take();
    assert(f.length === 0, `the board fetched ${f.join(", ")} instead of taking the live update`);
  });

  await check("A person whose last heartbeat is idle shows as idle, also straight after a reload, and as active again after an active one", async () => {
    take();
    total += 60;
    let posted = await post(erin.session, erin.token, "idle");
    let c = await shown(erin.id, { total: duration(total) });
    assert(c.status === "idle", `after an idle heartbeat the row says ${c.status}`);
    assert(c.at - posted <= within, `the idle heartbeat showed ${c.at - posted} ms after its 201`);
    await axe(page, "the board with an idle person");
    // The board loaded now learns the state from the API, not the feed.
    await page.reload();
    await page.locator("table[aria-busy=false]").waitFor();
    await page.locator("p.live", { hasText: /^Live/ }).waitFor();
    const loaded = await page.locator(`tr[data-user="${erin.id}"] .badge`).textContent();
    // Watched again before the assertion, so that a failure here is this check's alone.
    await watch();
    assert(loaded === "idle", `straight after a reload Erin's row says ${loaded}, her last heartbeat was idle`);
    take();
    total += 60;
    posted = await post(erin.session, erin.token, "active");
    c = await shown(erin.id, { total: duration(total) });
    assert(c.status === "active", `after an active heartbeat the row says ${c.status}`);
    assert(c.at - posted <= within, `the active heartbeat showed ${c.at - posted} ms after its 201`);
    const f = take();
    assert(f.length === 0, `the board fetched ${f.join(", ")} instead of taking the live update`);
  });

  await check("A session started while the board is open shows with its project once its agent posts", async () => {
    take();
    const started = await api("/sessions/start", paul.token, { method: "POST", body: JSON.stringify({ project_id: env("LATE_PROJECT_ID") }) });
    const session = (late = (await started.json()).id);
    const posted = await post(session, paul.token, "active");
    const want = projects[env("LATE_PROJECT_ID")];
    const c = await shown(paul.id, { status: "active", project: want });
    console.log(`     the project showed ${c.at - posted} ms after the first post's 201`);
    // Until the board has the session's project, it does not claim it has none.
    const said = await page.evaluate((user) => window.__changes.filter((c) => c.user === user).map((c) => c.project), paul.id);
    assert(!said.includes("No project"), `Paul's row said ${said.join(", then ")}`);
    assert(c.at - posted <= within, `the project showed ${c.at - posted} ms after the post's 201`);
    const f = take();
    // The one request: the session the feed named first, for its project.
    assert(f.every((p) => p === `/api/sessions/${session}`) && f.length === 1, `the board fetched ${f.join(", ") || "nothing"}`);
  });

  await check("A session stopped while the board is open takes its person off the people working now, and its project off the row", async () => {
    assert(late, "Paul has no session to stop");
    const working = async () => Number((await page.locator("p.live").textContent()).match(/(\d+) working now/)[1]);
    const before = await working();
    take();
    await api(`/sessions/${late}/stop`, paul.token, { method: "POST", body: "{}" });
    const stopped = Date.now();
    // Paul has not the app open: once his session ends he is offline.
    const c = await shown(paul.id, { status: "offline", project: "–" });
    console.log(`     the stop showed ${c.at - stopped} ms after its answer`);
    assert(c.at - stopped <= within, `the stop showed ${c.at - stopped} ms after its answer`);
    await page.locator("p.live", { hasText: `${before - 1} working now` }).waitFor();
    const f = take();
    // The one request: the session of the person the feed says went offline, to learn whether it ended.
    assert(f.length === 1 && f[0] === `/api/sessions/${late}`, `the board fetched ${f.join(", ") || "nothing"}`);
  });

  await check("An alert raised while the board is open shows in its alerts without a reload", async () => {
    const alerts = page.getByRole("complementary", { name: "Alerts today" }).getByRole("listitem");
    assert((await alerts.filter({ hasText: "Ivan Idle" }).count()) === 0, "the board has Ivan's alert before the job ran");
    take();
    const adminToken = await login(env("ADMIN_EMAIL"));
    const job = await (await api("/jobs/trigger/idle-detection", adminToken, { method: "POST", body: "{}" })).json();
    const item = alerts.filter({ hasText: "Ivan Idle" });
    await item.waitFor({ timeout: 30000 });
    const raised = (await (await api("/alerts?status=open", adminToken)).json()).find((a) => a.user_id === ivan && a.alert_type === "idle");
    assert(raised, `the API has no open idle alert of Ivan after job ${job.job_id}`);
    const text = await item.textContent();
    assert(text.includes(raised.message), `the board shows "${text}", the API's alert says "${raised.message}"`);
    const f = take();
    assert(f.length === 0, `the board fetched ${f.join(", ")} instead of taking the pushed alert`);
    await axe(page, "the board with a pushed alert");
  });
  await check("Every column header shows whole at laptop width, and on a phone each row reflows into the screen with every value named", async () => {
    // clipped names the elements of the board whose content is cut (the
    // cells ellipsize what does not fit), and whether the table scrolls
    // sideways in its box, which hides columns as surely.
    const clipped = (selector) => page.evaluate((selector) => {
      const box = document.querySelector(".board .scroll");
      const cut = [...document.querySelectorAll(selector)].filter((el) => el.scrollWidth > el.clientWidth)
        .map((el) => `"${el.textContent}" (${el.scrollWidth} px in ${el.clientWidth})`);
      return { cut, scrolls: box.scrollWidth > box.clientWidth ? `${box.scrollWidth} px in ${box.clientWidth}` : "" };
    }, selector);
    const laptop = await clipped(".live-board thead th");
    assert(laptop.cut.length === 0, `at 1366 px the board cuts the headers ${laptop.cut.join(", ")}`);
    assert(!laptop.scrolls, `at 1366 px the board's table scrolls sideways (${laptop.scrolls})`);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      // Names are the one content that may ellipsize; every other cell,
      // with the column's name it shows beside its value, fits.
      const phone = await clipped(".live-board tbody td");
      assert(phone.cut.length === 0, `at 390 px the board cuts the cells ${phone.cut.join(", ")}`);
      assert(!phone.scrolls, `at 390 px the board's table scrolls sideways (${phone.scrolls})`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(wide <= 390, `the board is ${wide} px wide in a 390 px window`);
      const named = await page.evaluate(() => {
        const headers = [...document.querySelectorAll(".live-board thead th")].map((th) => th.textContent);
        const row = document.querySelector(".live-board tbody tr[data-user]");
        return [...row.children].map((cell, i) => ({ header: headers[i], label: getComputedStyle(cell, "::before").content }));
      });
      // The computed content is the label and its (empty) text for screen readers: "Now" / "".
      const unnamed = named.slice(1).filter((c) => !c.label.startsWith(`"${c.header}"`));
      assert(unnamed.length === 0, `at 390 px cells show no column name or the wrong one: ${unnamed.map((c) => `${c.header}: ${c.label}`).join(", ")}`);
      await axe(page, "the board at a phone's width");
    } finally {
      await page.setViewportSize({ width: 1366, height: 850 });
    }
  });
  await admin.context.close();
} finally {
  await browser.close();
}
finish();
