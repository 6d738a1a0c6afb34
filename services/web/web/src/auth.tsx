// The signed-in user for the pages: the session (session.ts keeps and renews
// its tokens) and the realtime feed, opened once per sign-in.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { type AuthResponse, type User } from "./api";
import { navigate } from "./router";
import { accessToken, renew, session, signOut as endSession, start, subscribe } from "./session";
import { Feed } from "./ws";

interface Auth {
  user: User | null;
  feed: Feed | null;
  signIn: (r: AuthResponse) => void;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState(() => session()?.user ?? null);
  useEffect(() => subscribe((s) => setUser(s?.user ?? null)), []);
  const signIn = useCallback((r: AuthResponse) => start(r), []);
  const signOut = useCallback(async () => {
    // The server ends the session's refresh tokens at once; without this a
    // copied refresh token would go on working for its 30 days. Signing out
    // lands on the sign-in page itself, not on one that returns to the page
    // left: whoever signs in next may be someone else.
    await endSession(() => navigate("/signin", true));
  }, []);
  const [feed, setFeed] = useState<Feed | null>(null);
  // The feed follows the signed-in member, not each renewed token: it asks
  // for the current token whenever it connects.
  const uid = user?.id;
  useEffect(() => {
    if (!uid) return;
    const f = new Feed(accessToken, renew);
    setFeed(f);
    return () => {
      f.close();
      setFeed(null);
    };
  }, [uid]);
  const value = useMemo(() => ({ user, feed, signIn, signOut }), [user, feed, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
