// Leads, lists and lead imports in the API (docs/api.md "Leads and lists", "Lead imports"):
// types, typed calls over the shared ApiClient, the CSV upload with progress, and query keys.
// Each call resolves with the documented answer or rejects with ApiError.

import { ApiError, errorFromResponse, kApiBase, kCsrfHeader, type ApiClient } from "./client";
import type { Items, Page } from "./types";

export type LeadStatus =
  | "new"
  | "contacted"
  | "replied"
  | "interested"
  | "not_interested"
  | "meeting_booked"
  | "bounced"
  | "unsubscribed";

export const kLeadStatuses: readonly LeadStatus[] = [
  "new",
  "contacted",
  "replied",
  "interested",
  "not_interested",
  "meeting_booked",
  "bounced",
  "unsubscribed",
];

/** "not_interested" -> "Not interested". */
export function leadStatusLabel(status: string): string {
  const words = status.replace(/_/g, " ");
  return words.length === 0 ? words : words[0].toUpperCase() + words.slice(1);
}

export interface Lead {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  title: string;
  timezone: string;
  phone: string;
  website: string;
  custom_fields: Record<string, string>;
  status: LeadStatus;
  suppressed: boolean;
  created_at: string;
  updated_at: string;
  list_ids?: number[];
}

export interface LeadInput {
  email: string;
  first_name?: string;
  last_name?: string;
  company?: string;
  title?: string;
  timezone?: string;
  phone?: string;
  website?: string;
  custom_fields?: Record<string, string>;
  status?: LeadStatus;
  list_ids?: number[];
}

export interface LeadFilters {
  q?: string;
  status?: string;
  list_id?: number;
}

export interface LeadList {
  id: number;
  name: string;
  description: string;
  contact_count: number;
  created_at: string;
  updated_at: string;
}

export type ImportStatus = "pending" | "running" | "completed" | "failed" | "canceled";

/** Where a file column goes: a lead field, a custom field (`custom` keeps the header's key), or nowhere. */
export type ImportTarget =
  | "email"
  | "first_name"
  | "last_name"
  | "full_name"
  | "company"
  | "title"
  | "timezone"
  | "phone"
  | "website"
  | "custom"
  | "ignore";

export interface ImportColumn {
  /** 1-based. */
  column: number;
  header: string | null;
  field: ImportTarget;
  custom_key?: string;
}

export interface ImportPreview {
  encoding: string;
  delimiter: string;
  mapping: { has_header: boolean; columns: ImportColumn[] };
  rows: Array<{ row: number; fields: string[]; error: string | null }>;
}

export interface ImportCounts {
  rows: number;
  imported: number;
  existing: number;
  duplicates: number;
  suppressed: number;
  invalid: number;
  role: number;
  disposable: number;
}

export interface ImportJob {
  id: number;
  file_name: string;
  status: ImportStatus;
  list_id: number | null;
  bytes_total: number;
  bytes_read: number;
  progress: number;
  counts: ImportCounts;
  errors: Array<{ row: number; line: number; field: string; message: string; email: string }>;
  encoding: string;
  delimiter: string;
  preview?: ImportPreview;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ImportStart {
  /** Column number (as a string) -> target ("custom:<key>" for a named custom field). */
  mapping?: Record<string, string>;
  has_header?: boolean;
  list_id?: number;
}

function ws_path(ws: number): string {
  return `/workspaces/${ws}`;
}

// --- leads -------------------------------------------------------------------------------
export function listLeads(
  client: ApiClient,
  ws: number,
  filters: LeadFilters & { limit?: number; before?: number },
): Promise<Page<Lead>> {
  return client.get<Page<Lead>>(`${ws_path(ws)}/contacts`, {
    query: {
      q: filters.q || undefined,
      status: filters.status || undefined,
      list_id: filters.list_id,
      limit: filters.limit,
      before: filters.before,
    },
  });
}

export function createLead(client: ApiClient, ws: number, input: LeadInput): Promise<Lead> {
  return client.post<Lead>(`${ws_path(ws)}/contacts`, input);
}

export function updateLead(client: ApiClient, ws: number, id: number, patch: Partial<LeadInput>): Promise<Lead> {
  return client.patch<Lead>(`${ws_path(ws)}/contacts/${id}`, patch);
}

export function deleteLead(client: ApiClient, ws: number, id: number): Promise<void> {
  return client.delete(`${ws_path(ws)}/contacts/${id}`);
}

/** The address of the CSV export of the leads matching `filters` (a plain link: the cookie signs it). */
export function leadsExportUrl(base: string, ws: number, filters: LeadFilters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.status) params.set("status", filters.status);
  if (filters.list_id !== undefined) params.set("list_id", String(filters.list_id));
  const qs = params.toString();
  return `${base}${ws_path(ws)}/contacts/export${qs ? "?" + qs : ""}`;
}

// --- lists -------------------------------------------------------------------------------
export function listLists(client: ApiClient, ws: number): Promise<Items<LeadList>> {
  return client.get<Items<LeadList>>(`${ws_path(ws)}/lists`);
}

export function createList(client: ApiClient, ws: number, input: { name: string; description?: string }): Promise<LeadList> {
  return client.post<LeadList>(`${ws_path(ws)}/lists`, input);
}

export function updateList(client: ApiClient, ws: number, id: number, input: { name?: string; description?: string }): Promise<LeadList> {
  return client.patch<LeadList>(`${ws_path(ws)}/lists/${id}`, input);
}

export function deleteList(client: ApiClient, ws: number, id: number): Promise<void> {
  return client.delete(`${ws_path(ws)}/lists/${id}`);
}

export function addToList(
  client: ApiClient,
  ws: number,
  id: number,
  contact_ids: number[],
): Promise<{ added: number; already_members: number; list: LeadList }> {
  return client.post(`${ws_path(ws)}/lists/${id}/contacts`, { contact_ids });
}

const kListChunk = 10_000;

/**
 * Creates a list holding every lead the workspace has now (pages through the leads, then adds
 * them in chunks of 10,000). Resolves with the list; rejects with the first failing call's error
 * (the list may then exist with part of the leads).
 */
export async function createListOfAllLeads(client: ApiClient, ws: number, name: string): Promise<LeadList> {
  const ids: number[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await listLeads(client, ws, { limit: 500, before });
    for (const lead of page.items) ids.push(lead.id);
    if (page.next_before === null || page.items.length === 0) break;
    before = page.next_before;
  }
  let list = await createList(client, ws, { name, description: "Every lead of the workspace when the list was made" });
  for (let i = 0; i < ids.length; i += kListChunk) {
    list = (await addToList(client, ws, list.id, ids.slice(i, i + kListChunk))).list;
  }
  return list;
}

// --- imports -----------------------------------------------------------------------------
export function listImports(client: ApiClient, ws: number, before?: number): Promise<Page<ImportJob>> {
  return client.get<Page<ImportJob>>(`${ws_path(ws)}/imports`, { query: { before, limit: 20 } });
}

export function getImport(client: ApiClient, ws: number, id: number): Promise<ImportJob> {
  return client.get<ImportJob>(`${ws_path(ws)}/imports/${id}`);
}

export function startImport(client: ApiClient, ws: number, id: number, input: ImportStart): Promise<ImportJob> {
  return client.post<ImportJob>(`${ws_path(ws)}/imports/${id}/start`, input);
}

export function cancelImport(client: ApiClient, ws: number, id: number): Promise<ImportJob> {
  return client.post<ImportJob>(`${ws_path(ws)}/imports/${id}/cancel`);
}

export function importErrorsUrl(base: string, ws: number, id: number): string {
  return `${base}${ws_path(ws)}/imports/${id}/errors`;
}

/** Sends the file as the request body once; resolves with the XHR's status and text. */
function sendFile(
  url: string,
  file: Blob,
  csrf: string | undefined,
  onProgress: (sent: number, total: number) => void,
  signal: AbortSignal | undefined,
): Promise<{ status: number; text: string; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "text/csv");
    if (csrf !== undefined) xhr.setRequestHeader(kCsrfHeader, csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      resolve({ status: xhr.status, text: xhr.responseText, headers });
    };
    xhr.onerror = () =>
      reject(new ApiError({ status: 0, code: "network", message: "The upload did not reach the Kiln server. Check your connection and try again." }));
    xhr.onabort = () => reject(new DOMException("The upload was canceled.", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/**
 * Uploads a CSV file for import (POST /imports?file_name=), reporting bytes sent as they go
 * (XMLHttpRequest: fetch has no upload progress). Resolves with the pending import and its
 * preview; rejects with ApiError (after one session refresh on 401, like every other call).
 */
export async function uploadImport(
  client: ApiClient,
  ws: number,
  file: File,
  onProgress: (sent: number, total: number) => void,
  signal?: AbortSignal,
): Promise<ImportJob> {
  const url = `${kApiBase}${ws_path(ws)}/imports?file_name=${encodeURIComponent(file.name)}`;
  const first = await sendFile(url, file, client.csrfToken(), onProgress, signal);
  if (first.status === 401) {
    const error = await errorFromResponse(asResponse(first));
    if (error.code !== "unauthenticated" || !(await client.refresh())) throw error;
    return finishUpload(await sendFile(url, file, client.csrfToken(), onProgress, signal));
  }
  return finishUpload(first);
}

function asResponse(answer: { status: number; text: string; headers: Headers }): Response {
  return new Response(answer.text === "" ? null : answer.text, { status: answer.status, headers: answer.headers });
}

async function finishUpload(answer: { status: number; text: string; headers: Headers }): Promise<ImportJob> {
  const response = asResponse(answer);
  if (!response.ok) throw await errorFromResponse(response);
  try {
    return (await response.json()) as ImportJob;
  } catch {
    throw new ApiError({ status: answer.status, code: "bad_response", message: "The server's answer was not valid JSON." });
  }
}

export const leadKeys = {
  leads: (ws: number) => ["ws", ws, "leads"] as const,
  page: (ws: number, filters: LeadFilters, before: number | undefined) =>
    ["ws", ws, "leads", filters.q ?? "", filters.status ?? "", filters.list_id ?? 0, before ?? 0] as const,
  lists: (ws: number) => ["ws", ws, "lists"] as const,
  imports: (ws: number) => ["ws", ws, "imports"] as const,
  import: (ws: number, id: number) => ["ws", ws, "imports", id] as const,
};
