// The signed-in state of the browser tab.
//
// - At start, if the browser holds a session (the kiln_csrf cookie), GET /me decides; otherwise
//   the user is signed out without a request (so a fresh visit causes no 401).
// - `signIn` posts the credentials; `signOut` ends the session server-side and locally.
// - When the API client reports that a refresh was refused, the session is over: cached data is
//   dropped and `expired` is set so the sign-in page can say why the user is there.
// The user and workspaces live in the TanStack Query cache under queryKeys.me, so any screen can
// refetch them (after renaming a workspace, for instance).

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { isApiError } from "../api/client";
import { useApi } from "../api/context";
import { queryKeys } from "../api/endpoints";
import type { Me } from "../api/types";

export type SessionPhase = "checking" | "signed_out" | "signed_in";

interface SessionState {
  phase: SessionPhase;
  me: Me | undefined;
  /** True when the last session ended because it expired, not because the user signed out. */
  expired: boolean;
  /** Set when the start-up check failed for a reason other than "not signed in". */
  startupError: unknown;
  retryStartup: () => void;
  signIn: (email: string, password: string) => Promise<Me>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const query_client = useQueryClient();
  const [phase, setPhase] = useState<SessionPhase>(() =>
    api.client.hasSessionHint() ? "checking" : "signed_out",
  );
  const [expired, setExpired] = useState(false);

  const me = useQuery({
    queryKey: queryKeys.me,
    queryFn: () => api.me(),
    enabled: phase !== "signed_out",
    retry: false,
    staleTime: 60_000,
  });

  useEffect(() => {
    api.client.setOnSessionExpired(() => {
      query_client.clear();
      setExpired(true);
      setPhase("signed_out");
    });
    return () => api.client.setOnSessionExpired(undefined);
  }, [api, query_client]);

  useEffect(() => {
    if (phase !== "checking") return;
    if (me.data !== undefined) setPhase("signed_in");
    else if (isApiError(me.error) && me.error.status === 401) setPhase("signed_out");
  }, [phase, me.data, me.error]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const session = await api.login(email, password);
      const data: Me = { user: session.user, workspaces: session.workspaces };
      query_client.setQueryData(queryKeys.me, data);
      setExpired(false);
      setPhase("signed_in");
      return data;
    },
    [api, query_client],
  );

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      query_client.clear();
      setExpired(false);
      setPhase("signed_out");
    }
  }, [api, query_client]);

  const state = useMemo<SessionState>(
    () => ({
      phase,
      me: phase === "signed_in" ? me.data : undefined,
      expired,
      startupError: phase === "checking" && !(isApiError(me.error) && me.error.status === 401) ? me.error : null,
      retryStartup: () => void me.refetch(),
      signIn,
      signOut,
    }),
    [phase, me, expired, signIn, signOut],
  );

  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error("useSession needs a <SessionProvider> above it");
  return state;
}

/** The signed-in user's data; only for components under RequireAuth. */
export function useMe(): Me {
  const { me } = useSession();
  if (me === undefined) throw new Error("useMe used outside a signed-in route");
  return me;
}
