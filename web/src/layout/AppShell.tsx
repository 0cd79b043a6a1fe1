// The frame of every signed-in page: sidebar navigation with the workspace switcher and the
// account menu; on narrow screens the sidebar becomes a menu opened from the top bar.

import { useEffect, useId, useRef, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useMe, useSession } from "../auth/session";
import { cx } from "../lib/cx";
import { capitalize } from "../lib/format";
import { describeError } from "../lib/forms";
import { Menu } from "../ui/Menu";
import { useToast } from "../ui/Toast";
import { Icon, type IconName } from "./icons";
import { Logo } from "./Logo";
import { useWorkspace } from "./workspace";

interface NavItem {
  /** Path under /w/:ws; "" is the workspace's home. */
  path: string;
  label: string;
  icon: IconName;
  end?: boolean;
}

// Product order: Overview, Campaigns, Leads, Senders, Warm-up, Inbox, Analytics, Settings.
// A section is listed here once its screens exist.
const kNav: NavItem[] = [
  { path: "", label: "Overview", icon: "overview", end: true },
  { path: "campaigns", label: "Campaigns", icon: "campaigns" },
  { path: "leads", label: "Leads", icon: "leads" },
  { path: "lists", label: "Lists", icon: "lists" },
  { path: "senders", label: "Senders", icon: "senders" },
  { path: "warmup", label: "Warm-up", icon: "warmup" },
  { path: "inbox", label: "Inbox", icon: "inbox" },
  { path: "analytics", label: "Analytics", icon: "analytics" },
  { path: "settings", label: "Settings", icon: "settings" },
];

export function AppShell() {
  const [menu_open, setMenuOpen] = useState(false);
  const location = useLocation();
  const drawer_id = useId();
  const menu_button = useRef<HTMLButtonElement>(null);

  const main = useRef<HTMLElement>(null);
  const first_path = useRef(location.pathname);

  // Navigating closes the phone menu and, after the first page, moves focus to the new content
  // so keyboard and screen-reader users start there (a SPA does not do it by itself).
  useEffect(() => {
    setMenuOpen(false);
    if (location.pathname !== first_path.current) {
      first_path.current = "";
      main.current?.focus({ preventScroll: true });
    }
  }, [location.pathname]);

  useEffect(() => {
    if (!menu_open) return;
    function onKey(e: KeyboardEvent) {
      if (e.key === "Escape") {
        setMenuOpen(false);
        menu_button.current?.focus();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menu_open]);

  return (
    <div className="min-h-full">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:fixed focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:shadow"
      >
        Skip to content
      </a>

      {/* Phone top bar */}
      <div className="sticky top-0 z-30 flex items-center justify-between border-b border-slate-200 bg-white px-4 py-2 lg:hidden">
        <Logo />
        <button
          ref={menu_button}
          type="button"
          aria-expanded={menu_open}
          aria-controls={drawer_id}
          onClick={() => setMenuOpen((o) => !o)}
          className="rounded-md p-2 text-slate-700 hover:bg-slate-100"
        >
          <Icon name={menu_open ? "close" : "menu"} className="h-6 w-6" />
          <span className="sr-only">{menu_open ? "Close navigation" : "Open navigation"}</span>
        </button>
      </div>

      {menu_open && (
        <div className="fixed inset-0 z-20 bg-slate-900/40 lg:hidden" aria-hidden="true" onClick={() => setMenuOpen(false)} />
      )}

      <aside
        id={drawer_id}
        className={cx(
          "fixed inset-y-0 left-0 z-20 w-64 flex-col border-r border-slate-200 bg-white pt-16 lg:flex lg:pt-0",
          menu_open ? "flex" : "hidden",
        )}
        // Choosing a page in the phone menu closes it, also the page already shown (no navigation).
        onClick={(e) => {
          if (e.target instanceof Element && e.target.closest("a")) setMenuOpen(false);
        }}
      >
        <Sidebar />
      </aside>

      <div className="lg:pl-64">
        <main ref={main} id="main" tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 focus:outline-none sm:px-6 lg:px-8 lg:py-8">
          <Outlet />
        </main>
      </div>
    </div>
  );
}

function Sidebar() {
  const workspace = useWorkspace();
  return (
    <div className="flex h-full flex-col">
      <div className="hidden px-5 py-4 lg:block">
        <Logo />
      </div>
      <div className="px-3 pb-3">
        <WorkspaceSwitcher />
      </div>
      <nav aria-label="Main" className="flex-1 overflow-y-auto px-3">
        <ul className="space-y-1">
          {kNav.map((item) => (
            <li key={item.path}>
              <NavLink
                to={`/w/${workspace.id}${item.path === "" ? "" : "/" + item.path}`}
                end={item.end}
                className={({ isActive }) =>
                  cx(
                    "flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium",
                    isActive ? "bg-brand-50 text-brand-700" : "text-slate-700 hover:bg-slate-100",
                  )
                }
              >
                <Icon name={item.icon} />
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="border-t border-slate-200 p-3">
        <AccountMenu />
      </div>
    </div>
  );
}

function WorkspaceSwitcher() {
  const me = useMe();
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();

  function switchTo(value: string) {
    if (value === "new") {
      navigate(`/w/${workspace.id}/settings/workspace#create`);
      return;
    }
    // Keep the section (e.g. /senders) but not object ids, which belong to the old workspace.
    const section = location.pathname.split("/")[3] ?? "";
    navigate(`/w/${value}${section ? "/" + section : ""}`);
  }

  return (
    <div>
      <label htmlFor={id} className="mb-1 block text-xs font-medium uppercase tracking-wide text-slate-500">
        Workspace
      </label>
      <select
        id={id}
        value={String(workspace.id)}
        onChange={(e) => switchTo(e.target.value)}
        className="block w-full rounded-md border-0 bg-slate-50 px-3 py-2 text-sm font-medium text-slate-900 ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none"
      >
        {me.workspaces.map((w) => (
          <option key={w.id} value={String(w.id)}>
            {w.name}
          </option>
        ))}
        <option value="new">+ New workspace…</option>
      </select>
    </div>
  );
}

function AccountMenu() {
  const me = useMe();
  const workspace = useWorkspace();
  const session = useSession();
  const navigate = useNavigate();
  const toast = useToast();
  const display = me.user.name || me.user.email;

  return (
    <Menu
      label="Account menu"
      up
      align="left"
      buttonClassName="flex w-full items-center gap-3 rounded-md px-2 py-2 text-left hover:bg-slate-100"
      button={
        <>
          <span aria-hidden="true" className="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-brand-100 text-sm font-semibold text-brand-700">
            {display.slice(0, 1).toUpperCase()}
          </span>
          <span className="min-w-0 flex-1">
            <span className="block truncate text-sm font-medium text-slate-900">{display}</span>
            <span className="block truncate text-xs text-slate-500">
              {capitalize(workspace.role)} · {workspace.name}
            </span>
          </span>
          <Icon name="chevron" className="h-4 w-4 text-slate-400" />
        </>
      }
      header={
        <div>
          <p className="truncate text-sm font-medium text-slate-900">{me.user.name || "No name set"}</p>
          <p className="truncate text-xs text-slate-500">{me.user.email}</p>
        </div>
      }
      items={[
        { key: "account", label: "Profile and password", onSelect: () => navigate(`/w/${workspace.id}/account`) },
        {
          key: "sign-out",
          label: "Sign out",
          danger: true,
          onSelect: () => {
            session.signOut().then(
              () => navigate("/sign-in", { replace: true }),
              (e: unknown) => {
                toast.error(`Signed out on this device, but the server did not confirm: ${describeError(e)}`);
                navigate("/sign-in", { replace: true });
              },
            );
          },
        },
      ]}
    />
  );
}
