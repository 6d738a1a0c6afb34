// The web app's browser checks, in headless Chromium driven by playwright-core.
// test/system's browser test starts the platform, seeds an organization and runs
// this script with:
//   BASE_URL        the front door, e.g. http://127.0.0.1:3000
//   ADMIN_EMAIL, EMPLOYEE_EMAIL, PASSWORD   the seeded users
//   EMPLOYEE_TOKEN, SESSION_ID              the employee's active session, to post activity as its agent
//   DAY             the seeded day (YYYY-MM-DD, the organization's zone: UTC)
//   RESET_EMAIL     a member who forgets their password
//   MAILPIT_API     the HTTP API of the SMTP server the platform sends mail to
//   SCREENSHOTS     optional: a directory to write each page's screenshots to
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { readFileSync } from "node:fs";
import { api, assert, axe, base, browser, check, duration, env, finish, fitsPhone, login, password, screenshots, shots, signedIn } from "./lib.mjs";

const day = env("DAY");

// pages is every page with the heading it shows once loaded.
const adminPages = [
  ["/board", "Team board"],
  ["/me", "My day"],
  ["/reports", "Reports"],
  ["/alerts", "Alerts"],
  ["/projects", "Projects"],
  ["/people", "People"],
  ["/settings", "Organization settings"],
];
// adminOnly are the pages a manager is refused; an employee is refused the
// team board too.
const adminOnly = ["/people", "/settings"];
const employeeRefused = ["/board", ...adminOnly];

try {
  await check("The sign-in page has no serious or critical accessibility violation", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + "/board");
    await page.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor();
    assert(new URL(page.url()).pathname === "/signin", `a signed-out visit to /board ends on ${page.url()}`);
    await axe(page, "sign in");
    if (shots) await screenshots(context, page, "signin");
    await context.close();
  });

  await check("A wrong password is refused with a message", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + "/signin");
    await page.getByLabel("Email").fill(env("ADMIN_EMAIL"));
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").waitFor();
    await context.close();
  });

  const admin = await signedIn(env("ADMIN_EMAIL"));
  const { page } = admin;

  await check("An admin signs in and lands on the team board", async () => {
    await page.getByRole("heading", { name: "Team board" }).waitFor();
    assert(new URL(page.url()).pathname === "/board", `landed on ${page.url()}`);
  });

  await check("The board loads today's sessions in one request and shows each person's total of the day from it", async () => {
    const asked = [];
    const listen = (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith("/api/sessions")) asked.push(u.pathname + u.search);
    };
    page.on("request", listen);
    await page.reload();
    await page.locator("table[aria-busy=false]").waitFor();
    page.off("request", listen);
    assert(asked.length === 1 && asked[0].startsWith("/api/sessions/today?"), `the board asked ${asked.join(", ")}`);
    const members = await (await api("/users/employees", admin.token)).json();
    const todays = await (await api("/sessions/today", admin.token)).json();
    for (const m of members) {
      const own = todays.filter((x) => x.user_id === m.id);
      const want = duration(own.reduce((n, x) => n + x.total_active_seconds + x.total_idle_seconds, 0));
      const got = await page.locator(`tr[data-user="${m.id}"]`).getByTestId("total").textContent();
      assert(got === want, `${m.name}'s row says ${got}, the API's sessions of today ${want}`);
    }
    assert(todays.some((x) => x.status === "active"), "the API lists no running session");
  });

  await check("The board updates from the live feed, without reloading, when an agent posts activity", async () => {
    await page.getByText("Live", { exact: false }).first().waitFor();
    await page.locator("p.live", { hasText: /^Live/ }).waitFor();
    const row = page.locator(`tr[data-user]`, { hasText: "Erin Employee" });
    await row.waitFor();
    const before = await row.getByTestId("total").textContent();
    // The change must come over the socket: the page asks the API for nothing meanwhile.
    // How fast it comes is asserted by the board test (board.mjs), within a second of the post.
    const fetched = [];
    const onRequest = (r) => { if (new URL(r.url()).pathname.startsWith("/api/") && r.resourceType() !== "websocket") fetched.push(r.url()); };
    page.on("request", onRequest);
    const posted = Date.now();
    await api(`/sessions/${env("SESSION_ID")}/activity`, env("EMPLOYEE_TOKEN"), {
      method: "POST",
      body: JSON.stringify({ activity_type: "active", duration_seconds: 600, client_activity_id: `browser-${posted}`, timestamp: new Date().toISOString() }),
    });
    await page.waitForFunction(
      ([text]) => document.querySelector(`tr[data-user] [data-testid=total]`) && [...document.querySelectorAll("tr[data-user]")].some((tr) => tr.textContent.includes("Erin Employee") && tr.querySelector("[data-testid=total]").textContent !== text),
      [before],
      { timeout: 10000, polling: 20 },
    );
    page.off("request", onRequest);
    const took = Date.now() - posted;
    console.log(`     the row changed from ${before} to ${await row.getByTestId("total").textContent()} ${took} ms after the post`);
    assert(fetched.length === 0, `the board fetched ${fetched.join(", ")} instead of taking the live update`);
    const status = await row.locator(".badge").textContent();
    assert(status === "active", `the row says ${status}`);
  });

  // reportMatches checks the totals on reader's page against the API's
  // summaries of start..end as reader reads them, and returns them: the
  // team's, or with person the report of that member (whose rows are days).
  async function reportMatches(start, end, person, reader = admin) {
    const { page } = reader;
    await page.getByTestId("report-period").filter({ hasText: start === end ? `: ${start}` : `: ${start} to ${end}` }).waitFor();
    const path = person ? `/reports/user/${person.id}` : "/reports/organization";
    const summaries = await (await api(`${path}?startDate=${start}&endDate=${end}`, reader.token)).json();
    assert(summaries.length > 0, `the API has no summaries for ${start} to ${end}`);
    const active = summaries.reduce((n, s) => n + s.active_seconds, 0);
    const idle = summaries.reduce((n, s) => n + s.idle_seconds, 0);
    const want = [duration(active + idle), duration(active), duration(idle)];
    await page.getByTestId("report-total").filter({ hasText: want[0] }).waitFor();
    assert((await page.getByTestId("report-active").textContent()) === want[1], "active differs");
    assert((await page.getByTestId("report-idle").textContent()) === want[2], "idle differs");
    const score = Math.round((active / (active + idle)) * 10000) / 100;
    assert((await page.getByTestId("report-score").textContent()) === `${score} %`, `score ${await page.getByTestId("report-score").textContent()}, want ${score} %`);
    for (const s of summaries) await page.getByRole("rowheader", { name: person ? s.date : s.user_name, exact: true }).waitFor();
    return summaries;
  }

  await check("The team report of a day shows the API's numbers", async () => {
    await page.getByRole("link", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Reports" }).first().waitFor();
    await page.getByLabel("View").selectOption("range");
    await page.getByLabel("From", { exact: true }).fill(day);
    await page.getByLabel("To", { exact: true }).fill(day);
    await reportMatches(day, day);
  });

  // The seeded day's week (Monday to Sunday) and month.
  const noon = new Date(day + "T12:00:00Z");
  const iso = (d) => d.toISOString().slice(0, 10);
  const weekStart = iso(new Date(noon.getTime() - ((noon.getUTCDay() + 6) % 7) * 86400000));
  const weekEnd = iso(new Date(Date.parse(weekStart + "T12:00:00Z") + 6 * 86400000));
  const monthStart = day.slice(0, 8) + "01";
  const monthEnd = iso(new Date(Date.UTC(noon.getUTCFullYear(), noon.getUTCMonth() + 1, 0, 12)));

  await check("The week view shows the API's numbers of the week and a productivity trend per day", async () => {
    await page.getByLabel("View").selectOption("week");
    await page.getByLabel("A day of the week").fill(day);
    const summaries = await reportMatches(weekStart, weekEnd);
    const dots = page.locator("circle.dot");
    const dates = await dots.evaluateAll((cs) => cs.map((c) => c.dataset.date));
    const withData = [...new Set(summaries.map((s) => s.date))].sort();
    assert(JSON.stringify(dates) === JSON.stringify(withData), `the trend has points on ${dates}, the API's summaries are of ${withData}`);
    const ofDay = summaries.filter((s) => s.date === day);
    const a = ofDay.reduce((n, s) => n + s.active_seconds, 0), i = ofDay.reduce((n, s) => n + s.idle_seconds, 0);
    const value = await page.locator(`circle.dot[data-date="${day}"]`).getAttribute("data-value");
    assert(Number(value) === Math.round((a / (a + i)) * 10000) / 100, `the trend says ${value} % on ${day}`);
    assert((await page.locator("svg[role=img][aria-label^='Productivity of the team per day']").count()) === 1, "no trend chart");
  });

  await check("The CSV download is the API's CSV of the view", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    const path = await download.path();
    const got = readFileSync(path, "utf8");
    const want = await (await api(`/reports/organization?startDate=${weekStart}&endDate=${weekEnd}&format=csv`, admin.token)).text();
    assert(got === want, `downloaded ${got.length} bytes, the API answers ${want.length}`);
    assert(got.split("\n")[0].includes(","), "no header row");
    assert(download.suggestedFilename() === `workpulse-team-week-${weekStart}-${weekEnd}.csv`, download.suggestedFilename());
  });

  await check("The month view shows the API's numbers of the month, and the previous month is empty", async () => {
    await page.getByLabel("View").selectOption("month");
    await reportMatches(monthStart, monthEnd);
    if (shots) await screenshots(admin.context, page, "admin-reports-month");
    await page.getByRole("button", { name: "Previous month" }).click();
    await page.getByText("No summaries for this period yet", { exact: false }).waitFor();
    assert((await page.getByTestId("report-total").textContent()) === "0 s", "the month before the seed has time");
  });

  await check("A person's report of a day shows the API's numbers of that person", async () => {
    const erin = (await (await api("/users/employees", admin.token)).json()).find((m) => m.name === "Erin Employee");
    await page.getByLabel("View").selectOption("range");
    await page.getByLabel("From", { exact: true }).fill(day);
    await page.getByLabel("To", { exact: true }).fill(day);
    await page.getByLabel("Whose").selectOption({ label: erin.name });
    await page.locator(`svg[role=img][aria-label^="Active and idle time of ${erin.name},"]`).waitFor();
    await reportMatches(day, day, erin);
  });

  for (const [path, heading] of adminPages) {
    await check(`The admin's ${heading} page has no serious or critical accessibility violation and fits a phone's width`, async () => {
      await page.goto(base + path);
      await page.getByRole("heading", { name: heading, exact: true }).waitFor();
      await page.waitForLoadState("networkidle");
      await axe(page, path);
      await fitsPhone(page, path);
      if (shots) await screenshots(admin.context, page, "admin" + path.replaceAll("/", "-"));
    });
  }

  await check("An admin creates a project, archives it out of the pickers and restores it", async () => {
    await page.goto(base + "/projects");
    const name = `Browser project ${Date.now()}`;
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("cell", { name, exact: true }).waitFor();
    await page.getByRole("button", { name: `Archive ${name}` }).click();
    const row = page.locator(`tr[data-project="${name}"]`);
    await row.getByRole("cell", { name: /^archived / }).waitFor();
    const listed = await (await api("/projects", admin.token)).json();
    assert(!listed.some((p) => p.name === name), "the archived project is still in the pickers' list");
    const all = await (await api("/projects?include_archived=true", admin.token)).json();
    const project = all.find((p) => p.name === name);
    assert(project && project.archived_at, `with include_archived the API answers ${JSON.stringify(project)}`);
    const start = await fetch(base + "/api/sessions/start", {
      method: "POST", headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ project_id: project.id }),
    });
    const body = await start.json();
    assert(start.status === 409 && body.error.code === "PROJECT_ARCHIVED", `a session on it: ${start.status} ${JSON.stringify(body)}`);
    await axe(page, "/projects with an archived project");
    await page.getByRole("button", { name: `Restore ${name}` }).click();
    await row.getByRole("cell", { name: "in use" }).waitFor();
    const back = await (await api("/projects", admin.token)).json();
    assert(back.some((p) => p.name === name), "the restored project is not in the pickers' list");
  });

  await check("An admin resolves an alert", async () => {
    await page.goto(base + "/alerts");
    const buttons = page.getByRole("button", { name: /^Resolve the/ });
    await buttons.first().waitFor();
    const n = await buttons.count();
    await buttons.first().click();
    await page.waitForFunction((n) => document.querySelectorAll("button[aria-label^='Resolve the']").length === n - 1, n);
  });
  await check("The alerts page filters by status and by type as the API does", async () => {
    await page.getByRole("combobox", { name: /^Status/ }).selectOption("resolved");
    const resolved = await (await api("/alerts?status=resolved", admin.token)).json();
    assert(resolved.length > 0, "the API has no resolved alert");
    await page.waitForFunction((n) => document.querySelectorAll("tbody td:last-child").length === n &&
      [...document.querySelectorAll("tbody td:last-child")].every((td) => td.textContent.startsWith("resolved ")), resolved.length);
    await page.getByRole("combobox", { name: /^Type/ }).selectOption("overtime");
    const overtime = await (await api("/alerts?status=resolved&type=overtime", admin.token)).json();
    await page.waitForFunction((n) => n === 0 ? document.querySelector("tbody")?.textContent === "No alerts." : document.querySelectorAll("tbody tr").length === n, overtime.length);
  });
  await check("Times are shown in the organization's zone, named in the header", async () => {
    await page.goto(base + "/me");
    await page.getByTestId("zone").filter({ hasText: "Times in UTC" }).waitFor();
  });

  await check("An admin's settings change persists and sets the zone times are shown in", async () => {
    await page.goto(base + "/settings");
    await page.getByRole("heading", { name: "Organization settings" }).waitFor();
    await page.getByLabel("Time zone", { exact: true }).fill("Asia/Kolkata");
    await page.getByLabel("Idle after (seconds)").fill("240");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Organization settings" }).waitFor();
    const zone = await page.getByLabel("Time zone", { exact: true }).inputValue();
    const idle = await page.getByLabel("Idle after (seconds)").inputValue();
    assert(zone === "Asia/Kolkata" && idle === "240", `after a reload the form shows ${zone} and ${idle}`);
    await page.getByTestId("zone").filter({ hasText: "Times in Asia/Kolkata" }).waitFor();
    const org = await (await api("/organization", admin.token)).json();
    assert(org.time_zone === "Asia/Kolkata" && org.idle_threshold_seconds === 240, `the API answers ${JSON.stringify(org)}`);
    await page.getByLabel("Time zone", { exact: true }).fill("Mars/Olympus_Mons");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("alert").waitFor();
    // Back to the seed's zone and default, which the checks after this one assume.
    await api("/organization", admin.token, { method: "PATCH", body: JSON.stringify({ time_zone: "UTC", idle_threshold_seconds: 0 }) });
  });

  let invitationLink = "";
  const invitee = `invitee-${Date.now()}@example.com`;
  await check("An admin invites someone from the people page and sees the members", async () => {
    await page.goto(base + "/people");
    await page.getByRole("rowheader", { name: "Erin Employee" }).waitFor();
    await page.getByLabel("Email").fill(invitee);
    await page.getByRole("button", { name: "Send invitation" }).click();
    const token = await page.getByTestId("invitation-token").textContent();
    assert(token && token.length >= 40, `the invitation token shown is ${token}`);
    invitationLink = await page.getByTestId("invitation-link").textContent();
    assert(invitationLink.startsWith(base + "/join#") && invitationLink.includes(token), `the link is ${invitationLink}`);
  });

  await check("The invited person opens the link, sets a name and password and lands signed in", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, timezoneId: "UTC", locale: "en-GB" });
    const p = await context.newPage();
    p.setDefaultTimeout(10000);
    await p.goto(invitationLink);
    await p.getByRole("heading", { name: "Join your team on WorkPulse" }).waitFor();
    assert((await p.getByLabel("Email").inputValue()) === invitee, "the email is not filled in from the link");
    assert((await p.getByLabel("Invitation token").count()) === 0, "the token is asked for although the link carries it");
    await axe(p, "/join");
    if (shots) await screenshots(context, p, "join");
    await p.getByLabel("Your name").fill("Nina Newcomer");
    await p.getByLabel("Password", { exact: true }).fill(password);
    await p.getByLabel("Password again").fill(password + "!");
    await p.getByRole("button", { name: "Join" }).click();
    await p.getByRole("alert").filter({ hasText: "The two passwords differ." }).waitFor();
    await p.getByLabel("Password again").fill(password);
    await p.getByRole("button", { name: "Join" }).click();
    await p.getByRole("heading", { name: "My day" }).waitFor();
    await p.getByText("Nina Newcomer (employee)").waitFor();
    assert(!new URL(p.url()).hash, `the token stays in the address bar: ${p.url()}`);
    const members = await (await api("/users/employees", admin.token)).json();
    assert(members.some((m) => m.email === invitee && m.name === "Nina Newcomer"), "the new member is not in the organization");
    // Signing out forgets the session at once and lands on the sign-in
    // page: the link opened next loads signed out.
    await p.getByRole("button", { name: "Sign out" }).click();
    await p.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor();
    assert(new URL(p.url()).pathname + new URL(p.url()).search === "/signin", `signing out lands on ${p.url()}`);
    assert((await p.evaluate(() => localStorage.getItem("workpulse.session"))) === null, "the session is still stored after signing out");
    // The invitation is spent: a second use is refused with a message.
    await p.goto(invitationLink);
    await p.getByLabel("Your name").fill("Nina Again");
    await p.getByLabel("Password", { exact: true }).fill(password);
    await p.getByLabel("Password again").fill(password);
    await p.getByRole("button", { name: "Join" }).click();
    await p.getByRole("alert").filter({ hasText: "cannot be used" }).waitFor();
    // Another invitation's link opened in this tab changes only the
    // fragment, no page load: the page shows that invitation, afresh.
    const other = `invitee-other-${Date.now()}@example.com`;
    const inv = await (await api("/users/invitations", admin.token, { method: "POST", body: JSON.stringify({ email: other, role: "employee" }) })).json();
    const loads = [];
    p.on("load", () => loads.push(p.url()));
    await p.goto(`${base}/join#${new URLSearchParams({ token: inv.token, email: other })}`);
    await p.waitForFunction((email) => document.querySelector("input[name=email]")?.value === email, other);
    assert(loads.length === 0, `the second link loaded the page again (${loads}), so the fragment-only case is not what was checked`);
    assert((await p.getByLabel("Your name").inputValue()) === "", "the first link's name stays in the second link's form");
    assert((await p.getByRole("alert").count()) === 0, "the first link's error stays on the second link's form");
    await context.close();
  });

  await check("An admin changes a member's role, deactivates and reactivates them, and is told the last admin must stay", async () => {
    await page.goto(base + "/people");
    const member = async () => (await (await api("/users", admin.token)).json()).find((m) => m.email === invitee);
    await page.getByLabel("Role of Nina Newcomer").selectOption("manager");
    await page.getByRole("status").filter({ hasText: "Nina Newcomer is now manager." }).waitFor();
    assert((await member()).role === "manager", "the API does not have the new role");
    await page.getByRole("button", { name: "Deactivate Nina Newcomer" }).click();
    await page.getByRole("button", { name: "Reactivate Nina Newcomer" }).waitFor();
    assert((await member()).active === false, "the API has the member active");
    const login = await fetch(base + "/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: invitee, password }) });
    assert(login.status === 403, `a deactivated member's login answers ${login.status}`);
    await page.getByRole("button", { name: "Reactivate Nina Newcomer" }).click();
    await page.getByRole("button", { name: "Deactivate Nina Newcomer" }).waitFor();
    assert((await member()).active === true, "the API has the member deactivated");
    // The one admin demoting themselves is refused, and the row keeps the role.
    await page.getByLabel("Role of Ada Admin").selectOption("employee");
    await page.getByRole("alert").filter({ hasText: "at least one active admin" }).waitFor();
    await page.waitForFunction(() => document.querySelector('select[aria-label="Role of Ada Admin"]').value === "admin");
    await axe(page, "/people after a refused change");
    if (shots) await screenshots(admin.context, page, "admin-people-roles");
  });

  await check("An admin removes a member keeping their data, after a dialog that explains keep and erase", async () => {
    const opener = page.getByRole("button", { name: "Remove Nina Newcomer" });
    await opener.click();
    const dialog = page.getByRole("dialog", { name: "Remove Nina Newcomer?" });
    await dialog.waitFor();
    await dialog.getByText("Keep it:", { exact: false }).waitFor();
    await dialog.getByText("Erase it:", { exact: false }).waitFor();
    assert(await dialog.getByRole("radio", { name: /^Keep it/ }).isChecked(), "keeping the data is not the default");
    const focused = () => page.evaluate(() => `${document.activeElement?.closest("dialog") ? "in" : "outside"} the dialog: ${document.activeElement?.textContent}`);
    assert((await focused()) === "in the dialog: Cancel", `the focus is ${await focused()}`);
    await axe(page, "/people, the remove dialog");
    if (shots) await screenshots(admin.context, page, "admin-people-remove");
    // Escape leaves everything as it was and the focus where it was.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert((await page.evaluate(() => document.activeElement?.textContent)) === "Remove Nina Newcomer", "Escape leaves the focus elsewhere than on the Remove button");
    const listed = async (email) => (await (await api("/users", admin.token)).json()).some((m) => m.email === email);
    assert(await listed(invitee), "closing the dialog removed the member");
    // The last admin cannot go: the refusal is shown in the dialog, which stays.
    await page.getByRole("button", { name: "Remove Ada Admin" }).click();
    const self = page.getByRole("dialog", { name: "Remove Ada Admin?" });
    await self.getByRole("button", { name: "Remove Ada Admin" }).click();
    await self.getByRole("alert").filter({ hasText: "at least one active admin" }).waitFor();
    await axe(page, "/people, a refused removal");
    await self.getByRole("button", { name: "Cancel" }).click();
    await self.waitFor({ state: "hidden" });
    await opener.click();
    await dialog.getByRole("button", { name: "Remove Nina Newcomer" }).click();
    await page.getByRole("status").filter({ hasText: "Nina Newcomer is removed; their data is kept." }).waitFor();
    await page.getByRole("rowheader", { name: "Nina Newcomer" }).waitFor({ state: "detached" });
    assert(!(await listed(invitee)), "the API still lists the removed member");
    assert(await page.evaluate(() => document.activeElement?.closest("main") !== null), "the focus left the page's content with the removed row");
  });
  await admin.context.close();

  await check("Someone on the keyboard alone signs in, skips to the content and moves between pages", async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, timezoneId: "UTC", locale: "en-GB" });
    const p = await context.newPage();
    p.setDefaultTimeout(10000);
    await p.goto(base + "/signin");
    await p.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor();
    const focused = () => p.evaluate(() => document.activeElement?.getAttribute("aria-label") || document.activeElement?.textContent?.trim() || document.activeElement?.id);
    await p.keyboard.press("Tab");
    await p.keyboard.type(env("ADMIN_EMAIL"));
    await p.keyboard.press("Tab");
    await p.keyboard.type(password);
    await p.keyboard.press("Enter");
    await p.getByRole("heading", { name: "Team board" }).waitFor();
    // Backwards from the page's content: the header's controls, the main
    // navigation and, first of all, the skip link.
    const reach = async (name) => {
      for (let i = 0; i < 20; i++) {
        await p.keyboard.press("Shift+Tab");
        if ((await focused()) === name) return;
      }
      throw new Error(`${name} is not reached with Shift+Tab`);
    };
    await reach("Reports");
    await p.keyboard.press("Enter");
    await p.getByRole("heading", { name: "Reports" }).first().waitFor();
    assert(new URL(p.url()).pathname === "/reports", `Enter on the link went to ${p.url()}`);
    await reach("Skip to content");
    await p.keyboard.press("Enter");
    assert((await p.evaluate(() => document.activeElement?.id)) === "main", `the skip link left the focus on ${await focused()}`);
    await p.keyboard.press("Tab");
    assert((await p.evaluate(() => document.activeElement?.closest("main") !== null)), `Tab after the skip link is on ${await focused()}, outside the content`);
    await context.close();
  });

  const manager = await signedIn(env("MANAGER_EMAIL"));
  const everyone = await (await api("/users/employees", await login(env("ADMIN_EMAIL")))).json();
  const named = (name) => everyone.find((m) => m.name === name);
  // Who the manager must not see: people in no team of theirs.
  const others = ["Ivan Idle", "Rita Reset", "Ada Admin"];
  await check("A manager lands on the team board, which shows their team and nobody else", async () => {
    const p = manager.page;
    await p.getByRole("heading", { name: "Team board" }).waitFor();
    assert(new URL(p.url()).pathname === "/board", `landed on ${p.url()}`);
    await p.locator("table[aria-busy=false]").waitFor();
    const rows = (await p.locator("tr[data-user]").evaluateAll((trs) => trs.map((tr) => tr.dataset.user))).sort();
    const theirs = (await (await api("/users/employees", manager.token)).json()).map((m) => m.id).sort();
    assert(JSON.stringify(rows) === JSON.stringify(theirs), `the board has rows ${rows}, the API's people of the manager are ${theirs}`);
    assert(rows.includes(named("Erin Employee").id) && rows.includes(named("Mona Manager").id), "the board lacks the team's member or the manager");
    for (const n of others) assert(!rows.includes(named(n).id), `${n}, in no team of the manager, is on their board`);
  });
  await check("A manager's team report is their team's alone and shows the API's numbers", async () => {
    const p = manager.page;
    await p.getByRole("link", { name: "Reports" }).click();
    await p.getByRole("heading", { name: "Reports" }).first().waitFor();
    await p.getByLabel("View").selectOption("range");
    await p.getByLabel("From", { exact: true }).fill(day);
    await p.getByLabel("To", { exact: true }).fill(day);
    const summaries = await reportMatches(day, day, undefined, manager);
    assert(summaries.some((s) => s.user_id === named("Erin Employee").id), "the team's report lacks the team's member");
    const whose = await p.getByLabel("Whose").locator("option").allTextContents();
    for (const n of others) {
      assert(!summaries.some((s) => s.user_id === named(n).id), `the API's team report for the manager has ${n}`);
      assert((await p.getByRole("rowheader", { name: n }).count()) === 0, `the manager's report has a row of ${n}`);
      assert(!whose.includes(n), `the manager may pick ${n}'s report: ${whose}`);
    }
  });
  await check("A manager's alerts are their team's alone", async () => {
    const p = manager.page;
    await p.goto(base + "/alerts");
    await p.getByRole("combobox", { name: /^Status/ }).selectOption({ label: "All" });
    const all = await (await api("/alerts?limit=200", await login(env("ADMIN_EMAIL")))).json();
    assert(all.some((a) => a.user_id === named("Ivan Idle").id), "the seed has no alert of Ivan Idle to keep from the manager");
    const theirs = await (await api("/alerts?limit=200", manager.token)).json();
    assert(!theirs.some((a) => others.some((n) => named(n).id === a.user_id)), "the API answers the manager others' alerts");
    await p.waitForFunction((n) => (n === 0 ? document.querySelector("tbody")?.textContent === "No alerts." : document.querySelectorAll("tbody tr").length === n), theirs.length);
  });
  await check("A manager is not shown the people admin or the organization settings", async () => {
    const p = manager.page;
    const links = await p.getByRole("navigation", { name: "Main" }).getByRole("link").allTextContents();
    for (const l of ["People", "Settings"]) assert(!links.includes(l), `the manager's navigation lists ${links}`);
    for (const path of adminOnly) {
      await p.goto(base + path);
      await p.getByRole("heading", { name: "Not available" }).waitFor();
      assert((await p.locator("form, table, dialog").count()) === 0, `${path} shows the manager a form or a table`);
      await axe(p, `the manager's ${path}`);
    }
  });
  for (const [path, heading] of adminPages.filter(([p]) => !adminOnly.includes(p))) {
    await check(`The manager's ${heading} page has no serious or critical accessibility violation`, async () => {
      const p = manager.page;
      await p.goto(base + path);
      await p.getByRole("heading", { name: heading, exact: true }).waitFor();
      await p.waitForLoadState("networkidle");
      await axe(p, `the manager's ${path}`);
    });
  }
  await manager.context.close();

  const employee = await signedIn(env("EMPLOYEE_EMAIL"));
  await check("An employee lands on their own day and is not shown the team board", async () => {
    const p = employee.page;
    await p.getByRole("heading", { name: "My day" }).waitFor();
    const links = await p.getByRole("navigation", { name: "Main" }).getByRole("link").allTextContents();
    for (const l of ["Team board", "People", "Settings"]) assert(!links.includes(l), `the employee's navigation lists ${links}`);
    await p.goto(base + "/board");
    await p.getByRole("heading", { name: "Not available" }).waitFor();
    assert((await p.locator("table").count()) === 0, "the board's table is on the page");
  });
  await check("An employee's own day is the organization's day, in a zone whose date is not UTC's", async () => {
    // A zone a day behind UTC or a day ahead, whichever has the employee's
    // running session on its today and that today is not UTC's.
    const running = await (await api("/sessions/active", await login(env("EMPLOYEE_EMAIL")))).json();
    const dateIn = (zone, t) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(t);
    const now = new Date();
    const zone = ["Pacific/Pago_Pago", "Pacific/Kiritimati"].find((z) => dateIn(z, now) !== day && dateIn(z, new Date(running.start_time)) === dateIn(z, now));
    assert(zone, `no zone has the session of ${running.start_time} on a today other than ${day}`);
    const local = dateIn(zone, now);
    const adminToken = await login(env("ADMIN_EMAIL"));
    await api("/organization", adminToken, { method: "PATCH", body: JSON.stringify({ time_zone: zone }) });
    try {
      const p = employee.page;
      await p.goto(base + "/me");
      await p.getByTestId("zone").filter({ hasText: `Times in ${zone}` }).waitFor();
      await p.getByText(`Sessions of ${local}`, { exact: true }).waitFor();
      await p.getByRole("cell", { name: "running", exact: true }).waitFor();
    } finally {
      await api("/organization", adminToken, { method: "PATCH", body: JSON.stringify({ time_zone: "UTC" }) });
    }
  });
  await check("An employee is not shown the organization settings", async () => {
    const p = employee.page;
    await p.goto(base + "/settings");
    await p.getByRole("heading", { name: "Not available" }).waitFor();
    assert((await p.locator("form").count()) === 0, "a settings form is on the page");
  });
  for (const [path, heading] of adminPages.filter(([p]) => !employeeRefused.includes(p))) {
    await check(`The employee's ${heading} page has no serious or critical accessibility violation and fits a phone's width`, async () => {
      const p = employee.page;
      await p.goto(base + path);
      await p.getByRole("heading", { name: heading, exact: true }).waitFor();
      await p.waitForLoadState("networkidle");
      await axe(p, path);
      await fitsPhone(p, path);
      if (shots && path === "/me") await screenshots(employee.context, p, "employee-me");
    });
  }
  await employee.context.close();

  await check("A forgotten password is reset through the mailed link, which works once", async () => {
    const email = env("RESET_EMAIL");
    const context = await browser.newContext();
    const p = await context.newPage();
    p.setDefaultTimeout(10000);
    await p.goto(base + "/signin");
    await p.getByRole("link", { name: "Forgot password?" }).click();
    await p.getByRole("heading", { name: "Reset your password" }).waitFor();
    await axe(p, "/forgot");
    if (shots) await screenshots(context, p, "forgot");
    await p.getByLabel("Email").fill(email);
    await p.getByRole("button", { name: "Send the link" }).click();
    await p.getByRole("status").filter({ hasText: "a link to choose a new password is on its way" }).waitFor();
    const link = await mailedResetLink(email);
    await p.goto(base + "/reset#" + link.hash.slice(1));
    await p.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await axe(p, "/reset");
    if (shots) await screenshots(context, p, "reset");
    const fresh = "a brand new password";
    await p.getByLabel("New password", { exact: true }).fill(fresh);
    await p.getByLabel("New password again").fill(fresh);
    await p.getByRole("button", { name: "Set the password" }).click();
    await p.getByRole("heading", { name: "Your password is changed" }).waitFor();
    assert(!p.url().includes("token"), `the token stays in the address bar: ${p.url()}`);
    await p.getByRole("link", { name: "Sign in" }).click();
    await p.getByLabel("Email").fill(email);
    await p.getByLabel("Password").fill(fresh);
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await p.getByRole("navigation", { name: "Main" }).waitFor();
    // The same link in a signed-out tab is spent.
    const again = await browser.newContext();
    const q = await again.newPage();
    await q.goto(base + "/reset#" + link.hash.slice(1));
    await q.getByLabel("New password", { exact: true }).fill("yet another password");
    await q.getByLabel("New password again").fill("yet another password");
    await q.getByRole("button", { name: "Set the password" }).click();
    await q.getByRole("alert").filter({ hasText: "This link cannot be used" }).waitFor();
    await axe(q, "/reset, a spent link");
    await again.close();
    await context.close();
  });
} finally {
  await browser.close();
}

// mailedResetLink waits for the reset mail to email in the SMTP server the
// platform sends to (mailpit's API) and returns its link.
async function mailedResetLink(email) {
  const api = env("MAILPIT_API");
  for (let i = 0; i < 150; i++) {
    const list = await (await fetch(`${api}/api/v1/search?query=${encodeURIComponent("to:" + email)}`)).json();
    const msg = list.messages.find((m) => m.Subject === "Reset your WorkPulse password");
    if (msg) {
      const full = await (await fetch(`${api}/api/v1/message/${msg.ID}`)).json();
      const m = full.Text.match(/https?:\/\/\S+\/reset#token=[A-Za-z0-9_-]+/);
      assert(m, `the reset mail has no link:\n${full.Text}`);
      return new URL(m[0]);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no reset mail to ${email} within 30 s`);
}

finish();
