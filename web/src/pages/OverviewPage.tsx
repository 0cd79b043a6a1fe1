// Overview: the workspace at a glance, from live API data only (senders by status, team size).

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { useApi } from "../api/context";
import { queryKeys } from "../api/endpoints";
import { kSenderStatuses, type Sender, type SenderStatus } from "../api/types";
import { useWorkspace } from "../layout/workspace";
import { capitalize } from "../lib/format";
import { buttonClass } from "../ui/Button";
import { Badge, Card, ErrorState, PageHeader } from "../ui/Layout";
import { Loading } from "../ui/Spinner";
import { kStatusTone } from "./senders/SendersPage";

/** Number of senders in each status, every status present (0 when none). */
export function countByStatus(senders: Sender[]): Record<SenderStatus, number> {
  const counts = Object.fromEntries(kSenderStatuses.map((s) => [s, 0])) as Record<SenderStatus, number>;
  for (const s of senders) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}

export function OverviewPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const senders = useQuery({ queryKey: queryKeys.senders(workspace.id), queryFn: () => api.senders(workspace.id) });
  const members = useQuery({ queryKey: queryKeys.members(workspace.id), queryFn: () => api.members(workspace.id) });

  return (
    <>
      <PageHeader title="Overview" description={workspace.name} />
      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Senders" actions={<Link to={`/w/${workspace.id}/senders`} className={buttonClass("ghost", "sm")}>Manage senders</Link>}>
          {senders.isPending ? (
            <Loading label="Loading senders…" />
          ) : senders.isError ? (
            <ErrorState error={senders.error} onRetry={() => void senders.refetch()} />
          ) : (
            <div className="p-4">
              <Stat label="Senders" value={senders.data.items.length} />
              {senders.data.items.length > 0 ? (
                <dl className="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
                  {Object.entries(countByStatus(senders.data.items)).map(([status, n]) => (
                    <div key={status} className="rounded-md bg-slate-50 p-3">
                      <dt><Badge tone={kStatusTone[status as SenderStatus]}>{capitalize(status)}</Badge></dt>
                      <dd className="mt-2 text-xl font-semibold tabular-nums text-slate-900">{n}</dd>
                    </div>
                  ))}
                </dl>
              ) : (
                <p className="mt-3 text-sm text-slate-600">
                  No senders yet. <Link className="font-medium text-brand-700 underline" to={`/w/${workspace.id}/senders`}>Add a mailbox</Link> to start sending.
                </p>
              )}
            </div>
          )}
        </Card>
        <Card title="Team" actions={<Link to={`/w/${workspace.id}/settings/members`} className={buttonClass("ghost", "sm")}>Manage members</Link>}>
          {members.isPending ? (
            <Loading label="Loading members…" />
          ) : members.isError ? (
            <ErrorState error={members.error} onRetry={() => void members.refetch()} />
          ) : (
            <div className="p-4">
              <Stat label="Members" value={members.data.items.length} />
              <p className="mt-3 text-sm text-slate-600">Your role here: {capitalize(workspace.role)}.</p>
            </div>
          )}
        </Card>
      </div>
    </>
  );
}

function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div>
      <p className="text-sm text-slate-600">{label}</p>
      <p className="text-3xl font-semibold tabular-nums text-slate-900">{value}</p>
    </div>
  );
}
