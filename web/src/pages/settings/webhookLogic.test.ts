import { describe, expect, it } from "vitest";
import type { Webhook, WebhookDelivery } from "../../api/webhooks";

/** The server's event types (GET …/webhooks/event-types), in its order. */
const kKnown = ["sent", "failed", "bounced", "opened", "clicked", "replied", "auto_replied", "unsubscribed", "complained", "deferred", "unknown"];
import {
  deliveryOutcome,
  describeEventTypes,
  eventTypesBody,
  foldDeliveryPages,
  pingOutcome,
  replaceDelivery,
  selectionFrom,
  toggleType,
  urlProblem,
  webhookState,
} from "./webhookLogic";

const fmt = (iso: string) => `<${iso}>`;

function hook(over: Partial<Webhook> = {}): Webhook {
  return {
    id: 1,
    url: "https://example.com/h",
    description: "",
    event_types: [],
    is_enabled: true,
    disabled_reason: "",
    failure_count: 0,
    failing_since: null,
    last_success_at: null,
    last_failure_at: null,
    created_at: "2026-11-22T08:00:00.000Z",
    updated_at: "2026-11-22T08:00:00.000Z",
    ...over,
  };
}

function delivery(id: number, over: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id,
    webhook_id: 1,
    event_id: id * 10,
    event_type: "sent",
    status: "delivered",
    attempts: 1,
    next_attempt_at: null,
    last_attempt_at: "2026-11-22T08:00:00.000Z",
    last_status_code: 200,
    last_error: "",
    created_at: "2026-11-22T08:00:00.000Z",
    delivered_at: "2026-11-22T08:00:01.000Z",
    ...over,
  };
}

describe("event type selection", () => {
  it("reads [] as every type and a list as those types", () => {
    expect(selectionFrom([])).toEqual({ all: true, types: new Set() });
    expect(selectionFrom(["replied", "sent"])).toEqual({ all: false, types: new Set(["replied", "sent"]) });
  });

  it("sends [] for every type and the chosen types in the API's order", () => {
    expect(eventTypesBody(selectionFrom([]), kKnown)).toEqual([]);
    let s = selectionFrom(["replied"]);
    s = toggleType(s, "sent", true);
    s = toggleType(s, "bounced", true);
    expect(eventTypesBody(s, kKnown)).toEqual(["sent", "bounced", "replied"]);
    s = toggleType(s, "bounced", false);
    expect(eventTypesBody(s, kKnown)).toEqual(["sent", "replied"]);
  });

  it("refuses an empty choice", () => {
    const s = toggleType(selectionFrom(["sent"]), "sent", false);
    expect(s.all).toBe(false);
    expect(eventTypesBody(s, kKnown)).toBeUndefined();
  });

  it("sends every known type chosen one by one as [] (types added later included)", () => {
    let s = toggleType(selectionFrom(["sent"]), "sent", false);
    for (const t of kKnown) s = toggleType(s, t, true);
    expect(eventTypesBody(s, kKnown)).toEqual([]);
  });

  it("never reads an empty list of known types as every type", () => {
    expect(eventTypesBody(selectionFrom(["sent", "replied"]), [])).toEqual(["replied", "sent"]);
  });

  it("keeps a type this dashboard does not know, after the known ones", () => {
    expect(eventTypesBody(selectionFrom(["future_type", "sent"]), kKnown)).toEqual(["sent", "future_type"]);
  });

  it("describes the choice in a few words", () => {
    expect(describeEventTypes([])).toBe("All events");
    expect(describeEventTypes(["sent"])).toBe("sent");
    expect(describeEventTypes(["sent", "auto_replied"])).toBe("sent and auto replied");
    expect(describeEventTypes(["sent", "opened", "clicked", "replied", "bounced"])).toBe("sent, opened, clicked and 2 more");
  });
});

describe("webhookState", () => {
  it("explains an automatic disable with the server's reason", () => {
    const s = webhookState(hook({ is_enabled: false, disabled_reason: "every delivery failed for 72 h" }), fmt);
    expect(s).toEqual({ label: "Disabled automatically", tone: "red", detail: "every delivery failed for 72 h" });
  });

  it("tells a hand-disabled webhook apart", () => {
    expect(webhookState(hook({ is_enabled: false }), fmt).label).toBe("Disabled");
  });

  it("says nothing was delivered yet, then the last success", () => {
    expect(webhookState(hook(), fmt).detail).toBe("Nothing delivered yet.");
    const ok = webhookState(hook({ last_success_at: "2026-11-22T09:00:00.000Z", last_failure_at: "2026-11-22T08:00:00.000Z" }), fmt);
    expect(ok).toEqual({ label: "Enabled", tone: "green", detail: "Last delivered <2026-11-22T09:00:00.000Z>." });
  });

  it("reports failing when the newest attempt failed", () => {
    const s = webhookState(
      hook({
        last_success_at: "2026-11-22T07:00:00.000Z",
        last_failure_at: "2026-11-22T09:00:00.000Z",
        failing_since: "2026-11-22T08:00:00.000Z",
        failure_count: 3,
      }),
      fmt,
    );
    expect(s.label).toBe("Failing");
    expect(s.tone).toBe("amber");
    expect(s.detail).toBe("Last delivery failed <2026-11-22T09:00:00.000Z>. Failing since <2026-11-22T08:00:00.000Z>. 3 failed attempts.");
  });
});

describe("delivery log paging", () => {
  it("folds pages in order and continues from the last page's next_before", () => {
    const log = foldDeliveryPages([
      { items: [delivery(9), delivery(8)], next_before: 8 },
      { items: [delivery(7), delivery(6)], next_before: 6 },
    ]);
    expect(log.items.map((d) => d.id)).toEqual([9, 8, 7, 6]);
    expect(log.next_before).toBe(6);
  });

  it("ends when the last page has no next_before", () => {
    expect(foldDeliveryPages([{ items: [delivery(2)], next_before: 2 }, { items: [delivery(1)], next_before: null }]).next_before).toBeNull();
    expect(foldDeliveryPages([])).toEqual({ items: [], next_before: null });
  });

  it("keeps a delivery seen on two pages once, in its first place", () => {
    const log = foldDeliveryPages([
      { items: [delivery(5), delivery(4)], next_before: 4 },
      { items: [delivery(4, { status: "failed" }), delivery(3)], next_before: null },
    ]);
    expect(log.items.map((d) => [d.id, d.status])).toEqual([
      [5, "delivered"],
      [4, "delivered"],
      [3, "delivered"],
    ]);
  });

  it("replaces a retried delivery in whichever page holds it", () => {
    const pages = [
      { items: [delivery(5)], next_before: 5 },
      { items: [delivery(4, { status: "failed" })], next_before: null },
    ];
    const next = replaceDelivery(pages, delivery(4, { status: "pending", next_attempt_at: "2026-11-22T10:00:00.000Z" }));
    expect(next[1].items[0].status).toBe("pending");
    expect(next[0]).toEqual(pages[0]);
    expect(pages[1].items[0].status).toBe("failed");
  });
});

describe("outcomes in words", () => {
  it("describes deliveries by status", () => {
    expect(deliveryOutcome(delivery(1), fmt)).toBe("Delivered (HTTP 200)");
    expect(deliveryOutcome(delivery(1, { status: "failed", attempts: 7, last_status_code: 500, last_error: "server error" }), fmt)).toBe(
      "Failed after 7 attempts — HTTP 500: server error",
    );
    expect(deliveryOutcome(delivery(1, { status: "failed", attempts: 1, last_status_code: null, last_error: "connection refused" }), fmt)).toBe(
      "Failed after 1 attempt — connection refused",
    );
    expect(deliveryOutcome(delivery(1, { status: "pending", attempts: 0, last_status_code: null, next_attempt_at: null }), fmt)).toBe("Pending, due now");
    expect(
      deliveryOutcome(delivery(1, { status: "pending", attempts: 2, last_status_code: 503, last_error: "", next_attempt_at: "2026-11-22T10:00:00.000Z" }), fmt),
    ).toBe("Pending, next attempt <2026-11-22T10:00:00.000Z>; last attempt: HTTP 503");
    // The server's error often names the code already: it is said once.
    expect(
      deliveryOutcome(delivery(1, { status: "failed", attempts: 1, last_status_code: 500, last_error: "the receiver answered HTTP 500" }), fmt),
    ).toBe("Failed after 1 attempt — the receiver answered HTTP 500");
  });

  it("describes a ping's outcome", () => {
    expect(pingOutcome({ delivered: true, status_code: 204, error: "" })).toBe("Delivered: the receiver answered HTTP 204.");
    expect(pingOutcome({ delivered: false, status_code: 401, error: "bad signature" })).toBe("Not delivered: the receiver answered HTTP 401 (bad signature).");
    expect(pingOutcome({ delivered: false, status_code: null, error: "connection refused" })).toBe("Not delivered: connection refused.");
  });

  it("checks the URL's form before the server does", () => {
    expect(urlProblem("  ")).toMatch(/Enter the URL/);
    expect(urlProblem("example.com/x")).toMatch(/full URL/);
    expect(urlProblem("ftp://example.com/x")).toMatch(/http:\/\/ or https:\/\//);
    expect(urlProblem("https://example.com/x")).toBeUndefined();
  });
});
