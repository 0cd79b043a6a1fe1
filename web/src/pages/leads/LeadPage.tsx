// One lead (/w/:ws/leads/:id): all its fields, custom fields, status, lists, its activity across
// campaigns (LeadActivity.tsx) and its recent conversations. Members edit the standard and custom
// fields (add, rename, remove) and the status with one PATCH of what changed; an error the API
// names appears under that control. Lists membership changes at once, one list at a time. Viewers
// see the same page read-only.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useBlocker, useParams } from "react-router";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import type { Conversation } from "../../api/inbox";
import { getLead, leadDetailKeys, removeFromList, type LeadWithLists } from "../../api/leadDetail";
import { addToList, kLeadStatuses, leadKeys, leadStatusLabel, listLists, updateLead, type LeadList, type LeadStatus } from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formatDateTime } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Button, buttonClass } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, PageHeader } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { useInboxApi } from "../inbox/useInboxApi";
import { LeadActivityCard } from "./LeadActivity";
import {
  customFieldId,
  editFormFromLead,
  editProblems,
  errorTarget,
  kMaxCustomFields,
  newCustomRow,
  patchFromForm,
  type CustomFieldRow,
  type LeadEditForm,
  type StandardField,
} from "./leadEdit";

export function LeadPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const id = Number(useParams().id);
  const valid = Number.isInteger(id) && id > 0;
  const lead = useQuery({
    queryKey: leadDetailKeys.lead(workspace.id, id),
    queryFn: () => getLead(api.client, workspace.id, id),
    enabled: valid,
  });
  const back = (
    <Link to={`/w/${workspace.id}/leads`} className={buttonClass("secondary")}>
      Back to leads
    </Link>
  );
  if (!valid || (isApiError(lead.error) && lead.error.status === 404)) {
    return (
      <>
        <PageHeader title="Lead not found" actions={back} />
        <Card>
          <EmptyState title="There is no such lead in this workspace">It may have been deleted.</EmptyState>
        </Card>
      </>
    );
  }
  if (lead.isPending) return <Loading label="Loading the lead…" />;
  if (lead.isError) return <ErrorState error={lead.error} onRetry={() => void lead.refetch()} />;
  const l = lead.data;
  const name = [l.first_name, l.last_name].filter(Boolean).join(" ");
  const can_edit = roleAtLeast(workspace.role, "member");
  return (
    <>
      <PageHeader title={name || l.email} description={name ? l.email : undefined} actions={back} />
      <div className="mb-4 flex flex-wrap items-center gap-2 text-sm text-slate-600">
        <Badge tone="blue">{leadStatusLabel(l.status)}</Badge>
        {l.suppressed && <Badge tone="red">Suppressed: never mailed</Badge>}
        <span>Added {formatDateTime(l.created_at)}</span>
        <span aria-hidden="true">·</span>
        <span>Changed {formatDateTime(l.updated_at)}</span>
      </div>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <LeadForm key={l.updated_at} lead={l} can_edit={can_edit} />
          <LeadActivityCard lead_id={l.id} />
        </div>
        <div className="space-y-6">
          <ListsCard lead={l} can_edit={can_edit} />
          <ConversationsCard lead={l} />
        </div>
      </div>
    </>
  );
}

const kFieldLabels: Record<StandardField, string> = {
  email: "Email address",
  first_name: "First name",
  last_name: "Last name",
  company: "Company",
  title: "Job title",
  phone: "Phone",
  website: "Website",
  timezone: "Time zone",
};

const kAddFieldId = "add-custom-field";

function focusRowName(key: string) {
  document.querySelector<HTMLInputElement>(`input[data-custom-row="${key}"]`)?.focus();
}

function LeadForm({ lead, can_edit }: { lead: LeadWithLists; can_edit: boolean }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState<LeadEditForm>(() => editFormFromLead(lead));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [form_error, setFormError] = useState<string | undefined>();

  const save = useMutation({
    mutationFn: () => updateLead(api.client, workspace.id, lead.id, patchFromForm(lead, form)),
    onSuccess: (saved) => {
      query_client.setQueryData(leadDetailKeys.lead(workspace.id, lead.id), { ...saved, list_ids: saved.list_ids ?? lead.list_ids });
      void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
      toast.success(`Saved ${saved.email}.`);
    },
    onError: (e) => {
      if (isApiError(e) && e.field !== undefined) {
        const target = errorTarget(e.field, e.message, form);
        const message = e.message.length > 0 ? e.message[0].toUpperCase() + e.message.slice(1) : e.message;
        if (target !== undefined) {
          setErrors({ [target]: message });
          setFormError("Not saved: see the field marked below.");
          return;
        }
        setErrors({});
        setFormError(`Not saved: ${e.field}: ${e.message}`);
        return;
      }
      setErrors({});
      setFormError(`Not saved: ${describeError(e)}`);
    },
  });

  const changed = Object.keys(patchFromForm(lead, form)).length > 0;
  // Leaving with unsaved changes asks first (another page of the app, a reload, closing the tab).
  const blocker = useBlocker(({ currentLocation, nextLocation }) => changed && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!changed) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [changed]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const local = editProblems(form);
    if (Object.keys(local).length > 0) {
      setErrors(local);
      setFormError("Some fields need a fix before saving.");
      return;
    }
    setErrors({});
    setFormError(undefined);
    if (!changed) return;
    save.mutate();
  }
  function reset() {
    setForm(editFormFromLead(lead));
    setErrors({});
    setFormError(undefined);
  }
  /** An edited control's error is taken away: it described the value that was there. */
  function clearError(id: string) {
    setErrors((e) => {
      if (!(id in e)) return e;
      const { [id]: _, ...rest } = e;
      return rest;
    });
  }
  function setValue(f: StandardField, v: string) {
    setForm((x) => ({ ...x, values: { ...x.values, [f]: v } }));
    clearError(f);
  }
  function updateRow(row: CustomFieldRow, change: Partial<CustomFieldRow>) {
    setForm((x) => ({ ...x, custom: x.custom.map((r) => (r.key === row.key ? { ...r, ...change } : r)) }));
    clearError(customFieldId(row, "name" in change ? "name" : "value"));
  }
  function addRow() {
    const row = newCustomRow();
    setForm((x) => ({ ...x, custom: [...x.custom, row] }));
    requestAnimationFrame(() => focusRowName(row.key));
  }
  function removeRow(index: number) {
    const rows = form.custom;
    const next = rows[index + 1] ?? rows[index - 1];
    setForm((x) => ({ ...x, custom: x.custom.filter((_, i) => i !== index) }));
    // Focus goes to the neighbouring row's name, or to "Add custom field" when none is left.
    requestAnimationFrame(() => (next ? focusRowName(next.key) : document.getElementById(kAddFieldId)?.focus()));
  }

  const field = (f: StandardField, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
    <TextField label={kFieldLabels[f]} value={form.values[f]} error={errors[f]} onChange={(e) => setValue(f, e.target.value)} {...extra} />
  );

  return (
    <Card title="Details">
      <form onSubmit={submit} noValidate aria-label="Lead details" className="space-y-6 p-4">
        <FormError message={form_error} />
        <fieldset disabled={!can_edit} className="space-y-6">
          <legend className="sr-only">Lead fields</legend>
          <div className="grid gap-4 sm:grid-cols-2">
            {field("email", { type: "email", autoComplete: "off", wrapperClassName: "sm:col-span-2" })}
            {field("first_name")}
            {field("last_name")}
            {field("company")}
            {field("title")}
            {field("phone", { type: "tel" })}
            {field("website")}
            {field("timezone", { hint: "IANA name, e.g. America/New_York; empty: the campaign's time zone." })}
            <SelectField
              label="Status"
              value={form.status}
              error={errors.status}
              onChange={(e) => {
                setForm((x) => ({ ...x, status: e.target.value as LeadStatus }));
                clearError("status");
              }}
              options={kLeadStatuses.map((s) => ({ value: s, label: leadStatusLabel(s) }))}
            />
          </div>
          <fieldset aria-describedby="custom-fields-hint">
            <legend className="text-sm font-semibold text-slate-900">Custom fields</legend>
            <p id="custom-fields-hint" className="mb-3 text-xs text-slate-500">
              Templates use them as {"{{ custom.name }}"}. Names hold letters, digits, spaces, "_" and "-" (up to 64 characters).
            </p>
            {errors.custom_fields && <p className="mb-2 text-sm text-red-700">{errors.custom_fields}</p>}
            {form.custom.length === 0 ? (
              <p className="mb-3 text-sm text-slate-600">This lead has no custom fields.</p>
            ) : (
              <ul className="mb-3 space-y-3">
                {form.custom.map((row, i) => {
                  const shown = row.name.trim() || `new field ${i + 1}`;
                  return (
                    <li key={row.key} className="grid items-start gap-2 rounded-md p-3 ring-1 ring-slate-200 sm:grid-cols-[minmax(0,1fr)_minmax(0,2fr)_auto] sm:ring-0 sm:p-0">
                      <TextField
                        label={<><span className="sr-only">Custom field {i + 1}: </span>Name</>}
                        value={row.name}
                        maxLength={64}
                        error={errors[customFieldId(row, "name")]}
                        data-custom-row={row.key}
                        onChange={(e) => updateRow(row, { name: e.target.value })}
                      />
                      <TextField
                        label={<><span className="sr-only">Custom field {i + 1}: </span>Value</>}
                        value={row.value}
                        error={errors[customFieldId(row, "value")]}
                        onChange={(e) => updateRow(row, { value: e.target.value })}
                      />
                      {can_edit && (
                        <Button size="sm" variant="ghost" className="text-red-700 sm:mt-7" aria-label={`Remove custom field ${shown}`} onClick={() => removeRow(i)}>
                          Remove
                        </Button>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
            {can_edit && form.custom.length < kMaxCustomFields && (
              <Button id={kAddFieldId} size="sm" onClick={addRow}>
                Add custom field
              </Button>
            )}
          </fieldset>
        </fieldset>
        {can_edit && (
          <div className="flex flex-wrap justify-end gap-2">
            <Button disabled={!changed || save.isPending} onClick={reset}>
              Discard changes
            </Button>
            <Button type="submit" variant="primary" busy={save.isPending} disabled={!changed}>
              Save changes
            </Button>
          </div>
        )}
      </form>
      <Dialog open={blocker.state === "blocked"} title="Leave without saving?" description="This lead has changes that are not saved yet." onClose={() => blocker.reset?.()}>
        <div className="flex flex-wrap justify-end gap-2">
          <Button onClick={() => blocker.reset?.()}>Stay</Button>
          <Button variant="danger" onClick={() => blocker.proceed?.()}>
            Leave without saving
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}

function ListsCard({ lead, can_edit }: { lead: LeadWithLists; can_edit: boolean }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id) });
  const [error, setError] = useState<string | undefined>();
  const toggle = useMutation({
    mutationFn: ({ list, member }: { list: LeadList; member: boolean }) =>
      member ? addToList(api.client, workspace.id, list.id, [lead.id]).then(() => undefined) : removeFromList(api.client, workspace.id, list.id, lead.id),
    onMutate: () => setError(undefined),
    onSuccess: (_, { list, member }) => {
      const list_ids = member ? [...new Set([...lead.list_ids, list.id])] : lead.list_ids.filter((x) => x !== list.id);
      query_client.setQueryData(leadDetailKeys.lead(workspace.id, lead.id), { ...lead, list_ids });
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
      void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
      toast.success(member ? `Added to ${list.name}.` : `Taken out of ${list.name}.`);
    },
    onError: (e, { list }) => setError(`Could not change ${list.name}: ${describeError(e)}`),
  });
  return (
    <Card title="Lists">
      <div className="p-4">
        {lists.isPending ? (
          <Loading label="Loading lists…" />
        ) : lists.isError ? (
          <ErrorState error={lists.error} onRetry={() => void lists.refetch()} />
        ) : lists.data.items.length === 0 ? (
          <p className="text-sm text-slate-600">The workspace has no lists yet.</p>
        ) : (
          <fieldset disabled={!can_edit}>
            <legend className="sr-only">Lists this lead belongs to</legend>
            <ul className="space-y-2">
              {lists.data.items.map((list) => {
                const pending = toggle.isPending && toggle.variables.list.id === list.id;
                return (
                  <li key={list.id}>
                    <CheckboxField
                      label={list.name}
                      hint={pending ? "Saving…" : `${list.contact_count} leads`}
                      checked={pending ? toggle.variables.member : lead.list_ids.includes(list.id)}
                      disabled={toggle.isPending}
                      onChange={(e) => toggle.mutate({ list, member: e.target.checked })}
                    />
                  </li>
                );
              })}
            </ul>
          </fieldset>
        )}
        {error && (
          <p role="alert" className="mt-2 text-sm text-red-700">
            {error}
          </p>
        )}
      </div>
    </Card>
  );
}

/** The lead's conversations, newest first: the inbox searched by its address, kept to this lead. */
function ConversationsCard({ lead }: { lead: LeadWithLists }) {
  const inbox = useInboxApi();
  const workspace = useWorkspace();
  const conversations = useQuery({
    queryKey: ["ws", workspace.id, "conversations", "lead", lead.id, lead.email],
    queryFn: () => inbox.conversations(workspace.id, { q: lead.email }, { limit: 50 }),
  });
  const mine: Conversation[] = (conversations.data?.items ?? []).filter((c) => c.lead.id === lead.id).slice(0, 10);
  return (
    <Card title="Recent conversations">
      {conversations.isPending ? (
        <Loading label="Loading conversations…" />
      ) : conversations.isError ? (
        <ErrorState error={conversations.error} onRetry={() => void conversations.refetch()} />
      ) : mine.length === 0 ? (
        <EmptyState title="No conversations yet">Replies from this lead appear here and in the inbox.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100">
          {mine.map((c) => (
            <li key={c.id} className="px-4 py-3 text-sm">
              <Link to={`/w/${workspace.id}/inbox/${c.id}`} className="font-medium text-brand-700 hover:underline">
                {c.subject || "(no subject)"}
              </Link>
              <div className="text-xs text-slate-500">
                {leadStatusLabel(c.status)} · {c.campaign_name ?? "no campaign"} · {formatDateTime(c.last_message_at)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
