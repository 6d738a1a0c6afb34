// The API client: one origin (/api), the bearer token of the signed-in user
// (renewed once and the request retried when the API answers 401), and the
// error envelope turned into ApiError so that pages decide by code.
import { accessToken, renew, type Role, type User } from "./session";

export type { AuthResponse, Role, User } from "./session";

export interface Member extends User {
  active: boolean;
  created_at: string;
}

// Organization is what GET /api/organization answers: every member gets the
// name and zone, an admin every setting (a zero number is the installation's
// default).
export interface Organization {
  id: string;
  name: string;
  time_zone: string;
  plan_type?: string;
  inactive_threshold_seconds?: number;
  idle_threshold_seconds?: number;
  overtime_threshold_hours?: number;
  activity_window_days?: number;
  retention_months?: number;
  managed?: boolean;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  expires_at: string;
  token: string;
}

// Device is a desktop agent of a member, as GET /api/devices lists it; its
// token is in the answer of registering (or renewing) it only.
export interface Device {
  id: string;
  user_id: string;
  name: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
}

export interface IssuedDevice extends Device {
  token: string;
}

export interface Session {
  id: string;
  user_id: string;
  project_id: string | null;
  start_time: string;
  end_time: string | null;
  status: "active" | "stopped";
  total_active_seconds: number;
  total_idle_seconds: number;
  last_activity_at: string | null;
  // Whether the activity at last_activity_at was active or idle; null
  // when the session has none, or the API did not record it.
  last_activity_type: "active" | "idle" | null;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  created_at: string;
  archived_at: string | null;
}

export interface AppUsage {
  app: string;
  total_seconds: number;
  active_seconds: number;
  idle_seconds: number;
}

export interface Summary {
  id: string;
  user_id: string;
  user_name: string;
  date: string;
  total_work_seconds: number;
  active_seconds: number;
  idle_seconds: number;
  productivity_score: number;
  sessions_count: number;
  app_usage: AppUsage[];
}

export interface Alert {
  id: string;
  user_id: string;
  session_id: string | null;
  alert_type: "idle" | "overtime";
  message: string;
  date: string;
  created_at: string;
  resolved_at: string | null;
}

export interface Presence {
  user_id: string;
  name: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const tokenRefused = new Set(["AUTH_INVALID_TOKEN", "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_REVOKED"]);

async function errorCode(resp: Response): Promise<string> {
  try {
    return (await resp.json()).error?.code ?? "";
  } catch {
    return "";
  }
}

async function request(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
  const send = (token: string) => {
    const headers: Record<string, string> = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  const token = accessToken();
  let resp = await send(token);
  // An expired (or revoked) access token: renew it, shared with every other
  // request that met the same 401, and try once more. A session that cannot
  // be renewed is signed out by renew, and the first answer stands. Other
  // 401s (a wrong current password) are the request's own: a retry would
  // count a wrong password twice.
  if (resp.status === 401 && token && tokenRefused.has(await errorCode(resp.clone()))) {
    const fresh = await renew(token).catch(() => "");
    if (fresh) resp = await send(fresh);
  }
  if (resp.ok) return resp;
  let code = "HTTP_" + resp.status;
  let message = resp.statusText || "request failed";
  try {
    const env = await resp.json();
    code = env.error?.code ?? code;
    message = env.error?.message ?? message;
  } catch {
    // not the envelope: keep the status
  }
  throw new ApiError(resp.status, code, message);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const resp = await request(method, path, body);
  // 204 and 202 (a reset request) answer without a body.
  const text = await resp.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

// getAll reads every page of a list the API pages by cursor (the array is
// the body, the next page's cursor is in X-Next-Cursor).
export async function getAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const resp = await request("GET", `${path}${sep}${query({ limit: "500", cursor }).slice(1)}`);
    out.push(...((await resp.json()) as T[]));
    const next = resp.headers.get("X-Next-Cursor");
    if (!next) return out;
    cursor = next;
  }
}

// csv fetches a report as CSV (the download needs the bearer token, which a
// plain link cannot send).
export async function csv(path: string): Promise<Blob> {
  const resp = await request("GET", path, undefined, "text/csv");
  return resp.blob();
}

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// allPages follows next_cursor through a session listing.
export async function allSessions(params: Record<string, string | undefined>): Promise<Session[]> {
  const out: Session[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await get<{ sessions: Session[]; next_cursor: string | null }>(`/sessions${query({ ...params, limit: "200", cursor })}`);
    out.push(...page.sessions);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}
