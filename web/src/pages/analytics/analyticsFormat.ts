// Pure logic of the analytics screens: date ranges (presets and custom, in UTC days as the API
// counts them), rate and count formatting, dense daily series for charts, and the A/B result in
// words. No React here, so every rule is unit-tested (analyticsFormat.test.ts).

import type { AbTest, AnalyticsCounters, AnalyticsDay, DayRange, VariantAnalytics } from "../../api/analytics";

export type RangePreset = "all" | "7" | "30" | "90" | "custom";
export const kRangePresets: ReadonlyArray<{ value: RangePreset; label: string }> = [
  { value: "all", label: "All time" },
  { value: "7", label: "Last 7 days" },
  { value: "30", label: "Last 30 days" },
  { value: "90", label: "Last 90 days" },
  { value: "custom", label: "Custom range" },
];

const kDayMs = 86_400_000;
const kDayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of `at` as "YYYY-MM-DD". */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Milliseconds at 00:00 UTC of a "YYYY-MM-DD" day, or null when it is not a real calendar day. */
export function parseDay(day: string): number | null {
  const m = kDayPattern.exec(day);
  if (m === null) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return utcDay(new Date(ms)) === day ? ms : null;
}

/** The last `days` UTC days up to and including the day of `now`. */
export function presetRange(days: number, now: Date): Required<DayRange> {
  const to = utcDay(now);
  const from = utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * kDayMs));
  return { from, to };
}

/** The days a preset other than "custom" asks for: none for "all" (the API's whole span). */
export function rangeOfPreset(preset: Exclude<RangePreset, "custom">, now: Date): DayRange {
  return preset === "all" ? {} : presetRange(Number(preset), now);
}

/** "2026-11-01 to 2026-11-22", or "all time" for an open range. */
export function describeRange(range: DayRange): string {
  if (range.from === undefined && range.to === undefined) return "all time";
  return `${range.from ?? "the start"} to ${range.to ?? "today"}`;
}

export interface RangeCheck {
  range?: Required<DayRange>;
  /** Message per field ("from", "to") when the custom range cannot be asked for. */
  errors: Partial<Record<"from" | "to", string>>;
}

/** Checks a custom range the way the API does (real days, `to` not before `from`). */
export function checkCustomRange(from: string, to: string): RangeCheck {
  const errors: RangeCheck["errors"] = {};
  const from_ms = parseDay(from);
  const to_ms = parseDay(to);
  if (from_ms === null) errors.from = from === "" ? "Choose a start day." : "Enter a day as YYYY-MM-DD.";
  if (to_ms === null) errors.to = to === "" ? "Choose an end day." : "Enter a day as YYYY-MM-DD.";
  if (from_ms !== null && to_ms !== null && to_ms < from_ms) errors.to = "The end day must not be before the start day.";
  return Object.keys(errors).length > 0 ? { errors } : { range: { from, to }, errors };
}

/** "12.3%" for a 0..1 rate (one decimal, trailing ".0" dropped), "—" when there was nothing to divide by. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  const tenths = Math.round(rate * 1000) / 10;
  return `${tenths.toFixed(1).replace(/\.0$/, "")}%`;
}

const kCount = new Intl.NumberFormat("en-US");

/** "12,345" for a count. */
export function formatCount(n: number): string {
  return kCount.format(n);
}

/** A p-value as people read it: "p < 0.001" or "p = 0.0412". */
export function formatPValue(p: number | null): string {
  if (p === null) return "—";
  if (p < 0.001) return "p < 0.001";
  return `p = ${p.toFixed(4).replace(/0+$/, "").replace(/\.$/, "")}`;
}

export interface TotalItem {
  key: string;
  label: string;
  value: number;
  /** The rate shown under the count and what it is of, when the API gives one. */
  rate?: string;
}

/** The headline numbers of a slice, in the order the screens show them. */
export function totalItems(t: AnalyticsCounters): TotalItem[] {
  return [
    { key: "sent", label: "Sent", value: t.sent },
    { key: "delivered", label: "Delivered", value: t.delivered, rate: `${formatRate(t.delivery_rate)} of sent` },
    { key: "opened", label: "Unique opens", value: t.opened, rate: `${formatRate(t.open_rate)} of delivered` },
    { key: "clicked", label: "Clicks", value: t.clicked, rate: `${formatRate(t.click_rate)} of delivered` },
    { key: "replied", label: "Replies", value: t.replied, rate: `${formatRate(t.reply_rate)} of delivered` },
    { key: "positive_replies", label: "Positive replies", value: t.positive_replies, rate: `${formatRate(t.positive_reply_rate)} of replies` },
    { key: "bounced_hard", label: "Hard bounces", value: t.bounced_hard, rate: `${formatRate(t.hard_bounce_rate)} of attempted` },
    { key: "bounced_soft", label: "Soft bounces", value: t.bounced_soft, rate: `${formatCount(t.bounced)} bounces in all, ${formatRate(t.bounce_rate)} of attempted` },
    { key: "unsubscribed", label: "Unsubscribed", value: t.unsubscribed, rate: `${formatRate(t.unsubscribe_rate)} of delivered` },
    { key: "complained", label: "Complaints", value: t.complained, rate: `${formatRate(t.complaint_rate)} of delivered` },
  ];
}

export interface ChartDay {
  day: string;
  Sent: number;
  Opens: number;
  Clicks: number;
  Replies: number;
  Bounces: number;
}

/**
 * One point per day from `from` to `to` (inclusive; the API lists only days with data), zeros on
 * days without. Without a range, the series runs from the first to the last listed day. At most
 * `limit` days (the most recent) so a huge custom range cannot freeze the page.
 */
export function denseDaily(daily: AnalyticsDay[], range: DayRange, limit = 400): ChartDay[] {
  const by_day = new Map(daily.map((d) => [d.day, d]));
  const first = range.from ?? daily[0]?.day;
  const last = range.to ?? daily[daily.length - 1]?.day;
  if (first === undefined || last === undefined) return [];
  const first_ms = parseDay(first);
  const last_ms = parseDay(last);
  if (first_ms === null || last_ms === null || last_ms < first_ms) return [];
  const start = Math.max(first_ms, last_ms - (limit - 1) * kDayMs);
  const out: ChartDay[] = [];
  for (let ms = start; ms <= last_ms; ms += kDayMs) {
    const day = utcDay(new Date(ms));
    const d = by_day.get(day);
    out.push({ day, Sent: d?.sent ?? 0, Opens: d?.opened ?? 0, Clicks: d?.clicked ?? 0, Replies: d?.replied ?? 0, Bounces: d?.bounced ?? 0 });
  }
  return out;
}

/** A one-sentence text summary of a daily series, for screen readers. */
export function summarizeDaily(days: ChartDay[]): string {
  if (days.length === 0) return "No days in the range.";
  const sum = (k: keyof Omit<ChartDay, "day">) => days.reduce((n, d) => n + d[k], 0);
  const busiest = days.reduce((b, d) => (d.Sent > b.Sent ? d : b), days[0]);
  const totals = `${formatCount(sum("Sent"))} sent, ${formatCount(sum("Opens"))} opens, ${formatCount(sum("Clicks"))} clicks, ${formatCount(sum("Replies"))} replies, ${formatCount(sum("Bounces"))} bounces`;
  const peak = busiest.Sent > 0 ? `; most sent on ${busiest.day} (${formatCount(busiest.Sent)})` : "";
  return `From ${days[0].day} to ${days[days.length - 1].day}: ${totals}${peak}.`;
}

export interface AbSummary {
  /** "winner" when significant, else "none". */
  kind: "winner" | "none";
  text: string;
}

/** An A/B result in words: the winner and its p-value, or why there is no winner yet. */
export function describeAbTest(ab: AbTest, variants: VariantAnalytics[]): AbSummary {
  const name = (id: number | null) => {
    const v = variants.find((x) => x.variant_id === id);
    return v ? `Variant ${v.label}` : `variant ${id ?? "?"}`;
  };
  if (ab.winner_variant_id !== null) {
    return { kind: "winner", text: `${name(ab.winner_variant_id)} wins (${formatPValue(ab.p_value)})` };
  }
  const reason = ab.reason === "" ? "not decided" : ab.reason;
  // "leads" only when the leader is ahead of the runner-up on the test's metric (not on a tie).
  const rate = (id: number | null) => {
    const v = variants.find((x) => x.variant_id === id);
    return v === undefined ? null : ab.metric === "reply_rate" ? v.reply_rate : v.open_rate;
  };
  const leader_rate = rate(ab.leader_variant_id);
  const runner_up_rate = rate(ab.runner_up_variant_id);
  const ahead = leader_rate !== null && (runner_up_rate === null || leader_rate > runner_up_rate);
  const leader = ab.leader_variant_id !== null && variants.length > 1 && ahead ? `${name(ab.leader_variant_id)} leads; ` : "";
  return { kind: "none", text: `No winner yet: ${leader}${reason}` };
}
