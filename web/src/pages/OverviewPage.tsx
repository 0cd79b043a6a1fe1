// Overview: the workspace at a glance, live. Sends today against the senders' quotas, warm-up
// today, running campaigns with progress bars, send speed and the activity feed come from the
// live WebSocket (lib/live.ts) and update without a refresh; senders by status and the team come
// from the API.

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { useApi } from "../api/context";
import { queryKeys } from "../api/endpoints";
import { kSenderStatuses, type Sender, type SenderStatus } from "../api/types";
import { useWorkspace } from "../layout/workspace";
import { capitalize } from "../lib/format";
import { sinceLabel, useLive } from "../lib/live";
import { buttonClass } from "../ui/Button";
import { Badge, Card, ErrorState, PageHeader } from "../ui/Layout";
import { Loading } from "../ui/Spinner";
import { ActivityFeed, CampaignProgress, ConnectionBadge, fmt, ProgressBar, SpeedChart } from "./overview/LiveWidgets";
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
  const { state: live, stale } = useLive(workspace.id, { onRefused: () => api.me() });
  const today = live.today;

  return (
    <>
      <PageHeader title="Overview" description={workspace.name} actions={<ConnectionBadge connection={live.connection} stale={stale} />} />
      {!live.ready ? (
        <Card className="mb-6">
          <Loading label="Connecting to live progress…" />
        </Card>
      ) : (
        <div className={stale ? "opacity-75 transition-opacity" : "transition-opacity"}>
          <div className="mb-6 grid gap-6 md:grid-cols-3">
            <Card>
              <div className="p-4">
                <Stat label="Sends today" value={<span data-testid="live-sends-today">{fmt(today?.sent ?? 0)}</span>} detail={(today?.quota ?? 0) > 0 ? `of ${fmt(today?.quota ?? 0)} daily quota, each sender on its own day` : "no active sender, so no quota today"} />
                <div className="mt-3">
                  <ProgressBar label="Sends today against the senders' quotas" value={today?.sent ?? 0} max={today?.quota ?? 0} />
                </div>
              </div>
            </Card>
            <Card>
              <div className="p-4">
                <Stat label="Warm-up today" value={fmt(today?.warmup_sent ?? 0)} detail={`of ${fmt(today?.warmup_target ?? 0)} planned`} />
                <div className="mt-3">
                  <ProgressBar label="Warm-up mails today against the targets" value={today?.warmup_sent ?? 0} max={today?.warmup_target ?? 0} tone="amber" />
                </div>
              </div>
            </Card>
            <Card>
              <div className="p-4">
                <Stat label="Running campaigns" value={fmt(live.campaigns.length)} detail={`${fmt(live.campaigns.reduce((n, c) => n + c.remaining, 0))} leads still in sequence`} />
              </div>
            </Card>
          </div>
          <div className="mb-6 grid gap-6 lg:grid-cols-2">
            <Card title="Running campaigns">
              <CampaignProgress campaigns={live.campaigns} />
            </Card>
            <Card title="Speed">
              <SpeedChart points={live.speed} />
            </Card>
          </div>
          <div className="mb-6 grid gap-6 lg:grid-cols-2">
            <Card title="Activity">
              <ActivityFeed items={live.activity} />
            </Card>
            <Card title="Mailboxes today" actions={<Link to={`/w/${workspace.id}/senders`} className={buttonClass("ghost", "sm")}>Manage senders</Link>}>
              {live.senders.length === 0 ? (
                <p className="p-4 text-sm text-slate-600">No mailbox has sent or is due to send today.</p>
              ) : (
                <ul className="divide-y divide-slate-100">
                  {live.senders.map((s) => (
                    <li key={s.id} className="px-4 py-3">
                      <div className="flex items-center justify-between gap-3 text-sm">
                        <span className="truncate font-medium text-slate-900">{s.email}</span>
                        <span className="flex shrink-0 items-center gap-2">
                          <span className="text-xs text-slate-500" title="Health score">{s.health_score}%</span>
                          <Badge tone={kStatusTone[s.status as SenderStatus] ?? "neutral"}>{capitalize(s.status)}</Badge>
                        </span>
                      </div>
                      <div className="mt-2 flex items-center gap-3">
                        <span className="w-16 shrink-0 text-xs text-slate-600">Sends</span>
                        <ProgressBar label={`${s.email}: sends today`} value={s.sent_today} max={s.quota} />
                        <span className="w-16 shrink-0 text-right text-xs tabular-nums text-slate-600" data-testid={`live-sender-${s.id}-sent`}>
                          {fmt(s.sent_today)}/{fmt(s.quota)}
                        </span>
                      </div>
                      <div className="mt-1 flex items-center gap-3">
                        <span className="w-16 shrink-0 text-xs text-slate-600">Warm-up</span>
                        <ProgressBar label={`${s.email}: warm-up mails today`} value={s.warmup_today} max={s.warmup_target} tone="amber" />
                        <span className="w-16 shrink-0 text-right text-xs tabular-nums text-slate-600">
                          {fmt(s.warmup_today)}/{fmt(s.warmup_target)}
                        </span>
                      </div>
                      {sinceLabel(s.day_start, live.last_frame_ms) !== "" && (
                        <p className="mt-1 text-xs text-slate-500" data-testid={`live-sender-${s.id}-since`}>
                          Counted on the sender&apos;s own day, {sinceLabel(s.day_start, live.last_frame_ms)} your time
                        </p>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </Card>
          </div>
        </div>
      )}
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

function Stat({ label, value, detail }: { label: string; value: ReactNode; detail?: string }) {
  return (
    <div>
      <p className="text-sm text-slate-600">{label}</p>
      <p className="text-3xl font-semibold tabular-nums text-slate-900">{value}</p>
      {detail && <p className="mt-1 text-xs text-slate-500">{detail}</p>}
    </div>
  );
}
