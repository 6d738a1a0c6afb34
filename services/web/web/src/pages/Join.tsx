import { useState, type FormEvent } from "react";
import { api, ApiError, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { message } from "../hooks";
import { fragment, useLocation } from "../router";

interface Invitation {
  token: string;
  email: string;
}

// Join accepts an invitation from the link People hands out,
// /join#token=…&email=…. Each link gets a form of its own: a second link
// opened in the same tab is another invitation, whatever was typed for the
// first.
export function Join() {
  const url = useLocation();
  const q = fragment(url);
  return <JoinForm key={url.hash} link={{ token: q.get("token") ?? "", email: q.get("email") ?? "" }} />;
}

// JoinForm: the invited person picks their name and password, registers
// with the invitation's token and is signed in.
function JoinForm({ link }: { link: Invitation }) {
  const { signIn } = useAuth();
  const [token, setToken] = useState(link.token);
  const [email, setEmail] = useState(link.email);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    if (password !== again) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    try {
      const r = await api<AuthResponse>("POST", "/auth/register", {
        email, name, password, invitation_token: token.trim(),
      });
      history.replaceState(null, "", "/join");
      signIn(r);
    } catch (err) {
      if (err instanceof ApiError && err.code === "AUTH_INVITATION_INVALID")
        setError("This invitation cannot be used: it is unknown, used already, expired, or for another email. Ask your administrator for a new one.");
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card signin">
      <h1>Join your team on WorkPulse</h1>
      <p>Choose your name and a password to accept the invitation.</p>
      <form onSubmit={submit}>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Your name
          <input name="name" autoComplete="name" required minLength={2} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="new-password" required minLength={8} maxLength={128} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label>
          Password again
          <input type="password" name="password-again" autoComplete="new-password" required minLength={8} maxLength={128} value={again} onChange={(e) => setAgain(e.target.value)} />
        </label>
        {!link.token && (
          <label>
            Invitation token
            <input name="invitation_token" required value={token} onChange={(e) => setToken(e.target.value)} />
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? "Joining…" : "Join"}</button>
      </form>
    </section>
  );
}
