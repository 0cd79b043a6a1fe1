// Pure logic of the tracking-domain screens (tested in trackingLogic.test.ts): cleaning what a
// user pastes into the domain field, turning the API's DNS check into an explanation with the
// DNS records to create, and the workspace's overview after one domain is saved.

import type { TrackingDomainCheck, TrackingDomainsOverview, TrackingOwner } from "../../api/tracking";

/**
 * What the user typed, as the API expects it: trimmed, without a pasted scheme, path or trailing
 * slash ("https://Track.Acme.com/" -> "Track.Acme.com"). The server checks the rest and answers
 * with a message naming the field.
 */
export function cleanDomainInput(value: string): string {
  let v = value.trim();
  v = v.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = v.indexOf("/");
  if (slash >= 0) v = v.slice(0, slash);
  return v;
}

export interface DnsRecord {
  type: "CNAME" | "A" | "AAAA";
  name: string;
  value: string;
}

export type CheckState = "unset" | "ok" | "problem";

export interface CheckExplanation {
  state: CheckState;
  /** One line for a badge. */
  summary: string;
  /** A sentence or two on what the check found and what to do. */
  text: string;
  /** The records that make the domain point at this server; [] when nothing is known to point at. */
  records: DnsRecord[];
}

function isIpv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

function isIpLiteral(host: string): boolean {
  return isIpv4(host) || host.includes(":") || (host.startsWith("[") && host.endsWith("]"));
}

/** Address records for each of `addresses`, de-duplicated, IPv4 first. */
function addressRecords(name: string, addresses: readonly string[]): DnsRecord[] {
  const unique = [...new Set(addresses.map((a) => a.replace(/^\[|\]$/g, "")))];
  const v4 = unique.filter(isIpv4).map((value): DnsRecord => ({ type: "A", name, value }));
  const v6 = unique.filter((a) => !isIpv4(a)).map((value): DnsRecord => ({ type: "AAAA", name, value }));
  return [...v4, ...v6];
}

/**
 * The records to create for `domain`: a CNAME to the server's host name when the dashboard is
 * reached by name (`server_host`, the address bar's host), else A/AAAA records to the server's
 * addresses (from the check, or the host itself when it is an IP address).
 */
export function recordsFor(domain: string, server_host: string, check: TrackingDomainCheck | null): DnsRecord[] {
  const host = server_host.trim().toLowerCase();
  if (host !== "" && !isIpLiteral(host) && host !== "localhost" && host !== domain.toLowerCase()) {
    return [{ type: "CNAME", name: domain, value: `${host}.` }];
  }
  const known = check !== null && check.server_addresses.length > 0 ? check.server_addresses : isIpLiteral(host) ? [host] : [];
  return addressRecords(domain, known);
}

/** What a tracking domain's check means for the user. `fallback` says what is used without one. */
export function explainCheck(
  domain: string,
  check: TrackingDomainCheck | null,
  server_host: string,
  fallback: string,
): CheckExplanation {
  if (domain === "") {
    return { state: "unset", summary: "Not set", text: `No custom tracking domain: ${fallback}.`, records: [] };
  }
  const records = recordsFor(domain, server_host, check);
  if (check === null) {
    return { state: "problem", summary: "Not checked", text: `${domain} has not been checked yet.`, records };
  }
  if (check.points_here) {
    const via = check.addresses.filter((a) => check.server_addresses.includes(a));
    return {
      state: "ok",
      summary: "Points here",
      text: `${domain} resolves to ${via.join(", ") || check.addresses.join(", ")}, an address of this server: tracking links will work.`,
      records,
    };
  }
  const mentioned = check.addresses.length > 0 && check.problem.includes(check.addresses[0]);
  const found =
    check.addresses.length > 0 && !mentioned
      ? ` It resolves to ${check.addresses.join(", ")}${
          check.server_addresses.length > 0 ? `; this server is ${check.server_addresses.join(", ")}` : ""
        }.`
      : "";
  const problem = check.problem !== "" ? check.problem : `${domain} does not point at this server`;
  const summary =
    check.addresses.length === 0 ? "No address" : check.server_addresses.length === 0 ? "Cannot compare" : "Points elsewhere";
  return {
    state: "problem",
    summary,
    text: `${problem}.${found} Until it points here, opens and clicks through it are lost: create the record below, then check again (DNS changes can take a while to spread).`,
    records,
  };
}

/** The overview with one sender's or campaign's domain replaced (others and the order kept). */
export function withDomain(overview: TrackingDomainsOverview, owner: TrackingOwner, id: number, tracking_domain: string): TrackingDomainsOverview {
  if (owner === "senders") {
    return { ...overview, senders: overview.senders.map((s) => (s.id === id ? { ...s, tracking_domain } : s)) };
  }
  return { ...overview, campaigns: overview.campaigns.map((c) => (c.id === id ? { ...c, tracking_domain } : c)) };
}
