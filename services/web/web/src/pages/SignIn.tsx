import { useState } from "react";
import { api, ApiError, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { Card, Field, Refusal, useAction } from "../form";
import { Link } from "../router";

export function SignIn() {
  const { signIn } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [org, setOrg] = useState("");
  const [needOrg, setNeedOrg] = useState(false);
  const { busy, error, run, submit } = useAction({
    AUTH_ORGANIZATION_REQUIRED: "This email belongs to several organizations: enter the id of the one to sign in to.",
    AUTH_SSO_REQUIRED: "Your organization signs in through its identity provider: use Sign in with SSO.",
    SSO_NOT_CONFIGURED: "Single sign-on is not set up for this email's domain: sign in with your password.",
  });

  const login = async () => {
    try {
      signIn(await api<AuthResponse>("POST", "/auth/login", { email, password, ...(org ? { organization_id: org } : {}) }));
    } catch (err) {
      if (err instanceof ApiError && err.code === "AUTH_ORGANIZATION_REQUIRED") setNeedOrg(true);
      throw err;
    }
  };

  // sso sends the browser to the organization's identity provider, found by
  // the email's domain (or the organization id when one is entered); it
  // comes back to /sso/callback.
  const sso = async () => {
    if (!email && !org) throw new Error("Enter your work email to sign in with SSO.");
    const r = await api<{ authorization_url: string }>("POST", "/auth/sso/start", org ? { organization_id: org } : { email });
    location.assign(r.authorization_url);
  };

  return (
    <Card title="Sign in to WorkPulse">
      <form onSubmit={submit(login)}>
        <Field label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={setEmail} />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={setPassword} />
        {needOrg && <Field label="Organization id" name="organization_id" required value={org} onChange={setOrg} />}
        <Refusal error={error} />
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
        <button type="button" className="secondary" disabled={busy} onClick={() => run(sso)}>Sign in with SSO</button>
      </form>
      <p><Link href="/forgot">Forgot password?</Link></p>
    </Card>
  );
}
