// The workspace's analytics (/w/:ws/analytics): totals with rates and the daily series for a date
// range (last 7/30/90 days or custom), a table of the campaigns with their numbers in that
// range, each linking to the campaign's own analytics on its page, and a chosen sender's warm-up
// placement over time (the reputation charts of the sender's warm-up dialog).

import { useQueries, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { analyticsKeys, getAnalyticsOverview, getCampaignAnalytics, type AnalyticsQuery } from "../../api/analytics";
import { campaignKeys, listCampaigns, type CampaignSummary } from "../../api/campaigns";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { warmupKeys } from "../../api/warmup";
import { useWorkspace } from "../../layout/workspace";
import { capitalize } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Badge, Card, EmptyState, ErrorState, PageHeader, Table, Td, Th } from "../../ui/Layout";
import { SelectField } from "../../ui/Field";
import { Loading, Spinner } from "../../ui/Spinner";
import { kCampaignTone } from "../campaigns/CampaignsPage";
import { denseDaily, describeRange, formatCount, formatRate } from "./analyticsFormat";
import { LazyReputationCharts } from "../warmup/LazyReputationCharts";
import { useWarmupApi } from "../warmup/useWarmupApi";
import { LazyDailyChart, RangePicker, TotalsGrid, useRangeState } from "./parts";

/** How many campaigns the table lists (each row asks for its own numbers). */
const kMaxCampaignRows = 50;

export function AnalyticsPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const [range, setRange] = useRangeState("30");
  const q: AnalyticsQuery = range.range;
  const overview = useQuery({ queryKey: analyticsKeys.overview(workspace.id, q), queryFn: () => getAnalyticsOverview(api.client, workspace.id, q) });
  const range_error = isApiError(overview.error) && (overview.error.field === "from" || overview.error.field === "to") ? overview.error : undefined;

  return (
    <>
      <PageHeader title="Analytics" description="Sends and responses of every campaign in this workspace, by UTC day. Opens and clicks count people, not image proxies or link scanners." />
      <div className="space-y-6">
        <RangePicker value={range} onChange={setRange} apiErrors={range_error ? { [range_error.field as "from" | "to"]: range_error.message } : undefined} />
        {overview.isPending ? (
          <Loading label="Loading analytics…" />
        ) : overview.isError ? (
          range_error ? null : <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />
        ) : (
          <>
            <Card title={`Totals, ${describeRange(range.range)}`}>
              <TotalsGrid totals={overview.data.totals} testId="analytics-totals" />
            </Card>
            <Card title="By day">
              <div className="p-4">
                {overview.data.totals.sent === 0 && overview.data.daily.length === 0 ? (
                  <EmptyState title="Nothing sent in this range">The chart fills in as campaigns send.</EmptyState>
                ) : (
                  <LazyDailyChart days={denseDaily(overview.data.daily, range.range)} label={`Workspace activity by day, ${describeRange(range.range)}`} />
                )}
              </div>
            </Card>
          </>
        )}
        <CampaignTable q={q} />
        <WarmupPlacement />
      </div>
    </>
  );
}

function CampaignTable({ q }: { q: AnalyticsQuery }) {
  const api = useApi();
  const workspace = useWorkspace();
  const campaigns = useQuery({ queryKey: campaignKeys.list(workspace.id, "all"), queryFn: () => listCampaigns(api.client, workspace.id) });
  const launched: CampaignSummary[] = (campaigns.data?.items ?? []).filter((c) => c.status !== "draft");
  const shown = launched.slice(0, kMaxCampaignRows);
  const rows = useQueries({
    queries: shown.map((c) => ({ queryKey: analyticsKeys.campaign(workspace.id, c.id, q), queryFn: () => getCampaignAnalytics(api.client, workspace.id, c.id, q) })),
  });

  return (
    <Card title="Campaigns">
      {campaigns.isPending ? (
        <Loading label="Loading campaigns…" />
      ) : campaigns.isError ? (
        <ErrorState error={campaigns.error} onRetry={() => void campaigns.refetch()} />
      ) : shown.length === 0 ? (
        <EmptyState title="No launched campaigns">A campaign appears here once it has been launched.</EmptyState>
      ) : (
        <>
          {launched.length > shown.length && (
            <p className="px-4 pt-3 text-sm text-slate-600">
              Showing {shown.length} of {launched.length} launched campaigns; open a campaign for its numbers.
            </p>
          )}
          <Table
            caption={`Campaigns and their numbers, ${describeRange(q)}`}
            head={
              <tr>
                <Th>Campaign</Th>
                <Th>Status</Th>
                <Th className="text-right">Sent</Th>
                <Th className="text-right">Delivered</Th>
                <Th className="text-right">Open rate</Th>
                <Th className="text-right">Click rate</Th>
                <Th className="text-right">Reply rate</Th>
                <Th className="text-right">Bounce rate</Th>
              </tr>
            }
          >
            {shown.map((c, i) => {
              const r = rows[i];
              const t = r?.data?.totals;
              return (
                <tr key={c.id} data-testid={`analytics-campaign-${c.id}`}>
                  <Td>
                    <Link to={`/w/${workspace.id}/campaigns/${c.id}#analytics`} className="font-medium text-brand-700 hover:underline">
                      {c.name}
                    </Link>
                  </Td>
                  <Td>
                    <Badge tone={kCampaignTone[c.status]}>{capitalize(c.status)}</Badge>
                  </Td>
                  {r?.isError ? (
                    <td className="px-4 py-3 text-right text-red-700" colSpan={6}>
                      Could not load: {describeError(r.error)}
                    </td>
                  ) : t === undefined ? (
                    <td className="px-4 py-3 text-right" colSpan={6}>
                      <Spinner size="sm" />
                      <span className="sr-only">Loading {c.name}</span>
                    </td>
                  ) : (
                    <>
                      <Td className="text-right tabular-nums">{formatCount(t.sent)}</Td>
                      <Td className="text-right tabular-nums">{formatCount(t.delivered)}</Td>
                      <Td className="text-right tabular-nums">{formatRate(t.open_rate)}</Td>
                      <Td className="text-right tabular-nums">{formatRate(t.click_rate)}</Td>
                      <Td className="text-right tabular-nums">{formatRate(t.reply_rate)}</Td>
                      <Td className="text-right tabular-nums">{formatRate(t.bounce_rate)}</Td>
                    </>
                  )}
                </tr>
              );
            })}
          </Table>
        </>
      )}
    </Card>
  );
}

/** Warm-up placement over time of one sender, chosen from the workspace's senders (the first by default). */
function WarmupPlacement() {
  const api = useApi();
  const warmup = useWarmupApi();
  const workspace = useWorkspace();
  const senders = useQuery({ queryKey: queryKeys.senders(workspace.id), queryFn: () => api.senders(workspace.id) });
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const items = senders.data?.items ?? [];
  const sender = items.find((s) => s.id === chosen) ?? items[0];

  return (
    <Card title="Warm-up placement">
      {senders.isPending ? (
        <Loading label="Loading senders…" />
      ) : senders.isError ? (
        <ErrorState error={senders.error} onRetry={() => void senders.refetch()} />
      ) : sender === undefined ? (
        <EmptyState title="No senders yet">Where each sender&apos;s warm-up mail lands (inbox or spam) shows here once senders warm up.</EmptyState>
      ) : (
        <div className="space-y-4 p-4">
          <SelectField
            label="Sender"
            wrapperClassName="max-w-sm"
            value={String(sender.id)}
            options={items.map((s) => ({ value: String(s.id), label: s.email }))}
            onChange={(e) => setChosen(Number(e.target.value))}
          />
          <LazyReputationCharts
            key={sender.id}
            queryKey={(days) => warmupKeys.senderReputation(workspace.id, sender.id, days)}
            load={(days) => warmup.senderReputation(workspace.id, sender.id, days)}
          />
        </div>
      )}
    </Card>
  );
}
