// The workspace the current route is about (/w/:ws/...), checked against the user's memberships.

import { createContext, useContext, useEffect, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import type { WorkspaceRef } from "../api/types";
import { useMe } from "../auth/session";
import { buttonClass } from "../ui/Button";

const kLastWorkspaceKey = "kiln.lastWorkspace";

const WorkspaceContext = createContext<WorkspaceRef | null>(null);

/** The workspace of the current route; only under <WorkspaceGate>. */
export function useWorkspace(): WorkspaceRef {
  const ws = useContext(WorkspaceContext);
  if (ws === null) throw new Error("useWorkspace used outside a /w/:ws route");
  return ws;
}

/** The workspace to open when the address names none: the last one used, else the first. */
export function defaultWorkspace(workspaces: WorkspaceRef[]): WorkspaceRef | undefined {
  let last: number | undefined;
  try {
    const stored = window.localStorage.getItem(kLastWorkspaceKey);
    last = stored === null ? undefined : Number(stored);
  } catch {
    last = undefined;
  }
  return workspaces.find((w) => w.id === last) ?? workspaces[0];
}

export function WorkspaceGate({ children }: { children: ReactNode }) {
  const { ws } = useParams();
  const me = useMe();
  const id = Number(ws);
  const workspace = me.workspaces.find((w) => w.id === id);

  useEffect(() => {
    if (workspace === undefined) return;
    try {
      window.localStorage.setItem(kLastWorkspaceKey, String(workspace.id));
    } catch {
      // Storage can be disabled; remembering the workspace is a convenience only.
    }
  }, [workspace]);

  if (workspace === undefined) {
    return (
      <main className="mx-auto max-w-md px-4 py-16 text-center">
        <h1 className="text-xl font-semibold text-slate-900">Workspace not found</h1>
        <p className="mt-2 text-sm text-slate-600">
          Workspace “{ws}” does not exist or you are not a member of it.
        </p>
        <Link to="/" className={buttonClass("primary") + " mt-6"}>
          Go to your workspace
        </Link>
      </main>
    );
  }
  return <WorkspaceContext.Provider value={workspace}>{children}</WorkspaceContext.Provider>;
}
