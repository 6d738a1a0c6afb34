import { useEffect, useState } from "react";
import { api, ApiError, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { message } from "../hooks";
import { Link } from "../router";

// finishing remembers the states already posted: a state works once, and
// React may run the effect twice for the same page.
const finishing = new Map<string, Promise<AuthResponse>>();

function finish(code: string, state: string): Promise<AuthResponse> {
  let p = finishing.get(state);
  if (!p) {
    p = api<AuthResponse>("POST", "/auth/sso/callback", { code, state });
    finishing.set(state, p);
  }
  return p;
}

const reasons: Record<string, string> = {
  SSO_STATE_INVALID: "This sign-in expired or was started in another browser. Start it again.",
  SSO_EMAIL_UNVERIFIED: "Your identity provider has not verified your email address.",
  SSO_DOMAIN_NOT_ALLOWED: "Your email's domain does not sign in to this organization.",
  SSO_LOGIN_FAILED: "Your identity provider did not confirm the sign-in. Start it again.",
};

// SsoCallback is where the identity provider sends the browser back: it
// passes the code and state on to the API and signs the person in.
export function SsoCallback() {
  const { signIn } = useAuth();
  const [error, setError] = useState("");
  useEffect(() => {
    const q = new URLSearchParams(location.search);
    const code = q.get("code"), state = q.get("state");
    if (q.get("error") || !code || !state) {
      setError(q.get("error_description") || "The identity provider did not sign you in.");
      return;
    }
    // The code and state leave the address bar and the history.
    history.replaceState(null, "", "/sso/callback");
    finish(code, state)
      .then(signIn)
      .catch((err) => setError(err instanceof ApiError && reasons[err.code] ? reasons[err.code] : message(err)));
  }, [signIn]);

  return (
    <section className="card signin">
      <h1>Signing in with SSO</h1>
      {error ? (
        <>
          <p role="alert" className="error">{error}</p>
          <p><Link href="/signin">Back to sign in</Link></p>
        </>
      ) : (
        <p role="status">Signing you in…</p>
      )}
    </section>
  );
}
