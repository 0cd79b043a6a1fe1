// Custom tracking domains of the Kiln JSON API v1 (docs/api.md, "Tracking links"): per sender and
// per campaign (the campaign's wins), each read with a DNS check of whether the domain points at
// this server, and all of a workspace's at once without checks. Each call resolves with the
// documented answer or rejects with ApiError (a bad hostname answers 400 naming `tracking_domain`).

import type { ApiClient } from "./client";

/** Whether the domain's A/AAAA addresses include those of the server's public_url host. */
export interface TrackingDomainCheck {
  addresses: string[];
  server_addresses: string[];
  points_here: boolean;
  /** Why it does not point here (or could not be checked); "" when it does. */
  problem: string;
}

export interface TrackingDomain {
  id: number;
  /** "" when none is set. */
  tracking_domain: string;
  /** Null when no domain is set (nothing to check). */
  check: TrackingDomainCheck | null;
}

export type TrackingOwner = "senders" | "campaigns";

/** Every sender's and campaign's domain in one answer ("" = not set), without DNS checks. */
export interface TrackingDomainsOverview {
  /** In the order of the sender list. */
  senders: Array<{ id: number; email: string; tracking_domain: string }>;
  /** Newest first, archived ones included. */
  campaigns: Array<{ id: number; name: string; status: string; tracking_domain: string }>;
}

/** One GET for the whole workspace; each domain's DNS check stays per item (getTrackingDomain). */
export function listTrackingDomains(client: ApiClient, ws: number): Promise<TrackingDomainsOverview> {
  return client.get<TrackingDomainsOverview>(`/workspaces/${ws}/tracking-domains`);
}

function path(ws: number, owner: TrackingOwner, id: number): string {
  return `/workspaces/${ws}/${owner}/${id}/tracking-domain`;
}

/** Reads the domain and checks its DNS now (the server resolves it through `dns_resolver`). */
export function getTrackingDomain(client: ApiClient, ws: number, owner: TrackingOwner, id: number): Promise<TrackingDomain> {
  return client.get<TrackingDomain>(path(ws, owner, id));
}

/** Sets the domain (a hostname) or clears it (""); answers the stored, normalised value. */
export function setTrackingDomain(
  client: ApiClient,
  ws: number,
  owner: TrackingOwner,
  id: number,
  tracking_domain: string,
): Promise<{ id: number; tracking_domain: string }> {
  return client.request<{ id: number; tracking_domain: string }>("PUT", path(ws, owner, id), {
    body: { tracking_domain: tracking_domain === "" ? null : tracking_domain },
  });
}

export const trackingKeys = {
  all: (ws: number) => ["ws", ws, "tracking-domains"] as const,
  one: (ws: number, owner: TrackingOwner, id: number) => ["ws", ws, "tracking-domain", owner, id] as const,
};
