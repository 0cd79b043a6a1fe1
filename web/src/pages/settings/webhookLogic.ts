// Pure logic of the Webhooks settings screen (tested in webhookLogic.test.ts): the event-type
// selection of the form and the body it sends, how a subscription's state reads, and the delivery
// log's pages folded into one list.

import type { Webhook, WebhookDelivery } from "../../api/webhooks";
import type { Page } from "../../api/types";
import type { Tone } from "../../ui/Layout";

/** The form's choice: every event type (the API's []), or the listed ones. */
export interface EventSelection {
  all: boolean;
  types: ReadonlySet<string>;
}

/** The selection a subscription's `event_types` stands for ([] is every type). */
export function selectionFrom(event_types: readonly string[]): EventSelection {
  if (event_types.length === 0) return { all: true, types: new Set() };
  return { all: false, types: new Set(event_types) };
}

/** Turns one type on or off; choosing a type leaves "every type". */
export function toggleType(selection: EventSelection, type: string, on: boolean): EventSelection {
  const types = new Set(selection.types);
  if (on) types.add(type);
  else types.delete(type);
  return { all: false, types };
}

/**
 * The `event_types` to send: [] for every type, else the chosen ones in the order of `known` (the
 * server's event types); every known type chosen one by one is also sent as [], so events added
 * later are included too. Chosen types not in `known` follow, sorted. Undefined when nothing is
 * chosen, which the form refuses.
 */
export function eventTypesBody(selection: EventSelection, known: readonly string[]): string[] | undefined {
  if (selection.all) return [];
  const chosen = known.filter((t) => selection.types.has(t));
  const others = [...selection.types].filter((t) => !known.includes(t)).sort();
  if (chosen.length + others.length === 0) return undefined;
  if (others.length === 0 && known.length > 0 && chosen.length === known.length) return [];
  return [...chosen, ...others];
}

/** "All events", or the types with at most `shown` named: "sent, replied and 3 more". */
export function describeEventTypes(event_types: readonly string[], shown = 3): string {
  if (event_types.length === 0) return "All events";
  const names = event_types.map((t) => t.replace(/_/g, " "));
  if (names.length <= shown) {
    return names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  }
  return `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}

export interface WebhookState {
  label: string;
  tone: Tone;
  /** A sentence on the last deliveries or why it is off; "" when there is nothing to add. */
  detail: string;
}

function later(a: string | null, b: string | null): "a" | "b" | null {
  if (a === null && b === null) return null;
  if (a === null) return "b";
  if (b === null) return "a";
  return Date.parse(a) >= Date.parse(b) ? "a" : "b";
}

/**
 * How a subscription reads in the list. `format` turns an ISO time into text (injected so the
 * tests do not depend on the machine's time zone).
 */
export function webhookState(w: Webhook, format: (iso: string) => string): WebhookState {
  if (!w.is_enabled) {
    if (w.disabled_reason !== "") {
      return { label: "Disabled automatically", tone: "red", detail: w.disabled_reason };
    }
    return { label: "Disabled", tone: "neutral", detail: "Turned off by hand: events are not sent." };
  }
  const newest = later(w.last_success_at, w.last_failure_at);
  if (newest === null) return { label: "Enabled", tone: "blue", detail: "Nothing delivered yet." };
  if (newest === "b" && w.last_failure_at !== null) {
    const parts = [`Last delivery failed ${format(w.last_failure_at)}.`];
    if (w.failing_since !== null) parts.push(`Failing since ${format(w.failing_since)}.`);
    if (w.failure_count > 0) parts.push(`${w.failure_count} failed attempt${w.failure_count === 1 ? "" : "s"}.`);
    return { label: "Failing", tone: "amber", detail: parts.join(" ") };
  }
  return { label: "Enabled", tone: "green", detail: `Last delivered ${format(w.last_success_at as string)}.` };
}

export interface DeliveryLog {
  items: WebhookDelivery[];
  /** The `before` of the next page, or null at the end of the log. */
  next_before: number | null;
}

/**
 * The delivery log's pages (newest first) folded into one list: a delivery seen on two pages
 * (the log moved between requests) is kept once, in its first place; the next page starts where
 * the last page says.
 */
export function foldDeliveryPages(pages: ReadonlyArray<Page<WebhookDelivery>>): DeliveryLog {
  const seen = new Set<number>();
  const items: WebhookDelivery[] = [];
  for (const page of pages) {
    for (const d of page.items) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      items.push(d);
    }
  }
  const last = pages.length > 0 ? pages[pages.length - 1] : undefined;
  return { items, next_before: last?.next_before ?? null };
}

/** Replaces one delivery (after a retry) wherever it is in the pages. */
export function replaceDelivery(
  pages: ReadonlyArray<Page<WebhookDelivery>>,
  next: WebhookDelivery,
): Array<Page<WebhookDelivery>> {
  return pages.map((p) => ({ ...p, items: p.items.map((d) => (d.id === next.id ? next : d)) }));
}

/** The last attempt's status code and error as one phrase, without saying the code twice. */
function lastAttempt(d: WebhookDelivery): string {
  const code = d.last_status_code !== null ? `HTTP ${d.last_status_code}` : "";
  if (code !== "" && d.last_error.includes(code)) return d.last_error;
  return [code, d.last_error].filter((s) => s !== "").join(": ");
}

/** One delivery's outcome in words: "Delivered (HTTP 200)", "Failed after 7 attempts — …", "Pending, next attempt …". */
export function deliveryOutcome(d: WebhookDelivery, format: (iso: string) => string): string {
  switch (d.status) {
    case "delivered":
      return d.last_status_code !== null ? `Delivered (HTTP ${d.last_status_code})` : "Delivered";
    case "failed": {
      const why = lastAttempt(d);
      return `Failed after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}${why ? ` — ${why}` : ""}`;
    }
    case "pending": {
      const next = d.next_attempt_at !== null ? `next attempt ${format(d.next_attempt_at)}` : "due now";
      const last = d.attempts > 0 ? `; last attempt: ${lastAttempt(d) || "no answer"}` : "";
      return `Pending, ${next}${last}`;
    }
  }
}

/** The ping's outcome in one sentence. */
export function pingOutcome(r: { delivered: boolean; status_code: number | null; error: string }): string {
  if (r.delivered) return `Delivered: the receiver answered HTTP ${r.status_code ?? "2xx"}.`;
  if (r.status_code !== null) {
    return `Not delivered: the receiver answered HTTP ${r.status_code}${r.error ? ` (${r.error})` : ""}.`;
  }
  return `Not delivered: ${r.error || "no answer"}.`;
}

/** The URL problem Kiln will refuse anyway, found before sending: empty, or not http(s). */
export function urlProblem(url: string): string | undefined {
  const trimmed = url.trim();
  if (trimmed === "") return "Enter the URL Kiln should POST events to.";
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return "Enter a full URL, such as https://example.com/kiln-events.";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "The URL must start with http:// or https://.";
  return undefined;
}
