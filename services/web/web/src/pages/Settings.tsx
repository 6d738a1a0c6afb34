import { useEffect, useState, type FormEvent } from "react";
import { api, type Organization } from "../api";
import { message } from "../hooks";
import { useOrg } from "../org";

// The numbers an admin may set, with their ranges as the API checks them;
// 0 is the installation's default.
const numbers = [
  { key: "idle_threshold_seconds", label: "Idle after (seconds)", min: 60, max: 86400 },
  { key: "inactive_threshold_seconds", label: "Inactive after (seconds)", min: 60, max: 86400 },
  { key: "overtime_threshold_hours", label: "Overtime after (hours a day)", min: 1, max: 24 },
  { key: "activity_window_days", label: "Accept activity up to (days back)", min: 1, max: 366 },
  { key: "retention_months", label: "Keep data for (months)", min: 1, max: 120 },
] as const;

type Key = (typeof numbers)[number]["key"];

function zones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

export function Settings() {
  const { org, reload } = useOrg();
  const [zone, setZone] = useState("");
  const [values, setValues] = useState<Record<Key, string>>({} as Record<Key, string>);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  useEffect(() => {
    if (!org) return;
    setZone(org.time_zone);
    setValues(Object.fromEntries(numbers.map((n) => [n.key, String(org[n.key] ?? 0)])) as Record<Key, string>);
  }, [org]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    setStatus("");
    try {
      const body: Record<string, string | number> = { time_zone: zone };
      for (const n of numbers) body[n.key] = Number(values[n.key] || 0);
      await api<Organization>("PATCH", "/organization", body);
      setStatus("Settings saved.");
      reload();
    } catch (err) {
      setError(message(err));
    }
  };

  if (!org) return <section><h1>Organization settings</h1><p role="alert" className="error">The settings could not be loaded.</p></section>;
  return (
    <section>
      <h1>Organization settings</h1>
      <p>
        {org.name}
        {org.plan_type ? ` · plan ${org.plan_type}` : ""}
      </p>
      {org.managed && (
        <p className="hint" id="managed">
          A WorkPulseTenant manages this organization: its settings change in the WorkPulseTenant, not here.
        </p>
      )}
      <form className="card settings" onSubmit={save} aria-labelledby="org-settings">
        <h2 id="org-settings">Time zone and thresholds</h2>
        <fieldset disabled={org.managed} aria-describedby={org.managed ? "managed" : undefined}>
          <legend>Every time is shown, and every day counted, in the time zone. A number of 0 is the installation's default.</legend>
          <label>
            Time zone
            <input name="time_zone" required list="zones" value={zone} onChange={(e) => setZone(e.target.value)} />
          </label>
          <datalist id="zones">
            {zones().map((z) => <option key={z} value={z} />)}
          </datalist>
          {numbers.map((n) => (
            <label key={n.key}>
              {n.label}
              <input
                name={n.key}
                type="number"
                inputMode="numeric"
                min={0}
                max={n.max}
                value={values[n.key] ?? "0"}
                onChange={(e) => setValues({ ...values, [n.key]: e.target.value })}
              />
              <small className="hint">0, or {n.min} to {n.max}</small>
            </label>
          ))}
          <button type="submit">Save settings</button>
        </fieldset>
        {error && <p role="alert" className="error">{error}</p>}
        <p role="status" className="status">{status}</p>
      </form>
    </section>
  );
}
