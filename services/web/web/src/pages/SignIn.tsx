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
      } else if (err instanceof ApiError && err.code === "AUTH_SSO_REQUIRED")
        setError("Your organization signs in through its identity provider: use Sign in with SSO.");
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  // sso sends the browser to the organization's identity provider, found by
  // the email's domain (or the organization id when one is entered); it
  // comes back to /sso/callback.
  const sso = async () => {
    setError("");
    if (!email && !org) {
      setError("Enter your work email to sign in with SSO.");
      return;
    }
    setBusy(true);
    try {
      const r = await api<{ authorization_url: string }>("POST", "/auth/sso/start", org ? { organization_id: org } : { email });
      location.assign(r.authorization_url);
    } catch (err) {
      if (err instanceof ApiError && err.code === "SSO_NOT_CONFIGURED")
        setError("Single sign-on is not set up for this email's domain: sign in with your password.");
      else setError(message(err));
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
        <button type="button" className="secondary" disabled={busy} onClick={sso}>Sign in with SSO</button>
      </form>
      <p><Link href="/forgot">Forgot password?</Link></p>
    </section>
  );
}
