import { useState } from "react";
import { api } from "../api";
import { Card, Field, Refusal, useAction, useNewPassword } from "../form";
import { fragment, Link, useLocation } from "../router";

// ForgotPassword asks for a reset link. The answer is the same whether or
// not the email has an account, and so is what the page says.
export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const { busy, error, submit } = useAction({
    AUTH_MAIL_UNAVAILABLE: "This installation sends no email. Ask your administrator to reset your password.",
  });

  const ask = async () => {
    await api("POST", "/auth/password-reset", { email });
    setSent(true);
  };

  return (
    <Card title="Reset your password">
      {sent ? (
        <p role="status">If an account uses {email}, a link to choose a new password is on its way. It works once, for an hour.</p>
      ) : (
        <form onSubmit={submit(ask)}>
          <p>Enter your email and we send you a link to choose a new password.</p>
          <Field label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={setEmail} />
          <Refusal error={error} />
          <button type="submit" disabled={busy}>{busy ? "Sending…" : "Send the link"}</button>
        </form>
      )}
      <p><Link href="/signin">Back to sign in</Link></p>
    </Card>
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
  const password = useNewPassword("New password", "new-password");
  const [done, setDone] = useState(false);
  const { busy, error, submit } = useAction({
    AUTH_RESET_TOKEN_INVALID: "This link cannot be used: it is unknown, used already or expired. Ask for a new one.",
  });

  const reset = async () => {
    await api("POST", "/auth/password-reset/confirm", { token, new_password: password.value() });
    history.replaceState(null, "", "/reset");
    setDone(true);
  };

  if (done)
    return (
      <Card title="Your password is changed">
        <p role="status">You are signed out everywhere. Sign in with your new password.</p>
        <p><Link href="/signin">Sign in</Link></p>
      </Card>
    );
  return (
    <Card title="Choose a new password">
      {!token ? (
        <p role="alert" className="error">This page opens from the link in the reset email. <Link href="/forgot">Ask for a link</Link>.</p>
      ) : (
        <form onSubmit={submit(reset)}>
          {password.fields}
          <Refusal error={error} />
          <button type="submit" disabled={busy}>{busy ? "Saving…" : "Set the password"}</button>
        </form>
      )}
      {error && token && <p><Link href="/forgot">Ask for a new link</Link></p>}
    </Card>
  );
}
