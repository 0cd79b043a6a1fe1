// Leads: the workspace's leads, newest first, searchable and filtered by status and list (the
// filters live in the address, so a list's "open leads" link and the export share them), paged
// with next_before; change a lead's status in the row, open a lead to edit it (LeadPage), add a
// lead, delete one, export as CSV.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { kApiBase } from "../../api/client";
import { useApi } from "../../api/context";
import {
  createLead,
  deleteLead,
  kLeadStatuses,
  leadKeys,
  leadStatusLabel,
  leadsExportUrl,
  listLeads,
  listLists,
  updateLead,
  type Lead,
  type LeadFilters,
  type LeadStatus,
} from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formatDate } from "../../lib/format";
import { useKeyset } from "../../lib/keyset";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button, buttonClass } from "../../ui/Button";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, PageHeader, Td, Th } from "../../ui/Layout";
import { Pager, QueryTable } from "../../ui/QueryTable";
import { useToast } from "../../ui/Toast";
import { filtersFromParams, paramsFromFilters } from "./leadFilters";

const kPageSize = 50;

export function LeadsPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  // Pages seen so far, for Previous/Next; back to the first when a filter changes.
  const pages = useKeyset<number>();
  const before = pages.before;
  const reset_pages = pages.reset;
  const [search, setSearch] = useState(filters.q ?? "");
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Lead | null>(null);

  const filter_key = `${filters.q ?? ""}|${filters.status ?? ""}|${filters.list_id ?? ""}`;
  useEffect(() => reset_pages(), [filter_key, reset_pages]);

  // The search box applies itself after a short pause in typing.
  useEffect(() => {
    const current = filtersFromParams(params);
    if (search === (current.q ?? "")) return;
    const timer = window.setTimeout(() => setParams(paramsFromFilters({ ...current, q: search }), { replace: true }), 300);
    return () => window.clearTimeout(timer);
    // Re-armed when the text or the filters change, not on every render.
  }, [search, filter_key]);

  const leads = useQuery({
    queryKey: leadKeys.page(workspace.id, filters, before),
    queryFn: () => listLeads(api.client, workspace.id, { ...filters, limit: kPageSize, before }),
    placeholderData: keepPreviousData,
  });
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id) });

  function setFilter(change: Partial<LeadFilters>) {
    setParams(paramsFromFilters({ ...filters, ...change }), { replace: true });
  }

  const filtered = Boolean(filters.q || filters.status || filters.list_id);

  return (
    <>
      <PageHeader
        title="Leads"
        description="The people your campaigns write to."
        actions={
          <>
            <a href={leadsExportUrl(kApiBase, workspace.id, filters)} className={buttonClass("secondary")} download>
              Export CSV
            </a>
            {can_edit && (
              <Link to={`/w/${workspace.id}/leads/import`} className={buttonClass("secondary")}>
                Import CSV
              </Link>
            )}
            {can_edit && (
              <Button variant="primary" onClick={() => setAdding(true)}>
                Add lead
              </Button>
            )}
          </>
        }
      />
      <div className="mb-4 grid gap-3 sm:grid-cols-3" role="search" aria-label="Filter leads">
        <TextField label="Search" type="search" placeholder="Name, email or company" value={search} onChange={(e) => setSearch(e.target.value)} />
        <SelectField
          label="Status"
          value={filters.status ?? ""}
          onChange={(e) => setFilter({ status: e.target.value || undefined })}
          options={[{ value: "", label: "All statuses" }, ...kLeadStatuses.map((s) => ({ value: s, label: leadStatusLabel(s) }))]}
        />
        <SelectField
          label="List"
          value={filters.list_id === undefined ? "" : String(filters.list_id)}
          onChange={(e) => setFilter({ list_id: e.target.value ? Number(e.target.value) : undefined })}
          options={[
            { value: "", label: "All lists" },
            ...(lists.data?.items ?? []).map((l) => ({ value: String(l.id), label: l.name })),
            ...(filters.list_id !== undefined && !lists.data?.items.some((l) => l.id === filters.list_id)
              ? [{ value: String(filters.list_id), label: `List ${filters.list_id}` }]
              : []),
          ]}
        />
      </div>
      <Card>
        <QueryTable
          query={leads}
          items={(d) => d.items}
          loadingLabel="Loading leads…"
          empty={
            <EmptyState
              title={filtered ? "No leads match" : "No leads yet"}
              action={
                can_edit &&
                !filtered && (
                  <Link to={`/w/${workspace.id}/leads/import`} className={buttonClass("primary")}>
                    Import leads from CSV
                  </Link>
                )
              }
            >
              {filtered ? "Change the search or the filters." : "Import a CSV file or add leads one by one."}
            </EmptyState>
          }
          caption="Leads"
          head={
            <tr>
              <Th>Lead</Th>
              <Th>Company</Th>
              <Th>Status</Th>
              <Th>Added</Th>
              {can_edit && <Th><span className="sr-only">Actions</span></Th>}
            </tr>
          }
          row={(lead) => <LeadRow key={lead.id} lead={lead} can_edit={can_edit} onDelete={() => setDeleting(lead)} />}
          footer={(d) => (
            <Pager
              label="Pages of leads"
              newerLabel="Previous"
              olderLabel="Next"
              hasNewer={pages.hasNewer}
              hasOlder={d.next_before !== null && !leads.isPlaceholderData}
              onNewer={pages.newer}
              onOlder={() => pages.older(d.next_before)}
              status={`Page ${pages.page}`}
            />
          )}
        />
      </Card>
      <AddLeadDialog open={adding} onClose={() => setAdding(false)} default_list={filters.list_id} />
      <DeleteLeadDialog lead={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function LeadRow({ lead, can_edit, onDelete }: { lead: Lead; can_edit: boolean; onDelete: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const set_status = useMutation({
    mutationFn: (status: LeadStatus) => updateLead(api.client, workspace.id, lead.id, { status }),
    onSuccess: (l) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
      toast.success(`${l.email} is now ${leadStatusLabel(l.status).toLowerCase()}.`);
    },
    onError: (e) => toast.error(`Could not change ${lead.email}: ${describeError(e)}`),
  });
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
  return (
    <tr>
      <Td>
        <Link to={`/w/${workspace.id}/leads/${lead.id}`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">
          {name || lead.email}
        </Link>
        {name && <div className="text-xs text-slate-500">{lead.email}</div>}
        {lead.suppressed && (
          <div className="mt-1">
            <Badge tone="red">Suppressed</Badge>
          </div>
        )}
      </Td>
      <Td>
        <div>{lead.company || "—"}</div>
        {lead.title && <div className="text-xs text-slate-500">{lead.title}</div>}
      </Td>
      <Td>
        {can_edit ? (
          <select
            aria-label={`Status of ${lead.email}`}
            value={set_status.isPending && set_status.variables ? set_status.variables : lead.status}
            disabled={set_status.isPending}
            onChange={(e) => set_status.mutate(e.target.value as LeadStatus)}
            className="rounded-md border-0 bg-white py-1 pl-2 pr-7 text-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none"
          >
            {kLeadStatuses.map((s) => (
              <option key={s} value={s}>
                {leadStatusLabel(s)}
              </option>
            ))}
          </select>
        ) : (
          leadStatusLabel(lead.status)
        )}
      </Td>
      <Td className="whitespace-nowrap">{formatDate(lead.created_at)}</Td>
      {can_edit && (
        <Td className="text-right">
          <Button size="sm" variant="ghost" className="text-red-700" onClick={onDelete} aria-label={`Delete ${lead.email}`}>
            Delete
          </Button>
        </Td>
      )}
    </tr>
  );
}

const kLeadFields = ["email", "first_name", "last_name", "company", "title", "timezone", "phone", "website", "list_ids"] as const;
type LeadField = Exclude<(typeof kLeadFields)[number], "list_ids">;

const kEmptyLead: Record<LeadField, string> = {
  email: "",
  first_name: "",
  last_name: "",
  company: "",
  title: "",
  timezone: "",
  phone: "",
  website: "",
};

function AddLeadDialog({ open, onClose, default_list }: { open: boolean; onClose: () => void; default_list: number | undefined }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id), enabled: open });
  const [values, setValues] = useState(kEmptyLead);
  const [list_ids, setListIds] = useState<number[]>([]);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  useEffect(() => {
    if (open) setListIds(default_list === undefined ? [] : [default_list]);
  }, [open, default_list]);

  const create = useMutation({
    mutationFn: () => {
      const input: Record<string, unknown> = { email: values.email.trim() };
      for (const k of Object.keys(values) as LeadField[]) if (k !== "email" && values[k].trim() !== "") input[k] = values[k].trim();
      if (list_ids.length > 0) input.list_ids = list_ids;
      return createLead(api.client, workspace.id, input as { email: string });
    },
    onSuccess: (lead) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
      toast.success(`Added ${lead.email}.`);
      close();
    },
    onError: (e) => setErrors(formErrorsFrom(e, kLeadFields)),
  });
  function close() {
    setValues(kEmptyLead);
    setErrors(kNoErrors);
    create.reset();
    onClose();
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    if (values.email.trim() === "") {
      setErrors({ fields: { email: "Enter the lead's email address." } });
      return;
    }
    setErrors(kNoErrors);
    create.mutate();
  }
  const field = (k: LeadField, label: string, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
    <TextField label={label} value={values[k]} onChange={(e) => setValues((v) => ({ ...v, [k]: e.target.value }))} error={errors.fields[k]} {...extra} />
  );
  return (
    <Dialog open={open} title="Add a lead" onClose={close} wide>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <FormError message={errors.form} />
        {field("email", "Email address", { type: "email", autoComplete: "off", autoFocus: true })}
        <div className="grid gap-3 sm:grid-cols-2">
          {field("first_name", "First name")}
          {field("last_name", "Last name")}
          {field("company", "Company")}
          {field("title", "Job title")}
          {field("phone", "Phone")}
          {field("website", "Website")}
          {field("timezone", "Time zone", { hint: "IANA name, e.g. America/New_York" })}
        </div>
        {(lists.data?.items.length ?? 0) > 0 && (
          <fieldset>
            <legend className="mb-2 text-sm font-medium text-slate-700">Add to lists</legend>
            <div className="flex flex-wrap gap-4">
              {lists.data?.items.map((l) => (
                <CheckboxField
                  key={l.id}
                  label={l.name}
                  checked={list_ids.includes(l.id)}
                  onChange={(e) => setListIds((ids) => (e.target.checked ? [...ids, l.id] : ids.filter((x) => x !== l.id)))}
                />
              ))}
            </div>
            {errors.fields.list_ids && <p className="mt-1 text-sm text-red-700">{errors.fields.list_ids}</p>}
          </fieldset>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Add lead
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteLeadDialog({ lead, onClose }: { lead: Lead | null; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (l: Lead) => deleteLead(api.client, workspace.id, l.id),
    onSuccess: (_, l) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
      toast.success(`Deleted ${l.email}.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={lead !== null}
      title="Delete lead?"
      message={lead && <>Kiln forgets <strong>{lead.email}</strong> and takes it out of its lists. This cannot be undone.</>}
      confirm_label="Delete lead"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => lead && remove.mutate(lead)}
      onClose={close}
    />
  );
}
