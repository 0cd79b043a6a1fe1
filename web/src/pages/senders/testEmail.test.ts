import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { checkTestRecipient, testEmailErrorOutcome, testEmailOutcome } from "./testEmail";

describe("test email outcome", () => {
  it("says the server accepted the message, with its reply", () => {
    const o = testEmailOutcome("bob@x.test", { ok: true, message_id: "<1@k>", smtp: { code: 250, message: "2.0.0 Ok: queued as ABC" } });
    expect(o).toEqual({ kind: "sent", title: "Sent to bob@x.test.", detail: "The server answered “250 2.0.0 Ok: queued as ABC” (Message-ID <1@k>)." });
  });

  it("names the stage and keeps the server's exact words", () => {
    const o = testEmailOutcome("bob@x.test", { ok: false, stage: "auth", message: "535 5.7.8 Error: authentication failed" });
    expect(o).toEqual({ kind: "failed", stage: "auth", title: "The SMTP server refused the login", detail: "535 5.7.8 Error: authentication failed" });
    expect(testEmailOutcome("b@x.test", { ok: false, stage: "connect", message: "connection refused" }).kind).toBe("failed");
  });

  it("puts an error naming `to` next to the field", () => {
    const e = new ApiError({ status: 409, code: "failed_precondition", message: "is suppressed (unsubscribed)", field: "to" });
    expect(testEmailErrorOutcome(e)).toEqual({ kind: "field", field: "to", message: "Is suppressed (unsubscribed)" });
    expect(testEmailErrorOutcome(new ApiError({ status: 500, code: "internal", message: "internal error" }))).toEqual({ kind: "error", message: "internal error" });
  });

  it("checks the recipient before sending", () => {
    expect(checkTestRecipient("")).toMatch(/Enter the address/);
    expect(checkTestRecipient("a@b")).toMatch(/one email address/);
    expect(checkTestRecipient("a@b.test, c@d.test")).toMatch(/one email address/);
    expect(checkTestRecipient(" a@b.test ")).toBeUndefined();
  });
});
