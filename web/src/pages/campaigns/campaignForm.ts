// The campaign editor's model: the form state of the wizard, conversions from and to the API's
// campaign shape, which wizard step an API field belongs to, and the template variables the
// variables picker offers. Pure functions, unit-tested in campaignForm.test.ts.

import type { Campaign, CampaignInput, CampaignStatus, StepCondition, Variant } from "../../api/campaigns";

export type WizardStep = "audience" | "content" | "schedule" | "senders" | "review";

export const kWizardSteps: ReadonlyArray<{ id: WizardStep; label: string }> = [
  { id: "audience", label: "Audience" },
  { id: "content", label: "Content" },
  { id: "schedule", label: "Schedule" },
  { id: "senders", label: "Senders" },
  { id: "review", label: "Review & launch" },
];

export function isWizardStep(value: string | null): value is WizardStep {
  return kWizardSteps.some((s) => s.id === value);
}

export interface VariantForm {
  /** Stable key for React lists (not sent); follows the variant when it moves. */
  key: string;
  label: string;
  weight: string;
  subject: string;
  body_text: string;
  body_html: string;
  enabled: boolean;
}

export interface StepForm {
  /** Stable key for React lists (not sent). */
  key: string;
  delay_days: string;
  delay_hours: string;
  condition: StepCondition;
  variants: VariantForm[];
}

export interface CampaignForm {
  name: string;
  list_ids: number[];
  steps: StepForm[];
  days: number[];
  start: string;
  end: string;
  timezone: string;
  sender_ids: number[];
  daily_limit: string;
  warmup_mix_percent: string;
  track_opens: boolean;
  track_clicks: boolean;
  stop_on_auto_reply: boolean;
}

export const kConditionLabels: Record<StepCondition, string> = {
  always: "Always",
  no_open: "Only if the previous email was not opened",
  opened: "Only if the previous email was opened",
  clicked: "Only if a link in the previous email was clicked",
};

export const kWeekdays: ReadonlyArray<{ day: number; short: string; long: string }> = [
  { day: 1, short: "Mon", long: "Monday" },
  { day: 2, short: "Tue", long: "Tuesday" },
  { day: 3, short: "Wed", long: "Wednesday" },
  { day: 4, short: "Thu", long: "Thursday" },
  { day: 5, short: "Fri", long: "Friday" },
  { day: 6, short: "Sat", long: "Saturday" },
  { day: 7, short: "Sun", long: "Sunday" },
];

let next_key = 1;
function newKey(kind: "step" | "variant" = "step"): string {
  return `${kind}-${next_key++}`;
}

/** The label of the n-th variant (0-based): A, B, …, J. */
export function variantLabel(index: number): string {
  return String.fromCharCode("A".charCodeAt(0) + index);
}

export function emptyVariant(index: number): VariantForm {
  return { key: newKey("variant"), label: variantLabel(index), weight: "1", subject: "", body_text: "", body_html: "", enabled: true };
}

export function emptyStep(first: boolean): StepForm {
  return {
    key: newKey(),
    delay_days: first ? "0" : "3",
    delay_hours: "0",
    condition: "always",
    variants: [emptyVariant(0)],
  };
}

/** Splits minutes into whole days and the remaining hours (minutes below an hour are dropped). */
export function splitDelay(minutes: number): { days: number; hours: number } {
  const hours_total = Math.floor(minutes / 60);
  return { days: Math.floor(hours_total / 24), hours: hours_total % 24 };
}

/** Days and hours as typed into the form -> minutes; NaN when either is not a whole number >= 0. */
export function delayMinutes(days: string, hours: string): number {
  const d = wholeNumber(days);
  const h = wholeNumber(hours);
  if (Number.isNaN(d) || Number.isNaN(h)) return Number.NaN;
  return d * 1440 + h * 60;
}

/** "12" -> 12; "" -> 0; anything else (negative, fractional, text) -> NaN. */
export function wholeNumber(text: string): number {
  const t = text.trim();
  if (t === "") return 0;
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

export function formFromCampaign(c: Campaign): CampaignForm {
  return {
    name: c.name,
    list_ids: [...c.list_ids],
    steps: c.steps.map((s) => {
      const { days, hours } = splitDelay(s.delay_minutes);
      return {
        key: newKey(),
        delay_days: String(days),
        delay_hours: String(hours),
        condition: s.condition,
        variants: s.variants.map((v) => ({
          key: newKey("variant"),
          label: v.label,
          weight: String(v.weight),
          subject: v.subject,
          body_text: v.body_text,
          body_html: v.body_html,
          enabled: v.enabled,
        })),
      };
    }),
    days: [...c.schedule.days].sort((a, b) => a - b),
    start: c.schedule.start,
    end: c.schedule.end,
    timezone: c.timezone,
    sender_ids: [...c.sender_ids],
    daily_limit: String(c.daily_limit),
    warmup_mix_percent: String(c.warmup_mix_percent),
    track_opens: c.track_opens,
    track_clicks: c.track_clicks,
    stop_on_auto_reply: c.stop_on_auto_reply,
  };
}

/**
 * The PATCH body for the form. Steps are sent only when the campaign's status allows editing
 * them (draft, paused). Numbers the user mistyped are sent as they are parsed (NaN becomes -1)
 * so that the API names the field; the form checks the obvious ones first (see formProblems).
 */
export function inputFromForm(form: CampaignForm, status: CampaignStatus): CampaignInput {
  const input: CampaignInput = {
    name: form.name.trim(),
    list_ids: form.list_ids,
    schedule: { days: [...form.days].sort((a, b) => a - b), start: form.start, end: form.end },
    timezone: form.timezone.trim() || "UTC",
    sender_ids: form.sender_ids,
    daily_limit: numberOr(form.daily_limit, -1),
    warmup_mix_percent: numberOr(form.warmup_mix_percent, -1),
    track_opens: form.track_opens,
    track_clicks: form.track_clicks,
    stop_on_auto_reply: form.stop_on_auto_reply,
  };
  if (status === "draft" || status === "paused") {
    input.steps = form.steps.map((s, i) => ({
      delay_minutes: numberOr(String(delayMinutes(s.delay_days, s.delay_hours)), -1),
      condition: i === 0 ? "always" : s.condition,
      variants: s.variants.map(
        (v): Omit<Variant, "id"> => ({
          label: v.label.trim(),
          weight: numberOr(v.weight, -1),
          subject: v.subject,
          body_text: v.body_text,
          body_html: v.body_html,
          enabled: v.enabled,
        }),
      ),
    }));
  }
  return input;
}

function numberOr(text: string, fallback: number): number {
  const n = wholeNumber(text);
  return Number.isNaN(n) ? fallback : n;
}

/**
 * Why the steps and variants of a campaign in `status` cannot be put in another order, or null
 * when they can. The API keeps step and variant rows by position (docs/api.md "Campaigns"): once a
 * campaign has been launched, its sent and scheduled messages and the place of every enrolled lead
 * in the sequence point at positions, so a new order would give those leads other emails and
 * attribute sent mail to the wrong step. Only a draft, never launched, can be reordered.
 */
export function reorderBlockedReason(status: CampaignStatus): string | null {
  switch (status) {
    case "draft":
      return null;
    case "running":
      return "The campaign is running: pause it to edit its emails.";
    case "paused":
      return "This campaign has been launched: its steps and variants keep their order, because leads already in the sequence and the mail already sent are tied to each position. Edit, add or disable emails instead.";
    case "completed":
    case "archived":
      return `The campaign is ${status}: it can no longer be changed.`;
  }
}

/**
 * `items` with the element at `from` moved to index `to` (the others keep their relative order).
 * Returns the same array when either index is out of range or both are equal.
 */
export function moveItem<T>(items: readonly T[], from: number, to: number): readonly T[] {
  if (from === to || from < 0 || to < 0 || from >= items.length || to >= items.length) return items;
  const out = [...items];
  const [moved] = out.splice(from, 1);
  out.splice(to, 0, moved);
  return out;
}

/**
 * The form with step `from` moved to position `to`. The step keeps its delay, condition and
 * variants; steps are numbered by position, so every step between the two is renumbered. A
 * condition on a step that becomes the first is kept in the form (moving it back restores it) but
 * is sent as "always" (see inputFromForm). Unchanged when an index is out of range.
 */
export function moveStep(form: CampaignForm, from: number, to: number): CampaignForm {
  const steps = moveItem(form.steps, from, to);
  return steps === form.steps ? form : { ...form, steps: [...steps] };
}

/** The form with variant `from` of step `step` moved to position `to` in that step; labels stay. */
export function moveVariant(form: CampaignForm, step: number, from: number, to: number): CampaignForm {
  const s = form.steps[step];
  if (s === undefined) return form;
  const variants = moveItem(s.variants, from, to);
  if (variants === s.variants) return form;
  return { ...form, steps: form.steps.map((x, i) => (i === step ? { ...x, variants: [...variants] } : x)) };
}

/**
 * Problems the form can see before asking the API, keyed by the API's field name so they show
 * next to the same controls as the API's own errors. Empty when the form looks sendable.
 */
export function formProblems(form: CampaignForm): Record<string, string> {
  const out: Record<string, string> = {};
  if (form.name.trim() === "") out["name"] = "Give the campaign a name.";
  form.steps.forEach((s, i) => {
    if (Number.isNaN(delayMinutes(s.delay_days, s.delay_hours)))
      out[`steps[${i}].delay_minutes`] = "Days and hours must be whole numbers.";
    s.variants.forEach((v, j) => {
      const w = wholeNumber(v.weight);
      if (Number.isNaN(w) || w > 100) out[`steps[${i}].variants[${j}].weight`] = "A weight is a whole number from 0 to 100.";
    });
  });
  const limit = wholeNumber(form.daily_limit);
  if (Number.isNaN(limit) || limit > 1_000_000) out["daily_limit"] = "A whole number from 0 to 1,000,000 (0: only the senders' quotas).";
  const mix = wholeNumber(form.warmup_mix_percent);
  if (Number.isNaN(mix) || mix > 100) out["warmup_mix_percent"] = "A whole number from 0 to 100.";
  if (form.days.length === 0) out["schedule.days"] = "Pick at least one day.";
  if (form.start >= form.end) out["schedule.end"] = "The window must end after it starts, on the same day.";
  return out;
}

/** The wizard step where the control for an API field (or launch problem) lives. */
export function stepOfField(field: string | undefined): WizardStep {
  if (field === undefined) return "review";
  if (field.startsWith("steps")) return "content";
  if (field.startsWith("sender_ids") || field === "daily_limit" || field === "warmup_mix_percent" || field.startsWith("track_") || field === "stop_on_auto_reply")
    return "senders";
  if (field.startsWith("schedule") || field === "timezone" || field === "start_at") return "schedule";
  if (field.startsWith("list_ids") || field === "name") return "audience";
  return "review";
}

/** "steps[1].variants[0].subject" -> {step: 1, variant: 0}; undefined parts when absent. */
export function stepAndVariantOf(field: string): { step?: number; variant?: number } {
  const m = /^steps\[(\d+)\](?:\.variants\[(\d+)\])?/.exec(field);
  if (m === null) return {};
  return { step: Number(m[1]), variant: m[2] === undefined ? undefined : Number(m[2]) };
}

/** "… line 3, column 14: …" -> {line: 3, column: 14}; undefined when the message names none. */
export function positionIn(message: string): { line: number; column: number } | undefined {
  const m = /line (\d+), column (\d+)/.exec(message);
  return m === null ? undefined : { line: Number(m[1]), column: Number(m[2]) };
}

export interface TemplateVariable {
  /** What the picker shows. */
  label: string;
  /** The text inserted. */
  snippet: string;
}

const kDefaults: Record<string, string> = {
  first_name: "there",
  full_name: "there",
  company: "your company",
  title: "your role",
};

/** The template text for a variable, with a default for the common fields that are often empty. */
export function variableSnippet(name: string): string {
  const fallback = kDefaults[name];
  return fallback === undefined ? `{{ ${name} }}` : `{{ ${name} | default: "${fallback}" }}`;
}

/** How a custom field is written in a template: custom.key, or custom["Key Name"] when needed. */
export function customVariableName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `custom.${key}` : `custom[${JSON.stringify(key)}]`;
}

/** The variables the picker offers: the lead's fields, the custom fields seen on leads, the sender's, the unsubscribe link. */
export function templateVariables(custom_keys: readonly string[]): TemplateVariable[] {
  const lead = ["first_name", "last_name", "full_name", "company", "title", "email", "phone", "website", "timezone"];
  const out: TemplateVariable[] = lead.map((n) => ({ label: n, snippet: variableSnippet(n) }));
  for (const key of [...new Set(custom_keys)].sort()) {
    const name = customVariableName(key);
    out.push({ label: name, snippet: `{{ ${name} | default: "" }}` });
  }
  for (const n of ["sender.name", "sender.from_name", "sender.email"]) out.push({ label: n, snippet: `{{ ${n} }}` });
  out.push({ label: "unsubscribe_url", snippet: "{{ unsubscribe_url }}" });
  return out;
}

/** Inserts `snippet` in place of text[start, end); the new text and where the cursor goes. */
export function insertAt(text: string, start: number, end: number, snippet: string): { text: string; cursor: number } {
  const s = Math.max(0, Math.min(start, text.length));
  const e = Math.max(s, Math.min(end, text.length));
  return { text: text.slice(0, s) + snippet + text.slice(e), cursor: s + snippet.length };
}

/** Share of enrolled leads that have left the sequence (0..1); 0 before anyone is enrolled. */
export function progressOf(counts: { enrolled: number; in_progress: number }): number {
  if (counts.enrolled <= 0) return 0;
  return Math.max(0, Math.min(1, (counts.enrolled - counts.in_progress) / counts.enrolled));
}

/** The actions a campaign in `status` allows, in the order the UI offers them. */
export function campaignActions(status: CampaignStatus): Array<"pause" | "resume" | "complete" | "archive"> {
  switch (status) {
    case "running":
      return ["pause", "complete"];
    case "paused":
      return ["resume", "complete", "archive"];
    case "draft":
      return ["archive"];
    case "completed":
      return ["archive"];
    case "archived":
      return [];
  }
}
