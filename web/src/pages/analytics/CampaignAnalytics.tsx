// A campaign's analytics, shown as a section of its page (/w/:ws/campaigns/:id, anchor #analytics):
// totals with rates, the daily series, each step with its variants and the A/B result (winner and
// p-value, or why there is none yet), and each sender; for a date range and with or without
// machine opens (image proxies, link scanners).

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useLocation } from "react-router";
import { analyticsKeys, getCampaignAnalytics, type AnalyticsCounters, type AnalyticsQuery, type CampaignAnalytics, type StepAnalytics } from "../../api/analytics";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { useWorkspace } from "../../layout/workspace";
import { CheckboxField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, Table, Td, Th } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { denseDaily, describeAbTest, describeRange, formatCount, formatRate } from "./analyticsFormat";
import { LazyDailyChart, RangePicker, TotalsGrid, useRangeState } from "./parts";

export function CampaignAnalyticsSection({ campaignId }: { campaignId: number }) {
  const api = useApi();
  const workspace = useWorkspace();
  const location = useLocation();
  const [range, setRange] = useRangeState("all");
  const [include_machine, setIncludeMachine] = useState(false);
  const q: AnalyticsQuery = { ...range.range, include_machine };
  const analytics = useQuery({
    queryKey: analyticsKeys.campaign(workspace.id, campaignId, q),
    queryFn: () => getCampaignAnalytics(api.client, workspace.id, campaignId, q),
    placeholderData: (previous) => previous,
  });
  const range_error = isApiError(analytics.error) && (analytics.error.field === "from" || analytics.error.field === "to") ? analytics.error : undefined;

  // Opened from a link to #analytics (the analytics overview): bring the section into view once.
  const section = useRef<HTMLElement>(null);
  const scrolled = useRef(false);
  useEffect(() => {
    if (location.hash === "#analytics" && !scrolled.current && section.current) {
      scrolled.current = true;
      section.current.scrollIntoView({ block: "start" });
    }
  }, [location.hash]);

  return (
    <section id="analytics" ref={section} aria-labelledby="campaign-analytics-title" className="space-y-4">
      <h2 id="campaign-analytics-title" className="text-lg font-semibold text-slate-900">
        Analytics
      </h2>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <RangePicker value={range} onChange={setRange} allowAll apiErrors={range_error ? { [range_error.field as "from" | "to"]: range_error.message } : undefined} />
        <CheckboxField
          label="Include machine opens"
          hint="Count opens and clicks by image proxies and link scanners too."
          checked={include_machine}
          onChange={(e) => setIncludeMachine(e.target.checked)}
        />
      </div>
      {analytics.isPending ? (
        <Loading label="Loading analytics…" />
      ) : analytics.isError ? (
        range_error ? null : <ErrorState error={analytics.error} onRetry={() => void analytics.refetch()} />
      ) : (
        <div aria-busy={analytics.isPlaceholderData} className={analytics.isPlaceholderData ? "opacity-60" : undefined}>
          {analytics.isPlaceholderData && <p className="sr-only" role="status">Updating analytics…</p>}
          <AnalyticsBody data={analytics.data} rangeLabel={describeRange(range.range)} />
        </div>
      )}
    </section>
  );
}

function AnalyticsBody({ data, rangeLabel }: { data: CampaignAnalytics; rangeLabel: string }) {
  const days = denseDaily(data.daily, { from: data.from ?? undefined, to: data.to ?? undefined });
  return (
    <div className="space-y-6">
      <Card title={`Totals, ${rangeLabel}`}>
        <TotalsGrid totals={data.totals} testId="campaign-analytics-totals" />
        {data.include_machine && (
          <p className="px-4 pb-4 text-xs text-slate-600">
            Opens and clicks include machine hits: {formatCount(data.totals.machine_opens)} machine opens, {formatCount(data.totals.machine_clicks)} machine clicks.
          </p>
        )}
      </Card>
      <Card title="By day">
        <div className="p-4">
          {days.length === 0 ? (
            <EmptyState title="Nothing sent yet">The chart fills in as the campaign sends.</EmptyState>
          ) : (
            <LazyDailyChart days={days} label={`${data.campaign.name}: activity by day, ${rangeLabel}`} />
          )}
        </div>
      </Card>
      <Card title="Steps and variants">
        {data.by_step.length === 0 ? (
          <EmptyState title="No steps">The campaign has no emails.</EmptyState>
        ) : (
          <div className="divide-y divide-slate-100">
            {data.by_step.map((step, i) => (
              <StepBlock key={step.step_id} step={step} index={i} />
            ))}
          </div>
        )}
      </Card>
      <Card title="Senders">
        {data.by_sender.length === 0 ? (
          <EmptyState title="No sends yet">Each sender that sends for this campaign gets a row.</EmptyState>
        ) : (
          <Table caption={`${data.campaign.name}: numbers by sender, ${rangeLabel}`} head={<CounterHead first="Sender" />}>
            {data.by_sender.map((s) => (
              <tr key={s.sender_id}>
                <Td className="break-all font-medium text-slate-900">{s.email || `Sender ${s.sender_id}`}</Td>
                <CounterCells c={s} />
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </div>
  );
}

function StepBlock({ step, index }: { step: StepAnalytics; index: number }) {
  const reply = describeAbTest(step.ab_test.reply, step.variants);
  const open = describeAbTest(step.ab_test.open, step.variants);
  return (
    <div className="space-y-3 py-4" data-testid={`campaign-analytics-step-${index + 1}`}>
      <h3 className="px-4 text-sm font-semibold text-slate-900">Step {index + 1}</h3>
      {step.variants.length > 1 && (
        <ul className="space-y-1 px-4 text-sm" aria-label={`A/B test of step ${index + 1}`}>
          <li>
            <span className="font-medium text-slate-700">Reply rate: </span>
            <Badge tone={reply.kind === "winner" ? "green" : "neutral"}>{reply.text}</Badge>
          </li>
          <li>
            <span className="font-medium text-slate-700">Open rate: </span>
            <Badge tone={open.kind === "winner" ? "green" : "neutral"}>{open.text}</Badge>
          </li>
        </ul>
      )}
      <Table caption={`Step ${index + 1}: numbers by variant`} head={<CounterHead first="Variant" />}>
        {step.variants.map((v) => (
          <tr key={v.variant_id}>
            <Td>
              <span className="font-medium text-slate-900">{v.label ? `Variant ${v.label}` : "No variant"}</span>
              <span className="block max-w-xs truncate text-xs text-slate-500" title={v.subject}>
                {v.subject || "(no subject)"}
              </span>
            </Td>
            <CounterCells c={v} />
          </tr>
        ))}
        {step.variants.length !== 1 && (
          <tr className="bg-slate-50">
            <Td className="font-medium text-slate-700">{step.variants.length === 0 ? "All sends" : "All variants"}</Td>
            <CounterCells c={step} />
          </tr>
        )}
      </Table>
    </div>
  );
}

function CounterHead({ first }: { first: string }) {
  return (
    <tr>
      <Th>{first}</Th>
      <Th className="text-right">Sent</Th>
      <Th className="text-right">Delivered</Th>
      <Th className="text-right">Opens</Th>
      <Th className="text-right">Clicks</Th>
      <Th className="text-right">Replies</Th>
      <Th className="text-right">Positive</Th>
      <Th className="text-right">Bounces</Th>
      <Th className="text-right">Unsubscribed</Th>
    </tr>
  );
}

/** A count with its rate under it; the rate's base is in the column's meaning (docs/api.md). */
function Cell({ n, rate }: { n: number; rate?: number | null }) {
  return (
    <Td className="text-right tabular-nums whitespace-nowrap">
      {formatCount(n)}
      {rate !== undefined && <span className="block text-xs text-slate-500">{formatRate(rate)}</span>}
    </Td>
  );
}

function CounterCells({ c }: { c: AnalyticsCounters }) {
  return (
    <>
      <Cell n={c.sent} />
      <Cell n={c.delivered} rate={c.delivery_rate} />
      <Cell n={c.opened} rate={c.open_rate} />
      <Cell n={c.clicked} rate={c.click_rate} />
      <Cell n={c.replied} rate={c.reply_rate} />
      <Cell n={c.positive_replies} rate={c.positive_reply_rate} />
      <Cell n={c.bounced} rate={c.bounce_rate} />
      <Cell n={c.unsubscribed} rate={c.unsubscribe_rate} />
    </>
  );
}
