import { useState, type FormEvent } from "react";
import { api, ApiError, type Invitation, type Member, type Role, getAll } from "../api";
import { message, useLoad } from "../hooks";
import { dateTime } from "../time";

// joinLink opens the invitation page with the token in the fragment, which
// browsers never send to a server.
function joinLink(inv: Invitation): string {
  return `${location.origin}/join#${new URLSearchParams({ token: inv.token, email: inv.email })}`;
}

const roles: { value: Role; label: string }[] = [
  { value: "employee", label: "Employee" },
  { value: "manager", label: "Manager" },
  { value: "admin", label: "Admin" },
];

// changeError says what an admin can do about a refused change.
function changeError(err: unknown): string {
  if (err instanceof ApiError && err.code === "USER_LAST_ADMIN")
    return "The organization must keep at least one active admin: make someone else an admin first.";
  return message(err);
}

export function People() {
  const list = useLoad(() => getAll<Member>("/users"), []);
  const [changeErr, setChangeErr] = useState("");
  const [changed, setChanged] = useState("");

  const change = async (m: Member, patch: { role?: Role; active?: boolean }, done: string) => {
    setChangeErr("");
    setChanged("");
    try {
      await api<Member>("PATCH", `/users/${m.id}`, patch);
      setChanged(done);
    } catch (err) {
      setChangeErr(changeError(err));
    }
    list.reload();
  };
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("employee");
  const [error, setError] = useState("");
  const [invited, setInvited] = useState<Invitation>();

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    setInvited(undefined);
    try {
      setInvited(await api<Invitation>("POST", "/users/invitations", { email, role }));
      setEmail("");
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <section>
      <h1>People</h1>
      <form className="card inline" onSubmit={invite} aria-labelledby="invite">
        <h2 id="invite">Invite someone</h2>
        <label>
          Email
          <input name="email" type="email" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Role
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roles.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
          </select>
        </label>
        <button type="submit">Send invitation</button>
        {error && <p role="alert" className="error">{error}</p>}
        <div role="status" className="status">
          {invited && (
            <p>
              Invitation for {invited.email} ({invited.role}), valid until {dateTime(invited.expires_at)}. Send them this link, shown
              only now: <code className="invite-link" data-testid="invitation-link">{joinLink(invited)}</code>
              <br />
              Its invitation token, for someone who registers by the API: <code className="invite-link" data-testid="invitation-token">{invited.token}</code>
            </p>
          )}
        </div>
      </form>
      {list.error && <p role="alert" className="error">{list.error}</p>}
      <div role="alert" className="error">{changeErr}</div>
      <div role="status" className="status">{changed}</div>
      <div className="scroll">
        <table>
          <caption>The organization's members</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Joined</th></tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((m) => (
              <tr key={m.id}>
                <th scope="row">{m.name}</th>
                <td>{m.email}</td>
                <td>
                  <select aria-label={`Role of ${m.name}`} value={m.role}
                    onChange={(e) => change(m, { role: e.target.value as Role }, `${m.name} is now ${e.target.value}.`)}>
                    {roles.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
                  </select>
                </td>
                <td>
                  {m.active ? "active" : "deactivated"}{" "}
                  <button type="button" className="link" onClick={() => change(m, { active: !m.active }, `${m.name} is ${m.active ? "deactivated" : "active again"}.`)}>
                    {m.active ? "Deactivate" : "Reactivate"}<span className="visually-hidden"> {m.name}</span>
                  </button>
                </td>
                <td>{dateTime(m.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        A changed role reaches the member's open pages at their next request, which renews their sign-in with it; a deactivated
        member is signed out everywhere within seconds. Managers have an employee's access for now.
      </p>
    </section>
  );
}
