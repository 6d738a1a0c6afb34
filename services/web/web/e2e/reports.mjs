// The reports' charts and an employee's own day in headless Chromium, read
// from the page and held against the API. test/system seeds two members'
// activity in known applications and runs this script with:
//   BASE_URL        the front door
//   PASSWORD        the seeded members' password
//   ADMIN_EMAIL, EMPLOYEE_EMAIL, OTHER_EMAIL   the seeded admin and the two members
//   EMPLOYEE_SESSION  the employee's running session, to post activity as its agent
//   DAY             the seeded day (YYYY-MM-DD, the organization's zone: UTC)
//   SEEDED_TEAM_APPS, SEEDED_EMPLOYEE_APPS  the seed's seconds per application,
//                   {"app": {"Active": s, "Idle": s}}, of both members and of the employee
//   SCREENSHOTS     optional: a directory to write the pages' screenshots to
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { api, assert, axe, base, browser, check, duration, env, finish, fitsPhone, login, screenshots, shots, signedIn } from "./lib.mjs";

const day = env("DAY");
const seededTeam = JSON.parse(env("SEEDED_TEAM_APPS"));
const seededOwn = JSON.parse(env("SEEDED_EMPLOYEE_APPS"));

// bars are the bars of the chart whose title starts with title, as drawn.
async function bars(page, title) {
  const chart = page.locator(`svg[role=img][aria-label^="${title}"]`);
  await chart.waitFor();
  return chart.locator("g.bar").evaluateAll((gs) =>
    gs.map((g) => ({ label: g.dataset.label, active: Number(g.dataset.active), idle: Number(g.dataset.idle) })));
}

// appBars adds up the summaries' app_usage and keeps the eight most used:
// most tracked first, then by name, as the API orders one summary's.
function appBars(summaries) {
  const by = new Map();
  for (const s of summaries) {
    for (const a of s.app_usage) {
      const b = by.get(a.app) ?? { label: a.app, active: 0, idle: 0 };
      b.active += a.active_seconds;
      b.idle += a.idle_seconds;
      by.set(a.app, b);
    }
  }
  const total = (b) => b.active + b.idle;
  return [...by.values()].sort((a, b) => total(b) - total(a) || (a.label < b.label ? -1 : 1)).slice(0, 8);
}

// activeIdle adds up the summaries by key, sorted by it, as bars.
function activeIdle(summaries, key) {
  const by = new Map();
  for (const s of summaries) {
    const b = by.get(key(s)) ?? { label: key(s), active: 0, idle: 0 };
    b.active += s.active_seconds;
    b.idle += s.idle_seconds;
    by.set(key(s), b);
  }
  return [...by.values()].sort((a, b) => a.label.localeCompare(b.label));
}

const same = (got, want, what) => assert(JSON.stringify(got) === JSON.stringify(want), `${what}: the page draws ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

// seededAs checks that bars hold the seed's seconds of their applications.
function seededAs(got, seed, what) {
  for (const b of got) {
    const s = seed[b.label];
    assert(s && s.Active === b.active && s.Idle === b.idle, `${what}: ${b.label} is ${b.active}/${b.idle} s, the seed posted ${JSON.stringify(s)}`);
  }
}

// tableRows are the rows of the applications table under a chart, as text.
const tableRows = (page) => page.getByTestId("apps").locator("tbody tr").evaluateAll((trs) =>
  trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
const rowsOf = (bs) => bs.map((b) => [b.label, duration(b.active + b.idle), duration(b.active), duration(b.idle)]);

try {
  const admin = await signedIn(env("ADMIN_EMAIL"));
  const { page } = admin;

  await check("The team's day has a Top applications chart and table of the API's eight most used applications, with their active and idle seconds as seeded", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Reports" }).first().waitFor();
    await page.getByLabel("View").selectOption("range");
    await page.getByLabel("From", { exact: true }).fill(day);
    await page.getByLabel("To", { exact: true }).fill(day);
    await page.getByTestId("report-period").filter({ hasText: `: ${day}` }).waitFor();
    const summaries = await (await api(`/reports/organization?startDate=${day}&endDate=${day}`, admin.token)).json();
    const want = appBars(summaries);
    const got = await bars(page, "Top applications of the team");
    same(got, want, "Top applications");
    seededAs(got, seededTeam, "Top applications");
    // Nine applications were used: the least used one is left out.
    const seeded = Object.entries(seededTeam).sort((a, b) => a[1].Active + a[1].Idle - (b[1].Active + b[1].Idle));
    assert(seeded.length === 9 && got.length === 8 && !got.some((b) => b.label === seeded[0][0]), `the chart has ${got.map((b) => b.label)} of ${seeded.length} seeded`);
    assert(got.some((b) => b.active > 0 && b.idle > 0), "no application has both active and idle time");
    same(await tableRows(page), rowsOf(want), "the applications table");
  });

  await check("The team's day has a bar per person of the API's active and idle seconds", async () => {
    const summaries = await (await api(`/reports/organization?startDate=${day}&endDate=${day}`, admin.token)).json();
    const want = activeIdle(summaries, (s) => s.user_name);
    assert(want.length === 2, `the API's day has ${want.length} people`);
    same(await bars(page, "Active and idle time of the team"), want, "active and idle per person");
    await axe(page, "/reports, the team's day");
    await fitsPhone(page, "/reports, the team's day");
    if (shots) await screenshots(admin.context, page, "admin-reports-day");
  });

  await check("A person's week has a bar per day and the applications of the API's numbers of that person", async () => {
    const erin = (await (await api("/users/employees", admin.token)).json()).find((m) => m.email === env("EMPLOYEE_EMAIL").toLowerCase());
    await page.getByLabel("Whose").selectOption({ label: erin.name });
    await page.getByLabel("View").selectOption("week");
    await page.getByLabel("A day of the week").fill(day);
    const period = await page.getByTestId("report-period").filter({ hasText: "Week: " }).textContent();
    const [start, end] = period.replace("Week: ", "").split(" to ");
    const summaries = await (await api(`/reports/user/${erin.id}?startDate=${start}&endDate=${end}`, admin.token)).json();
    same(await bars(page, `Active and idle time of ${erin.name}`), activeIdle(summaries, (s) => s.date), "active and idle per day");
    const apps = await bars(page, `Top applications of ${erin.name}`);
    same(apps, appBars(summaries), "the person's applications");
    seededAs(apps, seededOwn, "the person's applications");
    await axe(page, "/reports, a person's week");
  });
  await admin.context.close();

  const employee = await signedIn(env("EMPLOYEE_EMAIL"));
  await check("An employee's own day shows its activity, active, idle, productivity and applications, as the API's daily report has it", async () => {
    const p = employee.page;
    await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My day" }).click();
    await p.getByRole("heading", { name: "Activity", exact: true }).waitFor();
    const summary = await (await api(`/reports/daily?date=${day}`, employee.token)).json();
    assert(summary && summary.app_usage.length === Object.keys(seededOwn).length, `the API's day is ${JSON.stringify(summary)}`);
    await p.getByTestId("activity-active").filter({ hasText: duration(summary.active_seconds) }).waitFor();
    assert((await p.getByTestId("activity-idle").textContent()) === duration(summary.idle_seconds), "idle differs");
    assert((await p.getByTestId("activity-total").textContent()) === duration(summary.total_work_seconds), "the tracked time differs");
    // One set of day totals: the sessions' own figures stay in their table.
    for (const term of ["Tracked", "Active", "Idle"]) {
      const n = await p.locator("dt", { hasText: new RegExp(`^${term}$`) }).count();
      assert(n === 1, `the day shows ${n} totals named ${term}`);
    }
    assert((await p.getByTestId("activity-score").textContent()) === `${summary.productivity_score} %`, "productivity differs");
    const want = appBars([summary]);
    const got = await bars(p, `Applications of ${day}`);
    same(got, want, "the day's applications");
    seededAs(got, seededOwn, "the day's applications");
    same(await tableRows(p), rowsOf(want), "the day's applications table");
    await p.getByRole("table", { name: `Sessions of ${day}` }).waitFor();
    await axe(p, "/me with activity");
    await fitsPhone(p, "/me with activity");
    if (shots) await screenshots(employee.context, p, "employee-me-activity");
  });

  await check("An employee's own day follows their agent's post without a reload", async () => {
    const p = employee.page;
    const before = (await bars(p, `Applications of ${day}`)).find((b) => b.label === "chat.example.com");
    await api(`/sessions/${env("EMPLOYEE_SESSION")}/activity`, await login(env("EMPLOYEE_EMAIL")), {
      method: "POST",
      body: JSON.stringify({ activity_type: "active", duration_seconds: 45, url: "https://chat.example.com/thread", client_activity_id: `reports-${Date.now()}`, timestamp: new Date().toISOString() }),
    });
    await p.waitForFunction((want) => Number(document.querySelector('g.bar[data-label="chat.example.com"]')?.dataset.active) === want,
      before.active + 45, { timeout: 10000 });
    const summary = await (await api(`/reports/daily?date=${day}`, employee.token)).json();
    await p.getByTestId("activity-active").filter({ hasText: duration(summary.active_seconds) }).waitFor();
    same(await bars(p, `Applications of ${day}`), appBars([summary]), "the day's applications after the post");
  });
  await employee.context.close();

  const other = await signedIn(env("OTHER_EMAIL"));
  await check("An employee's past day without a summary says so and has no serious or critical accessibility violation", async () => {
    const p = other.page;
    await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My day" }).click();
    await p.getByRole("heading", { name: "Activity", exact: true }).waitFor();
    await p.getByRole("button", { name: "Previous day" }).click();
    await p.getByText("No activity summarized on this day yet.").waitFor();
    assert((await p.getByTestId("activity-active").count()) === 0, "a day without a summary shows activity totals");
    await axe(p, "/me, a day without activity");
  });
  await other.context.close();
} finally {
  await browser.close();
}
finish();
