// Routes of the dashboard. Every signed-in page lives under /w/:ws (the workspace it shows), so
// links are shareable and the workspace switcher only changes the address.

import { createBrowserRouter, Navigate, Outlet, RouterProvider } from "react-router";
import { RequireAuth } from "./auth/RequireAuth";
import { AppShell } from "./layout/AppShell";
import { WorkspaceGate } from "./layout/workspace";
import { AccountPage } from "./pages/account/AccountPage";
import { HomePage } from "./pages/HomePage";
import { InboxPage } from "./pages/inbox/InboxPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OverviewPage } from "./pages/OverviewPage";
import { SendersPage } from "./pages/senders/SendersPage";
import { ApiKeysPage } from "./pages/settings/ApiKeysPage";
import { AuditLogPage } from "./pages/settings/AuditLogPage";
import { MembersPage } from "./pages/settings/MembersPage";
import { SettingsLayout } from "./pages/settings/SettingsLayout";
import { SuppressionPage } from "./pages/settings/SuppressionPage";
import { TrackingDomainPage } from "./pages/settings/TrackingDomainPage";
import { WebhooksPage } from "./pages/settings/WebhooksPage";
import { WorkspacePage } from "./pages/settings/WorkspacePage";
import { SignInPage } from "./pages/SignIn";
import { Loading } from "./ui/Spinner";
import { WarmupPage } from "./pages/warmup/WarmupPage";

const kLoadingPage = <Loading label="Loading…" />;

const router = createBrowserRouter([
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: (
      <RequireAuth>
        <Outlet />
      </RequireAuth>
    ),
    children: [
      { path: "/", element: <HomePage /> },
      {
        path: "/w/:ws",
        element: (
          <WorkspaceGate>
            <AppShell />
          </WorkspaceGate>
        ),
        children: [
          { index: true, element: <OverviewPage /> },
          // Campaigns, leads, lists and imports load on first use (their own bundle chunks); a page
          // opened directly shows the loading state in the shell meanwhile.
          { path: "campaigns", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/campaigns/CampaignsPage").then((m) => ({ Component: m.CampaignsPage })) },
          { path: "campaigns/:id", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/campaigns/CampaignPage").then((m) => ({ Component: m.CampaignPage })) },
          {
            path: "campaigns/:id/edit",
            hydrateFallbackElement: kLoadingPage,
            lazy: () => import("./pages/campaigns/CampaignEditorPage").then((m) => ({ Component: m.CampaignEditorPage })),
          },
          { path: "leads", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/leads/LeadsPage").then((m) => ({ Component: m.LeadsPage })) },
          { path: "leads/import", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/leads/ImportPage").then((m) => ({ Component: m.ImportPage })) },
          { path: "leads/:id", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/leads/LeadPage").then((m) => ({ Component: m.LeadPage })) },
          { path: "lists", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/leads/ListsPage").then((m) => ({ Component: m.ListsPage })) },
          { path: "senders", element: <SendersPage /> },
          { path: "warmup", element: <WarmupPage /> },
          { path: "inbox", element: <InboxPage /> },
          { path: "analytics", hydrateFallbackElement: kLoadingPage, lazy: () => import("./pages/analytics/AnalyticsPage").then((m) => ({ Component: m.AnalyticsPage })) },
          { path: "inbox/:conversationId", element: <InboxPage /> },
          {
            path: "settings",
            element: <SettingsLayout />,
            children: [
              { index: true, element: <Navigate to="members" replace /> },
              { path: "members", element: <MembersPage /> },
              { path: "api-keys", element: <ApiKeysPage /> },
              { path: "audit-log", element: <AuditLogPage /> },
              { path: "workspace", element: <WorkspacePage /> },
              { path: "suppression", element: <SuppressionPage /> },
              { path: "webhooks", element: <WebhooksPage /> },
              { path: "tracking-domain", element: <TrackingDomainPage /> },
            ],
          },
          { path: "account", element: <AccountPage /> },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
  { path: "*", element: <NotFoundPage /> },
]);

export function App() {
  return <RouterProvider router={router} />;
}
