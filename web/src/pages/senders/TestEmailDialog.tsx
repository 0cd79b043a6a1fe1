// "Send a test email" from one sender: asks for the address (and optionally a subject and text),
// sends through the sender's own SMTP server (POST …/senders/{id}/test-email) and shows the
// server's acceptance, or the stage where it stopped with the server's exact words, next to the
// address field.

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import type { Sender } from "../../api/types";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FormError, TextField } from "../../ui/Field";
import { checkTestRecipient, testEmailErrorOutcome, testEmailOutcome, type TestEmailOutcome } from "./testEmail";
import { useSendersApi } from "./useSendersApi";

export function TestEmailDialog({ workspace_id, sender, onClose }: { workspace_id: number; sender: Sender | null; onClose: () => void }) {
  return (
    <Dialog open={sender !== null} title={sender ? `Send a test email from ${sender.email}` : "Send a test email"} onClose={onClose}
      description="Kiln sends one short message through this sender's SMTP server and tells you what the server answered.">
      {sender && <TestEmailForm key={sender.id} workspace_id={workspace_id} sender={sender} onClose={onClose} />}
    </Dialog>
  );
}

function TestEmailForm({ workspace_id, sender, onClose }: { workspace_id: number; sender: Sender; onClose: () => void }) {
  const senders = useSendersApi();
  const [to, setTo] = useState("");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [outcome, setOutcome] = useState<TestEmailOutcome | null>(null);
  const [to_error, setToError] = useState<string | undefined>();
  const body_id = useId();
  const send = useMutation({
    mutationFn: (input: { to: string; subject?: string; body?: string }) => senders.sendTestEmail(workspace_id, sender.id, input),
    onSuccess: (result, input) => setOutcome(testEmailOutcome(input.to, result)),
    onError: (e) => {
      const o = testEmailErrorOutcome(e);
      if (o.kind === "field" && o.field === "to") setToError(o.message);
      setOutcome(o);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setOutcome(null);
    const problem = checkTestRecipient(to);
    setToError(problem);
    if (problem) return;
    send.mutate({
      to: to.trim(),
      ...(subject.trim() !== "" ? { subject: subject.trim() } : {}),
      ...(body.trim() !== "" ? { body } : {}),
    });
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <TextField label="Send to" type="email" autoComplete="email" required value={to} error={to_error}
        hint="An address you can read, ideally at another provider."
        onChange={(e) => { setTo(e.target.value); setToError(undefined); setOutcome(null); }} />
      <div aria-live="polite">
        {outcome?.kind === "sent" && (
          <div role="status" className="rounded-md bg-green-50 p-3 text-sm text-green-800 ring-1 ring-green-200">
            <p className="font-medium">{outcome.title}</p>
            <p className="mt-1 break-words">{outcome.detail}</p>
          </div>
        )}
        {outcome?.kind === "failed" && (
          <div role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800 ring-1 ring-red-200">
            <p className="font-medium">{outcome.title} <span className="font-normal">(stage: {outcome.stage})</span></p>
            <p className="mt-1 break-words font-mono text-xs">{outcome.detail}</p>
          </div>
        )}
      </div>
      <TextField label="Subject" hint="Optional; Kiln writes one when empty." value={subject}
        error={outcome?.kind === "field" && outcome.field === "subject" ? outcome.message : undefined}
        onChange={(e) => setSubject(e.target.value)} />
      <div>
        <label htmlFor={body_id} className="mb-1 block text-sm font-medium text-slate-700">Text</label>
        <textarea id={body_id} rows={3} value={body} onChange={(e) => setBody(e.target.value)}
          aria-invalid={outcome?.kind === "field" && outcome.field === "body" ? true : undefined}
          className="block w-full rounded-md border-0 px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none" />
        {outcome?.kind === "field" && outcome.field === "body"
          ? <p className="mt-1 text-sm text-red-700">{outcome.message}</p>
          : <p className="mt-1 text-xs text-slate-500">Optional.</p>}
      </div>
      <FormError message={outcome?.kind === "error" ? outcome.message : undefined} />
      <div className="flex justify-end gap-2">
        <Button onClick={onClose}>Close</Button>
        <Button type="submit" variant="primary" busy={send.isPending}>Send test email</Button>
      </div>
    </form>
  );
}
