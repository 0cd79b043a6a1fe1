import { describe, expect, it } from "vitest";
import type { Sender } from "../../api/types";
import { describeVerification } from "./testConnection";

const sender = { email: "ana@acme.test" } as Sender;
const ok = { ok: true, kind: "ok", message: "ok" };

describe("describeVerification", () => {
  it("says both logins work", () => {
    expect(describeVerification({ sender, smtp: ok, imap: ok })).toBe("ana@acme.test: SMTP and IMAP logins work; the sender is active.");
  });
  it("names each failure in the server's words", () => {
    const smtp = { ok: false, kind: "auth", message: "username or password rejected: 535 5.7.8 Error: authentication failed" };
    const imap = { ok: false, kind: "refused", message: "connection refused by 127.0.0.1:1143" };
    expect(describeVerification({ sender, smtp, imap })).toBe(
      "ana@acme.test: SMTP username or password rejected: 535 5.7.8 Error: authentication failed; IMAP connection refused by 127.0.0.1:1143",
    );
    expect(describeVerification({ sender, smtp: ok, imap })).toBe("ana@acme.test: IMAP connection refused by 127.0.0.1:1143");
  });
});
