// Senders: the workspace's sending mailboxes with status, daily quota and health; add (one with
// provider presets, or many from a CSV file), edit, delete, test the connection, send a test
// email, pause and resume (members and above).

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { roleAtLeast, type Sender, type SenderStatus } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDate } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { Badge, Card, EmptyState, PageHeader, Td, Th, type Tone } from "../../ui/Layout";
import { QueryTable } from "../../ui/QueryTable";
import { useToast } from "../../ui/Toast";
import { ImportSendersDialog } from "./ImportSendersDialog";
import { PauseSenderDialog, useResumeSender } from "./PauseSender";
import { pauseAction } from "./pauseResume";
import { SenderFormDialog } from "./SenderFormDialog";
import { SenderWarmupDialog } from "./SenderWarmupDialog";
import { useTestConnection } from "./testConnection";
import { TestEmailDialog } from "./TestEmailDialog";

export const kStatusTone: Record<SenderStatus, Tone> = {
  active: "green",
  unverified: "blue",
  paused: "amber",
  failed: "red",
};

export function SendersPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const senders = useQuery({ queryKey: queryKeys.senders(workspace.id), queryFn: () => api.senders(workspace.id) });

  const [editing, setEditing] = useState<{ sender: Sender | undefined } | null>(null);
  const [deleting, setDeleting] = useState<Sender | null>(null);
  const [warming, setWarming] = useState<Sender | null>(null);
  const [importing, setImporting] = useState(false);
  const [mailing, setMailing] = useState<Sender | null>(null);
  const [pausing, setPausing] = useState<Sender | null>(null);
  const test = useTestConnection(workspace.id);
  const resume = useResumeSender(workspace.id);

  return (
    <>
      <PageHeader
        title="Senders"
        description="Mailboxes Kiln sends from. Each one sends at most its daily quota and is watched for replies."
        actions={can_edit && (
          <div className="flex flex-wrap gap-2">
            <Button onClick={() => setImporting(true)}>Bulk add from CSV</Button>
            <Button variant="primary" onClick={() => setEditing({ sender: undefined })}>
              Add sender
            </Button>
          </div>
        )}
      />
      <Card>
        <QueryTable
          query={senders}
          items={(d) => d.items}
          loadingLabel="Loading senders…"
          empty={
            <EmptyState title="No senders yet" action={can_edit && (
              <div className="flex flex-wrap justify-center gap-2">
                <Button variant="primary" onClick={() => setEditing({ sender: undefined })}>Add your first sender</Button>
                <Button onClick={() => setImporting(true)}>Bulk add from CSV</Button>
              </div>
            )}>
              Add a mailbox (Gmail, Outlook or any SMTP/IMAP server) to start sending.
            </EmptyState>
          }
          caption="Senders"
          head={
            <tr>
              <Th>Sender</Th>
              <Th>Status</Th>
              <Th className="text-right">Daily quota</Th>
              <Th>Health</Th>
              <Th>Warm-up ends</Th>
              <Th><span className="sr-only">Actions</span></Th>
            </tr>
          }
          row={(s) => (
            <tr key={s.id}>
              <Td>
                <div className="font-medium text-slate-900">{s.name}</div>
                <div className="text-xs text-slate-500">{s.email}</div>
              </Td>
              <Td>
                <Badge tone={kStatusTone[s.status] ?? "neutral"}>{capitalize(s.status)}</Badge>
                {s.status_reason && <div className="mt-1 max-w-xs text-xs text-slate-500">{s.status_reason}</div>}
              </Td>
              <Td className="text-right tabular-nums">{s.daily_quota}</Td>
              <Td>
                <Health score={s.health_score} />
              </Td>
              <Td className="whitespace-nowrap">{formatDate(s.warmup_end_at)}</Td>
              <Td className="text-right">
                <div className="flex min-w-56 flex-wrap justify-end gap-2">
                  {can_edit && (
                    <Button size="sm" busy={test.testing === s.id} disabled={test.testing !== undefined}
                      onClick={() => test.run(s)} aria-label={`Test connection of ${s.name}`}>
                      Test connection
                    </Button>
                  )}
                  {can_edit && (
                    <Button size="sm" onClick={() => setMailing(s)} aria-label={`Send a test email from ${s.name}`}>
                      Send test email
                    </Button>
                  )}
                  {can_edit && (pauseAction(s.status) === "pause" ? (
                    <Button size="sm" onClick={() => setPausing(s)} aria-label={`Pause ${s.name}`}>
                      Pause
                    </Button>
                  ) : (
                    <Button size="sm" busy={resume.resuming === s.id} disabled={resume.resuming !== undefined}
                      onClick={() => resume.run(s)} aria-label={`Resume ${s.name}`}>
                      Resume
                    </Button>
                  ))}
                  <Button size="sm" variant="ghost" onClick={() => setWarming(s)} aria-label={`Warm-up of ${s.name}`}>
                    Warm-up
                  </Button>
                  {can_edit && (
                    <>
                      <Button size="sm" onClick={() => setEditing({ sender: s })} aria-label={`Edit ${s.name}`}>
                        Edit
                      </Button>
                      <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>
                        Delete
                      </Button>
                    </>
                  )}
                </div>
              </Td>
            </tr>
          )}
        />
      </Card>

      <SenderFormDialog
        workspace_id={workspace.id}
        sender={editing?.sender}
        open={editing !== null}
        onClose={() => setEditing(null)}
      />
      <DeleteSenderDialog workspace_id={workspace.id} sender={deleting} onClose={() => setDeleting(null)} />
      <SenderWarmupDialog workspace_id={workspace.id} sender={warming} can_edit={can_edit} onClose={() => setWarming(null)} />
      <ImportSendersDialog workspace_id={workspace.id} open={importing} onClose={() => setImporting(false)} />
      <TestEmailDialog workspace_id={workspace.id} sender={mailing} onClose={() => setMailing(null)} />
      <PauseSenderDialog workspace_id={workspace.id} sender={pausing} onClose={() => setPausing(null)} />
    </>
  );
}

/** A 0–100 health score as a meter with its number; "Not measured" before the first measure. */
export function Health({ score }: { score: number | null }) {
  if (score === null || score === undefined) return <span className="text-xs text-slate-500">Not measured</span>;
  const clamped = Math.max(0, Math.min(100, Math.round(score)));
  const color = clamped >= 80 ? "bg-green-500" : clamped >= 50 ? "bg-amber-500" : "bg-red-500";
  return (
    <div className="flex items-center gap-2">
      <div role="meter" aria-label="Health score" aria-valuemin={0} aria-valuemax={100} aria-valuenow={clamped}
        className="h-2 w-20 overflow-hidden rounded-full bg-slate-200">
        <div className={`h-full ${color}`} style={{ width: `${clamped}%` }} />
      </div>
      <span className="tabular-nums text-xs text-slate-700">{clamped}</span>
    </div>
  );
}

function DeleteSenderDialog({ workspace_id, sender, onClose }: { workspace_id: number; sender: Sender | null; onClose: () => void }) {
  const api = useApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (s: Sender) => api.deleteSender(workspace_id, s.id),
    onSuccess: (_, s) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      toast.success(`Deleted ${s.name}.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={sender !== null}
      title="Delete sender?"
      message={sender && <>Kiln will stop sending from <strong>{sender.email}</strong> and forget its credentials. This cannot be undone.</>}
      confirm_label="Delete sender"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => sender && remove.mutate(sender)}
      onClose={close}
    />
  );
}
