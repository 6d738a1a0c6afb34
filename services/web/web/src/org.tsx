// The signed-in user's organization: its time zone is the one every time in
// the app is shown in (time.ts), and admins read and change its settings.
import { createContext, useContext, type ReactNode } from "react";
import { get, type Organization } from "./api";
import { useLoad } from "./hooks";
import { setZone } from "./time";

interface Org {
  org: Organization | undefined;
  reload: () => void;
}

const OrgContext = createContext<Org>({ org: undefined, reload: () => {} });

// OrgProvider renders its children once the organization is known, so that
// no page shows a time in another zone first. Should the request fail, the
// pages still render, in the browser's zone.
export function OrgProvider({ userID, children }: { userID: string; children: ReactNode }) {
  const loaded = useLoad(() => get<Organization>("/organization"), [userID]);
  if (loaded.data) setZone(loaded.data.time_zone);
  if (loaded.loading && !loaded.data) return <p className="status" role="status">Loading…</p>;
  return <OrgContext.Provider value={{ org: loaded.data, reload: loaded.reload }}>{children}</OrgContext.Provider>;
}

export function useOrg(): Org {
  return useContext(OrgContext);
}
