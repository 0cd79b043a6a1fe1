// "/" for a signed-in user: opens the last used workspace, or offers to create the first one.

import { Navigate } from "react-router";
import { useMe } from "../auth/session";
import { defaultWorkspace } from "../layout/workspace";
import { Logo } from "../layout/Logo";
import { CreateWorkspace } from "./settings/WorkspacePage";

export function HomePage() {
  const me = useMe();
  const ws = defaultWorkspace(me.workspaces);
  if (ws !== undefined) return <Navigate to={`/w/${ws.id}`} replace />;
  return (
    <main className="mx-auto max-w-lg px-4 py-16">
      <div className="mb-8"><Logo large /></div>
      <CreateWorkspace first />
    </main>
  );
}
