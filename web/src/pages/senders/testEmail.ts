// "Send a test email" on the senders page: what the dialog shows for each answer of
// POST …/senders/{id}/test-email — the server's acceptance (with its reply), or the stage where
// sending stopped (connect, TLS, login, the message) with the server's exact words, or an error
// naming the field at fault (`to`: not an address, or suppressed) shown next to that field.

import { isApiError } from "../../api/client";
import type { TestEmailResult, TestEmailStage } from "../../api/senders";
import { describeError } from "../../lib/forms";

export const kTestEmailStages: Readonly<Record<TestEmailStage, string>> = {
  connect: "Could not connect to the SMTP server",
  tls: "The secure connection (TLS) failed",
  auth: "The SMTP server refused the login",
  send: "The SMTP server refused the message",
};

export type TestEmailOutcome =
  | { kind: "sent"; title: string; detail: string }
  | { kind: "failed"; stage: TestEmailStage; title: string; detail: string }
  | { kind: "field"; field: "to" | "subject" | "body"; message: string }
  | { kind: "error"; message: string };

/** The dialog's message for a 200 answer. */
export function testEmailOutcome(to: string, result: TestEmailResult): TestEmailOutcome {
  if (result.ok) {
    const reply = `${result.smtp.code} ${result.smtp.message}`.trim();
    return {
      kind: "sent",
      title: `Sent to ${to}.`,
      detail: `The server answered “${reply}”${result.message_id ? ` (Message-ID ${result.message_id})` : ""}.`,
    };
  }
  const title = kTestEmailStages[result.stage] ?? `Sending failed (${result.stage})`;
  return { kind: "failed", stage: result.stage, title, detail: result.message };
}

/** The dialog's message for a failed call: next to the field the API names, else for the form. */
export function testEmailErrorOutcome(e: unknown): TestEmailOutcome {
  if (isApiError(e) && (e.field === "to" || e.field === "subject" || e.field === "body")) {
    const message = e.message.length > 0 ? e.message[0].toUpperCase() + e.message.slice(1) : e.message;
    return { kind: "field", field: e.field, message };
  }
  return { kind: "error", message: describeError(e) };
}

/** A quick check before sending: one address, something@domain.tld, no spaces. */
export function checkTestRecipient(to: string): string | undefined {
  const t = to.trim();
  if (t === "") return "Enter the address to send the test to.";
  if (!/^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/.test(t)) return "Enter one email address, like name@example.com.";
  return undefined;
}
