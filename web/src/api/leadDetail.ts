// One lead in the API (docs/api.md "Leads and lists"): read it with its list memberships and
// take it out of a list. (Changing it, adding it to lists and the list of lists are in leads.ts.)
// Each call resolves with the documented answer or rejects with ApiError (404 for an unknown lead
// or list).

import type { ApiClient } from "./client";
import type { Lead } from "./leads";

/** A lead as single-lead answers give it: `list_ids` always present. */
export type LeadWithLists = Lead & { list_ids: number[] };

export function getLead(client: ApiClient, ws: number, id: number): Promise<LeadWithLists> {
  return client.get<LeadWithLists>(`/workspaces/${ws}/contacts/${id}`);
}

export function removeFromList(client: ApiClient, ws: number, list_id: number, contact_id: number): Promise<void> {
  return client.delete(`/workspaces/${ws}/lists/${list_id}/contacts/${contact_id}`);
}

export const leadDetailKeys = {
  /** Under leadKeys.leads(ws), so invalidating the leads refreshes an open lead too. */
  lead: (ws: number, id: number) => ["ws", ws, "leads", "one", id] as const,
};
