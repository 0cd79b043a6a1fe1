import { describe, expect, it } from "vitest";
import { canonicalColumn, groupImportProblems, importSummary, parseCsv, previewCell, previewSenderCsv } from "./senderImport";

describe("sender CSV preview", () => {
  it("reads quotes, doubled quotes, line breaks in quotes and CRLF like the server", () => {
    const { records, unclosed } = parseCsv('a,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\r\n', ",");
    expect(records).toEqual([["a", "b"], ["x, y", 'say "hi"'], ["two\nlines", "z"]]);
    expect(unclosed).toBe(false);
  });

  it("skips empty lines without counting them, so row numbers match the server's", () => {
    const p = previewSenderCsv("email,preset\n\na@x.test,gmail\n\n\nb@x.test,outlook\n");
    expect(p.rows).toEqual([{ row: 2, cells: ["a@x.test", "gmail"] }, { row: 3, cells: ["b@x.test", "outlook"] }]);
    expect(p.total_rows).toBe(2);
  });

  it("drops a byte order mark and sniffs the semicolon", () => {
    const p = previewSenderCsv("\uFEFFEmail;From Name;Preset\nzoe@x.test;Zoë;gmail\n");
    expect(p.delimiter).toBe(";");
    expect(p.header).toEqual(["Email", "From Name", "Preset"]);
    expect(p.rows[0].cells).toEqual(["zoe@x.test", "Zoë", "gmail"]);
    expect(p.unknown_columns).toEqual([]);
    expect(p.missing_email).toBe(false);
  });

  it("sniffs tabs, ignoring delimiters inside quotes", () => {
    expect(previewSenderCsv('email\t"a,b,c"\tpreset\nx@y.test\tq\tgmail').delimiter).toBe("\t");
  });

  it("names unknown columns and a missing email column, reading aliases as the server does", () => {
    const p = previewSenderCsv("E-mail,SMTP Server,daily_limit,colour\nx@y.test,smtp.y.test,10,red\n");
    expect(p.unknown_columns).toEqual(["colour"]);
    expect(p.missing_email).toBe(false);
    expect(previewSenderCsv("name,preset\nAnn,gmail\n").missing_email).toBe(true);
    expect(canonicalColumn(" SMTP-Encryption ")).toBe("smtp_security");
    expect(canonicalColumn("Email Address")).toBe("email");
  });

  it("previews only the first rows but counts them all", () => {
    const text = "email\n" + Array.from({ length: 12 }, (_, i) => `u${i}@x.test`).join("\n");
    const p = previewSenderCsv(text, 5);
    expect(p.rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6]);
    expect(p.total_rows).toBe(12);
  });

  it("notices a quote left open", () => {
    expect(previewSenderCsv('email,from_name\na@x.test,"Ann\n').unclosed_quote).toBe(true);
  });

  it("masks passwords and cuts long cells", () => {
    expect(previewCell("SMTP Pass", "secret")).toBe("••••••");
    expect(previewCell("password", "")).toBe("");
    expect(previewCell("from_name", "x".repeat(100))).toHaveLength(58);
  });
});

describe("import problems", () => {
  it("groups problems by row in row order, keeping file-wide ones apart", () => {
    const g = groupImportProblems([
      { field: "row 7, smtp_port", row: 7, column: "smtp_port", message: "must be a whole number" },
      { field: "row 3, email", row: 3, column: "email", message: "appears on an earlier row of this file" },
      { field: "row 7", row: 7, column: "", message: "column 2 is longer than 65536 bytes" },
      { field: "columns", message: "unknown column" },
    ]);
    expect(g.total).toBe(4);
    expect(g.file).toEqual(["columns: unknown column"]);
    expect(g.rows.map((r) => r.row)).toEqual([3, 7]);
    expect(g.rows[1].problems).toEqual([
      { column: "smtp_port", message: "must be a whole number" },
      { column: "", message: "column 2 is longer than 65536 bytes" },
    ]);
  });

  it("summarises the result", () => {
    expect(importSummary(1)).toMatch(/^Added 1 sender\./);
    expect(importSummary(3)).toMatch(/^Added 3 senders\./);
  });
});
