import { describe, expect, it } from "vitest";
import { leadsExportUrl, leadStatusLabel } from "../../api/leads";
import { filtersFromParams, paramsFromFilters } from "./leadFilters";

describe("lead filters in the address", () => {
  it("reads valid filters and ignores the rest", () => {
    expect(filtersFromParams(new URLSearchParams("q=ann&status=replied&list_id=4"))).toEqual({ q: "ann", status: "replied", list_id: 4 });
    expect(filtersFromParams(new URLSearchParams("q=%20&status=bogus&list_id=0"))).toEqual({});
    expect(filtersFromParams(new URLSearchParams("list_id=4x"))).toEqual({});
  });

  it("writes only the filters that are set", () => {
    expect(paramsFromFilters({ q: "a b", status: "new" }).toString()).toBe("q=a+b&status=new");
    expect(paramsFromFilters({ q: "", list_id: 3 }).toString()).toBe("list_id=3");
  });

  it("builds the export link with the same filters", () => {
    expect(leadsExportUrl("/api/v1", 2, {})).toBe("/api/v1/workspaces/2/contacts/export");
    expect(leadsExportUrl("/api/v1", 2, { q: "a&b", status: "new", list_id: 5 })).toBe(
      "/api/v1/workspaces/2/contacts/export?q=a%26b&status=new&list_id=5",
    );
  });

  it("labels statuses", () => {
    expect(leadStatusLabel("not_interested")).toBe("Not interested");
    expect(leadStatusLabel("new")).toBe("New");
  });
});
