// Single sign-on in headless Chromium. test/system starts the platform and an
// OpenID Provider, sets up an "SSO only" organization whose single sign-on is
// that provider, and runs this script with:
//   BASE_URL       the front door on localhost, the installation's PUBLIC_URL
//   PASSWORD       the seeded members' password
//   SSO_EMAIL      a person the provider knows and the organization does not yet
//   SSO_USERNAME, SSO_PASSWORD   their login at the provider
//   MEMBER_EMAIL   a member of the organization with a password
// It prints one line per check and "N passed, N failed" last; it exits 1 on a failure.
import { assert, axe, base, browser, check, env, finish, password } from "./lib.mjs";

async function signInPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, timezoneId: "UTC", locale: "en-GB" });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  await page.goto(base + "/signin");
  await page.getByRole("heading", { name: "Sign in to WorkPulse" }).waitFor();
  return { context, page };
}

try {
  await check("Sign in with SSO takes a new person through their provider's login form to their own day", async () => {
    const { context, page } = await signInPage();
    await page.getByLabel("Email").fill(env("SSO_EMAIL"));
    await page.getByRole("button", { name: "Sign in with SSO" }).click();
    // The provider's own login page, on its own origin.
    await page.getByLabel("Username:").fill(env("SSO_USERNAME"));
    await page.getByLabel("Password:").fill(env("SSO_PASSWORD"));
    await page.getByRole("button", { name: "Login" }).click();
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    await page.getByRole("heading", { name: "My day" }).waitFor();
    const url = new URL(page.url());
    assert(url.origin === base && url.pathname === "/me" && url.search === "", `signed in on ${page.url()}`);
    assert(await page.getByText("(employee)").isVisible(), "the new member is not shown as an employee");
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("workpulse.session")));
    assert(stored?.refresh && stored?.user?.email?.toLowerCase() === env("SSO_EMAIL").toLowerCase(), "no session of the new member is kept");
    await context.close();
  });

  await check("A member's right password in an SSO-only organization is answered with the way to sign in", async () => {
    const { context, page } = await signInPage();
    await page.getByLabel("Email").fill(env("MEMBER_EMAIL"));
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert((await alert.innerText()).includes("Sign in with SSO"), `the message is: ${await alert.innerText()}`);
    await axe(page, "sign in, SSO required");
    await context.close();
  });

  await check("An email domain without single sign-on is told to use the password", async () => {
    const { context, page } = await signInPage();
    await page.getByLabel("Email").fill("someone@no-sso.example");
    await page.getByRole("button", { name: "Sign in with SSO" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert((await alert.innerText()).includes("not set up"), `the message is: ${await alert.innerText()}`);
    await context.close();
  });

  await check("A callback this browser did not start is refused with a way back to sign in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + "/sso/callback?code=planted&state=planted");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert((await alert.innerText()).includes("another browser"), `the message is: ${await alert.innerText()}`);
    assert(new URL(page.url()).search === "", `the code stays in the address bar: ${page.url()}`);
    await page.getByRole("link", { name: "Back to sign in" }).waitFor();
    await axe(page, "sso callback");
    await context.close();
  });
} finally {
  await browser.close();
}
finish();
