import { useEffect, useRef, type ReactNode } from "react";
import { useAuth } from "./auth";
import { Link, navigate, useLocation } from "./router";
import type { Role } from "./api";
import { SignIn } from "./pages/SignIn";
import { Join } from "./pages/Join";
import { ForgotPassword, ResetPassword } from "./pages/Reset";
import { SsoCallback } from "./pages/SsoCallback";
import { Board } from "./pages/Board";
import { Reports } from "./pages/Reports";
import { Alerts } from "./pages/Alerts";
import { Projects } from "./pages/Projects";
import { MyDay } from "./pages/MyDay";
import { People } from "./pages/People";
import { Devices } from "./pages/Devices";
import { Settings } from "./pages/Settings";
import { OrgProvider, useOrg } from "./org";
import { getZone } from "./time";

interface Page {
  path: string;
  title: string;
  roles: Role[];
  render: () => ReactNode;
}

// pages lists every page with the roles that may see it; the navigation and
// the router both read it, so a page is never linked for a role it refuses.
// A manager's board, reports and alerts hold their teams' members and
// themself: the API answers them with nobody else's.
const pages: Page[] = [
  { path: "/board", title: "Team board", roles: ["admin", "manager"], render: () => <Board /> },
  { path: "/me", title: "My day", roles: ["admin", "manager", "employee"], render: () => <MyDay /> },
  { path: "/reports", title: "Reports", roles: ["admin", "manager", "employee"], render: () => <Reports /> },
  { path: "/alerts", title: "Alerts", roles: ["admin", "manager", "employee"], render: () => <Alerts /> },
  { path: "/projects", title: "Projects", roles: ["admin", "manager", "employee"], render: () => <Projects /> },
  { path: "/devices", title: "Devices", roles: ["admin", "manager", "employee"], render: () => <Devices /> },
  { path: "/people", title: "People", roles: ["admin"], render: () => <People /> },
  { path: "/settings", title: "Settings", roles: ["admin"], render: () => <Settings /> },
];

// signedOutPages are the pages besides sign-in that need no account.
const signedOutPages: Record<string, { title: string; render: () => ReactNode }> = {
  "/join": { title: "Join", render: () => <Join /> },
  "/forgot": { title: "Reset your password", render: () => <ForgotPassword /> },
  "/reset": { title: "Choose a new password", render: () => <ResetPassword /> },
  // Where the identity provider sends the browser back after single sign-on.
  "/sso/callback": { title: "Signing in with SSO", render: () => <SsoCallback /> },
};

export function App() {
  const { user, signOut } = useAuth();
  const url = useLocation();
  const main = useRef<HTMLElement>(null);
  const allowed = user ? pages.filter((p) => p.roles.includes(user.role)) : [];
  const home = user?.role === "employee" ? "/me" : "/board";
  const page = allowed.find((p) => p.path === url.pathname);
  const known = pages.some((p) => p.path === url.pathname);

  // /join, the invitation's page, and the password reset's pages are for
  // the signed-out: their person has no account yet or cannot sign in, and
  // once they have joined they are signed in.
  const outside = signedOutPages[url.pathname];
  const joining = outside !== undefined;
  useEffect(() => {
    if (!user && url.pathname !== "/signin" && !joining) navigate("/signin?next=" + encodeURIComponent(url.pathname), true);
    else if (user && (url.pathname === "/" || url.pathname === "/signin" || joining)) navigate(url.searchParams.get("next") || home, true);
  }, [user, url, home, joining]);

  useEffect(() => {
    document.title = (page ? page.title + " · " : outside ? outside.title + " · " : "") + "WorkPulse";
    // Move focus to the page's content on navigation, as a full page load would.
    main.current?.focus();
  }, [page, outside]);

  if (!user) {
    return (
      <main id="main" ref={main} tabIndex={-1} className="narrow">
        {outside ? outside.render() : <SignIn />}
      </main>
    );
  }
  let content: ReactNode;
  if (page) content = page.render();
  else if (known)
    content = (
      <section>
        <h1>Not available</h1>
        <p>This page is for administrators. <Link href={home}>Go to your start page</Link>.</p>
      </section>
    );
  else if (url.pathname === "/" || url.pathname === "/signin" || joining) content = null;
  else
    content = (
      <section>
        <h1>Page not found</h1>
        <p><Link href={home}>Go to your start page</Link>.</p>
      </section>
    );
  return (
    <OrgProvider userID={user.id}>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">WorkPulse</span>
        <nav aria-label="Main">
          <ul>
            {allowed.map((p) => (
              <li key={p.path}>
                <Link href={p.path} aria-current={p.path === url.pathname ? "page" : undefined}>{p.title}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          <span>{user.name} ({user.role})</span>
          <Zone />
          <button type="button" className="link" onClick={signOut}>Sign out</button>
        </span>
      </header>
      <main id="main" ref={main} tabIndex={-1}>{content}</main>
    </OrgProvider>
  );
}

// Zone names the organization's time zone, the one every time is shown in.
function Zone() {
  const { org } = useOrg();
  return <span data-testid="zone">Times in {org?.time_zone ?? getZone()}</span>;
}
