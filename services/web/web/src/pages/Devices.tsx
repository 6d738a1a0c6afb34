import { useRef, useState, type RefObject } from "react";
import { api, getAll, query, type Device, type IssuedDevice, type Member } from "../api";
import { useAuth } from "../auth";
import { Confirm } from "../dialog";
import { Field, Refusal, useAction } from "../form";
import { useLoad } from "../hooks";
import { dateTime } from "../time";

// Token shows a device token the API answers once: in a read-only field,
// selected on focus, so that a keyboard or a phone can copy it as well as
// the button, which falls back to the selection where the browser gives no
// clipboard (a page not served over HTTPS).
function Token({ issued, renewed }: { issued: IssuedDevice; renewed: boolean }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied("Copied to the clipboard.");
    } catch {
      field.current!.focus();
      field.current!.select();
      setCopied("Selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
  };
  return (
    <div className="token">
      <p>
        {renewed ? `A new token for ${issued.name}` : `${issued.name} is registered`}, valid until {dateTime(issued.expires_at)}.
        Paste this token into the agent{renewed ? ", whose old token stops working within seconds" : ""}; it is shown only now.
      </p>
      <label>
        Device token of {issued.name}
        <input ref={field} readOnly value={issued.token} data-testid="device-token" onFocus={(e) => e.target.select()} />
      </label>
      <button type="button" className="secondary" onClick={copy}>Copy the token</button>
      <span className="status">{copied}</span>
    </div>
  );
}

interface TableProps {
  caption: string;
  devices: Device[] | undefined;
  empty: string;
  // owner names the member of a device, for the table of others' devices.
  owner?: (d: Device) => string;
  onRenew?: (d: Device) => void;
  onRevoke: (d: Device) => void;
  box: RefObject<HTMLDivElement | null>;
}

// DeviceTable lists devices with their use and expiry, in the
// organization's zone, and the actions their reader may take on each.
function DeviceTable({ caption, devices, empty, owner, onRenew, onRevoke, box }: TableProps) {
  const cols = owner ? 6 : 5;
  return (
    <div className="scroll" ref={box} tabIndex={-1}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            {owner && <th scope="col">Member</th>}
            <th scope="col">Registered</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {(devices ?? []).map((d) => (
            <tr key={d.id} data-device={d.id}>
              <th scope="row">{d.name}</th>
              {owner && <td>{owner(d)}</td>}
              <td>{dateTime(d.created_at)}</td>
              <td data-testid="last-used">{d.last_used_at ? dateTime(d.last_used_at) : "never"}</td>
              <td>{dateTime(d.expires_at)}</td>
              <td className="row-actions">
                {onRenew && (
                  <button type="button" className="link" onClick={() => onRenew(d)}>
                    New token<span className="visually-hidden"> for {d.name}</span>
                  </button>
                )}
                <button type="button" className="link danger" aria-haspopup="dialog" onClick={() => onRevoke(d)}>
                  Revoke<span className="visually-hidden"> {d.name}{owner ? ` of ${owner(d)}` : ""}</span>
                </button>
              </td>
            </tr>
          ))}
          {devices?.length === 0 && <tr><td colSpan={cols}>{empty}</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

// gone explains the refusal of a device revoked or expired meanwhile, in
// another tab or by an admin.
const gone = { DEVICE_NOT_FOUND: "That device is already revoked or expired: reload the page." };

export function Devices() {
  const { user } = useAuth();
  const admin = user?.role === "admin";
  // An admin's GET /devices is the whole organization's: user_id keeps
  // their own table to their own devices.
  const own = useLoad(() => getAll<Device>(`/devices${query({ user_id: admin ? user?.id : undefined })}`), [admin, user?.id]);
  const [name, setName] = useState("");
  const [issued, setIssued] = useState<{ device: IssuedDevice; renewed: boolean }>();
  const register = useAction();
  const renewal = useAction(gone);
  const [done, setDone] = useState("");

  const [whose, setWhose] = useState("");
  const members = useLoad(() => (admin ? getAll<Member>("/users") : Promise.resolve([] as Member[])), [admin]);
  const others = useLoad(
    async () => (admin ? (await getAll<Device>(`/devices${query({ user_id: whose || undefined })}`)).filter((d) => d.user_id !== user?.id) : []),
    [admin, whose, user?.id],
  );
  const nameOf = (d: Device) => members.data?.find((m) => m.id === d.user_id)?.name ?? "a removed member";
  const ownBox = useRef<HTMLDivElement>(null);
  const othersBox = useRef<HTMLDivElement>(null);

  const create = async () => {
    setIssued(undefined);
    setDone("");
    setIssued({ device: await api<IssuedDevice>("POST", "/devices", { name }), renewed: false });
    setName("");
    own.reload();
  };
  const renew = (d: Device) =>
    renewal.run(async () => {
      setIssued(undefined);
      setDone("");
      setIssued({ device: await api<IssuedDevice>("POST", `/devices/${d.id}/renew`), renewed: true });
      own.reload();
    });
  // revoking is the device the revoke dialog is open for, and whether it is
  // the reader's own; once it is revoked the focus goes to the table its row
  // was in: the button that opened the dialog is gone.
  const [revoking, setRevoking] = useState<{ device: Device; mine: boolean }>();
  const revoked = ({ device: d, mine }: { device: Device; mine: boolean }) => {
    setRevoking(undefined);
    setDone(`${d.name}${mine ? "" : ` of ${nameOf(d)}`} is revoked: its agent is refused within seconds.`);
    if (issued?.device.id === d.id) setIssued(undefined);
    (mine ? own : others).reload();
    (mine ? ownBox : othersBox).current?.focus();
  };

  return (
    <section>
      <h1>Devices</h1>
      <p className="hint">
        A desktop agent signs in with a device token instead of your password. The token tracks your time only (sessions and
        activity) and lasts until it expires or the device is revoked.
      </p>
      <form className="card inline" onSubmit={register.submit(create)} aria-labelledby="register-device">
        <h2 id="register-device">Register a desktop agent</h2>
        <Field label="Device name" name="name" required maxLength={100} placeholder="e.g. Work laptop" value={name} onChange={setName} />
        <button type="submit" disabled={register.busy}>Register device</button>
        <Refusal error={register.error} />
        <div role="status" className="status wide">{issued && <Token issued={issued.device} renewed={issued.renewed} />}</div>
      </form>
      <Refusal error={own.error || renewal.error} />
      <div role="status" className="status">{done}</div>
      <DeviceTable caption="Your desktop agents" devices={own.data} empty="No devices yet." box={ownBox}
        onRenew={renew} onRevoke={(d) => setRevoking({ device: d, mine: true })} />
      {admin && (
        <>
          <h2 id="members-devices">Members' devices</h2>
          <form className="filters" onSubmit={(e) => e.preventDefault()} aria-labelledby="members-devices">
            <label>
              Whose
              <select value={whose} onChange={(e) => setWhose(e.target.value)}>
                <option value="">Every member</option>
                {(members.data ?? []).filter((m) => m.id !== user?.id).map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
              </select>
            </label>
          </form>
          <Refusal error={others.error} />
          <DeviceTable caption="Desktop agents of the organization's other members" devices={others.data} empty="No devices."
            owner={nameOf} box={othersBox} onRevoke={(d) => setRevoking({ device: d, mine: false })} />
          <p className="hint">Revoking a member's device signs its agent out; only the member can give it a new token.</p>
        </>
      )}
      {revoking && (
        <Confirm
          key={revoking.device.id}
          title={`Revoke ${revoking.device.name}${revoking.mine ? "" : ` of ${nameOf(revoking.device)}`}?`}
          what={`Its agent is refused within seconds and stops tracking; to track again ${revoking.mine ? "you register it" : "its member registers it"} anew and paste the new token into it.`}
          confirm={`Revoke ${revoking.device.name}`}
          busy="Revoking…"
          explain={gone}
          act={() => api("DELETE", `/devices/${revoking.device.id}`)}
          onClose={() => setRevoking(undefined)}
          onDone={() => revoked(revoking)}
        />
      )}
    </section>
  );
}
