// The leads screen's filters in the page address (?q=&status=&list_id=), so that links (a list's
// "open leads") and reloads keep them. Pure functions, tested in leadFilters.test.ts.

import { kLeadStatuses, type LeadFilters } from "../../api/leads";

/** Reads the filters; an unknown status or a list id that is not a positive integer is ignored. */
export function filtersFromParams(params: URLSearchParams): LeadFilters {
  const out: LeadFilters = {};
  const q = params.get("q");
  if (q !== null && q.trim() !== "") out.q = q;
  const status = params.get("status");
  if (status !== null && (kLeadStatuses as readonly string[]).includes(status)) out.status = status;
  const list = params.get("list_id");
  if (list !== null && /^[1-9]\d*$/.test(list)) out.list_id = Number(list);
  return out;
}

/** The address parameters for `filters`, leaving out the empty ones. */
export function paramsFromFilters(filters: LeadFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q !== undefined && filters.q.trim() !== "") params.set("q", filters.q);
  if (filters.status) params.set("status", filters.status);
  if (filters.list_id !== undefined) params.set("list_id", String(filters.list_id));
  return params;
}
