import { useState } from "react";
import { api, csv, get, query, type Member, type Summary, getAll } from "../api";
import { useAuth } from "../auth";
import { BarChart, TrendChart } from "../Chart";
import { TopApps, topApps } from "../TopApps";
import { message, useLoad } from "../hooks";
import { days, duration, period, shift, today, type View } from "../time";

interface Totals {
  label: string;
  active: number;
  idle: number;
  sessions: number;
}

function sum(list: Summary[], key: (s: Summary) => string): Totals[] {
  const by = new Map<string, Totals>();
  for (const s of list) {
    const k = key(s);
    const t = by.get(k) ?? { label: k, active: 0, idle: 0, sessions: 0 };
    t.active += s.active_seconds;
    t.idle += s.idle_seconds;
    t.sessions += s.sessions_count;
    by.set(k, t);
  }
  return [...by.values()];
}

const score = (t: Totals) => (t.active + t.idle ? Math.round((t.active / (t.active + t.idle)) * 10000) / 100 : 0);

const viewNames: Record<View, string> = { day: "Day", week: "Week", month: "Month" };

export function Reports() {
  const { user } = useAuth();
  const admin = user?.role === "admin";
  // Admins and managers read others' reports: a manager their teams' members'.
  const lead = admin || user?.role === "manager";
  // A day, week or month around date, or a range of the reader's choosing.
  const [view, setView] = useState<View | "range">("day");
  const [date, setDate] = useState(today());
  const [from, setFrom] = useState(today());
  const [to, setTo] = useState(today());
  const { start, end } = view === "range" ? { start: from, end: to } : period(view, date);
  // who is "team" (admins and managers) or a user id.
  const [who, setWho] = useState(lead ? "team" : user!.id);
  const [status, setStatus] = useState("");
  const members = useLoad(() => (lead ? getAll<Member>("/users/employees") : Promise.resolve([] as Member[])), [lead]);
  const path = who === "team" ? "/reports/organization" : `/reports/user/${who}`;
  const range = { startDate: start, endDate: end };
  const report = useLoad(() => get<Summary[]>(path + query(range)), [path, start, end]);

  const list = report.data ?? [];
  const byLabel = (a: Totals, b: Totals) => a.label.localeCompare(b.label);
  const perDay = sum(list, (s) => s.date);
  const rows = who === "team" ? sum(list, (s) => s.user_name).sort(byLabel) : perDay.sort(byLabel);
  const total = rows.reduce((t, r) => ({ ...t, active: t.active + r.active, idle: t.idle + r.idle, sessions: t.sessions + r.sessions }), { label: "Total", active: 0, idle: 0, sessions: 0 });
  const dayTotals = new Map(perDay.map((t) => [t.label, t]));
  const trend = days(start, end).map((d) => {
    const t = dayTotals.get(d);
    return { label: d, value: t && t.active + t.idle > 0 ? score(t) : null };
  });
  const apps = topApps(list);
  const whoName = who === "team" ? "the team" : (members.data?.find((m) => m.id === who)?.name ?? user!.name);
  const span = start === end ? start : `${start} to ${end}`;

  const download = async () => {
    setStatus("");
    try {
      // The same whose and dates as the page shows, so the file holds its numbers.
      const blob = await csv(path + query({ ...range, format: "csv" }));
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `workpulse-${who === "team" ? "team" : "user"}-${view}-${start}-${end}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      URL.revokeObjectURL(a.href);
      setStatus("The CSV file is downloaded.");
    } catch (e) {
      setStatus(message(e));
    }
  };

  const summarize = async () => {
    setStatus("");
    try {
      await api("POST", "/jobs/trigger/daily-summary", { date: end });
      setStatus(`Summaries of ${end} are being computed; reload in a moment.`);
    } catch (e) {
      setStatus(message(e));
    }
  };

  const pickView = (v: View | "range") => {
    if (v === "range") {
      setFrom(start);
      setTo(end);
    }
    setView(v);
  };

  return (
    <section>
      <h1>Reports</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Report period">
        {lead && (
          <label>
            Whose
            <select value={who} onChange={(e) => setWho(e.target.value)}>
              <option value="team">The team</option>
              {(members.data ?? []).map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
            </select>
          </label>
        )}
        <label>
          View
          <select value={view} onChange={(e) => pickView(e.target.value as View | "range")}>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
            <option value="range">Date range</option>
          </select>
        </label>
        {view === "range" ? (
          <>
            <label>
              From
              <input type="date" value={from} max={to} onChange={(e) => e.target.value && setFrom(e.target.value)} />
            </label>
            <label>
              To
              <input type="date" value={to} min={from} max={today()} onChange={(e) => e.target.value && setTo(e.target.value)} />
            </label>
          </>
        ) : (
          <>
            <label>
              {view === "day" ? "Date" : `A day of the ${view}`}
              <input type="date" value={date} max={today()} onChange={(e) => e.target.value && setDate(e.target.value)} />
            </label>
            <div className="period">
              <button type="button" onClick={() => setDate(shift(view, date, -1))}>Previous {view}</button>
              <button type="button" onClick={() => setDate(shift(view, date, 1))} disabled={end >= today()}>Next {view}</button>
            </div>
          </>
        )}
        <button type="button" onClick={download}>Download CSV</button>
        {admin && <button type="button" onClick={summarize}>Compute summaries</button>}
      </form>
      <p className="hint" data-testid="report-period">{view === "range" ? "Date range" : viewNames[view]}: {span}</p>
      <p role="status" className="status">{status}</p>
      {report.error && <p role="alert" className="error">{report.error}</p>}
      <dl className="totals">
        <div><dt>Tracked</dt><dd data-testid="report-total">{duration(total.active + total.idle)}</dd></div>
        <div><dt>Active</dt><dd data-testid="report-active">{duration(total.active)}</dd></div>
        <div><dt>Idle</dt><dd data-testid="report-idle">{duration(total.idle)}</dd></div>
        <div><dt>Productivity</dt><dd data-testid="report-score">{score(total)} %</dd></div>
      </dl>
      {rows.length > 0 ? (
        <>
          {trend.length > 1 && (
            <>
              <h2>Productivity per day</h2>
              <TrendChart points={trend} title={`Productivity of ${whoName} per day, ${span}`} />
            </>
          )}
          <h2>{who === "team" ? "Active and idle time per person" : "Active and idle time per day"}</h2>
          <BarChart bars={rows} title={`Active and idle time of ${whoName}, ${span}`} />
        </>
      ) : (
        !report.loading && <p>No summaries for this period yet{admin ? ": compute them, or wait for the nightly job" : ""}.</p>
      )}
      {apps.length > 0 && (
        <>
          <h2>Top applications</h2>
          <TopApps bars={apps} title={`Top applications of ${whoName}, ${span}`} />
        </>
      )}
      <div className="scroll">
        <table>
          <caption>{who === "team" ? "Per person" : "Per day"}, {span}</caption>
          <thead>
            <tr><th scope="col">{who === "team" ? "Person" : "Date"}</th><th scope="col">Tracked</th><th scope="col">Active</th><th scope="col">Idle</th><th scope="col">Productivity</th><th scope="col">Sessions</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td>{duration(r.active + r.idle)}</td>
                <td>{duration(r.active)}</td>
                <td>{duration(r.idle)}</td>
                <td>{score(r)} %</td>
                <td>{r.sessions}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
