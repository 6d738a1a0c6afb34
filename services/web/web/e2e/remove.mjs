// People > Remove in headless Chromium, both answers to "their data".
// test/system starts the platform, seeds an organization of three employees
// who each have a session, activity, a daily summary and an idle alert on
// DAY, and runs this script with:
//   BASE_URL        the front door
//   PASSWORD        the seeded members' password
//   ADMIN_EMAIL     the admin who removes
//   KEEP_ID, ERASE_ID, COLLEAGUE_ID   the member removed keeping their data, the one erased, and one who stays
//   DAY             the seeded day (YYYY-MM-DD, the organization's zone: UTC)
//   SCREENSHOTS     optional: a directory to write the people page's screenshots to
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { api, assert, axe, base, browser, check, env, finish, screenshots, shots, signedIn } from "./lib.mjs";

const day = env("DAY");
const [keepID, eraseID, colleagueID] = [env("KEEP_ID"), env("ERASE_ID"), env("COLLEAGUE_ID")];

const admin = await signedIn(env("ADMIN_EMAIL"));
const json = async (path) => (await api(path, admin.token)).json();

// held is what the API answers an admin of a member's data on DAY: their
// sessions, their summaries in their own report and in the team's, and
// their alerts, each reduced to what no removal of someone else may change.
async function held(id) {
  const { sessions } = await json(`/sessions?user_id=${id}&from=${day}&to=${day}&limit=200`);
  const own = await ownReport(id);
  const team = (await json(`/reports/organization?startDate=${day}&endDate=${day}`)).filter((s) => s.user_id === id);
  const alerts = await json(`/alerts?user_id=${id}&startDate=${day}&endDate=${day}&limit=1000`);
  const figures = (s) => `${s.user_name} ${s.date} ${s.active_seconds}/${s.idle_seconds} ${s.sessions_count}`;
  return {
    sessions: sessions.map((s) => s.id).sort(),
    summaries: own.map(figures).sort(),
    team: team.map(figures).sort(),
    alerts: alerts.map((a) => a.id).sort(),
  };
}
// ownReport is a member's report of DAY; once their data is erased the
// report service no longer knows them, which it answers with
// REPORT_USER_NOT_FOUND, and that is no summary.
async function ownReport(id) {
  const resp = await fetch(`${base}/api/reports/user/${id}?startDate=${day}&endDate=${day}`, { headers: { Authorization: `Bearer ${admin.token}` } });
  if (resp.status === 404 && (await resp.clone().json()).error?.code === "REPORT_USER_NOT_FOUND") return [];
  if (!resp.ok) throw new Error(`the report of ${id} answers ${resp.status} ${await resp.text()}`);
  return resp.json();
}
const empty = (h) => Object.values(h).every((v) => v.length === 0);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// waitUntil polls cond, the removal's events being on their way through
// Kafka to every service, and answers its last value.
async function waitUntil(ms, cond) {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 250))) {
    const v = await cond();
    if (v.ok || Date.now() > until) return v;
  }
}

const before = { keep: await held(keepID), erase: await held(eraseID), colleague: await held(colleagueID) };
const members = await json("/users");
const nameOf = (id) => members.find((m) => m.id === id).name;

// removeIn removes name on the people page with the dialog's answer to
// "their data" and waits for the page to say it is done.
async function removeIn(page, name, data) {
  await page.getByRole("button", { name: `Remove ${name}` }).click();
  const dialog = page.getByRole("dialog", { name: `Remove ${name}?` });
  await dialog.waitFor();
  if (data === "erase") {
    // On the keyboard, as the radio group's arrow keys move the choice.
    await dialog.getByRole("radio", { name: /^Keep it/ }).focus();
    await page.keyboard.press("ArrowDown");
    assert(await dialog.getByRole("radio", { name: /^Erase it/ }).isChecked(), "the arrow key does not choose erasing");
    await axe(page, "/people, the remove dialog with erase chosen");
  }
  await dialog.getByRole("button", { name: `Remove ${name}` }).click();
  const told = data === "erase" ? `${name} is removed and their data erased.` : `${name} is removed; their data is kept.`;
  await page.getByRole("status").filter({ hasText: told }).waitFor();
  await page.getByRole("rowheader", { name, exact: true }).waitFor({ state: "detached" });
}

try {
  await check("Before any removal each seeded member has sessions, summaries in their report and the team's, and alerts on the day", async () => {
    for (const [who, h] of Object.entries(before)) {
      for (const [what, v] of Object.entries(h)) assert(v.length > 0, `the seed gives the ${who} member no ${what}: ${JSON.stringify(h)}`);
    }
  });

  const { page } = admin;
  await page.goto(base + "/people");
  await page.getByRole("rowheader", { name: nameOf(keepID), exact: true }).waitFor();

  await check("An admin removes a member keeping their data: the API still has their sessions, summaries and alerts, and the team report shows them by name", async () => {
    await removeIn(page, nameOf(keepID), "keep");
    assert(!(await json("/users")).some((m) => m.id === keepID), "the API still lists the removed member");
    // Their running session is stopped, not deleted: the same sessions,
    // summaries and alerts stay, under their name.
    const after = await waitUntil(10000, async () => {
      const h = await held(keepID);
      return { ok: same(h, before.keep), h };
    });
    assert(after.ok, `the kept member's data went from ${JSON.stringify(before.keep)} to ${JSON.stringify(after.h)}`);
    assert(before.keep.team.every((s) => s.startsWith(nameOf(keepID) + " ")), `the team report names them ${before.keep.team}`);
  });

  await check("An admin removes a member erasing their data: within seconds the API has none of it, and a colleague's is untouched", async () => {
    await removeIn(page, nameOf(eraseID), "erase");
    const after = await waitUntil(30000, async () => {
      const h = await held(eraseID);
      return { ok: empty(h), h };
    });
    assert(after.ok, `30 s after the erasure the API still answers ${JSON.stringify(after.h)} of the member`);
    const colleague = await held(colleagueID);
    assert(same(colleague, before.colleague), `the colleague's data went from ${JSON.stringify(before.colleague)} to ${JSON.stringify(colleague)}`);
    const kept = await held(keepID);
    assert(same(kept, before.keep), `the erasure changed the kept member's data to ${JSON.stringify(kept)}`);
    await axe(page, "/people after an erasure");
    if (shots) await screenshots(admin.context, page, "admin-people-erased");
  });
} finally {
  await browser.close();
}
finish();
