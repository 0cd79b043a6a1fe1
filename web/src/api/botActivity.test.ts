import { describe, expect, it } from "vitest";
import { activitySteps, type BotActivityItem } from "./botActivity";

function item(over: Partial<BotActivityItem>): BotActivityItem {
  return {
    id: 1, sender_id: 2, sender_email: "ana@acme.test", subject: "Hi", placement: "inbox", sent_at: "2026-11-22T08:00:00.000Z",
    received_at: null, opened_at: null, flagged_at: null, rescued_at: null, replied_at: null, ...over,
  };
}

describe("activitySteps", () => {
  it("lists what the bot did in time order, naming where the mail was found", () => {
    const steps = activitySteps(item({
      placement: "spam",
      received_at: "2026-11-22T08:01:00.000Z",
      replied_at: "2026-11-22T09:00:00.000Z",
      rescued_at: "2026-11-22T08:02:00.000Z",
      opened_at: "2026-11-22T08:03:00.000Z",
    }));
    expect(steps.map((s) => s.label)).toEqual(["Received in spam", "Moved out of spam", "Read", "Answered"]);
  });

  it("is empty before the bot found the mail, names the placement alone when only it was recorded, and says when a mail was missing", () => {
    expect(activitySteps(item({ placement: "unknown" }))).toEqual([]);
    expect(activitySteps(item({ placement: "inbox", replied_at: "2026-11-22T09:00:00.000Z" }))).toEqual([
      { label: "Received in the inbox", at: null },
      { label: "Answered", at: "2026-11-22T09:00:00.000Z" },
    ]);
    expect(activitySteps(item({ placement: "missing", received_at: "2026-11-22T08:01:00.000Z" }))).toEqual([
      { label: "Looked for, not found", at: "2026-11-22T08:01:00.000Z" },
    ]);
  });
});
