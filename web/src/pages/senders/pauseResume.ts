// Pausing and resuming a sender by hand (POST …/senders/{id}/pause and …/resume): what the
// senders page offers for a status, the pause reason's check, and how a resume's verification is
// told. Pure (tested in pauseResume.test.ts).

import type { SenderStatus } from "../../api/types";
import type { SenderVerification } from "../../api/warmup";
import { describeVerification } from "./testConnection";

/** The API's bound on a pause reason. */
export const kMaxPauseReason = 500;

/** "resume" for a paused sender (paused by hand or by the engine), else "pause". */
export function pauseAction(status: SenderStatus): "pause" | "resume" {
  return status === "paused" ? "resume" : "pause";
}

/** A problem with the optional pause reason, or undefined when it can be sent. */
export function checkPauseReason(reason: string): string | undefined {
  const length = [...reason.trim()].length;
  if (length > kMaxPauseReason) return `Keep the reason within ${kMaxPauseReason} characters (it has ${length}).`;
  return undefined;
}

/** The resume's outcome: active again, or still stopped with each login failure in the server's words. */
export function describeResume(v: SenderVerification): { ok: boolean; message: string } {
  if (v.sender.status === "active") return { ok: true, message: `${v.sender.email} is resumed: SMTP and IMAP logins work; the sender is active.` };
  return { ok: false, message: `${describeVerification(v)}. The pause is lifted, but the sender is ${v.sender.status} until its logins work: fix them and test the connection.` };
}
