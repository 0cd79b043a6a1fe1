import { describe, expect, it } from "vitest";
import type { AbTest, AnalyticsCounters, AnalyticsDay, VariantAnalytics } from "../../api/analytics";
import { checkCustomRange, describeRange, rangeOfPreset, denseDaily, describeAbTest, formatCount, formatPValue, formatRate, parseDay, presetRange, summarizeDaily, totalItems } from "./analyticsFormat";

const kZero: AnalyticsCounters = {
  sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0, positive_replies: 0, bounced: 0, bounced_hard: 0, bounced_soft: 0,
  unsubscribed: 0, complained: 0, machine_opens: 0, machine_clicks: 0, delivery_rate: null, open_rate: null, click_rate: null,
  reply_rate: null, positive_reply_rate: null, bounce_rate: null, hard_bounce_rate: null, unsubscribe_rate: null, complaint_rate: null,
};

function day(d: string, c: Partial<AnalyticsCounters>): AnalyticsDay {
  return { ...kZero, ...c, day: d };
}

function variant(id: number, label: string): VariantAnalytics {
  return { ...kZero, variant_id: id, label, subject: `S ${label}` };
}

function ab(init: Partial<AbTest>): AbTest {
  return { metric: "reply_rate", winner_variant_id: null, leader_variant_id: null, runner_up_variant_id: null, z: null, p_value: null, significant: false, min_sample: 100, reason: "", ...init };
}

describe("formatRate", () => {
  it("shows one decimal and drops a trailing .0", () => {
    expect(formatRate(0.123456)).toBe("12.3%");
    expect(formatRate(0.5)).toBe("50%");
    expect(formatRate(1)).toBe("100%");
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(0.00049)).toBe("0%");
    expect(formatRate(0.0005)).toBe("0.1%");
  });
  it("shows a dash when nothing was divided", () => {
    expect(formatRate(null)).toBe("—");
    expect(formatRate(undefined)).toBe("—");
    expect(formatRate(Number.NaN)).toBe("—");
  });
});

describe("formatCount and formatPValue", () => {
  it("groups thousands", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(0)).toBe("0");
  });
  it("writes small p-values as a bound and others with four decimals at most", () => {
    expect(formatPValue(0.0004)).toBe("p < 0.001");
    expect(formatPValue(0.0412)).toBe("p = 0.0412");
    expect(formatPValue(0.05)).toBe("p = 0.05");
    expect(formatPValue(null)).toBe("—");
  });
});

describe("days and ranges", () => {
  it("parses only real calendar days", () => {
    expect(parseDay("2026-11-22")).toBe(Date.UTC(2026, 10, 22));
    expect(parseDay("2026-02-30")).toBeNull();
    expect(parseDay("2026-1-5")).toBeNull();
    expect(parseDay("")).toBeNull();
  });
  it("counts a preset's days back from today in UTC, today included", () => {
    const now = new Date("2026-11-22T23:30:00-05:00"); // already Nov 23 in UTC
    expect(presetRange(7, now)).toEqual({ from: "2026-11-17", to: "2026-11-23" });
    expect(presetRange(30, new Date("2026-03-01T12:00:00Z"))).toEqual({ from: "2026-01-31", to: "2026-03-01" });
  });
  it("maps presets to ranges and ranges to words", () => {
    const now = new Date("2026-11-22T08:00:00Z");
    expect(rangeOfPreset("all", now)).toEqual({});
    expect(rangeOfPreset("90", now)).toEqual({ from: "2026-08-25", to: "2026-11-22" });
    expect(describeRange({})).toBe("all time");
    expect(describeRange({ from: "2026-11-01", to: "2026-11-22" })).toBe("2026-11-01 to 2026-11-22");
  });
  it("checks a custom range like the API, naming the field at fault", () => {
    expect(checkCustomRange("2026-11-01", "2026-11-22")).toEqual({ range: { from: "2026-11-01", to: "2026-11-22" }, errors: {} });
    expect(checkCustomRange("2026-11-01", "2026-11-01").range).toEqual({ from: "2026-11-01", to: "2026-11-01" });
    expect(checkCustomRange("2026-11-22", "2026-11-01")).toEqual({ errors: { to: "The end day must not be before the start day." } });
    expect(checkCustomRange("", "2026-13-01")).toEqual({ errors: { from: "Choose a start day.", to: "Enter a day as YYYY-MM-DD." } });
  });
});

describe("totalItems", () => {
  it("pairs each count with its documented rate", () => {
    const items = totalItems({ ...kZero, sent: 10, delivered: 8, opened: 4, open_rate: 0.5, bounced: 2, bounced_hard: 2, hard_bounce_rate: 0.2, delivery_rate: 0.8 });
    expect(items.map((i) => i.key)).toEqual(["sent", "delivered", "opened", "clicked", "replied", "positive_replies", "bounced_hard", "bounced_soft", "unsubscribed", "complained"]);
    expect(items.find((i) => i.key === "opened")).toEqual({ key: "opened", label: "Unique opens", value: 4, rate: "50% of delivered" });
    expect(items.find((i) => i.key === "delivered")?.rate).toBe("80% of sent");
    expect(items.find((i) => i.key === "bounced_hard")?.rate).toBe("20% of attempted");
    expect(items.find((i) => i.key === "bounced_soft")?.rate).toBe("2 bounces in all, — of attempted");
    expect(items.find((i) => i.key === "sent")?.rate).toBeUndefined();
    expect(items.find((i) => i.key === "replied")?.rate).toBe("— of delivered");
  });
});

describe("denseDaily", () => {
  const daily = [day("2026-11-02", { sent: 5, opened: 2 }), day("2026-11-04", { sent: 1, replied: 1, bounced: 1 })];
  it("fills the range with zero days", () => {
    expect(denseDaily(daily, { from: "2026-11-01", to: "2026-11-05" })).toEqual([
      { day: "2026-11-01", Sent: 0, Opens: 0, Clicks: 0, Replies: 0, Bounces: 0 },
      { day: "2026-11-02", Sent: 5, Opens: 2, Clicks: 0, Replies: 0, Bounces: 0 },
      { day: "2026-11-03", Sent: 0, Opens: 0, Clicks: 0, Replies: 0, Bounces: 0 },
      { day: "2026-11-04", Sent: 1, Opens: 0, Clicks: 0, Replies: 1, Bounces: 1 },
      { day: "2026-11-05", Sent: 0, Opens: 0, Clicks: 0, Replies: 0, Bounces: 0 },
    ]);
  });
  it("runs from the first to the last listed day without a range, across a month end", () => {
    const d = denseDaily([day("2026-10-30", { sent: 1 }), day("2026-11-01", { sent: 2 })], {});
    expect(d.map((x) => x.day)).toEqual(["2026-10-30", "2026-10-31", "2026-11-01"]);
  });
  it("is empty without data or with a bad range, and keeps the most recent days past the limit", () => {
    expect(denseDaily([], {})).toEqual([]);
    expect(denseDaily(daily, { from: "2026-11-05", to: "2026-11-01" })).toEqual([]);
    expect(denseDaily(daily, { from: "2026-01-01", to: "2026-11-04" }, 3).map((x) => x.day)).toEqual(["2026-11-02", "2026-11-03", "2026-11-04"]);
  });
  it("summarises a series in one sentence", () => {
    const d = denseDaily(daily, { from: "2026-11-01", to: "2026-11-05" });
    expect(summarizeDaily(d)).toBe("From 2026-11-01 to 2026-11-05: 6 sent, 2 opens, 0 clicks, 1 replies, 1 bounces; most sent on 2026-11-02 (5).");
    expect(summarizeDaily([])).toBe("No days in the range.");
  });
});

describe("describeAbTest", () => {
  const variants = [variant(11, "A"), variant(12, "B")];
  it("names the winner with its p-value", () => {
    expect(describeAbTest(ab({ winner_variant_id: 11, leader_variant_id: 11, runner_up_variant_id: 12, p_value: 0.0123, significant: true }), variants)).toEqual({
      kind: "winner",
      text: "Variant A wins (p = 0.0123)",
    });
  });
  it("says who leads and why there is no winner", () => {
    const rated = [{ ...variants[0], reply_rate: 0.1 }, { ...variants[1], reply_rate: 0.3 }];
    expect(describeAbTest(ab({ leader_variant_id: 12, runner_up_variant_id: 11, reason: "not significant: p = 0.0897 >= 0.05" }), rated)).toEqual({
      kind: "none",
      text: "No winner yet: Variant B leads; not significant: p = 0.0897 >= 0.05",
    });
    expect(describeAbTest(ab({ reason: "fewer than two variants" }), [variants[0]]).text).toBe("No winner yet: fewer than two variants");
    // A tie (0 of 1 each) names no leader.
    const tied = [{ ...variants[0], reply_rate: 0 }, { ...variants[1], reply_rate: 0 }];
    expect(describeAbTest(ab({ leader_variant_id: 11, runner_up_variant_id: 12, reason: "variant A has 1 of the 100 messages needed" }), tied).text).toBe(
      "No winner yet: variant A has 1 of the 100 messages needed",
    );
    // The open test compares open rates.
    const opens = [{ ...variants[0], open_rate: 0.5, reply_rate: 0 }, { ...variants[1], open_rate: 0.2, reply_rate: 0 }];
    expect(describeAbTest(ab({ metric: "open_rate", leader_variant_id: 11, runner_up_variant_id: 12, reason: "r" }), opens).text).toBe("No winner yet: Variant A leads; r");
  });
});
