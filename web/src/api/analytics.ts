// Analytics in the API (docs/api.md "Analytics"): a campaign's numbers (totals, per step with its
// variants and A/B test, per sender, daily) and the workspace overview. Types of the answers,
// typed calls over the shared ApiClient, and query keys. Each call resolves with the documented
// answer or rejects with ApiError (a bad `from`/`to` answers 400 naming that field). A sender's
// placement by day is shown from its reputation history (api/warmup.ts, pages/warmup).

import type { ApiClient } from "./client";

/** Counters and rates (0..1, `null` when there is nothing to divide by) of any slice. */
export interface AnalyticsCounters {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  positive_replies: number;
  bounced: number;
  bounced_hard: number;
  bounced_soft: number;
  unsubscribed: number;
  complained: number;
  machine_opens: number;
  machine_clicks: number;
  delivery_rate: number | null;
  open_rate: number | null;
  click_rate: number | null;
  reply_rate: number | null;
  positive_reply_rate: number | null;
  bounce_rate: number | null;
  hard_bounce_rate: number | null;
  unsubscribe_rate: number | null;
  complaint_rate: number | null;
}

/** One UTC day of a series ("YYYY-MM-DD"); only days with data are listed. */
export interface AnalyticsDay extends AnalyticsCounters {
  day: string;
}

/** A two-proportion z-test of a step's leading variant against the runner-up. */
export interface AbTest {
  metric: "reply_rate" | "open_rate";
  winner_variant_id: number | null;
  leader_variant_id: number | null;
  runner_up_variant_id: number | null;
  z: number | null;
  p_value: number | null;
  significant: boolean;
  min_sample: number;
  /** Why there is no winner ("" when there is one). */
  reason: string;
}

export interface VariantAnalytics extends AnalyticsCounters {
  variant_id: number;
  label: string;
  subject: string;
}

export interface StepAnalytics extends AnalyticsCounters {
  step_id: number;
  position: number;
  variants: VariantAnalytics[];
  ab_test: { reply: AbTest; open: AbTest };
}

export interface SenderAnalytics extends AnalyticsCounters {
  sender_id: number;
  email: string;
}

export interface CampaignAnalytics {
  campaign: { id: number; name: string; status: string };
  from: string | null;
  to: string | null;
  include_machine: boolean;
  totals: AnalyticsCounters;
  by_step: StepAnalytics[];
  by_sender: SenderAnalytics[];
  daily: AnalyticsDay[];
}

export interface AnalyticsOverview {
  from: string | null;
  to: string | null;
  include_machine: boolean;
  totals: AnalyticsCounters;
  daily: AnalyticsDay[];
}

/** Inclusive UTC days "YYYY-MM-DD"; an absent end is open (the API's default). */
export interface DayRange {
  from?: string;
  to?: string;
}

export interface AnalyticsQuery extends DayRange {
  include_machine?: boolean;
}

function query(q: AnalyticsQuery): Record<string, string | undefined> {
  return { from: q.from, to: q.to, include_machine: q.include_machine ? "true" : undefined };
}

export function getCampaignAnalytics(client: ApiClient, ws: number, campaign_id: number, q: AnalyticsQuery): Promise<CampaignAnalytics> {
  return client.get<CampaignAnalytics>(`/workspaces/${ws}/campaigns/${campaign_id}/analytics`, { query: query(q) });
}

export function getAnalyticsOverview(client: ApiClient, ws: number, q: AnalyticsQuery): Promise<AnalyticsOverview> {
  return client.get<AnalyticsOverview>(`/workspaces/${ws}/analytics/overview`, { query: query(q) });
}

export const analyticsKeys = {
  all: (ws: number) => ["ws", ws, "analytics"] as const,
  overview: (ws: number, q: AnalyticsQuery) => ["ws", ws, "analytics", "overview", q.from ?? "", q.to ?? "", q.include_machine ?? false] as const,
  campaign: (ws: number, id: number, q: AnalyticsQuery) => ["ws", ws, "analytics", "campaign", id, q.from ?? "", q.to ?? "", q.include_machine ?? false] as const,
};
