import { describe, expect, it } from "vitest";
import type { ImportPreview } from "../../api/leads";
import { choiceProblems, columnOfField, initialChoices, startBody, suggestKey } from "./importMapping";

const kPreview: ImportPreview = {
  encoding: "utf-8",
  delimiter: ",",
  mapping: {
    has_header: true,
    columns: [
      { column: 1, header: "Email", field: "email" },
      { column: 2, header: "Name", field: "full_name" },
      { column: 3, header: "Shoe Size", field: "custom", custom_key: "shoe_size" },
    ],
  },
  rows: [{ row: 2, fields: ["a@x.test", "Ann Lee", "38"], error: null }],
};

describe("import mapping", () => {
  it("starts from the API's guess and sends every column by number", () => {
    const choices = initialChoices(kPreview);
    expect(choices[3]).toEqual({ target: "custom", key: "shoe_size" });
    expect(choiceProblems(choices)).toEqual({});
    expect(startBody(choices, true, 4)).toEqual({
      mapping: { "1": "email", "2": "full_name", "3": "custom:shoe_size" },
      has_header: true,
      list_id: 4,
    });
    expect(startBody(choices, false, undefined)).not.toHaveProperty("list_id");
  });

  it("needs exactly one email column, valid unique custom keys and one column per field", () => {
    const choices = initialChoices(kPreview);
    choices[1] = { target: "ignore", key: "" };
    expect(choiceProblems(choices)[0]).toMatch(/email address/);
    choices[1] = { target: "email", key: "" };
    choices[2] = { target: "custom", key: "Shoe Size" };
    expect(choiceProblems(choices)[2]).toMatch(/a-z, 0-9/);
    choices[2] = { target: "custom", key: "shoe_size" };
    expect(choiceProblems(choices)[3]).toMatch(/Column 2 already uses/);
    choices[2] = { target: "company", key: "" };
    choices[3] = { target: "company", key: "" };
    expect(choiceProblems(choices)[3]).toMatch(/Column 2 is already mapped/);
  });

  it("suggests keys and reads the API's mapping fields", () => {
    expect(suggestKey("Shoe Size", 3)).toBe("shoe_size");
    expect(suggestKey("  ", 4)).toBe("column_4");
    expect(suggestKey(null, 5)).toBe("column_5");
    expect(columnOfField("mapping.3")).toBe(3);
    expect(columnOfField("mapping")).toBe(0);
    expect(columnOfField("list_id")).toBeUndefined();
  });
});
