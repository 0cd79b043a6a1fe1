// The senders page's "Test connection": logs in over SMTP and IMAP with the stored credentials
// (POST .../senders/{id}/verify), refreshes the list (the sender becomes active or failed) and
// says what passed or exactly what failed.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { queryKeys } from "../../api/endpoints";
import type { Sender } from "../../api/types";
import type { SenderVerification } from "../../api/warmup";
import { describeError } from "../../lib/forms";
import { useToast } from "../../ui/Toast";
import { useWarmupApi } from "../warmup/useWarmupApi";

/** One line for a finished check: both logins passed, or each failure in the server's words. */
export function describeVerification(v: SenderVerification): string {
  if (v.smtp.ok && v.imap.ok) return `${v.sender.email}: SMTP and IMAP logins work; the sender is active.`;
  const failures = [];
  if (!v.smtp.ok) failures.push(`SMTP ${v.smtp.message}`);
  if (!v.imap.ok) failures.push(`IMAP ${v.imap.message}`);
  return `${v.sender.email}: ${failures.join("; ")}`;
}

export function useTestConnection(workspace_id: number): { run: (s: Sender) => void; testing: number | undefined } {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const check = useMutation({
    mutationFn: (s: Sender) => warmup.verifySender(workspace_id, s.id),
    onSuccess: (v) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      if (v.smtp.ok && v.imap.ok) toast.success(describeVerification(v));
      else toast.error(describeVerification(v));
    },
    onError: (e) => toast.error(describeError(e)),
  });
  return { run: (s) => check.mutate(s), testing: check.isPending ? check.variables?.id : undefined };
}
