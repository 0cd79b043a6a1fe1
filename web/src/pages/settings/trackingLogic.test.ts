import { describe, expect, it } from "vitest";
import { cleanDomainInput, explainCheck, recordsFor, withDomain } from "./trackingLogic";

const kFallback = "links use the server's public URL";

describe("cleanDomainInput", () => {
  it("keeps a plain host name as typed, trimmed", () => {
    expect(cleanDomainInput("  track.acme.com ")).toBe("track.acme.com");
  });
  it("drops a pasted scheme, path and trailing slash", () => {
    expect(cleanDomainInput("https://Track.Acme.com/")).toBe("Track.Acme.com");
    expect(cleanDomainInput("http://track.acme.com/o/abc")).toBe("track.acme.com");
  });
  it("leaves clearing as the empty string", () => {
    expect(cleanDomainInput("   ")).toBe("");
  });
});

describe("recordsFor", () => {
  it("asks for a CNAME to the host name the dashboard is reached by", () => {
    expect(recordsFor("track.acme.com", "kiln.example.net", null)).toEqual([{ type: "CNAME", name: "track.acme.com", value: "kiln.example.net." }]);
  });
  it("asks for A and AAAA records when the server is reached by address", () => {
    const check = { addresses: [], server_addresses: ["2001:db8::1", "203.0.113.5", "203.0.113.5"], points_here: false, problem: "x" };
    expect(recordsFor("track.acme.com", "203.0.113.5", check)).toEqual([
      { type: "A", name: "track.acme.com", value: "203.0.113.5" },
      { type: "AAAA", name: "track.acme.com", value: "2001:db8::1" },
    ]);
    expect(recordsFor("track.acme.com", "127.0.0.1", null)).toEqual([{ type: "A", name: "track.acme.com", value: "127.0.0.1" }]);
    expect(recordsFor("track.acme.com", "[::1]", null)).toEqual([{ type: "AAAA", name: "track.acme.com", value: "::1" }]);
  });
  it("never suggests a CNAME to the domain itself or to localhost", () => {
    expect(recordsFor("track.acme.com", "track.acme.com", null)).toEqual([]);
    expect(recordsFor("track.acme.com", "localhost", null)).toEqual([]);
  });
});

describe("explainCheck", () => {
  it("says what is used when no domain is set", () => {
    const e = explainCheck("", null, "kiln.example.net", kFallback);
    expect(e.state).toBe("unset");
    expect(e.text).toBe("No custom tracking domain: links use the server's public URL.");
    expect(e.records).toEqual([]);
  });

  it("confirms a domain whose addresses include the server's", () => {
    const e = explainCheck(
      "track.acme.com",
      { addresses: ["198.51.100.9", "203.0.113.5"], server_addresses: ["203.0.113.5"], points_here: true, problem: "" },
      "kiln.example.net",
      kFallback,
    );
    expect(e.state).toBe("ok");
    expect(e.summary).toBe("Points here");
    expect(e.text).toMatch(/^track\.acme\.com resolves to 203\.0\.113\.5, an address of this server/);
  });

  it("explains a domain pointing elsewhere without repeating the server's sentence", () => {
    const problem = "track.acme.com points at 192.0.2.7, not at this server (kiln.example.net is 203.0.113.5)";
    const e = explainCheck(
      "track.acme.com",
      { addresses: ["192.0.2.7"], server_addresses: ["203.0.113.5"], points_here: false, problem },
      "kiln.example.net",
      kFallback,
    );
    expect(e.state).toBe("problem");
    expect(e.summary).toBe("Points elsewhere");
    expect(e.text.startsWith("track.acme.com points at 192.0.2.7, not at this server (kiln.example.net is 203.0.113.5).")).toBe(true);
    expect(e.text).not.toMatch(/It resolves to/);
    expect(e.records).toEqual([{ type: "CNAME", name: "track.acme.com", value: "kiln.example.net." }]);
  });

  it("says what the domain resolves to when the server could not be compared", () => {
    const e = explainCheck(
      "weak.kiln.test",
      { addresses: ["192.0.2.7"], server_addresses: [], points_here: false, problem: "public_url is not set: cannot tell which addresses are this server's" },
      "127.0.0.1",
      kFallback,
    );
    expect(e.summary).toBe("Cannot compare");
    expect(e.text).toMatch(/^public_url is not set: cannot tell which addresses are this server's\. It resolves to 192\.0\.2\.7\./);
    expect(e.records).toEqual([{ type: "A", name: "weak.kiln.test", value: "127.0.0.1" }]);
  });

  it("reports a domain without any address", () => {
    const e = explainCheck(
      "nx.acme.com",
      { addresses: [], server_addresses: [], points_here: false, problem: "nx.acme.com has no A or AAAA record: point it (CNAME or A) at this server" },
      "kiln.example.net",
      kFallback,
    );
    expect(e.summary).toBe("No address");
    expect(e.text).toMatch(/^nx\.acme\.com has no A or AAAA record/);
  });
});

describe("withDomain", () => {
  const overview = {
    senders: [
      { id: 1, email: "ana@acme.test", tracking_domain: "" },
      { id: 2, email: "bo@acme.test", tracking_domain: "t.acme.com" },
    ],
    campaigns: [{ id: 1, name: "Spring", status: "draft", tracking_domain: "" }],
  };
  it("replaces the one sender's domain and keeps the rest", () => {
    const next = withDomain(overview, "senders", 1, "track.acme.com");
    expect(next.senders).toEqual([
      { id: 1, email: "ana@acme.test", tracking_domain: "track.acme.com" },
      { id: 2, email: "bo@acme.test", tracking_domain: "t.acme.com" },
    ]);
    expect(next.campaigns).toEqual(overview.campaigns);
    expect(overview.senders[0].tracking_domain).toBe("");
  });
  it("tells a campaign from a sender with the same id", () => {
    const next = withDomain(overview, "campaigns", 1, "links.acme.com");
    expect(next.campaigns[0].tracking_domain).toBe("links.acme.com");
    expect(next.senders).toEqual(overview.senders);
  });
});
