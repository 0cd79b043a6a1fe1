// The suppression list: addresses and whole @domains Kiln never mails. Search, add typed values,
// delete, import a CSV file (rows it could not use are listed with their number) and export.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import {
  inboxKeys,
  parseSuppressionValues,
  suppressionValue,
  type Suppression,
  type SuppressionImportAnswer,
} from "../../api/inbox";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDateTime } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { useKeyset } from "../../lib/keyset";
import { Button, buttonClass } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { FormError, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, Td, Th } from "../../ui/Layout";
import { Pager, QueryTable } from "../../ui/QueryTable";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { useInboxApi } from "../inbox/useInboxApi";

const kPageSize = 50;

export function SuppressionPage() {
  const workspace = useWorkspace();
  const inbox = useInboxApi();
  const can_edit = roleAtLeast(workspace.role, "member");
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const pages = useKeyset<number>();
  const before = pages.before;
  const reset_pages = pages.reset;
  const [deleting, setDeleting] = useState<Suppression | null>(null);

  useEffect(() => {
    const timer = window.setTimeout(() => {
      setQ(search.trim());
      reset_pages();
    }, 300);
    return () => window.clearTimeout(timer);
  }, [search, reset_pages]);

  const list = useQuery({
    queryKey: inboxKeys.suppressionList(workspace.id, q, before),
    queryFn: () => inbox.suppressions(workspace.id, { q, limit: kPageSize, before }),
  });

  return (
    <div className="space-y-6">
      {can_edit && <AddSuppressions workspace_id={workspace.id} />}
      <Card
        title="Suppression list"
        actions={
          <a className={buttonClass("secondary", "sm")} href={inbox.suppressionExportUrl(workspace.id)} download="suppressions.csv">
            Export CSV
          </a>
        }
      >
        <div className="border-b border-slate-100 p-4">
          <TextField label="Search" type="search" placeholder="Address or domain" value={search}
            onChange={(e) => setSearch(e.target.value)} wrapperClassName="max-w-sm" />
        </div>
        <QueryTable
          query={list}
          items={(d) => d.items}
          loadingLabel="Loading the suppression list…"
          empty={
            <EmptyState title={q === "" ? "Nothing suppressed yet" : "No entry matches"}>
              {q === "" ? "Unsubscribes, hard bounces and complaints are added here by themselves." : "Try another search."}
            </EmptyState>
          }
          caption="Suppressed addresses and domains"
          head={
            <tr>
              <Th>Address or domain</Th>
              <Th>Reason</Th>
              <Th>Scope</Th>
              <Th>Added</Th>
              {can_edit && <Th><span className="sr-only">Actions</span></Th>}
            </tr>
          }
          row={(s) => (
            <tr key={s.id}>
              <Td className="font-mono text-xs break-all text-slate-900">{suppressionValue(s)}</Td>
              <Td>
                <Badge tone={s.reason === "bounced" || s.reason === "complained" ? "red" : s.reason === "unsubscribed" ? "amber" : "neutral"}>
                  {capitalize(s.reason)}
                </Badge>
              </Td>
              <Td className="whitespace-nowrap">{s.campaign_id === null ? "Workspace" : `Campaign ${s.campaign_id}`}</Td>
              <Td className="whitespace-nowrap">{formatDateTime(s.created_at)}</Td>
              {can_edit && (
                <Td className="text-right">
                  <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setDeleting(s)}
                    aria-label={`Remove ${suppressionValue(s)}`}>
                    Remove
                  </Button>
                </Td>
              )}
            </tr>
          )}
          footer={(d) =>
            (pages.hasNewer || d.next_before !== null) && (
              <Pager label="Pages" hasNewer={pages.hasNewer} hasOlder={d.next_before !== null} onNewer={pages.newer} onOlder={() => pages.older(d.next_before)} />
            )
          }
        />
      </Card>
      <DeleteSuppressionDialog workspace_id={workspace.id} entry={deleting} onClose={() => setDeleting(null)} />
    </div>
  );
}

function AddSuppressions({ workspace_id }: { workspace_id: number }) {
  const inbox = useInboxApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const [report, setReport] = useState<SuppressionImportAnswer | null>(null);
  const file_input = useRef<HTMLInputElement>(null);
  const text_id = useId();
  const hint_id = useId();
  const file_id = useId();

  const add = useMutation({
    mutationFn: (values: string[]) => inbox.addSuppressions(workspace_id, values),
    onSuccess: (answer) => {
      setText("");
      setErrors(kNoErrors);
      toast.success(`Added ${answer.added}; ${answer.existing} already listed.`);
      void query_client.invalidateQueries({ queryKey: inboxKeys.suppressions(workspace_id) });
    },
    onError: (e) => setErrors(formErrorsFrom(e, [])),
  });
  const upload = useMutation({
    mutationFn: (file: File) => inbox.importSuppressions(workspace_id, file),
    onSuccess: (answer) => {
      setReport(answer);
      const unusable = answer.error_count > 0 ? `, ${answer.error_count} not usable` : "";
      toast.success(`Read ${answer.rows} rows: ${answer.added} added, ${answer.existing} already listed${unusable}.`);
      void query_client.invalidateQueries({ queryKey: inboxKeys.suppressions(workspace_id) });
    },
    onError: (e) => toast.error(`Import failed: ${describeError(e)}`),
    onSettled: () => {
      if (file_input.current) file_input.current.value = "";
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const values = parseSuppressionValues(text);
    if (values.length === 0) {
      setErrors({ fields: { values: "Type at least one address or @domain." } });
      return;
    }
    add.mutate(values);
  }
  // The API names a bad entry as values[N]; show it under the box.
  const value_error = errors.fields.values ?? errors.form;

  return (
    <Card title="Add to the suppression list">
      <div className="grid gap-6 p-4 md:grid-cols-2">
        <form onSubmit={submit} noValidate className="space-y-3">
          <label htmlFor={text_id} className="block text-sm font-medium text-slate-700">Addresses or @domains</label>
          <textarea id={text_id} rows={4} value={text} onChange={(e) => setText(e.target.value)}
            placeholder={"ann@example.com\n@competitor.com"} aria-describedby={hint_id} aria-invalid={value_error ? true : undefined}
            className="block w-full rounded-md border-0 px-3 py-2 font-mono text-sm shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none" />
          <p id={hint_id} className="text-xs text-slate-500">One per line (or separated by commas). A @domain suppresses every address at it.</p>
          <FormError message={value_error} />
          <Button type="submit" variant="primary" busy={add.isPending}>Add</Button>
        </form>
        <div className="space-y-3">
          <label htmlFor={file_id} className="block text-sm font-medium text-slate-700">Import a CSV file</label>
          <input id={file_id} ref={file_input} type="file" accept=".csv,text/csv,text/plain" disabled={upload.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) upload.mutate(file);
            }}
            className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium" />
          <p className="text-xs text-slate-500">The first column holds the address or @domain; a header row is skipped. Up to 10 MB.</p>
          {upload.isPending && <Loading label="Importing…" />}
          {report && <ImportReport report={report} />}
        </div>
      </div>
    </Card>
  );
}

function ImportReport({ report }: { report: SuppressionImportAnswer }) {
  return (
    <div role="status" aria-label="Import report" className="rounded-md bg-slate-50 p-3 text-sm ring-1 ring-slate-200">
      <p>
        {report.rows} rows: <strong>{report.added}</strong> added, {report.existing} already listed, {report.error_count} not usable.
      </p>
      {report.errors.length > 0 && (
        <ul aria-label="Rows not imported" className="mt-2 max-h-48 space-y-1 overflow-y-auto text-red-800">
          {report.errors.map((e) => (
            <li key={e.row}>Row {e.row} ({e.value || "empty"}): {e.message}</li>
          ))}
          {report.error_count > report.errors.length && <li>…and {report.error_count - report.errors.length} more.</li>}
        </ul>
      )}
    </div>
  );
}

function DeleteSuppressionDialog({ workspace_id, entry, onClose }: { workspace_id: number; entry: Suppression | null; onClose: () => void }) {
  const inbox = useInboxApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (s: Suppression) => inbox.deleteSuppression(workspace_id, s.id),
    onSuccess: (_, s) => {
      void query_client.invalidateQueries({ queryKey: inboxKeys.suppressions(workspace_id) });
      toast.success(`${suppressionValue(s)} can be mailed again.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={entry !== null}
      title="Remove from the suppression list?"
      message={entry && <>Campaigns may mail <strong>{suppressionValue(entry)}</strong> again.</>}
      confirm_label="Remove"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => entry && remove.mutate(entry)}
      onClose={close}
    />
  );
}
