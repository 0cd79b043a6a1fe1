// A lead's activity timeline (GET …/contacts/{id}/events, docs/api.md "Leads and lists"): every
// event of the messages sent to the lead, across campaigns, newest first, keyset paged. Resolves
// with the documented answer or rejects with ApiError (404 for a lead not in the workspace).
// describeLeadEvent turns one event into the words the lead page shows (tested in
// leadEvents.test.ts).

import type { ApiClient } from "./client";
import type { Page } from "./types";
import type { Tone } from "../ui/Layout";

export type LeadEventType =
  | "sent"
  | "failed"
  | "bounced"
  | "opened"
  | "clicked"
  | "replied"
  | "auto_replied"
  | "unsubscribed"
  | "complained"
  | "deferred"
  | "unknown";

export interface LeadEvent {
  id: number;
  /** One of LeadEventType; a type added to the server later arrives as its own string. */
  type: string;
  at: string;
  campaign_id: number;
  campaign_name: string;
  /** The step's number in the sequence, 1 for the first. */
  step: number | null;
  /** The variant's label; null once the variant is deleted. */
  variant: string | null;
  message_id: number;
  /** An open or click by a privacy proxy or a link scanner, not the lead. */
  is_machine: boolean;
  /** As recorded: a click's url, a bounce's kind and reason, a failure's SMTP answer… */
  detail: Record<string, unknown>;
}

export function getLeadEvents(client: ApiClient, ws: number, lead_id: number, before?: number, limit = 20): Promise<Page<LeadEvent>> {
  return client.get<Page<LeadEvent>>(`/workspaces/${ws}/contacts/${lead_id}/events`, { query: { limit, before } });
}

export const leadEventKeys = {
  /** Under leadDetailKeys.lead(ws, id), so refreshing the lead refreshes its activity too. */
  page: (ws: number, lead_id: number, before: number | undefined) => ["ws", ws, "leads", "one", lead_id, "events", before ?? null] as const,
};

export interface EventDescription {
  /** "Clicked", "Bounced (hard)". */
  label: string;
  tone: Tone;
  /** One more line from the detail ("https://…", the bounce reason); "" when nothing to add. */
  note: string;
  /** The clicked URL when it is an http(s) URL, to offer as a link. */
  url?: string;
  /** The inbox conversation of a reply. */
  conversation_id?: number;
}

const kLabels: Record<LeadEventType, { label: string; tone: Tone }> = {
  sent: { label: "Sent", tone: "blue" },
  failed: { label: "Not sent", tone: "red" },
  bounced: { label: "Bounced", tone: "red" },
  opened: { label: "Opened", tone: "green" },
  clicked: { label: "Clicked", tone: "green" },
  replied: { label: "Replied", tone: "green" },
  auto_replied: { label: "Automatic reply", tone: "neutral" },
  unsubscribed: { label: "Unsubscribed", tone: "amber" },
  complained: { label: "Marked as spam", tone: "red" },
  deferred: { label: "Deferred, will retry", tone: "amber" },
  unknown: { label: "Outcome unknown", tone: "amber" },
};

function text(detail: Record<string, unknown>, key: string): string {
  const v = detail[key];
  return typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "";
}

/** "mailbox_full" -> "mailbox full". */
function words(s: string): string {
  return s.replace(/_/g, " ");
}

/** The SMTP answer of a failure or deferral: "451 4.7.1 try later", else the reason. */
function smtpNote(detail: Record<string, unknown>): string {
  const answer = [text(detail, "smtp_code"), text(detail, "smtp_enhanced_code"), text(detail, "smtp_response")].filter((s) => s !== "").join(" ");
  return answer !== "" ? answer : text(detail, "reason");
}

/** What one event says, for the timeline. */
export function describeLeadEvent(e: LeadEvent): EventDescription {
  const known = (kLabels as Record<string, { label: string; tone: Tone } | undefined>)[e.type];
  const base = known ?? { label: words(e.type), tone: "neutral" as Tone };
  const d = e.detail ?? {};
  switch (e.type) {
    case "clicked": {
      const url = text(d, "url");
      return { ...base, note: url, url: /^https?:\/\//i.test(url) ? url : undefined };
    }
    case "bounced": {
      const kind = text(d, "kind");
      const reason = [words(text(d, "reason")), text(d, "diagnostic")].filter((s) => s !== "").join(": ");
      return { ...base, label: kind === "hard" || kind === "soft" ? `Bounced (${kind})` : base.label, note: reason };
    }
    case "failed":
    case "deferred":
      return { ...base, note: smtpNote(d) };
    case "replied":
    case "auto_replied": {
      const conversation = d.conversation_id;
      return { ...base, note: "", conversation_id: typeof conversation === "number" && conversation > 0 ? conversation : undefined };
    }
    default:
      return { ...base, note: "" };
  }
}

/** "Step 2 · variant B", "Step 1" (no label or a deleted variant), "" when the step is unknown. */
export function stepLabel(e: Pick<LeadEvent, "step" | "variant">): string {
  if (e.step === null) return "";
  return e.variant ? `Step ${e.step} · variant ${e.variant}` : `Step ${e.step}`;
}
