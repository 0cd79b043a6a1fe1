// Route guard: renders its children for a signed-in user; otherwise sends the user to the
// sign-in page with the current address in `next`, so they come back to it after signing in.

import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Button } from "../ui/Button";
import { Loading } from "../ui/Spinner";
import { describeError } from "../lib/forms";
import { useSession } from "./session";

export function signInPath(next: string, expired: boolean): string {
  const params = new URLSearchParams();
  if (next !== "/" && next !== "") params.set("next", next);
  if (expired) params.set("reason", "expired");
  const qs = params.toString();
  return qs === "" ? "/sign-in" : `/sign-in?${qs}`;
}

/** Accepts only same-site paths as a place to return to, never another origin. */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next.startsWith("/sign-in")) return "/";
  return next;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();

  if (session.phase === "checking") {
    if (session.startupError) {
      return (
        <div className="mx-auto max-w-md p-8" role="alert">
          <p className="mb-4 text-sm text-slate-700">Could not reach Kiln: {describeError(session.startupError)}</p>
          <Button onClick={session.retryStartup}>Try again</Button>
        </div>
      );
    }
    return <Loading label="Opening your workspace…" />;
  }
  if (session.phase === "signed_out") {
    const here = location.pathname + location.search + location.hash;
    return <Navigate to={signInPath(here, session.expired)} replace />;
  }
  return <>{children}</>;
}
