// The web app keeping its user signed in across many access-token expiries,
// in headless Chromium. test/system starts the platform with a JWT_EXPIRATION
// of seconds, seeds an organization and runs this script with:
//   BASE_URL, PASSWORD, ADMIN_EMAIL, EMPLOYEE_EMAIL, SESSION_ID   as for browser.mjs
//   EXPIRES   the access tokens' lifetime in seconds
//   STAY      how long to stay on the board, in seconds
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { api, assert, base, browser, check, env, finish, login, password, signedIn } from "./lib.mjs";

const expires = Number(env("EXPIRES"));
const stay = Number(env("STAY"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// agentPost posts an activity as the employee's agent would.
async function agentPost() {
  await api(`/sessions/${env("SESSION_ID")}/activity`, await login(env("EMPLOYEE_EMAIL")), {
    method: "POST",
    body: JSON.stringify({ activity_type: "active", duration_seconds: 60, client_activity_id: `refresh-${Date.now()}`, timestamp: new Date().toISOString() }),
  });
}

try {
  const { context, page } = await signedIn(env("ADMIN_EMAIL"));
  // Every answer the app got: a reused refresh token or a request that still
  // failed after its retry is what this script is about.
  const refreshes = [];
  const failures = [];
  let sockets = 0;
  const spent = [];
  page.on("websocket", () => sockets++);
  // The context's, not the page's: a second tab shares the session.
  context.on("requestfinished", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/refresh") spent.push(JSON.parse(r.postData() ?? "{}").refresh_token);
  });
  context.on("response", async (r) => {
    const path = new URL(r.url()).pathname;
    if (path === "/api/auth/refresh") refreshes.push({ status: r.status(), body: r.ok() ? "" : await r.text().catch(() => "") });
    else if (path.startsWith("/api/") && r.status() >= 400 && r.status() !== 401) failures.push(`${r.request().method()} ${path}: ${r.status()}`);
  });
  const row = page.locator("tr[data-user]", { hasText: "Erin Employee" });
  const reused = () => refreshes.filter((r) => r.body.includes("AUTH_REFRESH_TOKEN_REUSED"));

  await check(`The board stays live and its requests succeed for ${stay} s, past ${Math.floor(stay / expires)} token expiries`, async () => {
    await page.getByRole("heading", { name: "Team board" }).waitFor();
    // A second tab of the same session refreshes on the same schedule: the
    // tabs must take turns and never spend one refresh token twice.
    const tab = await context.newPage();
    await tab.goto(base + "/me");
    await tab.getByRole("heading", { name: "My day" }).waitFor();
    const until = Date.now() + stay * 1000;
    let posts = 0;
    while (Date.now() < until) {
      // A navigation away and back makes the app's requests with the token of the moment.
      await page.getByRole("link", { name: "People" }).click();
      await page.getByRole("rowheader", { name: "Erin Employee" }).waitFor();
      await page.getByRole("link", { name: "Team board" }).click();
      await page.locator("p.live", { hasText: /^Live/ }).waitFor({ timeout: 15000 });
      const before = await row.getByTestId("total").textContent();
      await agentPost();
      posts++;
      await page.waitForFunction(
        ([text]) => [...document.querySelectorAll("tr[data-user]")].some((tr) => tr.textContent.includes("Erin Employee") && tr.querySelector("[data-testid=total]").textContent !== text),
        [before],
        { timeout: 5000, polling: 50 },
      );
      await sleep(expires * 500);
    }
    await tab.getByRole("link", { name: "Alerts" }).click();
    await tab.getByRole("heading", { name: "Alerts" }).first().waitFor();
    assert(!(await tab.getByRole("heading", { name: "Sign in to WorkPulse" }).count()), "the second tab was signed out");
    await tab.close();
    const ok = refreshes.filter((r) => r.status === 200).length;
    console.log(`     ${posts} live updates, ${ok} refreshes, ${sockets} WebSocket connections`);
    assert(ok >= Math.floor(stay / expires) - 1, `only ${ok} refreshes in ${stay} s`);
    assert(sockets >= 2, `the feed connected ${sockets} time(s): it was never closed at expiry and reopened`);
    assert(refreshes.every((r) => r.status === 200), `refreshes failed: ${JSON.stringify(refreshes.filter((r) => r.status !== 200))}`);
    assert(failures.length === 0, `requests failed: ${failures.join(", ")}`);
  });

  await check("Requests that meet an expired token together share one refresh and succeed", async () => {
    // Refreshes fail while the token expires, as on a lost network; then the
    // board's requests all meet the expired token at once, while the one
    // refresh they share is held back a moment.
    await page.getByRole("link", { name: "People" }).click();
    await page.getByRole("rowheader", { name: "Erin Employee" }).waitFor();
    await page.route("**/api/auth/refresh", (r) => r.abort());
    await sleep((expires + 6) * 1000);
    await page.unroute("**/api/auth/refresh");
    let calls = 0;
    await page.route("**/api/auth/refresh", async (r) => {
      calls++;
      await sleep(1500);
      await r.continue();
    });
    let unauthorized = 0;
    const count = (r) => r.status() === 401 && unauthorized++;
    page.on("response", count);
    const first = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/refresh");
    await page.getByRole("link", { name: "Team board" }).click();
    assert((await first).status() === 200, `the refresh answered ${(await first).status()}`);
    const shared = calls;
    await page.unroute("**/api/auth/refresh");
    await page.locator("p.live", { hasText: /^Live/ }).waitFor({ timeout: 15000 });
    await row.waitFor();
    page.off("response", count);
    console.log(`     ${unauthorized} requests met the expired token, ${shared} refresh while they waited`);
    assert(unauthorized >= 2, `only ${unauthorized} request(s) met the expired token: nothing was concurrent`);
    assert(shared === 1, `${shared} refreshes while the requests waited`);
    assert((await page.getByRole("alert").allTextContents()).join("") === "", "the board shows an error");
    assert(failures.length === 0, `requests failed: ${failures.join(", ")}`);
  });

  await check("No refresh token was ever spent twice", async () => {
    assert(reused().length === 0, `AUTH_REFRESH_TOKEN_REUSED ${reused().length} time(s)`);
    assert(new Set(spent).size === spent.length, `${spent.length - new Set(spent).size} refresh token(s) sent twice`);
  });

  await check("A member whose role an admin changes keeps their page, which shows the new role", async () => {
    const employee = await signedIn(env("EMPLOYEE_EMAIL"));
    await employee.page.getByText("Erin Employee (employee)").waitFor();
    const adminToken = await login(env("ADMIN_EMAIL"));
    const erin = (await (await api("/users", adminToken)).json()).find((m) => m.email === env("EMPLOYEE_EMAIL"));
    await api(`/users/${erin.id}`, adminToken, { method: "PATCH", body: JSON.stringify({ role: "manager" }) });
    await employee.page.getByRole("link", { name: "Reports" }).click();
    await employee.page.getByText("Erin Employee (manager)").waitFor({ timeout: (expires + 10) * 1000 });
    await employee.page.getByRole("link", { name: "My day" }).click();
    await employee.page.getByRole("heading", { name: "My day" }).waitFor();
    await employee.context.close();
  });

  await check("Signing out ends the session on the server: its refresh token is refused", async () => {
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("workpulse.session")).refresh);
    const logout = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/logout");
    await page.getByRole("button", { name: "Sign out" }).click();
    assert((await logout).status() === 204, `logout answered ${(await logout).status()}`);
    await page.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor();
    const resp = await fetch(base + "/api/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: stored }) });
    assert(resp.status === 401, `the signed-out refresh token answers ${resp.status}`);
  });
  await context.close();

  await check("A session ended elsewhere signs the page out at its next refresh", async () => {
    const { context, page, token } = await signedIn(env("ADMIN_EMAIL"));
    await page.getByRole("heading", { name: "Team board" }).waitFor();
    await api("/auth/logout-all", token, { method: "POST" });
    await page.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor({ timeout: (expires + 10) * 1000 });
    assert((await page.evaluate(() => localStorage.getItem("workpulse.session"))) === null, "the session is still stored");
    await context.close();
  });
} finally {
  await browser.close();
}

finish();
