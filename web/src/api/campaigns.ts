// Campaigns in the API (docs/api.md "Campaigns"): types of the answers and inputs, typed calls
// over the shared ApiClient, and the query keys of the campaign screens. Each call resolves with
// the documented answer or rejects with ApiError (launch and resume add `problems`).

import type { ApiClient } from "./client";
import type { Items } from "./types";

export type CampaignStatus = "draft" | "running" | "paused" | "completed" | "archived";
export const kCampaignStatuses: readonly CampaignStatus[] = ["draft", "running", "paused", "completed", "archived"];

export type StepCondition = "always" | "no_open" | "opened" | "clicked";
export const kStepConditions: readonly StepCondition[] = ["always", "no_open", "opened", "clicked"];

export interface Schedule {
  /** ISO weekdays, 1 = Monday. */
  days: number[];
  /** "HH:MM" */
  start: string;
  end: string;
}

export interface Variant {
  id?: number;
  label: string;
  weight: number;
  subject: string;
  body_html: string;
  body_text: string;
  enabled: boolean;
}

export interface CampaignStep {
  id?: number;
  position?: number;
  delay_minutes: number;
  condition: StepCondition;
  variants: Variant[];
}

export interface CampaignSummaryCounts {
  audience: number;
  enrolled: number;
  in_progress: number;
  sent: number;
}

/** One row of GET /campaigns. */
export interface CampaignSummary {
  id: number;
  name: string;
  status: CampaignStatus;
  paused_reason: string;
  counts: CampaignSummaryCounts;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export interface CampaignCounts extends CampaignSummaryCounts {
  mailable: number;
  suppressed: number;
  unsubscribed_or_bounced: number;
  completed: number;
  replied: number;
  bounced: number;
  unsubscribed: number;
  stopped: number;
  unknown: number;
}

export interface Campaign {
  id: number;
  name: string;
  status: CampaignStatus;
  paused_reason: string;
  schedule: Schedule;
  timezone: string;
  start_at: string | null;
  daily_limit: number;
  warmup_mix_percent: number;
  track_opens: boolean;
  track_clicks: boolean;
  stop_on_auto_reply: boolean;
  sender_ids: number[];
  list_ids: number[];
  steps: CampaignStep[];
  counts: CampaignCounts;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
}

/** What POST takes (name required) and PATCH takes (any subset). */
export interface CampaignInput {
  name?: string;
  schedule?: Schedule;
  timezone?: string;
  start_at?: string | null;
  daily_limit?: number;
  warmup_mix_percent?: number;
  track_opens?: boolean;
  track_clicks?: boolean;
  stop_on_auto_reply?: boolean;
  sender_ids?: number[];
  list_ids?: number[];
  steps?: Array<{
    delay_minutes: number;
    condition: StepCondition;
    variants: Array<Omit<Variant, "id">>;
  }>;
}

export interface LaunchSummary {
  enrolled: number;
  skipped_suppressed: number;
  skipped_unsubscribed_or_bounced: number;
}

export interface MissingVariable {
  part: "subject" | "body_html" | "body_text";
  variable: string;
  line: number;
  column: number;
  /** The lead has the field but it is empty (else the variable does not exist for it). */
  empty: boolean;
}

export interface Preview {
  step_index: number;
  variant_index: number;
  variant_label: string;
  contact_id: number;
  subject: string;
  body_html: string;
  body_text: string;
  missing: MissingVariable[];
}

function base(ws: number): string {
  return `/workspaces/${ws}/campaigns`;
}

export function listCampaigns(client: ApiClient, ws: number, status?: CampaignStatus): Promise<Items<CampaignSummary>> {
  return client.get<Items<CampaignSummary>>(base(ws), { query: { status } });
}

export function getCampaign(client: ApiClient, ws: number, id: number): Promise<Campaign> {
  return client.get<Campaign>(`${base(ws)}/${id}`);
}

export function createCampaign(client: ApiClient, ws: number, input: CampaignInput & { name: string }): Promise<Campaign> {
  return client.post<Campaign>(base(ws), input);
}

export function updateCampaign(client: ApiClient, ws: number, id: number, input: CampaignInput): Promise<Campaign> {
  return client.patch<Campaign>(`${base(ws)}/${id}`, input);
}

export function launchCampaign(client: ApiClient, ws: number, id: number): Promise<Campaign & { launch: LaunchSummary }> {
  return client.post(`${base(ws)}/${id}/launch`);
}

export function resumeCampaign(client: ApiClient, ws: number, id: number): Promise<Campaign & { resume: LaunchSummary }> {
  return client.post(`${base(ws)}/${id}/resume`);
}

export function pauseCampaign(client: ApiClient, ws: number, id: number, reason?: string): Promise<Campaign> {
  return client.post<Campaign>(`${base(ws)}/${id}/pause`, reason ? { reason } : {});
}

export function completeCampaign(client: ApiClient, ws: number, id: number): Promise<Campaign> {
  return client.post<Campaign>(`${base(ws)}/${id}/complete`);
}

export function archiveCampaign(client: ApiClient, ws: number, id: number): Promise<Campaign> {
  return client.post<Campaign>(`${base(ws)}/${id}/archive`);
}

export function previewCampaign(
  client: ApiClient,
  ws: number,
  id: number,
  input: { step_index: number; variant_index?: number; contact_id: number },
): Promise<Preview> {
  return client.post<Preview>(`${base(ws)}/${id}/preview`, input);
}

export const campaignKeys = {
  all: (ws: number) => ["ws", ws, "campaigns"] as const,
  list: (ws: number, status: string) => ["ws", ws, "campaigns", "list", status] as const,
  one: (ws: number, id: number) => ["ws", ws, "campaigns", "one", id] as const,
};
