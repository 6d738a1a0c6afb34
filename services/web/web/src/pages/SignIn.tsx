import { useState, type FormEvent } from "react";
import { api, ApiError, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { message } from "../hooks";
import { Link } from "../router";

export function SignIn() {
  const { signIn } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [org, setOrg] = useState("");
  const [needOrg, setNeedOrg] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await api<AuthResponse>("POST", "/auth/login", {
        email,
        password,
        ...(org ? { organization_id: org } : {}),
      });
      signIn(r);
    } catch (err) {
      if (err instanceof ApiError && err.code === "AUTH_ORGANIZATION_REQUIRED") {
        setNeedOrg(true);
        setError("This email belongs to several organizations: enter the id of the one to sign in to.");
      } else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card signin">
      <h1>Sign in to WorkPulse</h1>
      <form onSubmit={submit} noValidate={false}>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {needOrg && (
          <label>
            Organization id
            <input name="organization_id" required value={org} onChange={(e) => setOrg(e.target.value)} />
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
      <p><Link href="/forgot">Forgot password?</Link></p>
    </section>
  );
}
