import { describe, expect, it } from "vitest";
import { parseSuppressionValues, statusLabel } from "../../api/inbox";
import { leadName, nextSelection } from "./inboxNav";

describe("nextSelection", () => {
  const ids = [7, 5, 3];
  it("selects the first conversation from no selection", () => {
    expect(nextSelection(ids, undefined, "j")).toBe(7);
    expect(nextSelection(ids, undefined, "ArrowUp")).toBe(7);
    expect(nextSelection(ids, 99, "k")).toBe(7);
  });
  it("moves down and up and stops at both ends", () => {
    expect(nextSelection(ids, 7, "j")).toBe(5);
    expect(nextSelection(ids, 5, "ArrowDown")).toBe(3);
    expect(nextSelection(ids, 3, "j")).toBe(3);
    expect(nextSelection(ids, 5, "k")).toBe(7);
    expect(nextSelection(ids, 7, "ArrowUp")).toBe(7);
  });
  it("ignores other keys and empty lists", () => {
    expect(nextSelection(ids, 7, "x")).toBeUndefined();
    expect(nextSelection([], undefined, "j")).toBeUndefined();
  });
});

describe("leadName", () => {
  it("joins the names, else falls back to the address", () => {
    expect(leadName({ email: "a@x.test", first_name: "Ann", last_name: "Lee" })).toBe("Ann Lee");
    expect(leadName({ email: "a@x.test", first_name: "Ann", last_name: null })).toBe("Ann");
    expect(leadName({ email: "a@x.test", first_name: " ", last_name: null })).toBe("a@x.test");
  });
});

describe("inbox helpers", () => {
  it("labels statuses", () => {
    expect(statusLabel("not_interested")).toBe("Not interested");
    expect(statusLabel("meeting_booked")).toBe("Meeting booked");
  });
  it("splits typed suppression values and drops blanks and repeats", () => {
    expect(parseSuppressionValues(" a@x.test, @Example.com\nA@X.test;b@y.test  \n\n")).toEqual([
      "a@x.test",
      "@Example.com",
      "b@y.test",
    ]);
    expect(parseSuppressionValues("  ")).toEqual([]);
  });
});
