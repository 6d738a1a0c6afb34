import { useState } from "react";
import { api, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { Card, Field, Refusal, useAction, useNewPassword } from "../form";
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
  const password = useNewPassword("Password", "password");
  const { busy, error, submit } = useAction({
    AUTH_INVITATION_INVALID:
      "This invitation cannot be used: it is unknown, used already, expired, or for another email. Ask your administrator for a new one.",
  });

  const join = async () => {
    const r = await api<AuthResponse>("POST", "/auth/register", {
      email, name, password: password.value(), invitation_token: token.trim(),
    });
    history.replaceState(null, "", "/join");
    signIn(r);
  };

  return (
    <Card title="Join your team on WorkPulse">
      <p>Choose your name and a password to accept the invitation.</p>
      <form onSubmit={submit(join)}>
        <Field label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={setEmail} />
        <Field label="Your name" name="name" autoComplete="name" required minLength={2} maxLength={200} value={name} onChange={setName} />
        {password.fields}
        {!link.token && <Field label="Invitation token" name="invitation_token" required value={token} onChange={setToken} />}
        <Refusal error={error} />
        <button type="submit" disabled={busy}>{busy ? "Joining…" : "Join"}</button>
      </form>
    </Card>
  );
}
