// Campaigns: every campaign of the workspace with its status, why it is paused, its audience,
// enrolment and sends and a progress bar; filter by status; pause, resume, complete and archive
// from the row; "New campaign" names a draft and opens the wizard on it.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import {
  archiveCampaign,
  campaignKeys,
  completeCampaign,
  createCampaign,
  kCampaignStatuses,
  listCampaigns,
  pauseCampaign,
  resumeCampaign,
  type CampaignStatus,
  type CampaignSummary,
} from "../../api/campaigns";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDate } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, PageHeader, Td, Th, type Tone } from "../../ui/Layout";
import { QueryTable } from "../../ui/QueryTable";
import { Menu } from "../../ui/Menu";
import { useToast } from "../../ui/Toast";
import { campaignActions, progressOf } from "./campaignForm";

export const kCampaignTone: Record<CampaignStatus, Tone> = {
  draft: "neutral",
  running: "green",
  paused: "amber",
  completed: "blue",
  archived: "neutral",
};

export type CampaignAction = "pause" | "resume" | "complete" | "archive";

const kActionLabel: Record<CampaignAction, string> = {
  pause: "Pause",
  resume: "Resume",
  complete: "Mark completed",
  archive: "Archive",
};

/** Runs a status change and refreshes every campaign query; toasts the outcome. */
export function useCampaignAction(ws: number) {
  const api = useApi();
  const query_client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; name: string; action: CampaignAction }) => {
      switch (action) {
        case "pause":
          return pauseCampaign(api.client, ws, id);
        case "resume":
          return resumeCampaign(api.client, ws, id);
        case "complete":
          return completeCampaign(api.client, ws, id);
        case "archive":
          return archiveCampaign(api.client, ws, id);
      }
    },
    onSuccess: (c, { name }) => {
      void query_client.invalidateQueries({ queryKey: campaignKeys.all(ws) });
      toast.success(`${name} is ${c.status} now.`);
    },
    onError: (e, { name, action }) => {
      // A resume is checked like a launch: name every problem.
      const problems = isApiError(e) ? e.problems : [];
      const detail = problems.length > 0 ? ` ${problems.map((p) => p.message).join("; ")}` : "";
      toast.error(`Could not ${action} ${name}: ${describeError(e)}.${detail}`);
    },
  });
}

export function CampaignsPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const [params, setParams] = useSearchParams();
  const status_param = params.get("status") ?? "";
  const status = (kCampaignStatuses as readonly string[]).includes(status_param) ? (status_param as CampaignStatus) : undefined;
  const campaigns = useQuery({
    queryKey: campaignKeys.list(workspace.id, status ?? "all"),
    queryFn: () => listCampaigns(api.client, workspace.id, status),
    // Counts of running campaigns move: refresh them while the list is open.
    refetchInterval: (q) => (q.state.data?.items.some((c) => c.status === "running") ? 10_000 : false),
  });
  const action = useCampaignAction(workspace.id);
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Sequences of emails sent to your lead lists from your senders, on a schedule."
        actions={can_edit && (
          <Button variant="primary" onClick={() => setCreating(true)}>
            New campaign
          </Button>
        )}
      />
      <div className="mb-4 max-w-xs">
        <SelectField
          label="Status"
          value={status ?? ""}
          onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })}
          options={[{ value: "", label: "All statuses" }, ...kCampaignStatuses.map((s) => ({ value: s, label: capitalize(s) }))]}
        />
      </div>
      <Card>
        <QueryTable
          query={campaigns}
          items={(d) => d.items}
          loadingLabel="Loading campaigns…"
          empty={
            <EmptyState
              title={status ? `No ${status} campaigns` : "No campaigns yet"}
              action={can_edit && !status && (
                <Button variant="primary" onClick={() => setCreating(true)}>Create your first campaign</Button>
              )}
            >
              {status ? "Pick another status to see more." : "A campaign sends a sequence of emails to the leads of your lists."}
            </EmptyState>
          }
          caption="Campaigns"
          head={
            <tr>
              <Th>Campaign</Th>
              <Th>Status</Th>
              <Th className="text-right">Audience</Th>
              <Th className="text-right">Enrolled</Th>
              <Th className="text-right">Sent</Th>
              <Th>Progress</Th>
              {can_edit && <Th><span className="sr-only">Actions</span></Th>}
            </tr>
          }
          row={(c) => (
            <CampaignRow
              key={c.id}
              campaign={c}
              can_edit={can_edit}
              busy={action.isPending && action.variables?.id === c.id}
              onAction={(a) => action.mutate({ id: c.id, name: c.name, action: a })}
            />
          )}
        />
      </Card>
      <NewCampaignDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

function CampaignRow({ campaign: c, can_edit, busy, onAction }: {
  campaign: CampaignSummary;
  can_edit: boolean;
  busy: boolean;
  onAction: (a: CampaignAction) => void;
}) {
  const workspace = useWorkspace();
  const actions = campaignActions(c.status);
  return (
    <tr>
      <Td>
        <Link to={`/w/${workspace.id}/campaigns/${c.id}`} className="font-medium text-brand-700 hover:underline">
          {c.name}
        </Link>
        <div className="text-xs text-slate-500">
          {c.started_at ? `Started ${formatDate(c.started_at)}` : `Created ${formatDate(c.created_at)}`}
        </div>
      </Td>
      <Td>
        <Badge tone={kCampaignTone[c.status] ?? "neutral"}>{capitalize(c.status)}</Badge>
        {c.paused_reason && <div className="mt-1 max-w-xs text-xs text-amber-800">{c.paused_reason}</div>}
      </Td>
      <Td className="text-right tabular-nums">{c.counts.audience}</Td>
      <Td className="text-right tabular-nums">{c.counts.enrolled}</Td>
      <Td className="text-right tabular-nums">{c.counts.sent}</Td>
      <Td>
        <ProgressBar label={`${c.name}: leads done`} value={c.counts.enrolled - c.counts.in_progress} max={c.counts.enrolled} fraction={progressOf(c.counts)} />
      </Td>
      {can_edit && (
        <Td className="text-right">
          {actions.length > 0 && (
            <Menu
              label={`Actions for ${c.name}`}
              buttonClassName="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 disabled:opacity-50"
              button={<span aria-hidden="true">{busy ? "…" : "Actions ▾"}</span>}
              items={actions.map((a) => ({ key: a, label: kActionLabel[a], danger: a === "archive", onSelect: () => onAction(a) }))}
            />
          )}
        </Td>
      )}
    </tr>
  );
}

/** A labelled progress bar with its percentage. */
export function ProgressBar({ label, value, max, fraction }: { label: string; value: number; max: number; fraction: number }) {
  const pct = Math.round(fraction * 100);
  return (
    <div className="flex min-w-32 items-center gap-2">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={value}
        className="h-2 w-24 overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full bg-brand-600" style={{ width: `${pct}%` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-600">{pct}%</span>
    </div>
  );
}

function NewCampaignDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const query_client = useQueryClient();
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const create = useMutation({
    mutationFn: () => createCampaign(api.client, workspace.id, { name: name.trim() }),
    onSuccess: (c) => {
      void query_client.invalidateQueries({ queryKey: campaignKeys.all(workspace.id) });
      close();
      navigate(`/w/${workspace.id}/campaigns/${c.id}/edit`);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name"])),
  });
  function close() {
    setName("");
    setErrors(kNoErrors);
    create.reset();
    onClose();
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setErrors({ fields: { name: "Give the campaign a name." } });
      return;
    }
    create.mutate();
  }
  return (
    <Dialog open={open} title="New campaign" description="Name it; the wizard then walks you through audience, content, schedule and senders." onClose={close}>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <FormError message={errors.form} />
        <TextField label="Campaign name" value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} autoFocus maxLength={200} />
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create draft
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
