// Pausing and resuming a sender from the senders page: the pause dialog (an optional reason,
// checked before sending; the API's error under the field it names) and the resume action, which
// lifts the pause and verifies the logins again, told in a toast (pauseResume.ts).

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { isApiError } from "../../api/client";
import { queryKeys } from "../../api/endpoints";
import type { Sender } from "../../api/types";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FormError, TextField } from "../../ui/Field";
import { useToast } from "../../ui/Toast";
import { checkPauseReason, describeResume } from "./pauseResume";
import { useSendersApi } from "./useSendersApi";

export function PauseSenderDialog({ workspace_id, sender, onClose }: { workspace_id: number; sender: Sender | null; onClose: () => void }) {
  return (
    <Dialog open={sender !== null} title={sender ? `Pause ${sender.email}` : "Pause sender"} onClose={onClose}
      description="A paused sender sends no campaign or warm-up mail until you resume it; replies to it are still read.">
      {sender && <PauseForm key={sender.id} workspace_id={workspace_id} sender={sender} onClose={onClose} />}
    </Dialog>
  );
}

function PauseForm({ workspace_id, sender, onClose }: { workspace_id: number; sender: Sender; onClose: () => void }) {
  const senders = useSendersApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [reason, setReason] = useState("");
  const [reason_error, setReasonError] = useState<string | undefined>();
  const [form_error, setFormError] = useState<string | undefined>();
  const pause = useMutation({
    mutationFn: (why: string) => senders.pauseSender(workspace_id, sender.id, why),
    onSuccess: (s) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      toast.success(`Paused ${s.email}.`);
      onClose();
    },
    onError: (e) => {
      if (isApiError(e) && e.field === "reason") setReasonError(e.message);
      else setFormError(describeError(e));
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(undefined);
    const problem = checkPauseReason(reason);
    setReasonError(problem);
    if (problem === undefined) pause.mutate(reason);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <TextField label="Reason" hint="Optional; shown next to the sender's status." value={reason} error={reason_error}
        onChange={(e) => { setReason(e.target.value); setReasonError(undefined); }} />
      <FormError message={form_error} />
      <div className="flex justify-end gap-2">
        <Button type="button" onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={pause.isPending}>Pause sender</Button>
      </div>
    </form>
  );
}

/** Resumes a paused sender: the pause lifted and its logins verified, the outcome in a toast. */
export function useResumeSender(workspace_id: number): { run: (s: Sender) => void; resuming: number | undefined } {
  const senders = useSendersApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const resume = useMutation({
    mutationFn: (s: Sender) => senders.resumeSender(workspace_id, s.id),
    onSuccess: (v) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      const told = describeResume(v);
      if (told.ok) toast.success(told.message);
      else toast.error(told.message);
    },
    onError: (e, s) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      toast.error(`Could not resume ${s.email}: ${describeError(e)}`);
    },
  });
  return { run: (s) => resume.mutate(s), resuming: resume.isPending ? resume.variables?.id : undefined };
}
