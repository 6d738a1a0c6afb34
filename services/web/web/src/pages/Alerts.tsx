import { useEffect, useState } from "react";
import { api, get, query, type Alert, type Member, getAll } from "../api";
import { useAuth } from "../auth";
import { message, useLoad } from "../hooks";
import { dateTime } from "../time";

export function Alerts() {
  const { user, feed } = useAuth();
  const [type, setType] = useState("");
  const [status, setStatus] = useState("open");
  const [error, setError] = useState("");
  const list = useLoad(() => get<Alert[]>(`/alerts${query({ type, status, limit: "200" })}`), [type, status]);
  const names = useLoad(
    () => (user?.role !== "employee" ? getAll<Member>("/users/employees") : Promise.resolve([] as Member[])),
    [user?.role],
  );
  const nameOf = (id: string) => names.data?.find((m) => m.id === id)?.name ?? (id === user?.id ? user.name : id.slice(0, 8));

  // New alerts arrive over the feed; the list reloads to show them in order.
  useEffect(() => feed?.subscribe((e) => e.event.startsWith("alert:") && list.reload()), [feed, list.reload]);

  const resolve = async (a: Alert) => {
    setError("");
    try {
      await api<Alert>("POST", `/alerts/${a.id}/resolve`);
      list.reload();
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <section>
      <h1>Alerts</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter alerts">
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All</option>
            <option value="idle">Idle</option>
            <option value="overtime">Overtime</option>
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
          </select>
        </label>
      </form>
      {(error || list.error) && <p role="alert" className="error">{error || list.error}</p>}
      <div className="scroll">
        <table>
          <caption>{{ admin: "The organization's alerts", manager: "Your teams' alerts and yours", employee: "Your alerts" }[user?.role ?? "employee"]}, newest first</caption>
          <thead>
            <tr><th scope="col">When</th><th scope="col">Person</th><th scope="col">Type</th><th scope="col">Message</th><th scope="col">Status</th></tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((a) => (
              <tr key={a.id}>
                <td>{dateTime(a.created_at)}</td>
                <td>{nameOf(a.user_id)}</td>
                <td>{a.alert_type}</td>
                <td>{a.message}</td>
                <td>
                  {a.resolved_at ? (
                    <>resolved {dateTime(a.resolved_at)}</>
                  ) : (
                    <button type="button" onClick={() => resolve(a)} aria-label={`Resolve the ${a.alert_type} alert of ${nameOf(a.user_id)} from ${dateTime(a.created_at)}`}>Resolve</button>
                  )}
                </td>
              </tr>
            ))}
            {list.data?.length === 0 && <tr><td colSpan={5}>No alerts.</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  );
}
