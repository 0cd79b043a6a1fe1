// Settings: a tab bar of sub-pages (members, API keys, audit log, workspace, suppression, webhooks,
// tracking domain). Tabs a role may not use are not shown; their routes answer with an explanation
// instead of an API 403.

import type { ReactNode } from "react";
import { NavLink, Outlet } from "react-router";
import { roleAtLeast, type Role } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { cx } from "../../lib/cx";
import { PageHeader } from "../../ui/Layout";

interface Tab {
  path: string;
  label: string;
  min_role: Role;
}

export const kSettingsTabs: Tab[] = [
  { path: "members", label: "Members", min_role: "viewer" },
  { path: "api-keys", label: "API keys", min_role: "admin" },
  { path: "audit-log", label: "Audit log", min_role: "admin" },
  { path: "workspace", label: "Workspace", min_role: "viewer" },
  { path: "suppression", label: "Suppression", min_role: "viewer" },
  { path: "webhooks", label: "Webhooks", min_role: "admin" },
  { path: "tracking-domain", label: "Tracking domain", min_role: "viewer" },
];

export function SettingsLayout() {
  const workspace = useWorkspace();
  return (
    <>
      <PageHeader title="Settings" description={`Team, access and records of ${workspace.name}.`} />
      <nav aria-label="Settings" className="mb-6 overflow-x-auto border-b border-slate-200">
        <ul className="-mb-px flex gap-4">
          {kSettingsTabs
            .filter((t) => roleAtLeast(workspace.role, t.min_role))
            .map((t) => (
              <li key={t.path}>
                <NavLink
                  to={`/w/${workspace.id}/settings/${t.path}`}
                  className={({ isActive }) =>
                    cx(
                      "inline-block border-b-2 px-1 py-2 text-sm font-medium whitespace-nowrap",
                      isActive ? "border-brand-600 text-brand-700" : "border-transparent text-slate-600 hover:text-slate-900",
                    )
                  }
                >
                  {t.label}
                </NavLink>
              </li>
            ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}

/** Renders children for users with at least `min_role` in the current workspace. */
export function RequireRole({ min_role, children }: { min_role: Role; children: ReactNode }) {
  const workspace = useWorkspace();
  if (!roleAtLeast(workspace.role, min_role)) {
    return (
      <p role="alert" className="rounded-md bg-slate-100 px-4 py-3 text-sm text-slate-700">
        This page needs the {min_role} role or higher in {workspace.name}; you are {workspace.role}.
      </p>
    );
  }
  return <>{children}</>;
}
