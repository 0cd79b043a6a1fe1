// The unified inbox and the suppression list of the Kiln JSON API v1 (docs/api.md, "Unified
// inbox" and "Suppression"): shapes and typed calls over the shared ApiClient. Each call resolves
// with the documented answer or rejects with ApiError.

import type { ApiClient } from "./client";
import { kApiBase } from "./client";
import type { LeadStatus } from "./leads";
import type { Page } from "./types";

export type ConversationStatus = "open" | "interested" | "not_interested" | "closed";
export const kConversationStatuses: readonly ConversationStatus[] = ["open", "interested", "not_interested", "closed"];

// Lead statuses are the leads API's (one list for the leads screens and the inbox).
export { kLeadStatuses, type LeadStatus } from "./leads";
/** "not_interested" → "Not interested" (lead and conversation statuses alike). */
export { leadStatusLabel as statusLabel } from "./leads";

export interface ConversationLead {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  status: LeadStatus;
}

export interface Conversation {
  id: number;
  sender_id: number;
  sender_email: string;
  campaign_id: number | null;
  campaign_name: string | null;
  lead: ConversationLead;
  subject: string;
  status: ConversationStatus;
  is_read: boolean;
  last_message_at: string;
  created_at: string;
  updated_at: string;
}

export interface ConversationMessage {
  id: number;
  campaign_message_id: number | null;
  direction: "in" | "out";
  kind: "campaign" | "reply" | "auto_reply";
  message_id: string | null;
  from: string | null;
  to: string | null;
  subject: string | null;
  body_text: string | null;
  body_html: string | null;
  folder: string | null;
  at: string;
  /** Campaign messages only: the send's status. */
  status?: string;
}

export interface Thread extends Conversation {
  messages: ConversationMessage[];
}

export interface ConversationFilter {
  status?: ConversationStatus;
  unread?: boolean;
  campaign_id?: number;
  sender_id?: number;
  q?: string;
}

export interface ConversationPatch {
  is_read?: boolean;
  status?: ConversationStatus;
  lead_status?: LeadStatus;
}

export interface ReplyInput {
  text: string;
  html?: string;
  subject?: string;
}

export interface ReplyAnswer {
  id: number;
  message_id: string;
  to: string;
  subject: string;
  smtp: { code: number; enhanced: string; text: string };
  sent_copy: boolean;
  sent_copy_error: string | null;
}

export interface Suppression {
  id: number;
  email: string | null;
  domain: string | null;
  campaign_id: number | null;
  reason: "manual" | "imported" | "unsubscribed" | "bounced" | "complained";
  source: string | null;
  created_at: string;
}

export interface SuppressionImportAnswer {
  rows: number;
  added: number;
  existing: number;
  error_count: number;
  errors: Array<{ row: number; value: string; message: string }>;
}

/** The display form of a suppression entry: the address, or "@domain". */
export function suppressionValue(s: Suppression): string {
  if (s.email) return s.email;
  return s.domain ? `@${s.domain}` : "";
}

/**
 * Splits what a user typed into suppression values: one per line, comma or space; blanks dropped,
 * duplicates (case-insensitive) kept once, in order.
 */
export function parseSuppressionValues(text: string): string[] {
  const seen = new Set<string>();
  const values: string[] = [];
  for (const raw of text.split(/[\s,;]+/)) {
    const value = raw.trim();
    if (value === "") continue;
    const key = value.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    values.push(value);
  }
  return values;
}

export class InboxApi {
  constructor(readonly client: ApiClient) {}

  conversations(ws: number, filter: ConversationFilter, page: { limit: number; before?: number }): Promise<Page<Conversation>> {
    return this.client.get<Page<Conversation>>(`/workspaces/${ws}/conversations`, {
      query: {
        status: filter.status,
        unread: filter.unread === undefined ? undefined : String(filter.unread),
        campaign_id: filter.campaign_id,
        sender_id: filter.sender_id,
        q: filter.q === undefined || filter.q.trim() === "" ? undefined : filter.q.trim(),
        limit: page.limit,
        before: page.before,
      },
    });
  }

  thread(ws: number, id: number): Promise<Thread> {
    return this.client.get<Thread>(`/workspaces/${ws}/conversations/${id}`);
  }

  updateConversation(ws: number, id: number, patch: ConversationPatch): Promise<Conversation> {
    return this.client.patch<Conversation>(`/workspaces/${ws}/conversations/${id}`, patch);
  }

  reply(ws: number, id: number, input: ReplyInput): Promise<ReplyAnswer> {
    return this.client.post<ReplyAnswer>(`/workspaces/${ws}/conversations/${id}/reply`, input);
  }

  // --- suppression -----------------------------------------------------------------------
  suppressions(ws: number, options: { q?: string; limit: number; before?: number }): Promise<Page<Suppression>> {
    return this.client.get<Page<Suppression>>(`/workspaces/${ws}/suppressions`, {
      query: { q: options.q?.trim() || undefined, limit: options.limit, before: options.before },
    });
  }

  addSuppressions(ws: number, values: string[]): Promise<{ added: number; existing: number }> {
    return this.client.post<{ added: number; existing: number }>(`/workspaces/${ws}/suppressions`, { values });
  }

  deleteSuppression(ws: number, id: number): Promise<void> {
    return this.client.delete(`/workspaces/${ws}/suppressions/${id}`);
  }

  importSuppressions(ws: number, csv: Blob | string): Promise<SuppressionImportAnswer> {
    return this.client.request<SuppressionImportAnswer>("POST", `/workspaces/${ws}/suppressions/import`, {
      rawBody: { data: csv, contentType: "text/csv" },
    });
  }

  /** The address of the CSV export, for a download link (the session cookie authorises it). */
  suppressionExportUrl(ws: number): string {
    return `${kApiBase}/workspaces/${ws}/suppressions/export`;
  }
}

export const inboxKeys = {
  conversations: (ws: number) => ["ws", ws, "conversations"] as const,
  /** Every filtered list (not the threads), for invalidation after a change. */
  conversationLists: (ws: number) => ["ws", ws, "conversations", "list"] as const,
  conversationList: (ws: number, filter: ConversationFilter) => ["ws", ws, "conversations", "list", filter] as const,
  thread: (ws: number, id: number) => ["ws", ws, "conversations", "thread", id] as const,
  suppressions: (ws: number) => ["ws", ws, "suppressions"] as const,
  suppressionList: (ws: number, q: string, before: number | undefined) => ["ws", ws, "suppressions", q, before ?? "latest"] as const,
};
