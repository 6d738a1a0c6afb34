import { useState, type FormEvent } from "react";
import { api, type Invitation, type Member, type Role, getAll } from "../api";
import { message, useLoad } from "../hooks";
import { dateTime } from "../time";

// joinLink opens the invitation page with the token in the fragment, which
// browsers never send to a server.
function joinLink(inv: Invitation): string {
  return `${location.origin}/join#${new URLSearchParams({ token: inv.token, email: inv.email })}`;
}

export function People() {
  const list = useLoad(() => getAll<Member>("/users/employees"), []);
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
            <option value="employee">Employee</option>
            <option value="admin">Admin</option>
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
                <td>{m.role}</td>
                <td>{m.active ? "active" : "deactivated"}</td>
                <td>{dateTime(m.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">Roles cannot be changed and members cannot be deactivated yet: the API has no endpoint for either.</p>
    </section>
  );
}
