// What the forms share: one action at a time with its refusal shown in the
// form, and, for the signed-out pages (sign in, joining, the password reset),
// their card, labelled fields and a new password typed twice.
import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import { ApiError } from "./api";
import { message } from "./hooks";

// useAction runs a form's actions one at a time: busy while one runs, error
// why the last failed, in explain's words for the API's error codes the page
// can say more about, else in the API's (or the thrown Error's) own.
export function useAction(explain: Record<string, string> = {}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const run = async (act: () => Promise<void>) => {
    setError("");
    setBusy(true);
    try {
      await act();
    } catch (err) {
      setError(err instanceof ApiError && explain[err.code] ? explain[err.code] : message(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = (act: () => Promise<void>) => (e: FormEvent) => {
    e.preventDefault();
    void run(act);
  };
  return { busy, error, run, submit };
}

export function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card signin">
      <h1>{title}</h1>
      {children}
    </section>
  );
}

export function Refusal({ error }: { error: string }) {
  return error ? <p role="alert" className="error">{error}</p> : null;
}

type FieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange"> & {
  label: string;
  value: string;
  onChange: (value: string) => void;
};

export function Field({ label, value, onChange, ...input }: FieldProps) {
  return (
    <label>
      {label}
      <input {...input} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

// useNewPassword is a new password typed twice, in fields labelled label and
// "label again"; value throws when the two differ, which the form's action
// shows as its refusal.
export function useNewPassword(label: string, name: string) {
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const rules = { type: "password", autoComplete: "new-password", required: true, minLength: 8, maxLength: 128 } as const;
  return {
    fields: (
      <>
        <Field label={label} name={name} {...rules} value={password} onChange={setPassword} />
        <Field label={`${label} again`} name={`${name}-again`} {...rules} value={again} onChange={setAgain} />
      </>
    ),
    value: () => {
      if (password !== again) throw new Error("The two passwords differ.");
      return password;
    },
  };
}
