// Warm-up of the Kiln JSON API v1 (docs/api.md, "Warm-up inboxes", "Reputation" and the senders'
// warm-up plan): warm-up inboxes ("bots"), their verification, CSV import and provisioning, the
// reputation of bots and senders, a sender's plan and its connection test. Each call resolves
// with the documented answer or rejects with ApiError (CSV import problems in `problems`).

import type { ApiClient } from "./client";
import type { EndpointInput, Items, Security, Sender, SenderStatus } from "./types";

export type BotProvider = "gmail" | "outlook" | "yahoo" | "self_hosted" | "other";
export const kBotProviders: ReadonlyArray<{ value: BotProvider; label: string }> = [
  { value: "gmail", label: "Gmail" },
  { value: "outlook", label: "Outlook" },
  { value: "yahoo", label: "Yahoo" },
  { value: "self_hosted", label: "Self-hosted" },
  { value: "other", label: "Other" },
];

export type BotStatus = SenderStatus;

export interface BotEndpoint {
  host: string;
  port: number;
  security: Security;
  username: string;
  has_password: boolean;
}

export interface Bot {
  id: number;
  name: string;
  email: string;
  provider: BotProvider;
  smtp: BotEndpoint;
  imap: BotEndpoint;
  allow_self_signed: boolean;
  aging_start_at: string | null;
  aging_start_volume: number;
  aging_end_at: string | null;
  daily_send_limit: number;
  daily_receive_limit: number;
  reply_rate_percent: number;
  reply_delay_min_minutes: number;
  reply_delay_max_minutes: number;
  important_rate_percent: number;
  timezone: string;
  provisioned_by: string | null;
  status: BotStatus;
  status_reason: string | null;
  health_score: number | null;
  last_checked_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface BotInput {
  email: string;
  name?: string;
  provider?: BotProvider;
  smtp: Omit<EndpointInput, "username"> & { username?: string };
  imap: Omit<EndpointInput, "username"> & { username?: string };
  allow_self_signed?: boolean;
  aging_start_volume?: number;
  aging_end_at?: string;
  daily_send_limit?: number;
  daily_receive_limit?: number;
  reply_rate_percent?: number;
}

export interface CheckResult {
  ok: boolean;
  kind: string;
  message: string;
}

export interface BotVerification {
  bot: Bot;
  smtp: CheckResult;
  imap: CheckResult;
}

export interface SenderVerification {
  sender: Sender;
  smtp: CheckResult;
  imap: CheckResult;
}

export interface ProvisionInput {
  local_part: string;
  domain: string;
  smtp: { host: string; port: number; security: Security };
  imap: { host: string; port: number; security: Security };
  allow_self_signed?: boolean;
}

export interface ReputationCounts {
  warmup_sent: number;
  inbox: number;
  spam: number;
  other_folder: number;
  missing: number;
  placed: number;
  cold_sent: number;
  bounced: number;
  complaints: number;
  replies: number;
  inbox_rate: number | null;
  spam_rate: number | null;
  bounce_rate: number | null;
  complaint_rate: number | null;
  reply_rate: number | null;
  score: number | null;
}

export interface ReputationWindow extends ReputationCounts {
  days: number;
  has_sample: boolean;
}

export interface ReputationDay extends Partial<ReputationCounts> {
  day: string;
  score: number | null;
}

export interface Reputation {
  subject: "sender" | "bot";
  id: number;
  health_score: number | null;
  windows: ReputationWindow[];
  daily: ReputationDay[];
}

/** A sender's warm-up plan as the API answers it (docs/api.md, issue 5 §2). */
export interface WarmupPlan {
  enabled: boolean;
  start_at: string | null;
  end_at: string | null;
  start_volume: number;
  daily_increase: number;
  max_volume: number;
  weekdays_only: boolean;
  reply_rate_percent: number;
}

export type SenderWithPlan = Sender & { timezone: string; warmup: WarmupPlan };

export interface WarmupPlanPatch {
  enabled?: boolean;
  start_at?: string | null;
  end_at?: string | null;
  start_volume?: number;
  daily_increase?: number;
  max_volume?: number;
  weekdays_only?: boolean;
  reply_rate_percent?: number;
}

export class WarmupApi {
  constructor(readonly client: ApiClient) {}

  bots(ws: number, status?: BotStatus): Promise<Items<Bot>> {
    return this.client.get<Items<Bot>>(`/workspaces/${ws}/bots`, { query: { status } });
  }

  createBot(ws: number, input: BotInput): Promise<Bot> {
    return this.client.post<Bot>(`/workspaces/${ws}/bots`, input);
  }

  /** All or nothing: a 400 lists every bad row in ApiError.problems and writes no bot. */
  importBots(ws: number, csv: Blob | string): Promise<{ created: number; ids: number[] }> {
    return this.client.request<{ created: number; ids: number[] }>("POST", `/workspaces/${ws}/bots/import`, {
      rawBody: { data: csv, contentType: "text/csv" },
    });
  }

  provisionBot(ws: number, input: ProvisionInput): Promise<BotVerification> {
    return this.client.post<BotVerification>(`/workspaces/${ws}/bots/provision`, input);
  }

  deleteBot(ws: number, id: number): Promise<void> {
    return this.client.delete(`/workspaces/${ws}/bots/${id}`);
  }

  verifyBot(ws: number, id: number): Promise<BotVerification> {
    return this.client.post<BotVerification>(`/workspaces/${ws}/bots/${id}/verify`);
  }

  pauseBot(ws: number, id: number, reason?: string): Promise<Bot> {
    return this.client.post<Bot>(`/workspaces/${ws}/bots/${id}/pause`, reason ? { reason } : {});
  }

  resumeBot(ws: number, id: number): Promise<BotVerification> {
    return this.client.post<BotVerification>(`/workspaces/${ws}/bots/${id}/resume`);
  }

  botReputation(ws: number, id: number, days: number): Promise<Reputation> {
    return this.client.get<Reputation>(`/workspaces/${ws}/bots/${id}/reputation`, { query: { days } });
  }

  senderReputation(ws: number, id: number, days: number): Promise<Reputation> {
    return this.client.get<Reputation>(`/workspaces/${ws}/senders/${id}/reputation`, { query: { days } });
  }

  sender(ws: number, id: number): Promise<SenderWithPlan> {
    return this.client.get<SenderWithPlan>(`/workspaces/${ws}/senders/${id}`);
  }

  updateSenderPlan(ws: number, id: number, warmup: WarmupPlanPatch, timezone?: string): Promise<SenderWithPlan> {
    return this.client.patch<SenderWithPlan>(`/workspaces/${ws}/senders/${id}`, timezone === undefined ? { warmup } : { warmup, timezone });
  }

  /** Logs in over SMTP and IMAP with the stored credentials (the "Test connection" button). */
  verifySender(ws: number, id: number): Promise<SenderVerification> {
    return this.client.post<SenderVerification>(`/workspaces/${ws}/senders/${id}/verify`);
  }
}

export const warmupKeys = {
  bots: (ws: number) => ["ws", ws, "bots"] as const,
  botReputation: (ws: number, id: number, days: number) => ["ws", ws, "bots", id, "reputation", days] as const,
  senderReputation: (ws: number, id: number, days: number) => ["ws", ws, "senders", id, "reputation", days] as const,
  sender: (ws: number, id: number) => ["ws", ws, "senders", id] as const,
};
