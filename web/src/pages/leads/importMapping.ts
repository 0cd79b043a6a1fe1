// The import mapping screen's model: one target per file column, starting from the guess the API
// made, and the body of POST /imports/{id}/start built from it. Pure functions, tested in
// importMapping.test.ts.

import type { ImportPreview, ImportStart, ImportTarget } from "../../api/leads";

export interface ColumnChoice {
  target: ImportTarget;
  /** The custom field key when target is "custom". */
  key: string;
}

/** Targets in the order the select offers them, with their labels. */
export const kImportTargets: ReadonlyArray<{ value: ImportTarget; label: string }> = [
  { value: "email", label: "Email" },
  { value: "first_name", label: "First name" },
  { value: "last_name", label: "Last name" },
  { value: "full_name", label: "Full name (split)" },
  { value: "company", label: "Company" },
  { value: "title", label: "Job title" },
  { value: "timezone", label: "Time zone" },
  { value: "phone", label: "Phone" },
  { value: "website", label: "Website" },
  { value: "custom", label: "Custom field" },
  { value: "ignore", label: "Do not import" },
];

/** A custom field key: 1..64 of a-z, 0-9 and _ (what the importer accepts). */
export function isCustomKey(key: string): boolean {
  return /^[a-z0-9_]{1,64}$/.test(key);
}

/** "Shoe Size" -> "shoe_size": a suggestion for a column's custom key. */
export function suggestKey(header: string | null, column: number): string {
  const key = (header ?? "")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 64);
  return key === "" ? `column_${column}` : key;
}

/** The API's guessed mapping as choices, one per column number. */
export function initialChoices(preview: ImportPreview): Record<number, ColumnChoice> {
  const out: Record<number, ColumnChoice> = {};
  for (const c of preview.mapping.columns) {
    out[c.column] = { target: c.field, key: c.custom_key ?? (c.field === "custom" ? suggestKey(c.header, c.column) : "") };
  }
  return out;
}

/**
 * What is wrong with the choices before starting, keyed by column number (0: the whole
 * mapping). Empty when the import can start.
 */
export function choiceProblems(choices: Record<number, ColumnChoice>): Record<number, string> {
  const out: Record<number, string> = {};
  const entries = Object.entries(choices).map(([col, c]) => [Number(col), c] as const);
  const emails = entries.filter(([, c]) => c.target === "email");
  if (emails.length !== 1) out[0] = emails.length === 0 ? "Pick the column that holds the email address." : "Only one column can be the email address.";
  const seen = new Map<string, number>();
  for (const [col, c] of entries) {
    if (c.target === "custom") {
      if (!isCustomKey(c.key)) out[col] = "A custom field key is 1 to 64 characters of a-z, 0-9 and _.";
      else if (seen.has(c.key)) out[col] = `Column ${seen.get(c.key)} already uses the key ${c.key}.`;
      else seen.set(c.key, col);
    } else if (c.target !== "ignore" && c.target !== "email") {
      const taken = entries.find(([other, o]) => other < col && o.target === c.target);
      if (taken) out[col] = `Column ${taken[0]} is already mapped to this field.`;
    }
  }
  return out;
}

/** The start request: every column mapped by its number. */
export function startBody(choices: Record<number, ColumnChoice>, has_header: boolean, list_id: number | undefined): ImportStart {
  const mapping: Record<string, string> = {};
  for (const [col, c] of Object.entries(choices)) mapping[col] = c.target === "custom" ? `custom:${c.key}` : c.target;
  const body: ImportStart = { mapping, has_header };
  if (list_id !== undefined) body.list_id = list_id;
  return body;
}

/** "mapping.3" (the API's field for column 3) -> 3; "mapping" -> 0; anything else -> undefined. */
export function columnOfField(field: string | undefined): number | undefined {
  if (field === "mapping") return 0;
  const m = /^mapping\.(\d+)$/.exec(field ?? "");
  return m === null ? undefined : Number(m[1]);
}
