import { describe, expect, it } from "vitest";
import { describeLeadEvent, stepLabel, type LeadEvent } from "./leadEvents";

function event(type: string, detail: Record<string, unknown> = {}, extra: Partial<LeadEvent> = {}): LeadEvent {
  return {
    id: 7,
    type,
    at: "2026-03-10T00:00:00.000Z",
    campaign_id: 3,
    campaign_name: "Spring outreach",
    step: 1,
    variant: "A",
    message_id: 11,
    is_machine: false,
    detail,
    ...extra,
  };
}

describe("describeLeadEvent", () => {
  it("names every known type", () => {
    expect(describeLeadEvent(event("sent"))).toEqual({ label: "Sent", tone: "blue", note: "" });
    expect(describeLeadEvent(event("complained")).label).toBe("Marked as spam");
    expect(describeLeadEvent(event("unknown")).label).toBe("Outcome unknown");
  });

  it("offers a click's http(s) URL as a link, and any other URL as text only", () => {
    expect(describeLeadEvent(event("clicked", { url: "https://example.com/pricing", link_index: 0 }))).toEqual({
      label: "Clicked",
      tone: "green",
      note: "https://example.com/pricing",
      url: "https://example.com/pricing",
    });
    const odd = describeLeadEvent(event("clicked", { url: "javascript:alert(1)" }));
    expect(odd.note).toBe("javascript:alert(1)");
    expect(odd.url).toBeUndefined();
  });

  it("says a bounce's kind and reason", () => {
    const d = describeLeadEvent(event("bounced", { kind: "hard", reason: "no_such_user", diagnostic: "550 5.1.1 unknown user" }));
    expect(d.label).toBe("Bounced (hard)");
    expect(d.note).toBe("no such user: 550 5.1.1 unknown user");
    expect(describeLeadEvent(event("bounced", { kind: "soft", reason: "mailbox full" })).note).toBe("mailbox full");
    expect(describeLeadEvent(event("bounced")).label).toBe("Bounced");
  });

  it("gives a failure's SMTP answer, else its reason", () => {
    expect(describeLeadEvent(event("deferred", { smtp_code: 451, smtp_enhanced_code: "4.7.1", smtp_response: "try later" })).note).toBe(
      "451 4.7.1 try later",
    );
    expect(describeLeadEvent(event("failed", { reason: "connection refused" })).note).toBe("connection refused");
  });

  it("links a reply to its conversation when there is one", () => {
    expect(describeLeadEvent(event("replied", { method: "in_reply_to", conversation_id: 42 })).conversation_id).toBe(42);
    expect(describeLeadEvent(event("replied")).conversation_id).toBeUndefined();
  });

  it("shows a type the dashboard does not know yet in words", () => {
    expect(describeLeadEvent(event("soft_opened"))).toEqual({ label: "soft opened", tone: "neutral", note: "" });
  });
});

describe("stepLabel", () => {
  it("names the step and variant", () => {
    expect(stepLabel({ step: 2, variant: "B" })).toBe("Step 2 · variant B");
    expect(stepLabel({ step: 1, variant: null })).toBe("Step 1");
    expect(stepLabel({ step: 1, variant: "" })).toBe("Step 1");
    expect(stepLabel({ step: null, variant: "A" })).toBe("");
  });
});
