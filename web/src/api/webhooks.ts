// Webhooks of the Kiln JSON API v1 (docs/api.md, "Webhooks"): outgoing subscriptions with their
// signing secret (answered once, on create), the event types they can name, the test ping, the
// delivery log with keyset paging and retry, and the inbound provider webhook (Mailgun signing key, the secret inbound URL answered once).
// Each call resolves with the documented answer or rejects with ApiError (400 names the field).

import type { ApiClient } from "./client";
import type { Items, Page } from "./types";

/**
 * An event type a subscription can list, with what it means (GET …/webhooks/event-types: the
 * server's webhooks::kEventTypes, in its order). An empty list in a subscription means every type.
 */
export interface WebhookEventTypeInfo {
  type: string;
  description: string;
}

export interface Webhook {
  id: number;
  url: string;
  description: string;
  /** [] means every event type. */
  event_types: string[];
  is_enabled: boolean;
  /** Why Kiln turned it off by itself (deliveries failing for too long); "" otherwise. */
  disabled_reason: string;
  failure_count: number;
  failing_since: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The answer to a create: the webhook and its signing secret, shown only this once. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

export interface WebhookInput {
  url?: string;
  event_types?: string[];
  description?: string;
  is_enabled?: boolean;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";
export const kDeliveryStatuses: readonly DeliveryStatus[] = ["pending", "delivered", "failed"];

export interface WebhookDelivery {
  id: number;
  webhook_id: number;
  event_id: number | null;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string;
  created_at: string;
  delivered_at: string | null;
}

/** The outcome of one signed `ping` sent now. */
export interface PingResult {
  delivery_id: number;
  delivered: boolean;
  status_code: number | null;
  error: string;
}

export interface ProviderWebhook {
  configured: boolean;
  mailgun_signing_key_set: boolean;
  updated_at?: string | null;
}

/** The answer to a PUT: a new inbound URL path (its token is shown only this once). */
export interface RotatedProviderWebhook {
  configured: boolean;
  mailgun_signing_key_set: boolean;
  token: string;
  path: string;
}

function base(ws: number): string {
  return `/workspaces/${ws}/webhooks`;
}

export function listWebhooks(client: ApiClient, ws: number): Promise<Items<Webhook>> {
  return client.get<Items<Webhook>>(base(ws));
}

export function createWebhook(client: ApiClient, ws: number, input: WebhookInput): Promise<CreatedWebhook> {
  return client.post<CreatedWebhook>(base(ws), input);
}

export function updateWebhook(client: ApiClient, ws: number, id: number, input: WebhookInput): Promise<Webhook> {
  return client.patch<Webhook>(`${base(ws)}/${id}`, input);
}

export function deleteWebhook(client: ApiClient, ws: number, id: number): Promise<void> {
  return client.delete(`${base(ws)}/${id}`);
}

export function pingWebhook(client: ApiClient, ws: number, id: number): Promise<PingResult> {
  return client.post<PingResult>(`${base(ws)}/${id}/test`);
}

/** The event types a subscription can name, in the server's order (any member may read them). */
export function listWebhookEventTypes(client: ApiClient, ws: number): Promise<Items<WebhookEventTypeInfo>> {
  return client.get<Items<WebhookEventTypeInfo>>(`/workspaces/${ws}/webhooks/event-types`);
}

export const kDeliveriesPageSize = 25;

export function listDeliveries(
  client: ApiClient,
  ws: number,
  id: number,
  options: { status?: DeliveryStatus; before?: number; limit?: number } = {},
): Promise<Page<WebhookDelivery>> {
  return client.get<Page<WebhookDelivery>>(`${base(ws)}/${id}/deliveries`, {
    query: { status: options.status, before: options.before, limit: options.limit ?? kDeliveriesPageSize },
  });
}

export function retryDelivery(client: ApiClient, ws: number, id: number, delivery_id: number): Promise<WebhookDelivery> {
  return client.post<WebhookDelivery>(`${base(ws)}/${id}/deliveries/${delivery_id}/retry`);
}

export function getProviderWebhook(client: ApiClient, ws: number): Promise<ProviderWebhook> {
  return client.get<ProviderWebhook>(`/workspaces/${ws}/provider-webhook`);
}

/**
 * Generates a new inbound URL (the previous one stops working) and stores the Mailgun signing key
 * given with it: every call replaces the key, so an empty or absent key leaves none (only Kiln's
 * generic JSON and Postmark's records are then accepted; Mailgun payloads answer 401).
 */
export function rotateProviderWebhook(client: ApiClient, ws: number, mailgun_signing_key: string): Promise<RotatedProviderWebhook> {
  const key = mailgun_signing_key.trim();
  return client.request<RotatedProviderWebhook>("PUT", `/workspaces/${ws}/provider-webhook`, {
    body: { mailgun_signing_key: key === "" ? null : key },
  });
}

export const webhookKeys = {
  all: (ws: number) => ["ws", ws, "webhooks"] as const,
  list: (ws: number) => ["ws", ws, "webhooks", "list"] as const,
  eventTypes: (ws: number) => ["ws", ws, "webhooks", "event-types"] as const,
  deliveries: (ws: number, id: number, status: string) => ["ws", ws, "webhooks", "deliveries", id, status] as const,
  provider: (ws: number) => ["ws", ws, "provider-webhook"] as const,
};
