// Warm-up inboxes ("bots"): the mailboxes that receive warm-up mail, with status and its reasons,
// aging, daily limits, reply rate, domain and provider, and health. Add one, import a CSV file,
// provision a new mailbox (admins), verify, pause/resume, see reputation, delete.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { roleAtLeast } from "../../api/types";
import { kBotProviders, warmupKeys, type Bot } from "../../api/warmup";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDate, formatDateTime } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { Badge, Card, EmptyState, ErrorState, PageHeader, Table, Td, Th } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { Health, kStatusTone } from "../senders/SendersPage";
import { AddBotDialog, BotReputationDialog, ImportBotsDialog, ProvisionBotDialog } from "./BotDialogs";
import { agingToday, domainOf } from "./botForm";
import { useWarmupApi } from "./useWarmupApi";

export function WarmupPage() {
  const workspace = useWorkspace();
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const can_edit = roleAtLeast(workspace.role, "member");
  const is_admin = roleAtLeast(workspace.role, "admin");
  const bots = useQuery({ queryKey: warmupKeys.bots(workspace.id), queryFn: () => warmup.bots(workspace.id) });
  const [dialog, setDialog] = useState<"add" | "import" | "provision" | null>(null);
  const [reputation, setReputation] = useState<Bot | null>(null);
  const [deleting, setDeleting] = useState<Bot | null>(null);

  const refresh = () => void query_client.invalidateQueries({ queryKey: warmupKeys.bots(workspace.id) });
  const verify = useMutation({
    mutationFn: ({ bot, resume }: { bot: Bot; resume: boolean }) =>
      resume ? warmup.resumeBot(workspace.id, bot.id) : warmup.verifyBot(workspace.id, bot.id),
    onSuccess: (v) => {
      refresh();
      if (v.bot.status === "active") toast.success(`${v.bot.email} logs in over SMTP and IMAP.`);
      else toast.error(`${v.bot.email}: ${v.bot.status_reason ?? capitalize(v.bot.status)}`);
    },
    onError: (e) => toast.error(describeError(e)),
  });
  const pause = useMutation({
    mutationFn: (bot: Bot) => warmup.pauseBot(workspace.id, bot.id),
    onSuccess: (bot) => {
      refresh();
      toast.success(`Paused ${bot.email}.`);
    },
    onError: (e) => toast.error(describeError(e)),
  });
  const busy = (bot: Bot) => (verify.isPending && verify.variables?.bot.id === bot.id) || (pause.isPending && pause.variables?.id === bot.id);

  const provider_label = (p: string) => kBotProviders.find((x) => x.value === p)?.label ?? p;
  const now = Date.now();

  return (
    <>
      <PageHeader
        title="Warm-up"
        description="Warm-up inboxes receive mail from your senders, move it out of spam and answer some of it, so mailbox providers learn to trust your senders."
        actions={can_edit && (
          <>
            <Button variant="primary" onClick={() => setDialog("add")}>Add inbox</Button>
            <Button onClick={() => setDialog("import")}>Import CSV</Button>
            {is_admin && <Button onClick={() => setDialog("provision")}>Provision</Button>}
          </>
        )}
      />
      <Card title="Warm-up inboxes">
        {bots.isPending ? (
          <Loading label="Loading warm-up inboxes…" />
        ) : bots.isError ? (
          <ErrorState error={bots.error} onRetry={() => void bots.refetch()} />
        ) : bots.data.items.length === 0 ? (
          <EmptyState title="No warm-up inboxes yet" action={can_edit && (
            <Button variant="primary" onClick={() => setDialog("add")}>Add your first inbox</Button>
          )}>
            Add mailboxes on several providers; the more diverse, the better the warm-up.
          </EmptyState>
        ) : (
          <Table caption="Warm-up inboxes" head={
            <tr>
              <Th>Inbox</Th>
              <Th>Status</Th>
              <Th>Aging</Th>
              <Th className="text-right">Limits a day</Th>
              <Th className="text-right">Reply rate</Th>
              <Th>Health</Th>
              <Th><span className="sr-only">Actions</span></Th>
            </tr>
          }>
            {bots.data.items.map((b) => {
              const aging = agingToday(b, now);
              return (
                <tr key={b.id}>
                  <Td>
                    <div className="font-medium text-slate-900">{b.email}</div>
                    <div className="text-xs text-slate-500">
                      {domainOf(b.email)} · {provider_label(b.provider)}{b.provisioned_by ? " · provisioned" : ""}
                    </div>
                  </Td>
                  <Td>
                    <Badge tone={kStatusTone[b.status] ?? "neutral"}>{capitalize(b.status)}</Badge>
                    {b.status_reason && <div className="mt-1 max-w-xs text-xs text-slate-500">{b.status_reason}</div>}
                    {b.last_checked_at && <div className="text-xs whitespace-nowrap text-slate-400">Checked {formatDateTime(b.last_checked_at)}</div>}
                  </Td>
                  <Td className="whitespace-nowrap">
                    <div role="progressbar" aria-label={`Aging of ${b.email}`} aria-valuemin={0} aria-valuemax={100}
                      aria-valuenow={Math.round(aging.progress * 100)} className="h-1.5 w-24 overflow-hidden rounded-full bg-slate-200">
                      <div className="h-full bg-brand-500" style={{ width: `${Math.round(aging.progress * 100)}%` }} />
                    </div>
                    <div className="mt-1 text-xs text-slate-600">{aging.volume}/day now · ends {formatDate(b.aging_end_at)}</div>
                  </Td>
                  <Td className="text-right text-xs whitespace-nowrap tabular-nums">
                    sends {b.daily_send_limit}<br />receives {b.daily_receive_limit}
                  </Td>
                  <Td className="text-right tabular-nums">{b.reply_rate_percent}%</Td>
                  <Td><Health score={b.health_score} /></Td>
                  <Td className="text-right">
                    <div className="flex flex-wrap justify-end gap-1">
                      <Button size="sm" variant="ghost" onClick={() => setReputation(b)} aria-label={`Reputation of ${b.email}`}>Reputation</Button>
                      {can_edit && b.status !== "paused" && (
                        <>
                          <Button size="sm" busy={busy(b)} disabled={busy(b)} onClick={() => verify.mutate({ bot: b, resume: false })}
                            aria-label={`Verify ${b.email}`}>Verify</Button>
                          <Button size="sm" variant="ghost" disabled={busy(b)} onClick={() => pause.mutate(b)} aria-label={`Pause ${b.email}`}>Pause</Button>
                        </>
                      )}
                      {can_edit && b.status === "paused" && (
                        <Button size="sm" busy={busy(b)} disabled={busy(b)} onClick={() => verify.mutate({ bot: b, resume: true })}
                          aria-label={`Resume ${b.email}`}>Resume</Button>
                      )}
                      {can_edit && (
                        <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setDeleting(b)} aria-label={`Delete ${b.email}`}>Delete</Button>
                      )}
                    </div>
                  </Td>
                </tr>
              );
            })}
          </Table>
        )}
      </Card>

      <AddBotDialog workspace_id={workspace.id} open={dialog === "add"} onClose={() => setDialog(null)} />
      <ImportBotsDialog workspace_id={workspace.id} open={dialog === "import"} onClose={() => setDialog(null)} />
      {is_admin && <ProvisionBotDialog workspace_id={workspace.id} open={dialog === "provision"} onClose={() => setDialog(null)} />}
      <BotReputationDialog workspace_id={workspace.id} bot={reputation} onClose={() => setReputation(null)} />
      <DeleteBotDialog workspace_id={workspace.id} bot={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function DeleteBotDialog({ workspace_id, bot, onClose }: { workspace_id: number; bot: Bot | null; onClose: () => void }) {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (b: Bot) => warmup.deleteBot(workspace_id, b.id),
    onSuccess: (_, b) => {
      void query_client.invalidateQueries({ queryKey: warmupKeys.bots(workspace_id) });
      toast.success(`Deleted ${b.email}.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog open={bot !== null} title="Delete warm-up inbox?"
      message={bot && <>Kiln will stop using <strong>{bot.email}</strong> for warm-up and forget its credentials.</>}
      confirm_label="Delete inbox" busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => bot && remove.mutate(bot)} onClose={close} />
  );
}
