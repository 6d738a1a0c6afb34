// The signed-in user: the access token and its user, kept in localStorage so a
// reload stays signed in until the token expires.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { setToken, type User } from "./api";
import { Feed } from "./ws";

interface Auth {
  user: User | null;
  token: string;
  feed: Feed | null;
  signIn: (token: string, user: User) => void;
  signOut: () => void;
}

const AuthContext = createContext<Auth | null>(null);
const storageKey = "workpulse.session";

function expired(token: string): boolean {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.exp === "number" && claims.exp * 1000 <= Date.now();
  } catch {
    return true;
  }
}

function stored(): { token: string; user: User } | null {
  try {
    const s = JSON.parse(localStorage.getItem(storageKey) ?? "null");
    if (s && typeof s.token === "string" && !expired(s.token)) return s;
  } catch {
    // a damaged entry is as good as none
  }
  return null;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState(stored);
  const signOut = useCallback(() => {
    localStorage.removeItem(storageKey);
    setState(null);
  }, []);
  const signIn = useCallback((token: string, user: User) => {
    localStorage.setItem(storageKey, JSON.stringify({ token, user }));
    setState({ token, user });
  }, []);
  // The token is set before children render, so their first requests carry it.
  setToken(state?.token ?? "", signOut);
  const [feed, setFeed] = useState<Feed | null>(null);
  useEffect(() => {
    if (!state) return;
    const f = new Feed(state.token);
    setFeed(f);
    return () => {
      f.close();
      setFeed(null);
    };
  }, [state]);
  const value = useMemo(
    () => ({ user: state?.user ?? null, token: state?.token ?? "", feed, signIn, signOut }),
    [state, feed, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
