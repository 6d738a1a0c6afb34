import { useRef, useState, type FormEvent } from "react";
import { api, ApiError, query, type Invitation, type Member, type Role, getAll } from "../api";
import { Confirm } from "../dialog";
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

// lastAdmin says what an admin can do about a change or removal refused
// because it would leave no active admin.
const lastAdmin = "The organization must keep at least one active admin: make someone else an admin first.";

function changeError(err: unknown): string {
  if (err instanceof ApiError && err.code === "USER_LAST_ADMIN") return lastAdmin;
  return message(err);
}

type Keep = "keep" | "erase";

// RemoveDialog asks an admin to confirm removing a member and whether their
// data stays.
function RemoveDialog({ member, onClose, onRemoved }: { member: Member; onClose: () => void; onRemoved: (m: Member, data: Keep) => void }) {
  const [data, setData] = useState<Keep>("keep");
  return (
    <Confirm
      title={`Remove ${member.name}?`}
      what={`${member.name} (${member.email}) loses their account: they are signed out everywhere, a running session of theirs stops, and they can be invited again. What they recorded:`}
      confirm={`Remove ${member.name}`}
      busy="Removing…"
      explain={{ USER_LAST_ADMIN: lastAdmin }}
      act={() => api("DELETE", `/users/${member.id}${query({ data })}`)}
      onClose={onClose}
      onDone={() => onRemoved(member, data)}
    >
      <fieldset>
        <legend>Their data</legend>
        <label className="choice">
          <input type="radio" name="data" value="keep" checked={data === "keep"} onChange={() => setData("keep")} />
          <span>Keep it: their sessions, activity, reports and alerts stay in the organization's reports, under their name.</span>
        </label>
        <label className="choice">
          <input type="radio" name="data" value="erase" checked={data === "erase"} onChange={() => setData("erase")} />
          <span>Erase it: everything recorded of them is deleted for good, within seconds. This cannot be undone.</span>
        </label>
      </fieldset>
    </Confirm>
  );
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
  // removing is the member the remove dialog is open for; table takes the
  // focus back when their row, and the button that opened it, is gone.
  const [removing, setRemoving] = useState<Member>();
  const table = useRef<HTMLDivElement>(null);
  const removed = (m: Member, data: Keep) => {
    setRemoving(undefined);
    setChangeErr("");
    setChanged(`${m.name} is removed${data === "erase" ? " and their data erased" : "; their data is kept"}.`);
    list.reload();
    table.current?.focus();
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
      <div className="scroll" ref={table} tabIndex={-1}>
        <table>
          <caption>The organization's members</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Joined</th><th scope="col"><span className="visually-hidden">Remove</span></th></tr>
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
                <td>
                  <button type="button" className="link danger" aria-haspopup="dialog" onClick={() => setRemoving(m)}>
                    Remove<span className="visually-hidden"> {m.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {removing && <RemoveDialog key={removing.id} member={removing} onClose={() => setRemoving(undefined)} onRemoved={removed} />}
      <p className="hint">
        A changed role reaches the member's open pages at their next request, which renews their sign-in with it; a deactivated
        member is signed out everywhere within seconds. Managers see the board, reports and alerts of their teams' members.
      </p>
    </section>
  );
}
