// The devices page in headless Chromium. test/system starts the platform,
// seeds an organization whose zone is not UTC and runs this script with:
//   BASE_URL        the front door
//   PASSWORD        the seeded members' password
//   ADMIN_EMAIL, EMPLOYEE_EMAIL, MANAGER_EMAIL   the seeded members
//   ZONE            the organization's time zone
//   SCREENSHOTS     optional: a directory to write the page's screenshots to
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { api, assert, axe, base, browser, check, env, finish, fitsPhone, screenshots, shots, signedIn } from "./lib.mjs";

const zone = env("ZONE");

// accepted answers whether the API takes token on a tracking route, the
// only ones a device token reaches.
async function accepted(token) {
  const resp = await fetch(base + "/api/sessions/active", { headers: { Authorization: `Bearer ${token}` } });
  return resp.status !== 401;
}

// refusedWithin waits for every service to have the revocation, which they
// poll every second.
async function refusedWithin(token, ms = 10000) {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    if (!(await accepted(token))) return;
  }
  throw new Error(`a revoked device token is still accepted after ${ms} ms`);
}

// inZone is a time as the app shows it (src/time.ts's dateTime) in the
// organization's zone, with the pages' locale.
const inZone = (iso) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
const words = (s) => s.replace(/\s+/gu, " ").trim();

const devicesOf = async (token, userID = "") => (await api(`/devices${userID ? `?user_id=${userID}` : ""}`, token)).json();

try {
  const employee = await signedIn(env("EMPLOYEE_EMAIL"));
  const { page } = employee;
  await employee.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  let laptopToken = "";

  await check("A member registers a desktop agent and is shown its token once, which the copy button copies and the API takes", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Devices" }).click();
    await page.getByRole("heading", { name: "Devices", exact: true }).waitFor();
    await page.getByRole("cell", { name: "No devices yet." }).waitFor();
    await axe(page, "/devices, none yet");
    await page.getByLabel("Device name").fill("Work laptop");
    await page.getByRole("button", { name: "Register device" }).click();
    const field = page.getByLabel("Device token of Work laptop");
    laptopToken = await field.inputValue();
    assert(laptopToken.split(".").length === 3, `the token shown is ${laptopToken}`);
    await page.getByRole("button", { name: "Copy the token" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert(copied === laptopToken, `the clipboard holds ${copied}`);
    await page.getByRole("rowheader", { name: "Work laptop" }).waitFor();
    const listed = await devicesOf(employee.token);
    assert(listed.length === 1 && listed[0].name === "Work laptop" && !("token" in listed[0]), `the API lists ${JSON.stringify(listed)}`);
    assert(await accepted(laptopToken), "the API refuses the device token shown");
    await axe(page, "/devices, a token shown");
    await fitsPhone(page, "/devices, a token shown");
    if (shots) await screenshots(employee.context, page, "employee-devices");
    // A reload shows the device and never its token again.
    await page.reload();
    await page.getByRole("rowheader", { name: "Work laptop" }).waitFor();
    assert((await page.getByTestId("device-token").count()) === 0, "the token is shown again after a reload");
  });

  await check("The devices table shows registration, last use and expiry as the API has them, in the organization's zone", async () => {
    let device;
    for (let i = 0; i < 50 && !device?.last_used_at; i++) {
      await new Promise((r) => setTimeout(r, 200));
      [device] = await devicesOf(employee.token);
    }
    assert(device.last_used_at, "the API never recorded the device's use");
    await page.reload();
    await page.getByTestId("zone").filter({ hasText: `Times in ${zone}` }).waitFor();
    const row = page.locator(`tr[data-device="${device.id}"]`);
    const cells = (await row.locator("td").allTextContents()).map(words);
    const want = [inZone(device.created_at), inZone(device.last_used_at), inZone(device.expires_at)].map(words);
    assert(JSON.stringify(cells.slice(0, 3)) === JSON.stringify(want), `the row says ${cells}, the API's times in ${zone} are ${want}`);
  });

  await check("A member on the keyboard alone registers a second agent and revokes it, whose token is then refused", async () => {
    await page.getByLabel("Device name").focus();
    await page.keyboard.type("Home desktop");
    await page.keyboard.press("Enter");
    const token = await page.getByLabel("Device token of Home desktop").inputValue();
    assert(await accepted(token), "the second device's token is refused");
    const focusedName = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    for (let i = 0; i < 30 && (await focusedName()) !== "Revoke Home desktop"; i++) await page.keyboard.press("Tab");
    assert((await focusedName()) === "Revoke Home desktop", `Tab never reaches the revoke button, it is on ${await focusedName()}`);
    // The button asks first: Escape leaves the device as it was and the
    // focus where it was; the dialog's own Revoke button, a Tab past Cancel
    // (where the focus starts), revokes it.
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Revoke Home desktop?" });
    await dialog.waitFor();
    assert((await focusedName()) === "Cancel", `the dialog opens with the focus on ${await focusedName()}`);
    await axe(page, "/devices, the revoke dialog");
    if (shots) await screenshots(employee.context, page, "employee-devices-revoke");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert((await focusedName()) === "Revoke Home desktop", `Escape leaves the focus on ${await focusedName()}`);
    assert(await accepted(token), "closing the dialog revoked the device");
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.keyboard.press("Tab");
    assert(await page.evaluate(() => document.activeElement?.closest("dialog") !== null), "Tab leaves the dialog");
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "Home desktop is revoked" }).waitFor();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("rowheader", { name: "Home desktop" }).waitFor({ state: "detached" });
    assert(await page.evaluate(() => document.activeElement?.closest("main") !== null), "the focus left the page's content with the revoked row");
    assert((await page.getByTestId("device-token").count()) === 0, "the revoked device's token is still shown");
    await refusedWithin(token);
    const names = (await devicesOf(employee.token)).map((d) => d.name);
    assert(JSON.stringify(names) === JSON.stringify(["Work laptop"]), `the API lists ${names}`);
  });

  await check("A member gets a new token for an agent: the new one is taken and the old one refused", async () => {
    await page.getByRole("button", { name: "New token for Work laptop" }).click();
    const fresh = await page.getByLabel("Device token of Work laptop").inputValue();
    assert(fresh && fresh !== laptopToken, "no new token is shown");
    await page.getByText("whose old token stops working", { exact: false }).waitFor();
    await refusedWithin(laptopToken);
    assert(await accepted(fresh), "the new token is refused");
    laptopToken = fresh;
  });
  await employee.context.close();

  const admin = await signedIn(env("ADMIN_EMAIL"));
  await check("An admin sees a member's agents apart from their own and revokes one, whose token is then refused", async () => {
    const p = admin.page;
    await p.goto(base + "/devices");
    await p.getByRole("heading", { name: "Members' devices" }).waitFor();
    const members = await (await api("/users", admin.token)).json();
    const erin = members.find((m) => m.email === env("EMPLOYEE_EMAIL").toLowerCase());
    const others = p.getByRole("table", { name: "Desktop agents of the organization's other members" });
    const row = others.getByRole("row", { name: /Work laptop/ });
    await row.getByRole("cell", { name: erin.name, exact: true }).waitFor();
    assert((await p.getByRole("table", { name: "Your desktop agents" }).getByRole("rowheader").count()) === 0, "the admin's own table lists others' devices");
    // An admin revokes others' agents but gets no token of theirs.
    assert((await others.getByRole("button", { name: /^New token/ }).count()) === 0, "the admin is offered a member's token");
    await p.getByLabel("Whose").selectOption({ label: erin.name });
    await others.getByRole("rowheader", { name: "Work laptop" }).waitFor();
    await axe(p, "/devices, an admin's");
    await fitsPhone(p, "/devices, an admin's");
    if (shots) await screenshots(admin.context, p, "admin-devices");
    await p.getByRole("button", { name: `Revoke Work laptop of ${erin.name}` }).click();
    const dialog = p.getByRole("dialog", { name: `Revoke Work laptop of ${erin.name}?` });
    await dialog.getByText("its member registers it anew", { exact: false }).waitFor();
    await dialog.getByRole("button", { name: "Revoke Work laptop" }).click();
    await p.getByRole("status").filter({ hasText: `Work laptop of ${erin.name} is revoked` }).waitFor();
    await others.getByRole("cell", { name: "No devices." }).waitFor();
    await refusedWithin(laptopToken);
    assert((await devicesOf(admin.token, erin.id)).length === 0, "the API still lists the revoked device");
  });
  await admin.context.close();

  const manager = await signedIn(env("MANAGER_EMAIL"));
  await check("A manager's devices page holds their own agents alone and has no serious or critical accessibility violation", async () => {
    const p = manager.page;
    await p.goto(base + "/devices");
    await p.getByRole("cell", { name: "No devices yet." }).waitFor();
    assert((await p.getByRole("heading", { name: "Members' devices" }).count()) === 0, "a manager is shown members' devices");
    await axe(p, "the manager's /devices");
  });
  await manager.context.close();
} finally {
  await browser.close();
}
finish();
