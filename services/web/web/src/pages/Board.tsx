import { memo, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { get, query, type Alert, type Member, type Presence, type Project, type Session, getAll } from "../api";
import { useAuth } from "../auth";
import { message } from "../hooks";
import { clock, dateTime, duration, today } from "../time";

// A row of the board: one member, their sessions of today and what the
// feed last said about them.
interface Row {
  id: string;
  name: string;
  online: boolean;
  // state is what the person's last activity was: active or idle.
  state: "active" | "idle" | "";
  // A session's project is undefined while the board has not learnt it
  // (a session the feed named first), null when it has none.
  sessions: Record<string, { active: number; idle: number; project: string | null | undefined; running: boolean }>;
  lastActivity: string | null;
}

interface State {
  rows: Map<string, Row>;
  // order is the rows' ids by name, sorted when someone joins the board
  // rather than on every update, which only changes a row.
  order: string[];
  alerts: Alert[];
  // version changes on every update, so that memoised views notice.
  version: number;
}

// Update is what a session:update says about a person's session.
interface Update {
  session_id: string;
  user_id: string;
  active: number;
  idle: number;
  last: string | null;
  lastType?: "active" | "idle";
}

type Action =
  | { type: "load"; members: Member[]; online: Presence[]; sessions: Map<string, Session[]>; alerts: Alert[] }
  | { type: "online"; user_id: string; name: string; online: boolean }
  | { type: "updates"; updates: Update[] }
  | { type: "session"; session: Session }
  | { type: "alert"; alert: Alert };

function byName(rows: Map<string, Row>): string[] {
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => r.id);
}

// stateAt is what a row shows for a last activity of type at last: that
// type while it is recent, nothing once it is 5 minutes old (the person is
// then shown idle). A session whose API does not say the type counts as
// active.
function stateAt(last: string | null, type: Session["last_activity_type"]): Row["state"] {
  return last && Date.now() - Date.parse(last) < 5 * 60 * 1000 ? (type ?? "active") : "";
}

// reduce replaces only the row an event is about: the other rows keep their
// identity and their memoised components do not render again.
export function reduce(s: State, a: Action): State {
  const rows = new Map(s.rows);
  switch (a.type) {
    case "load": {
      rows.clear();
      const online = new Set(a.online.map((p) => p.user_id));
      for (const m of a.members) {
        const sessions: Row["sessions"] = {};
        let last: string | null = null;
        let lastType: Session["last_activity_type"] = null;
        for (const x of a.sessions.get(m.id) ?? []) {
          sessions[x.id] = { active: x.total_active_seconds, idle: x.total_idle_seconds, project: x.project_id, running: x.status === "active" };
          if (x.last_activity_at && (!last || x.last_activity_at > last)) [last, lastType] = [x.last_activity_at, x.last_activity_type];
        }
        rows.set(m.id, { id: m.id, name: m.name, online: online.has(m.id), state: stateAt(last, lastType), sessions, lastActivity: last });
      }
      return { rows, order: byName(rows), alerts: a.alerts, version: s.version + 1 };
    }
    case "online": {
      const r = rows.get(a.user_id);
      rows.set(a.user_id, { ...(r ?? { id: a.user_id, name: a.name, state: "", sessions: {}, lastActivity: null }), online: a.online });
      return { ...s, rows, order: r ? s.order : byName(rows), version: s.version + 1 };
    }
    case "updates": {
      for (const u of a.updates) {
        const r = rows.get(u.user_id);
        if (!r) continue;
        const before = r.sessions[u.session_id];
        // Events of earlier releases do not say the type: an update that
        // added only idle time is then taken for idle.
        const state: Row["state"] = u.lastType ?? (before && u.idle > before.idle && u.active === before.active ? "idle" : "active");
        const sessions = { ...r.sessions, [u.session_id]: { project: before ? before.project : undefined, running: before?.running ?? true, active: u.active, idle: u.idle } };
        rows.set(u.user_id, { ...r, online: true, state, sessions, lastActivity: u.last ?? r.lastActivity });
      }
      return { ...s, rows, version: s.version + 1 };
    }
    case "session": {
      const r = rows.get(a.session.user_id);
      if (!r) return s;
      const x = a.session;
      const sessions = { ...r.sessions, [x.id]: { active: x.total_active_seconds, idle: x.total_idle_seconds, project: x.project_id, running: x.status === "active" } };
      rows.set(r.id, { ...r, sessions });
      return { ...s, rows, version: s.version + 1 };
    }
    case "alert":
      return { ...s, alerts: [a.alert, ...s.alerts.filter((x) => x.id !== a.alert.id)].slice(0, 50), version: s.version + 1 };
  }
}

// columns are the board's column headers; on a narrow screen each cell also
// shows its column's name (see .live-board in the stylesheet).
const columns = ["Person", "Now", "Project", "Today", "Active", "Idle", "Last activity"];

const BoardRow = memo(function BoardRow({ row, projects }: { row: Row; projects: Map<string, string> }) {
  const list = Object.values(row.sessions);
  const running = list.find((x) => x.running);
  const active = list.reduce((n, x) => n + x.active, 0);
  const idle = list.reduce((n, x) => n + x.idle, 0);
  // A running session is work whether or not the person has the app open
  // (presence counts WebSocket connections; the agent posts over HTTP).
  const working = !!running;
  const status = running ? (row.state === "active" ? "active" : "idle") : row.online ? "online" : "offline";
  return (
    <tr role="row" data-user={row.id} className={working ? "working" : undefined}>
      <th scope="row" role="rowheader">{row.name}</th>
      <td role="cell" data-label={columns[1]}><span className={`badge ${status}`}>{status}</span></td>
      <td role="cell" data-label={columns[2]}>{running ? (running.project === null ? "No project" : projects.get(running.project ?? "") ?? "…") : "–"}</td>
      <td role="cell" data-label={columns[3]} data-testid="total">{duration(active + idle)}</td>
      <td role="cell" data-label={columns[4]}>{duration(active)}</td>
      <td role="cell" data-label={columns[5]}>{duration(idle)}</td>
      <td role="cell" data-label={columns[6]}>{clock(row.lastActivity)}</td>
    </tr>
  );
});

export function Board() {
  const { feed } = useAuth();
  const [state, dispatch] = useReducer(reduce, { rows: new Map(), order: [], alerts: [], version: 0 });
  const [projects, setProjects] = useState(new Map<string, string>());
  const [error, setError] = useState("");
  const [loaded, setLoaded] = useState(false);
  const [connected, setConnected] = useState(false);
  const [filter, setFilter] = useState("");
  // known are the sessions the board has with their project: the loaded
  // ones, and those it asked the API about when the feed first named them.
  const known = useRef(new Set<string>());
  // latest is the board's rows as last rendered, for the feed's handler,
  // which subscribes once.
  const latest = useRef(state.rows);
  latest.current = state.rows;

  useEffect(() => {
    let live = true;
    const day = today();
    (async () => {
      // Five requests whatever the organization's size: today's sessions
      // come in one listing for everyone (pages of 500).
      const [members, online, alerts, ps, todays] = await Promise.all([
        getAll<Member>("/users/employees"),
        get<Presence[]>("/presence").catch(() => [] as Presence[]),
        get<Alert[]>(`/alerts${query({ status: "open", startDate: day, endDate: day, limit: "50" })}`),
        getAll<Project>("/projects?include_archived=true"),
        getAll<Session>("/sessions/today"),
      ]);
      if (!live) return;
      const sessions = new Map<string, Session[]>();
      for (const x of todays) {
        known.current.add(x.id);
        const list = sessions.get(x.user_id);
        if (list) list.push(x);
        else sessions.set(x.user_id, [x]);
      }
      setProjects(new Map(ps.map((p) => [p.id, p.name])));
      dispatch({ type: "load", members: members.filter((m) => m.active), online, sessions, alerts });
      setLoaded(true);
    })().catch((e) => live && setError(message(e)));
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (!feed) return;
    const offStatus = feed.onStatus(setConnected);
    // Updates are applied together, at most once a frame's time: at a
    // thousand people they come faster than frames, and a render of the
    // board costs the same for one update as for ten. A timer rather than
    // an animation frame, which a hidden tab never gets.
    let pending: Update[] = [];
    let timer = 0;
    const flush = () => {
      timer = 0;
      const updates = pending;
      pending = [];
      dispatch({ type: "updates", updates });
    };
    const off = feed.subscribe((e) => {
      const d = e.data;
      switch (e.event) {
        case "user:online":
        case "user:offline":
          dispatch({ type: "online", user_id: d.user_id, name: d.name, online: e.event === "user:online" });
          // user:offline also follows a session's stop, and says not which:
          // the person's running sessions are asked for, once, to learn
          // whether they ended (a closed app leaves them running).
          if (e.event === "user:offline") {
            for (const [id, x] of Object.entries(latest.current.get(d.user_id)?.sessions ?? {})) {
              if (x.running) get<Session>(`/sessions/${id}`).then((s) => dispatch({ type: "session", session: s }), () => {});
            }
          }
          break;
        case "session:update":
          pending.push({ session_id: d.session_id, user_id: d.user_id, active: d.total_active_seconds, idle: d.total_idle_seconds, last: d.last_activity_at, lastType: d.last_activity_type });
          timer ||= window.setTimeout(flush, 16);
          // A session the board has not seen (started after the load): its project comes from the API.
          if (!known.current.has(d.session_id)) {
            known.current.add(d.session_id);
            get<Session>(`/sessions/${d.session_id}`).then((s) => dispatch({ type: "session", session: s }), () => {});
          }
          break;
        case "alert:inactive":
        case "alert:overtime":
          dispatch({ type: "alert", alert: { ...d, id: d.alert_id } });
          break;
      }
    });
    return () => {
      off();
      offStatus();
      clearTimeout(timer);
    };
  }, [feed]);

  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = state.order.map((id) => state.rows.get(id)!);
    return f ? all.filter((r) => r.name.toLowerCase().includes(f)) : all;
  }, [state.order, state.rows, filter]);
  const working = rows.filter((r) => Object.values(r.sessions).some((x) => x.running)).length;

  return (
    <section>
      <h1>Team board</h1>
      <p className="live" role="status">
        {connected ? "Live" : "Connecting to live updates…"} · {working} working now of {state.rows.size} people
      </p>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="board">
        <div>
          <label className="search">
            Find a person
            <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          <div className="scroll">
            {/* The roles are explicit because the stylesheet lays the
                table out as a grid (see .live-board), which would
                otherwise cost it its table semantics. */}
            <table role="table" className="live-board" aria-busy={!loaded} aria-labelledby="board-caption">
              <caption id="board-caption">Today's team, live</caption>
              <thead role="rowgroup">
                <tr role="row">
                  {columns.map((h) => <th key={h} scope="col" role="columnheader">{h}</th>)}
                </tr>
              </thead>
              <tbody role="rowgroup">
                {rows.map((r) => <BoardRow key={r.id} row={r} projects={projects} />)}
                {loaded && rows.length === 0 && <tr role="row" className="empty"><td role="cell" colSpan={7}>No one matches.</td></tr>}
              </tbody>
            </table>
          </div>
        </div>
        <aside aria-labelledby="alerts-now">
          <h2 id="alerts-now">Alerts today</h2>
          <ul className="feed" aria-live="polite">
            {state.alerts.map((a) => (
              <li key={a.id}>
                <span className={`badge ${a.alert_type}`}>{a.alert_type}</span> {state.rows.get(a.user_id)?.name ?? "Someone"}: {a.message}
                <br /><small>{dateTime(a.created_at)}</small>
              </li>
            ))}
            {state.alerts.length === 0 && <li>No open alerts today.</li>}
          </ul>
        </aside>
      </div>
    </section>
  );
}
