import { describe, expect, it } from "vitest";
import type { ProviderPlacement } from "../../api/placement";
import { providerName, providerRows } from "./providerPlacement";

function p(provider: string, inbox: number, spam: number, other_folder: number, missing: number): ProviderPlacement {
  const placed = inbox + spam + other_folder + missing;
  return {
    provider,
    placed,
    inbox,
    spam,
    other_folder,
    missing,
    inbox_rate: placed ? inbox / placed : null,
    spam_rate: placed ? spam / placed : null,
  };
}

describe("placement by provider", () => {
  it("names the providers the API knows and keeps others as they are", () => {
    expect(providerName("gmail")).toBe("Gmail");
    expect(providerName("self_hosted")).toBe("Self-hosted");
    expect(providerName("peer")).toBe("Other senders (peers)");
    expect(providerName("zoho")).toBe("zoho");
  });

  it("orders the familiar providers first, then unknown ones by name, without empty ones", () => {
    const rows = providerRows([p("peer", 1, 0, 0, 0), p("zoho", 1, 0, 0, 0), p("outlook", 1, 0, 0, 0), p("aol", 1, 0, 0, 0), p("gmail", 2, 1, 0, 0), p("yahoo", 0, 0, 0, 0)]);
    expect(rows.map((r) => r.provider)).toEqual(["gmail", "outlook", "peer", "aol", "zoho"]);
  });

  it("gives each placement's share of what was looked for, in percent", () => {
    const [row] = providerRows([p("gmail", 6, 2, 1, 3)]);
    expect(row.placed).toBe(12);
    expect(row.shares).toEqual({ inbox: 50, spam: 16.7, other_folder: 8.3, missing: 25 });
    expect(row.inbox_rate).toBeCloseTo(0.5);
  });
});
