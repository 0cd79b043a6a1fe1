import { describe, expect, it } from "vitest";
import type { Campaign } from "../../api/campaigns";
import {
  campaignActions,
  customVariableName,
  delayMinutes,
  formFromCampaign,
  formProblems,
  inputFromForm,
  insertAt,
  moveItem,
  moveStep,
  moveVariant,
  positionIn,
  progressOf,
  reorderBlockedReason,
  splitDelay,
  stepAndVariantOf,
  stepOfField,
  templateVariables,
  variableSnippet,
} from "./campaignForm";

const kCampaign: Campaign = {
  id: 7,
  name: "Q4 outreach",
  status: "draft",
  paused_reason: "",
  schedule: { days: [5, 1, 3], start: "09:00", end: "17:00" },
  timezone: "Europe/Paris",
  start_at: null,
  daily_limit: 200,
  warmup_mix_percent: 10,
  track_opens: true,
  track_clicks: false,
  stop_on_auto_reply: true,
  sender_ids: [3, 4],
  list_ids: [9],
  steps: [
    {
      id: 1,
      position: 0,
      delay_minutes: 0,
      condition: "always",
      variants: [{ id: 11, label: "A", weight: 1, subject: "Hi", body_html: "", body_text: "Hello", enabled: true }],
    },
    {
      id: 2,
      position: 1,
      delay_minutes: 3 * 1440 + 5 * 60 + 30,
      condition: "no_open",
      variants: [
        { id: 21, label: "A", weight: 2, subject: "Again", body_html: "<p>x</p>", body_text: "", enabled: true },
        { id: 22, label: "B", weight: 0, subject: "Again?", body_html: "", body_text: "y", enabled: false },
      ],
    },
  ],
  counts: {
    audience: 10, mailable: 9, suppressed: 1, unsubscribed_or_bounced: 0, enrolled: 0, in_progress: 0, completed: 0,
    replied: 0, bounced: 0, unsubscribed: 0, stopped: 0, sent: 0, unknown: 0,
  },
  created_at: "2026-11-22T06:00:00.000Z",
  updated_at: "2026-11-22T06:00:00.000Z",
  started_at: null,
  completed_at: null,
};

describe("delays", () => {
  it("splits minutes into days and hours and back", () => {
    expect(splitDelay(3 * 1440 + 5 * 60 + 30)).toEqual({ days: 3, hours: 5 });
    expect(splitDelay(0)).toEqual({ days: 0, hours: 0 });
    expect(delayMinutes("3", "5")).toBe(3 * 1440 + 300);
    expect(delayMinutes("", "2")).toBe(120);
    expect(delayMinutes("1.5", "0")).toBeNaN();
    expect(delayMinutes("-1", "0")).toBeNaN();
  });
});

describe("form <-> campaign", () => {
  it("round-trips a draft into the PATCH body with steps", () => {
    const form = formFromCampaign(kCampaign);
    expect(form.days).toEqual([1, 3, 5]);
    expect(form.steps[1].delay_days).toBe("3");
    expect(form.steps[1].delay_hours).toBe("5");
    const input = inputFromForm(form, "draft");
    expect(input.schedule).toEqual({ days: [1, 3, 5], start: "09:00", end: "17:00" });
    expect(input.sender_ids).toEqual([3, 4]);
    expect(input.steps?.[1]).toEqual({
      delay_minutes: 3 * 1440 + 300,
      condition: "no_open",
      variants: [
        { label: "A", weight: 2, subject: "Again", body_html: "<p>x</p>", body_text: "", enabled: true },
        { label: "B", weight: 0, subject: "Again?", body_html: "", body_text: "y", enabled: false },
      ],
    });
  });

  it("leaves the steps out for a running campaign and forces the first condition to always", () => {
    const form = formFromCampaign(kCampaign);
    expect(inputFromForm(form, "running").steps).toBeUndefined();
    form.steps[0].condition = "opened";
    expect(inputFromForm(form, "paused").steps?.[0].condition).toBe("always");
  });

  it("finds what the form itself can tell is wrong, under the API's field names", () => {
    const form = formFromCampaign(kCampaign);
    expect(formProblems(form)).toEqual({});
    form.name = " ";
    form.steps[1].variants[0].weight = "101";
    form.steps[1].delay_hours = "x";
    form.days = [];
    form.end = "08:00";
    form.warmup_mix_percent = "150";
    expect(Object.keys(formProblems(form)).sort()).toEqual([
      "name",
      "schedule.days",
      "schedule.end",
      "steps[1].delay_minutes",
      "steps[1].variants[0].weight",
      "warmup_mix_percent",
    ]);
  });
});

describe("fields and problems", () => {
  it("sends each field to the wizard step that edits it", () => {
    expect(stepOfField("steps[0].variants[1].subject")).toBe("content");
    expect(stepOfField("sender_ids[2]")).toBe("senders");
    expect(stepOfField("list_ids")).toBe("audience");
    expect(stepOfField("schedule.start")).toBe("schedule");
    expect(stepOfField("timezone")).toBe("schedule");
    expect(stepOfField("public_url")).toBe("review");
    expect(stepOfField(undefined)).toBe("review");
  });

  it("reads step, variant, line and column", () => {
    expect(stepAndVariantOf("steps[2].variants[1].body_html")).toEqual({ step: 2, variant: 1 });
    expect(stepAndVariantOf("steps[3].variants")).toEqual({ step: 3, variant: undefined });
    expect(stepAndVariantOf("list_ids")).toEqual({});
    expect(positionIn("step 1, variant A, subject: line 1, column 7: unclosed {{")).toEqual({ line: 1, column: 7 });
    expect(positionIn("the body is empty")).toBeUndefined();
  });
});

describe("variables", () => {
  it("offers defaults for often-empty fields and quotes custom names that need it", () => {
    expect(variableSnippet("first_name")).toBe('{{ first_name | default: "there" }}');
    expect(variableSnippet("email")).toBe("{{ email }}");
    expect(customVariableName("shoe_size")).toBe("custom.shoe_size");
    expect(customVariableName("Shoe Size")).toBe('custom["Shoe Size"]');
    const labels = templateVariables(["b", "a", "a"]).map((v) => v.label);
    expect(labels).toContain("unsubscribe_url");
    expect(labels.filter((l) => l.startsWith("custom"))).toEqual(["custom.a", "custom.b"]);
  });

  it("inserts at the cursor, replacing a selection", () => {
    expect(insertAt("Hi !", 3, 3, "{{ x }}")).toEqual({ text: "Hi {{ x }}!", cursor: 10 });
    expect(insertAt("Hi NAME!", 3, 7, "{{ x }}")).toEqual({ text: "Hi {{ x }}!", cursor: 10 });
    expect(insertAt("ab", 99, 99, "c")).toEqual({ text: "abc", cursor: 3 });
  });
});

describe("status", () => {
  it("computes progress and the allowed actions", () => {
    expect(progressOf({ enrolled: 0, in_progress: 0 })).toBe(0);
    expect(progressOf({ enrolled: 4, in_progress: 1 })).toBe(0.75);
    expect(campaignActions("running")).toEqual(["pause", "complete"]);
    expect(campaignActions("paused")).toEqual(["resume", "complete", "archive"]);
    expect(campaignActions("archived")).toEqual([]);
  });
});

describe("reordering", () => {
  it("moves one item and keeps the others in order", () => {
    expect(moveItem(["a", "b", "c", "d"], 0, 2)).toEqual(["b", "c", "a", "d"]);
    expect(moveItem(["a", "b", "c", "d"], 3, 1)).toEqual(["a", "d", "b", "c"]);
    const same = ["a", "b"];
    expect(moveItem(same, 1, 1)).toBe(same);
    expect(moveItem(same, -1, 0)).toBe(same);
    expect(moveItem(same, 0, 2)).toBe(same);
  });

  it("moves a step with its delay, condition and variants, and sends the new order", () => {
    const form = formFromCampaign(kCampaign);
    const keys = form.steps.map((s) => s.key);
    const moved = moveStep(form, 1, 0);
    expect(moved.steps.map((s) => s.key)).toEqual([keys[1], keys[0]]);
    expect(form.steps.map((s) => s.key)).toEqual(keys); // the old form is untouched
    expect(moved.steps[0]).toMatchObject({ delay_days: "3", delay_hours: "5", condition: "no_open" });
    const input = inputFromForm(moved, "draft");
    expect(input.steps?.map((s) => s.variants[0].subject)).toEqual(["Again", "Hi"]);
    expect(input.steps?.map((s) => s.delay_minutes)).toEqual([3 * 1440 + 300, 0]);
    // The first step always sends; the moved step's condition comes back when it moves back.
    expect(input.steps?.map((s) => s.condition)).toEqual(["always", "always"]);
    expect(moveStep(moved, 0, 1).steps[1].condition).toBe("no_open");
    expect(moveStep(form, 0, 5)).toBe(form);
  });

  it("moves a variant within its step only, labels and keys following it", () => {
    const form = formFromCampaign(kCampaign);
    const keys = form.steps[1].variants.map((v) => v.key);
    const moved = moveVariant(form, 1, 1, 0);
    expect(moved.steps[1].variants.map((v) => v.label)).toEqual(["B", "A"]);
    expect(moved.steps[1].variants.map((v) => v.key)).toEqual([keys[1], keys[0]]);
    expect(moved.steps[0]).toBe(form.steps[0]);
    expect(inputFromForm(moved, "draft").steps?.[1].variants.map((v) => [v.subject, v.weight, v.enabled])).toEqual([
      ["Again?", 0, false],
      ["Again", 2, true],
    ]);
    expect(moveVariant(form, 0, 0, 1)).toBe(form);
    expect(moveVariant(form, 9, 0, 1)).toBe(form);
  });

  it("gives every variant and step a distinct key", () => {
    const form = formFromCampaign(kCampaign);
    const keys = [...form.steps.map((s) => s.key), ...form.steps.flatMap((s) => s.variants.map((v) => v.key))];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("allows reordering only before the first launch", () => {
    expect(reorderBlockedReason("draft")).toBeNull();
    expect(reorderBlockedReason("paused")).toMatch(/launched/);
    expect(reorderBlockedReason("running")).toMatch(/pause it/);
    expect(reorderBlockedReason("completed")).toMatch(/no longer/);
    expect(reorderBlockedReason("archived")).toMatch(/no longer/);
  });
});
