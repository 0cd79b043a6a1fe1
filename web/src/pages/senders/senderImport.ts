// "Bulk add from CSV" on the senders page: the file read in the browser for a preview before it is
// sent (POST …/senders/import checks it again and decides), and the server's answer mapped back
// onto the rows the preview shows.
//
// The preview reads a file the way the server's reader does (leads/csv_reader.h): a byte order
// mark is dropped, the delimiter is `,`, `;` or tab (whichever the header row holds most of),
// fields in double quotes may hold the delimiter, doubled quotes and line breaks, and lines that
// are empty are skipped without being counted, so row numbers match the server's (the header is
// row 1, as a spreadsheet shows it).

import type { ApiProblem } from "../../api/client";

export type Delimiter = "," | ";" | "\t";

export interface CsvPreview {
  delimiter: Delimiter;
  /** The header row's cells as written. */
  header: string[];
  /** The first data rows: `row` counted like the server (header = 1). */
  rows: Array<{ row: number; cells: string[] }>;
  /** Every data row of the file (not only the ones previewed). */
  total_rows: number;
  /** Header cells the server will not recognise (a typo, or a column it does not take). */
  unknown_columns: string[];
  /** True when no header cell names the email column (the server refuses such a file). */
  missing_email: boolean;
  /** A quoted field was still open at the end of the text. */
  unclosed_quote: boolean;
}

/** The columns POST …/senders/import takes (docs/api.md, "Senders from a CSV file"). */
export const kSenderImportColumns = [
  "email", "name", "from_name", "preset", "username", "password",
  "smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password",
  "imap_host", "imap_port", "imap_security", "imap_username", "imap_password",
  "daily_quota", "allow_self_signed", "source_ip", "proxy_url", "timezone",
  "warmup_enabled", "warmup_start_at", "warmup_end_at", "warmup_start_volume", "warmup_daily_increase",
  "warmup_max_volume", "warmup_weekdays_only", "warmup_reply_rate_percent",
] as const;

/** Other headers the server reads as one of its columns. */
export const kSenderImportAliases: Readonly<Record<string, string>> = {
  email_address: "email", e_mail: "email",
  sender_name: "from_name", display_name: "from_name", from: "from_name",
  provider: "preset", user: "username", login: "username", pass: "password", app_password: "password",
  smtp_server: "smtp_host", smtp_user: "smtp_username", smtp_login: "smtp_username",
  smtp_pass: "smtp_password", smtp_encryption: "smtp_security",
  imap_server: "imap_host", imap_user: "imap_username", imap_login: "imap_username",
  imap_pass: "imap_password", imap_encryption: "imap_security",
  daily_limit: "daily_quota", daily_send_limit: "daily_quota",
  warmup_daily_target: "warmup_max_volume", warmup_limit: "warmup_max_volume",
};

/** An example file offered for download: one Gmail sender, one on a custom server. */
export const kSenderImportExample =
  "email,from_name,preset,password,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,daily_quota\n" +
  "ann@example.com,Ann Lee,gmail,app-password-here,,,,,,,40\n" +
  "bob@example.org,Bob Stone,custom,secret,mail.example.org,587,starttls,mail.example.org,993,tls,30\n";

/** A header cell as the server compares it: trimmed, lowercase, spaces and '-' as '_', alias resolved. */
export function canonicalColumn(raw: string): string {
  const name = raw.replace(/^\uFEFF/, "").trim().toLowerCase().replace(/[ -]/g, "_");
  return kSenderImportAliases[name] ?? name;
}

function sniffDelimiter(text: string): Delimiter {
  let first_line = "";  // the header row's characters outside quotes
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted) first_line += ch;
  }
  const count = (d: string) => first_line.split(d).length - 1;
  const candidates: Delimiter[] = [",", ";", "\t"];
  let best: Delimiter = ",";
  for (const d of candidates) if (count(d) > count(best)) best = d;
  return best;
}

/**
 * Parses CSV text into records (arrays of cells). Blank lines are skipped. `unclosed` is true
 * when the text ends inside a quoted field (the last record then holds what was read).
 */
export function parseCsv(text: string, delimiter: Delimiter): { records: string[][]; unclosed: boolean } {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let after_quote = false;
  let started = false;
  const endField = () => {
    record.push(field);
    field = "";
    after_quote = false;
  };
  const endRecord = () => {
    endField();
    const blank = record.length === 1 && record[0] === "";
    if (started && !blank) records.push(record);
    record = [];
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      continue;
    }
    started = true;
    if (ch === delimiter) {
      endField();
    } else if (ch === '"' && field === "" && !after_quote) {
      quoted = true;
    } else {
      field += ch;
    }
  }
  const unclosed = quoted;
  if (started || field !== "" || record.length > 0) endRecord();
  return { records, unclosed };
}

/** Reads `text` (a file's contents or pasted text) for the preview of its first `limit` rows. */
export function previewSenderCsv(text: string, limit = 5): CsvPreview {
  const body = text.replace(/^\uFEFF/, "");
  const delimiter = sniffDelimiter(body);
  const { records, unclosed } = parseCsv(body, delimiter);
  const header = records[0] ?? [];
  const known = new Set<string>(kSenderImportColumns);
  const columns = header.map(canonicalColumn);
  return {
    delimiter,
    header,
    rows: records.slice(1, 1 + limit).map((cells, i) => ({ row: i + 2, cells })),
    total_rows: Math.max(0, records.length - 1),
    unknown_columns: header.filter((_, i) => !known.has(columns[i])),
    missing_email: header.length > 0 && !columns.includes("email"),
    unclosed_quote: unclosed,
  };
}

/** A cell shown in the preview: passwords are masked, long values cut. */
export function previewCell(column: string, value: string): string {
  const c = canonicalColumn(column);
  if (c === "password" || c === "smtp_password" || c === "imap_password") return value === "" ? "" : "••••••";
  return value.length > 60 ? `${value.slice(0, 57)}…` : value;
}

export interface ImportProblemsByRow {
  /** Problems of each row, by row number, in row order. */
  rows: Array<{ row: number; problems: Array<{ column: string; message: string }> }>;
  /** Problems that name no row (the file as a whole). */
  file: string[];
  total: number;
}

/** Groups the API's `problems` by row for the problem list shown next to the rows. */
export function groupImportProblems(problems: readonly ApiProblem[]): ImportProblemsByRow {
  const by_row = new Map<number, Array<{ column: string; message: string }>>();
  const file: string[] = [];
  for (const p of problems) {
    if (p.row === undefined) {
      file.push(p.field ? `${p.field}: ${p.message}` : p.message);
      continue;
    }
    const list = by_row.get(p.row) ?? [];
    list.push({ column: p.column ?? "", message: p.message });
    by_row.set(p.row, list);
  }
  const rows = [...by_row.entries()].sort((a, b) => a[0] - b[0]).map(([row, list]) => ({ row, problems: list }));
  return { rows, file, total: problems.length };
}

/** One line for a problem: "smtp_port: must be a whole number", or the message for the whole row. */
export function describeRowProblem(p: { column: string; message: string }): string {
  return p.column === "" ? p.message : `${p.column}: ${p.message}`;
}

/** The summary after an upload, as the dialog says it. */
export function importSummary(created: number): string {
  if (created === 0) return "No senders were added.";
  if (created === 1) return "Added 1 sender. It is unverified until its SMTP and IMAP logins are tested.";
  return `Added ${created} senders. They are unverified until their SMTP and IMAP logins are tested.`;
}
