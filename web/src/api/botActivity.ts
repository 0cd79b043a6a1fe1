// A warm-up inbox's recent activity (GET …/bots/{id}/activity, docs/api.md): the warm-up mail it
// received, newest first, with when it found it (and where), read it, marked it important, moved
// it out of spam and answered it. Resolves with the documented answer or rejects with ApiError.

import type { ApiClient } from "./client";

export type WarmupPlacement = "unknown" | "inbox" | "spam" | "other_folder" | "missing";

export interface BotActivityItem {
  id: number;
  sender_id: number;
  sender_email: string;
  subject: string;
  placement: WarmupPlacement;
  sent_at: string | null;
  received_at: string | null;
  opened_at: string | null;
  flagged_at: string | null;
  rescued_at: string | null;
  replied_at: string | null;
}

export interface BotActivityPage {
  items: BotActivityItem[];
  next_before: number | null;
}

export function getBotActivity(client: ApiClient, ws: number, bot_id: number, before?: number, limit = 20): Promise<BotActivityPage> {
  return client.get<BotActivityPage>(`/workspaces/${ws}/bots/${bot_id}/activity`, { query: { limit, before } });
}

export const botActivityKeys = {
  page: (ws: number, bot_id: number, before: number | undefined) => ["ws", ws, "bots", bot_id, "activity", before ?? null] as const,
};

/**
 * What the bot did with one mail, in order: "Received in spam", "Moved out of spam", "Answered".
 * Where it was found comes first, without a time when only the placement was recorded.
 */
export function activitySteps(item: BotActivityItem): Array<{ label: string; at: string | null }> {
  const steps: Array<{ label: string; at: string }> = [];
  if (item.received_at !== null) steps.push({ label: kReceivedLabel[item.placement], at: item.received_at });
  if (item.opened_at !== null) steps.push({ label: "Read", at: item.opened_at });
  if (item.flagged_at !== null) steps.push({ label: "Marked important", at: item.flagged_at });
  if (item.rescued_at !== null) steps.push({ label: "Moved out of spam", at: item.rescued_at });
  if (item.replied_at !== null) steps.push({ label: "Answered", at: item.replied_at });
  steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (item.received_at === null && item.placement !== "unknown") return [{ label: kReceivedLabel[item.placement], at: null }, ...steps];
  return steps;
}

const kReceivedLabel: Record<WarmupPlacement, string> = {
  inbox: "Received in the inbox",
  spam: "Received in spam",
  other_folder: "Received in another folder",
  missing: "Looked for, not found",
  unknown: "Received",
};
