import { describe, expect, it } from "vitest";
import { formatDetails } from "./AuditLogPage";

describe("formatDetails", () => {
  it("lists an object's fields readably", () => {
    expect(formatDetails({ email: "bob@acme.test", new_account: true })).toBe("email: bob@acme.test · new account: true");
    expect(formatDetails({ fields: ["daily_quota", "smtp"], credentials_set: [] })).toBe("fields: daily_quota, smtp · credentials set: ");
  });

  it("shows nothing for empty details", () => {
    expect(formatDetails(null)).toBe("");
    expect(formatDetails({})).toBe("");
  });
});
