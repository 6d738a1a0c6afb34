import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import { message } from "../hooks";
import { fragment, Link, useLocation } from "../router";

// ForgotPassword asks for a reset link. The answer is the same whether or
// not the email has an account, and so is what the page says.
export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api("POST", "/auth/password-reset", { email });
      setSent(true);
    } catch (err) {
      if (err instanceof ApiError && err.code === "AUTH_MAIL_UNAVAILABLE")
        setError("This installation sends no email. Ask your administrator to reset your password.");
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card signin">
      <h1>Reset your password</h1>
      {sent ? (
        <p role="status">If an account uses {email}, a link to choose a new password is on its way. It works once, for an hour.</p>
      ) : (
        <form onSubmit={submit}>
          <p>Enter your email and we send you a link to choose a new password.</p>
          <label>
            Email
            <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" disabled={busy}>{busy ? "Sending…" : "Send the link"}</button>
        </form>
      )}
      <p><Link href="/signin">Back to sign in</Link></p>
    </section>
  );
}

// ResetPassword sets a new password with the token of the reset mail's
// link, /reset#token=…; a second link opened in the same tab gets a form of
// its own.
export function ResetPassword() {
  const url = useLocation();
  return <ResetForm key={url.hash} token={fragment(url).get("token") ?? ""} />;
}

function ResetForm({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
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
      await api("POST", "/auth/password-reset/confirm", { token, new_password: password });
      history.replaceState(null, "", "/reset");
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError && err.code === "AUTH_RESET_TOKEN_INVALID")
        setError("This link cannot be used: it is unknown, used already or expired. Ask for a new one.");
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <section className="card signin">
        <h1>Your password is changed</h1>
        <p role="status">You are signed out everywhere. Sign in with your new password.</p>
        <p><Link href="/signin">Sign in</Link></p>
      </section>
    );
  return (
    <section className="card signin">
      <h1>Choose a new password</h1>
      {!token ? (
        <p role="alert" className="error">This page opens from the link in the reset email. <Link href="/forgot">Ask for a link</Link>.</p>
      ) : (
        <form onSubmit={submit}>
          <label>
            New password
            <input type="password" name="new-password" autoComplete="new-password" required minLength={8} maxLength={128} value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <label>
            New password again
            <input type="password" name="new-password-again" autoComplete="new-password" required minLength={8} maxLength={128} value={again} onChange={(e) => setAgain(e.target.value)} />
          </label>
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" disabled={busy}>{busy ? "Saving…" : "Set the password"}</button>
        </form>
      )}
      {error && token && <p><Link href="/forgot">Ask for a new link</Link></p>}
    </section>
  );
}
