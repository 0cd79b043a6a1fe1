// Senders of the Kiln JSON API v1 beyond add/edit/delete (docs/api.md, "Senders"): many senders
// from one CSV file, a test email sent through a sender's SMTP server, and pausing / resuming a
// sender (resume verifies its logins again). Each call resolves with
// the documented answer or rejects with ApiError (the CSV's problems by row and column in
// `problems`; a test email's refused recipient names `to`).

import type { ApiClient } from "./client";
import type { Sender } from "./types";
import type { SenderVerification } from "./warmup";

/** POST …/senders/import: every sender written (status unverified), in the file's order. */
export interface SenderImportResult {
  created: number;
  ids: number[];
}

export interface TestEmailInput {
  to: string;
  subject?: string;
  body?: string;
}

/** Where a test email stopped: connecting, the TLS handshake, the login, or the message itself. */
export type TestEmailStage = "connect" | "tls" | "auth" | "send";

/** POST …/senders/{id}/test-email: accepted by the server (with its reply), or where and why not. */
export type TestEmailResult =
  | { ok: true; message_id: string; smtp: { code: number; message: string } }
  | { ok: false; stage: TestEmailStage; kind?: string; message: string };

export class SendersApi {
  constructor(private readonly client: ApiClient) {}

  importSenders(ws: number, csv: Blob | string): Promise<SenderImportResult> {
    return this.client.request<SenderImportResult>("POST", `/workspaces/${ws}/senders/import`, {
      rawBody: { data: csv, contentType: "text/csv" },
    });
  }

  sendTestEmail(ws: number, sender_id: number, input: TestEmailInput): Promise<TestEmailResult> {
    return this.client.post<TestEmailResult>(`/workspaces/${ws}/senders/${sender_id}/test-email`, input);
  }

  /** POST …/senders/{id}/pause: the sender, paused with `reason` (the server's default when empty). */
  pauseSender(ws: number, sender_id: number, reason: string): Promise<Sender> {
    const trimmed = reason.trim();
    return this.client.post<Sender>(`/workspaces/${ws}/senders/${sender_id}/pause`, trimmed === "" ? {} : { reason: trimmed });
  }

  /** POST …/senders/{id}/resume: the pause lifted and the logins verified again (409 naming status when not paused). */
  resumeSender(ws: number, sender_id: number): Promise<SenderVerification> {
    return this.client.post<SenderVerification>(`/workspaces/${ws}/senders/${sender_id}/resume`);
  }
}
