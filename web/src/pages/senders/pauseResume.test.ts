import { describe, expect, it } from "vitest";
import type { Sender } from "../../api/types";
import { checkPauseReason, describeResume, kMaxPauseReason, pauseAction } from "./pauseResume";

const ok = { ok: true, kind: "ok", message: "ok" };

describe("pauseAction", () => {
  it("offers resume for a paused sender and pause for every other status", () => {
    expect(pauseAction("paused")).toBe("resume");
    expect(pauseAction("active")).toBe("pause");
    expect(pauseAction("unverified")).toBe("pause");
    expect(pauseAction("failed")).toBe("pause");
  });
});

describe("checkPauseReason", () => {
  it("accepts no reason and one within the bound, counting characters, not UTF-16 units", () => {
    expect(checkPauseReason("")).toBeUndefined();
    expect(checkPauseReason("  too many bounces  ")).toBeUndefined();
    expect(checkPauseReason("😀".repeat(kMaxPauseReason))).toBeUndefined();
  });
  it("refuses a longer reason, saying how long it is", () => {
    expect(checkPauseReason("x".repeat(kMaxPauseReason + 1))).toBe("Keep the reason within 500 characters (it has 501).");
  });
});

describe("describeResume", () => {
  it("says the sender is active again", () => {
    const sender = { email: "ana@acme.test", status: "active" } as Sender;
    expect(describeResume({ sender, smtp: ok, imap: ok })).toEqual({
      ok: true,
      message: "ana@acme.test is resumed: SMTP and IMAP logins work; the sender is active.",
    });
  });
  it("names the failed login and the status the sender is left in", () => {
    const sender = { email: "ana@acme.test", status: "failed" } as Sender;
    const smtp = { ok: false, kind: "auth", message: "username or password rejected: 535 5.7.8 Error: authentication failed" };
    const r = describeResume({ sender, smtp, imap: ok });
    expect(r.ok).toBe(false);
    expect(r.message).toBe(
      "ana@acme.test: SMTP username or password rejected: 535 5.7.8 Error: authentication failed. The pause is lifted, but the sender is failed until its logins work: fix them and test the connection.",
    );
  });
});
