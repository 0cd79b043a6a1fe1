// The lead page's edit model: the form state of one lead (standard fields, status and custom
// fields as editable rows that can be added, renamed and removed), what the form can tell is
// wrong before asking the API, the PATCH body of what changed, and where an API error naming a
// field (`custom_fields.<name>` included) is shown. Pure functions, unit-tested in leadEdit.test.ts.

import type { Lead, LeadInput, LeadStatus } from "../../api/leads";

export const kStandardFields = ["email", "first_name", "last_name", "company", "title", "phone", "website", "timezone"] as const;
export type StandardField = (typeof kStandardFields)[number];

/** Limits of docs/api.md "Leads and lists". */
export const kMaxCustomFields = 100;
export const kMaxCustomNameLength = 64;
export const kMaxCustomValueBytes = 2000;

/** One custom field as edited: `key` is a stable React key (not sent); `name` may be renamed. */
export interface CustomFieldRow {
  key: string;
  name: string;
  value: string;
}

export interface LeadEditForm {
  values: Record<StandardField, string>;
  status: LeadStatus;
  custom: CustomFieldRow[];
}

let next_key = 1;

export function newCustomRow(name = "", value = ""): CustomFieldRow {
  return { key: `custom-${next_key++}`, name, value };
}

export function editFormFromLead(lead: Lead): LeadEditForm {
  const values = {} as Record<StandardField, string>;
  for (const f of kStandardFields) values[f] = lead[f] ?? "";
  return {
    values,
    status: lead.status,
    custom: Object.entries(lead.custom_fields ?? {}).map(([name, value]) => newCustomRow(name, value)),
  };
}

/** The id under which a custom row's name or value control shows its error. */
export function customFieldId(row: CustomFieldRow, part: "name" | "value"): string {
  return `custom.${row.key}.${part}`;
}

/** Rows left completely empty (no name, no value) are ignored, as if never added. */
function isBlank(row: CustomFieldRow): boolean {
  return row.name.trim() === "" && row.value === "";
}

/** The custom fields the rows stand for: names trimmed, blank rows left out. */
export function customFieldsOf(rows: readonly CustomFieldRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of rows) if (!isBlank(row)) out[row.name.trim()] = row.value;
  return out;
}

const kNamePattern = /^[A-Za-z0-9_ -]+$/;

/**
 * What the form can tell is wrong before asking the API, by control id (a standard field's name,
 * customFieldId(…), or "custom_fields" for the group). Empty when the form looks sendable.
 */
export function editProblems(form: LeadEditForm): Record<string, string> {
  const out: Record<string, string> = {};
  if (form.values.email.trim() === "") out.email = "Enter the lead's email address.";
  const seen = new Map<string, CustomFieldRow>();
  let count = 0;
  for (const row of form.custom) {
    if (isBlank(row)) continue;
    count++;
    const name = row.name.trim();
    if (name === "") out[customFieldId(row, "name")] = "Give the field a name.";
    else if (name.length > kMaxCustomNameLength) out[customFieldId(row, "name")] = `A name has at most ${kMaxCustomNameLength} characters.`;
    else if (!kNamePattern.test(name)) out[customFieldId(row, "name")] = "Use letters, digits, spaces, '_' and '-' only.";
    else if (seen.has(name)) out[customFieldId(row, "name")] = `Another field is already named "${name}".`;
    else seen.set(name, row);
    if (new TextEncoder().encode(row.value).length > kMaxCustomValueBytes) {
      out[customFieldId(row, "value")] = `A value has at most ${kMaxCustomValueBytes} bytes.`;
    }
  }
  if (count > kMaxCustomFields) out.custom_fields = `A lead has at most ${kMaxCustomFields} custom fields.`;
  return out;
}

function sameFields(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k]);
}

/**
 * The PATCH body that turns `lead` into what the form holds: only the standard fields that
 * changed (trimmed; "" clears one), the status if changed, and `custom_fields` whole when any
 * custom field was added, renamed, changed or removed (the API replaces the object). `{}` when
 * nothing changed.
 */
export function patchFromForm(lead: Lead, form: LeadEditForm): Partial<LeadInput> {
  const patch: Partial<LeadInput> = {};
  for (const f of kStandardFields) {
    const v = form.values[f].trim();
    if (v !== (lead[f] ?? "")) patch[f] = v;
  }
  if (form.status !== lead.status) patch.status = form.status;
  const custom = customFieldsOf(form.custom);
  if (!sameFields(custom, lead.custom_fields ?? {})) patch.custom_fields = custom;
  return patch;
}

/**
 * The control id where an API error naming `field` is shown: a standard field or "status" as
 * is; `custom_fields.<name>` at that row's name (a problem with the name) or value (anything
 * else); "custom_fields" for the group. Undefined when the form has no such control.
 */
export function errorTarget(field: string, message: string, form: LeadEditForm): string | undefined {
  if ((kStandardFields as readonly string[]).includes(field) || field === "status" || field === "custom_fields") return field;
  const prefix = "custom_fields.";
  if (!field.startsWith(prefix)) return undefined;
  const name = field.slice(prefix.length);
  const row = form.custom.find((r) => r.name.trim() === name);
  if (row === undefined) return "custom_fields";
  return customFieldId(row, /^field names?\b/i.test(message) ? "name" : "value");
}
