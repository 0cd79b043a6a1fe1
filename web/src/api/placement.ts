// A sender's warm-up placement in the API (docs/api.md "Analytics": `GET …/senders/{id}/placement`):
// where its warm-up mail landed per day and, over the whole window, by the receiving mailbox's
// provider. Types of the answer, the typed call over the shared ApiClient and its query key. The
// call resolves with the documented answer or rejects with ApiError (404 for an unknown sender, 400
// naming `days` outside 1..365).

import type { ApiClient } from "./client";

/** Placement counts of warm-up mail that was looked for, and rates 0..1 (`null`: nothing placed). */
export interface PlacementCounts {
  placed: number;
  inbox: number;
  spam: number;
  other_folder: number;
  missing: number;
  inbox_rate: number | null;
  spam_rate: number | null;
}

export interface PlacementDay extends PlacementCounts {
  day: string;
  warmup_sent: number;
}

/** One receiving provider: a bot's provider (`gmail`, `outlook`, `yahoo`, `self_hosted`, `other`) or `peer`. */
export interface ProviderPlacement extends PlacementCounts {
  provider: string;
}

export interface SenderPlacement {
  sender_id: number;
  days: number;
  health_score: number | null;
  totals: PlacementCounts;
  daily: PlacementDay[];
  by_provider: ProviderPlacement[];
}

export function getSenderPlacement(client: ApiClient, ws: number, sender_id: number, days: number): Promise<SenderPlacement> {
  return client.get<SenderPlacement>(`/workspaces/${ws}/senders/${sender_id}/placement`, { query: { days } });
}

export const placementKeys = {
  sender: (ws: number, id: number, days: number) => ["ws", ws, "senders", id, "placement", days] as const,
};
