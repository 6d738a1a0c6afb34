// The signed-in session: the access token, the refresh token that renews it,
// and the user, renewed shortly before the access token expires.
//
// Both tokens are kept in localStorage, not sessionStorage: a reload or a
// second tab must stay signed in, and sessionStorage would sign out every new
// tab. Tabs then share one refresh token, and a refresh token spent twice
// revokes the whole session, so every refresh runs under one Web Lock shared
// by the tabs and first re-reads the latest pair: a tab that finds the token
// already rotated by another takes the new pair instead of spending the old.

export type Role = "admin" | "manager" | "employee";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  organization_id: string;
}

// AuthResponse is what login, register and refresh answer.
export interface AuthResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
}

export interface Session {
  access: string;
  refresh: string;
  // expiresAt is when the access token expires, in this browser's clock
  // (from expires_in, so a skewed clock does not matter).
  expiresAt: number;
  user: User;
}

const storageKey = "workpulse.session";
const lockName = "workpulse.refresh";

// SignedOut is thrown when the session cannot be renewed: it was revoked,
// expired or the member deactivated.
export class SignedOut extends Error {}

function load(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(storageKey) ?? "null");
    if (s && typeof s.access === "string" && typeof s.refresh === "string" && typeof s.expiresAt === "number" && s.user) return s;
  } catch {
    // a damaged entry is as good as none
  }
  return null;
}

// localStorage is not kept in step across a browser's processes: a tab can
// read another tab's old pair for a moment after it was replaced, even under
// the lock, and spend a refresh token twice. IndexedDB is, so whoever holds
// the lock reads the latest pair there; localStorage keeps a copy for a
// synchronous start and its storage events.
const db = new Promise<IDBDatabase | null>((resolve) => {
  if (!window.indexedDB) return resolve(null);
  const r = indexedDB.open("workpulse", 1);
  r.onupgradeneeded = () => r.result.createObjectStore("session");
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => resolve(null);
});

// shared reads the latest session (put undefined) or records put; undefined
// means IndexedDB has none or cannot be used.
async function shared(put?: Session | null): Promise<Session | null | undefined> {
  const d = await db;
  if (!d) return undefined;
  return new Promise((resolve) => {
    const tx = d.transaction("session", put === undefined ? "readonly" : "readwrite");
    const req = put === undefined ? tx.objectStore("session").get("current") : tx.objectStore("session").put(put, "current");
    tx.oncomplete = () => resolve(put === undefined ? req.result : put);
    tx.onerror = () => resolve(undefined);
  });
}

let current: Session | null = load();
const listeners = new Set<(s: Session | null) => void>();
let timer: number | undefined;
let inflight: Promise<string> | null = null;

export function session(): Session | null {
  return current;
}

export function accessToken(): string {
  return current?.access ?? "";
}

// subscribe tells h of every change of the session (a renewal, a sign-out).
export function subscribe(h: (s: Session | null) => void): () => void {
  listeners.add(h);
  return () => listeners.delete(h);
}

function adopt(s: Session | null, store: boolean) {
  current = s;
  if (store) {
    if (s) localStorage.setItem(storageKey, JSON.stringify(s));
    else localStorage.removeItem(storageKey);
    void shared(s);
  }
  clearTimeout(timer);
  // Renew a fifth of the time left (of a new token: its lifetime) before
  // expiry, at most a minute before:
  // early enough that requests rarely meet an expired token, late enough
  // not to renew all the time.
  if (s) {
    const lead = Math.min(60000, (s.expiresAt - Date.now()) / 5);
    timer = window.setTimeout(() => renew(s.access).catch(() => {}), Math.max(0, s.expiresAt - lead - Date.now()));
  }
  listeners.forEach((h) => h(s));
}

export function start(r: AuthResponse) {
  adopt({ access: r.access_token, refresh: r.refresh_token, expiresAt: Date.now() + r.expires_in * 1000, user: r.user }, true);
}

// end forgets the session here (the server has refused it, or signOut is
// telling it).
export function end() {
  adopt(null, true);
}

// signOut ends the session here first, calls ended, and then ends it on the
// server. Forgetting it only once the server had answered left the session
// stored while the request ran: a link opened in the tab meanwhile (an
// invitation, a reset) loaded signed in as the one signing out, and a page
// left in between never forgot it at all. keepalive lets the request outlive
// the page.
export async function signOut(ended: () => void): Promise<void> {
  const s = current;
  if (!s) return;
  // The timer renews the access token before it expires; one already past
  // its expiry (a tab woken from sleep) would be refused by the logout, so
  // it is renewed first, the one case that waits before forgetting.
  const token = s.expiresAt > Date.now() ? s.access : await renew(s.access).catch(() => "");
  end();
  ended();
  if (!token) return;
  await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` }, keepalive: true }).catch(() => {});
}

// renew returns an access token newer than stale, refreshing at most once
// however many callers ask at the same time: they share one refresh.
export function renew(stale: string): Promise<string> {
  if (current && current.access !== stale) return Promise.resolve(current.access);
  inflight ??= exclusive(refresh).finally(() => {
    inflight = null;
  });
  return inflight;
}

function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  // Web Locks exist in secure contexts only (HTTPS or localhost); elsewhere a
  // tab serializes its own refreshes and no more.
  return navigator.locks ? navigator.locks.request(lockName, fn) : fn();
}

async function refresh(): Promise<string> {
  const latest = await shared();
  const stored = latest === undefined ? load() : latest;
  if (!stored) {
    adopt(null, false);
    throw new SignedOut("signed out");
  }
  if (stored.refresh !== current?.refresh) {
    // another tab renewed while this one waited for the lock
    adopt(stored, false);
    return stored.access;
  }
  const resp = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: stored.refresh }),
  });
  if (resp.status === 401 || resp.status === 403) {
    end();
    throw new SignedOut("session ended");
  }
  // Anything else (the network, a 5xx) keeps the session: the next request
  // or the next expiry tries again.
  if (!resp.ok) throw new Error(`refresh failed: ${resp.status}`);
  start((await resp.json()) as AuthResponse);
  await shared(current); // recorded before the lock passes to another tab
  return current!.access;
}

// Another tab's renewal or sign-out reaches this one through the storage.
window.addEventListener("storage", (e) => {
  if (e.key === storageKey) adopt(load(), false);
});
