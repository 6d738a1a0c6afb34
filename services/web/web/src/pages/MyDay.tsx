import { useEffect, useState } from "react";
import { allSessions, get, query, type Project, type Session, type Summary, getAll } from "../api";
import { useAuth } from "../auth";
import { Timeline } from "../Chart";
import { useLoad } from "../hooks";
import { TopApps, topApps } from "../TopApps";
import { addDays, clock, duration, midnight, today } from "../time";

export function MyDay() {
  const { user, feed } = useAuth();
  const [date, setDate] = useState(today());
  // The day's bounds as instants: the API reads a bare date as a UTC day,
  // and the day shown is the organization's.
  const sessions = useLoad(() => allSessions({ from: midnight(date).toISOString(), to: midnight(addDays(date, 1)).toISOString() }), [date]);
  // The day's activity as the reports count it: today's is computed on
  // every read, a past day's is its stored summary (null until computed).
  const activity = useLoad(() => get<Summary | null>("/reports/daily" + query({ date })), [date]);
  const projects = useLoad(() => getAll<Project>("/projects?include_archived=true"), []);
  const [live, setLive] = useState<Record<string, Partial<Session>>>({});

  // Totals move as the agent posts activity: session:update carries them.
  useEffect(
    () =>
      feed?.subscribe((e) => {
        if (e.event === "session:update" && e.data.user_id === user?.id) {
          setLive((l) => ({ ...l, [e.data.session_id]: e.data }));
          activity.reload();
          if (!sessions.data?.some((s) => s.id === e.data.session_id)) sessions.reload();
        } else if (e.event === "user:online" || e.event === "user:offline") sessions.reload();
      }),
    [feed, user?.id, sessions.data, sessions.reload, activity.reload],
  );

  const list = (sessions.data ?? []).map((s) => ({ ...s, ...live[s.id] }) as Session);
  const projectName = (id: string | null) => (id ? projects.data?.find((p) => p.id === id)?.name ?? "–" : "No project");
  const now = new Date();
  const dayStart = midnight(date);

  return (
    <section>
      <h1>My day</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Date
          <input type="date" value={date} max={today()} onChange={(e) => e.target.value && setDate(e.target.value)} />
        </label>
        <button type="button" onClick={() => setDate(addDays(date, -1))}>Previous day</button>
      </form>
      {/* The day's totals are the reports' (the activity timed on this day
          in the organization's zone, as a manager's report shows it), once:
          the sessions below only say how each session was spent. */}
      <h2>Activity</h2>
      {activity.error && <p role="alert" className="error">{activity.error}</p>}
      {activity.data ? (
        <>
          <dl className="totals">
            <div><dt>Tracked</dt><dd data-testid="activity-total">{duration(activity.data.total_work_seconds)}</dd></div>
            <div><dt>Active</dt><dd data-testid="activity-active">{duration(activity.data.active_seconds)}</dd></div>
            <div><dt>Idle</dt><dd data-testid="activity-idle">{duration(activity.data.idle_seconds)}</dd></div>
            <div><dt>Productivity</dt><dd data-testid="activity-score">{activity.data.productivity_score} %</dd></div>
          </dl>
          <p className="hint">The time the agent reported on this day, as your reports count it. Idle is time it saw no input.</p>
          {activity.data.app_usage.length > 0 && <TopApps bars={topApps([activity.data])} title={`Applications of ${date}`} />}
        </>
      ) : (
        !activity.loading && !activity.error && <p>No activity summarized on this day yet.</p>
      )}
      <h2>Sessions</h2>
      {sessions.error && <p role="alert" className="error">{sessions.error}</p>}
      <Timeline spans={list.map((s) => ({ start: s.start_time, end: s.end_time, label: projectName(s.project_id) }))} dayStart={dayStart} now={now} title={`Sessions of ${date} on a 24-hour line`} />
      <div className="scroll">
        <table>
          <caption>Sessions of {date}</caption>
          <thead>
            <tr><th scope="col">Project</th><th scope="col">Start</th><th scope="col">End</th><th scope="col">Active in the session</th><th scope="col">Idle in the session</th><th scope="col">Last activity</th></tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.id}>
                <td>{projectName(s.project_id)}</td>
                <td>{clock(s.start_time)}</td>
                <td>{s.status === "active" ? "running" : clock(s.end_time)}</td>
                <td>{duration(s.total_active_seconds)}</td>
                <td>{duration(s.total_idle_seconds)}</td>
                <td>{clock(s.last_activity_at)}</td>
              </tr>
            ))}
            {sessions.data?.length === 0 && <tr><td colSpan={6}>No sessions on this day.</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  );
}
