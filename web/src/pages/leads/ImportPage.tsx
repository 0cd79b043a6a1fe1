// Lead import (/w/:ws/leads/import, one import at ?id=): upload a CSV file with a progress bar,
// check and correct the guessed column mapping on the first rows, pick a list, start, watch the
// progress (the live WebSocket's `import` frames; polled every second only while the stream is
// down), then read the counts and download the error report. Past imports are listed below.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { isApiError, kApiBase } from "../../api/client";
import { useApi } from "../../api/context";
import {
  cancelImport,
  getImport,
  importErrorsUrl,
  leadKeys,
  listImports,
  listLists,
  startImport,
  uploadImport,
  type ImportJob,
  type ImportPreview,
  type ImportTarget,
} from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { kCsvEncodingLabel } from "../../lib/csvFile";
import { capitalize, formatDateTime } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Button, buttonClass } from "../../ui/Button";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, PageHeader, Table, Td, Th, type Tone } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { ProgressBar } from "../campaigns/CampaignsPage";
import { isImportDone, newerProgress, progressOfJob, useImportStream, type ImportProgress, type StreamConnection } from "./importLive";
import { choiceProblems, columnOfField, initialChoices, kImportTargets, startBody, suggestKey, type ColumnChoice } from "./importMapping";

const kConnectionText: Record<StreamConnection, string> = {
  connecting: "Connecting to live updates…",
  open: "Live",
  down: "Live updates unavailable: checking every second",
};

const kImportTone: Record<string, Tone> = {
  pending: "blue",
  running: "blue",
  completed: "green",
  failed: "red",
  canceled: "amber",
};

export function ImportPage() {
  const workspace = useWorkspace();
  const [params, setParams] = useSearchParams();
  const id_param = params.get("id");
  const id = id_param !== null && /^[1-9]\d*$/.test(id_param) ? Number(id_param) : undefined;
  return (
    <>
      <PageHeader
        title="Import leads"
        description="Upload a CSV file (UTF-8 or Windows-1252; comma, semicolon or tab separated), check the columns, and import."
        actions={
          <Link to={`/w/${workspace.id}/leads`} className={buttonClass("ghost")}>
            Back to leads
          </Link>
        }
      />
      <div className="space-y-6">
        {id === undefined ? (
          <UploadCard onUploaded={(job) => setParams({ id: String(job.id) })} />
        ) : (
          <ImportView key={id} id={id} onNew={() => setParams({})} />
        )}
        <PastImports current={id} />
      </div>
    </>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function UploadCard({ onUploaded }: { onUploaded: (job: ImportJob) => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const can_edit = roleAtLeast(workspace.role, "member");
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<string | undefined>();
  const abort = useRef<AbortController | null>(null);
  const input_id = useId();

  useEffect(() => () => abort.current?.abort(), []);

  const upload = useMutation({
    mutationFn: (f: File) => {
      abort.current = new AbortController();
      return uploadImport(api.client, workspace.id, f, (loaded, total) => setSent({ loaded, total }), abort.current.signal);
    },
    onSuccess: (job) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.imports(workspace.id) });
      query_client.setQueryData(leadKeys.import(workspace.id, job.id), job);
      onUploaded(job);
    },
    onError: (e) => {
      if (e instanceof DOMException && e.name === "AbortError") setError("The upload was canceled.");
      else setError(describeError(e));
      setSent(null);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (file === null) {
      setError("Choose a CSV file first.");
      return;
    }
    setError(undefined);
    setSent({ loaded: 0, total: file.size });
    upload.mutate(file);
  }

  if (!can_edit) {
    return (
      <Card>
        <p className="px-4 py-6 text-sm text-slate-600">Viewers can read past imports; members and above can import.</p>
      </Card>
    );
  }
  return (
    <Card title="1. Upload a file">
      <form onSubmit={submit} className="space-y-4 p-4" noValidate>
        <div>
          <label htmlFor={input_id} className="mb-1 block text-sm font-medium text-slate-700">
            CSV file
          </label>
          <input
            id={input_id}
            type="file"
            accept=".csv,.tsv,.txt,text/csv,text/plain"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${input_id}-error` : `${input_id}-hint`}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setError(undefined);
            }}
            className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-brand-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-brand-700 hover:file:bg-brand-100"
          />
          {error ? (
            <p id={`${input_id}-error`} className="mt-1 text-sm text-red-700">
              {error}
            </p>
          ) : (
            <p id={`${input_id}-hint`} className="mt-1 text-xs text-slate-500">
              Up to 2 GB. The first row may hold the column names.
            </p>
          )}
        </div>
        {sent !== null && (
          <ProgressBar
            label="Upload progress"
            value={sent.loaded}
            max={sent.total}
            fraction={sent.total > 0 ? sent.loaded / sent.total : 0}
          />
        )}
        {sent !== null && (
          <p className="text-xs text-slate-500">
            {formatBytes(sent.loaded)} of {formatBytes(sent.total)} sent
          </p>
        )}
        <div className="flex gap-2">
          <Button type="submit" variant="primary" busy={upload.isPending}>
            Upload
          </Button>
          {upload.isPending && <Button onClick={() => abort.current?.abort()}>Cancel upload</Button>}
        </div>
      </form>
    </Card>
  );
}

function ImportView({ id, onNew }: { id: number; onNew: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  // The stream is opened once the job is known not to have ended, and closed when it ends.
  const [stream_wanted, setStreamWanted] = useState(false);
  const stream = useImportStream(workspace.id, stream_wanted, () => api.me());
  const live = stream.connection === "open";
  const framed = stream.imports[id];
  const ended_live = framed !== undefined && isImportDone(framed.status);
  const job = useQuery({
    queryKey: leadKeys.import(workspace.id, id),
    queryFn: () => getImport(api.client, workspace.id, id),
    // Progress comes from the live stream; ask every second only while it is down, or until the
    // job itself says it ended once the stream did.
    refetchInterval: (q) => (q.state.data?.status === "running" && (!live || ended_live) ? 1000 : false),
  });
  const status = job.data?.status;
  // The stream says the import ended: fetch the job at once for its full counts and first errors.
  useEffect(() => {
    if (ended_live && status !== undefined && !isImportDone(status)) {
      void query_client.invalidateQueries({ queryKey: leadKeys.import(workspace.id, id) });
    }
  }, [ended_live, status, query_client, workspace.id, id]);
  useEffect(() => {
    setStreamWanted(status !== undefined && !isImportDone(status));
  }, [status]);
  if (job.isPending) return <Loading label="Loading the import…" />;
  if (job.isError) return <ErrorState error={job.error} onRetry={() => void job.refetch()} />;
  const j = job.data;
  if (j.status === "pending" && j.preview) return <MappingCard job={j} preview={j.preview} />;
  const shown = isImportDone(j.status) ? undefined : newerProgress(progressOfJob(j), framed ?? progressOfJob(j));
  return <ProgressCard job={j} live={shown} connection={stream.connection} onNew={onNew} />;
}

function MappingCard({ job, preview }: { job: ImportJob; preview: ImportPreview }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id) });
  const [choices, setChoices] = useState<Record<number, ColumnChoice>>(() => initialChoices(preview));
  const [has_header, setHasHeader] = useState(preview.mapping.has_header);
  const [list_id, setListId] = useState("");
  const [shown, setShown] = useState<Record<number, string>>({});
  const [form_error, setFormError] = useState<string | undefined>();

  const start = useMutation({
    mutationFn: () => startImport(api.client, workspace.id, job.id, startBody(choices, has_header, list_id ? Number(list_id) : undefined)),
    onSuccess: (j) => {
      query_client.setQueryData(leadKeys.import(workspace.id, job.id), j);
      void query_client.invalidateQueries({ queryKey: leadKeys.imports(workspace.id) });
    },
    onError: (e) => {
      const col = isApiError(e) ? columnOfField(e.field) : undefined;
      if (col !== undefined && col > 0) setShown({ [col]: describeError(e) });
      else setFormError(describeError(e));
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(undefined);
    const problems = choiceProblems(choices);
    setShown(problems);
    if (Object.keys(problems).length > 0) {
      if (problems[0]) setFormError(problems[0]);
      return;
    }
    start.mutate();
  }

  function choose(column: number, target: ImportTarget) {
    setChoices((c) => {
      const header = preview.mapping.columns.find((x) => x.column === column)?.header ?? null;
      const key = c[column].key || suggestKey(header, column);
      return { ...c, [column]: { target, key: target === "custom" ? key : c[column].key } };
    });
  }

  return (
    <Card title={`2. Map the columns of ${job.file_name}`}>
      <form onSubmit={submit} className="space-y-4 p-4" noValidate>
        <p className="text-sm text-slate-600">
          {kCsvEncodingLabel[preview.encoding] ?? preview.encoding} text, separated by “{preview.delimiter === "\t" ? "tab" : preview.delimiter}”. Kiln guessed where each column goes; change any of them.
        </p>
        <FormError message={form_error} />
        <CheckboxField label="The first row holds the column names" checked={has_header} onChange={(e) => setHasHeader(e.target.checked)} />
        <Table
          caption="Column mapping"
          head={
            <tr>
              <Th>Column</Th>
              <Th>First rows</Th>
              <Th>Import as</Th>
            </tr>
          }
        >
          {preview.mapping.columns.map((c) => {
            const choice = choices[c.column];
            const name = c.header && has_header ? c.header : `Column ${c.column}`;
            return (
              <tr key={c.column}>
                <Td className="align-top">
                  <div className="font-medium text-slate-900">{name}</div>
                  <div className="text-xs text-slate-500">Column {c.column}</div>
                </Td>
                <Td className="align-top text-xs text-slate-600">
                  <ul className="max-w-xs space-y-0.5">
                    {!has_header && c.header !== null && <li className="truncate">{c.header}</li>}
                    {preview.rows.slice(0, 3).map((r) => (
                      <li key={r.row} className="truncate">
                        {r.fields[c.column - 1] ?? ""}
                      </li>
                    ))}
                  </ul>
                </Td>
                <Td className="align-top">
                  <div className="flex min-w-48 flex-col gap-2">
                    <SelectField
                      label={`Import ${name} as`}
                      value={choice.target}
                      onChange={(e) => choose(c.column, e.target.value as ImportTarget)}
                      error={choice.target !== "custom" ? shown[c.column] : undefined}
                      options={kImportTargets}
                    />
                    {choice.target === "custom" && (
                      <TextField
                        label={`Custom field key for ${name}`}
                        value={choice.key}
                        onChange={(e) => setChoices((all) => ({ ...all, [c.column]: { ...all[c.column], key: e.target.value } }))}
                        error={shown[c.column]}
                      />
                    )}
                  </div>
                </Td>
              </tr>
            );
          })}
        </Table>
        {preview.rows.some((r) => r.error) && (
          <div className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            <p className="font-medium">Rows of the preview that will not import as they are</p>
            <ul className="mt-1 list-disc pl-5">
              {preview.rows
                .filter((r) => r.error)
                .map((r) => (
                  <li key={r.row}>
                    Row {r.row}: {r.error}
                  </li>
                ))}
            </ul>
          </div>
        )}
        <SelectField
          label="Add the imported leads to a list"
          value={list_id}
          onChange={(e) => setListId(e.target.value)}
          options={[{ value: "", label: "No list" }, ...(lists.data?.items ?? []).map((l) => ({ value: String(l.id), label: l.name }))]}
          hint="Leads already in the workspace are added to the list too."
          wrapperClassName="max-w-sm"
        />
        <div className="flex gap-2">
          <Button type="submit" variant="primary" busy={start.isPending}>
            Start import
          </Button>
        </div>
      </form>
    </Card>
  );
}

/**
 * An import's progress, then its outcome. While it runs, `live` is the newest reading (stream frame
 * or fetched job) and `connection` says whether it arrives over the live stream or by polling.
 */
function ProgressCard({
  job: j,
  live,
  connection,
  onNew,
}: {
  job: ImportJob;
  live: ImportProgress | undefined;
  connection: StreamConnection;
  onNew: () => void;
}) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const can_edit = roleAtLeast(workspace.role, "member");
  const done = j.status === "completed" || j.status === "failed" || j.status === "canceled";
  const cancel = useMutation({
    mutationFn: () => cancelImport(api.client, workspace.id, j.id),
    onSuccess: (next) => query_client.setQueryData(leadKeys.import(workspace.id, j.id), next),
  });
  useEffect(() => {
    if (!done) return;
    void query_client.invalidateQueries({ queryKey: leadKeys.imports(workspace.id) });
    void query_client.invalidateQueries({ queryKey: leadKeys.leads(workspace.id) });
    void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
  }, [done, query_client, workspace.id]);
  // While it runs the stream counts skipped rows as one number; the breakdown comes with the end.
  const counts: Array<[string, number]> =
    live !== undefined
      ? [
          ["Rows read", live.rows_read],
          ["Imported", live.imported],
          ["Skipped", live.skipped],
          ["Invalid", live.invalid],
        ]
      : [
          ["Rows read", j.counts.rows],
          ["Imported", j.counts.imported],
          ["Already leads", j.counts.existing],
          ["Repeated in the file", j.counts.duplicates],
          ["Suppressed", j.counts.suppressed],
          ["Invalid", j.counts.invalid],
          ["Role addresses", j.counts.role],
          ["Disposable domains", j.counts.disposable],
        ];
  const status = live?.status ?? j.status;
  const progress = live?.progress ?? j.progress;
  return (
    <Card title={done ? `Import of ${j.file_name}: ${j.status}` : `3. Importing ${j.file_name}…`}>
      <div className="space-y-4 p-4" aria-live="polite">
        <div className="flex flex-wrap items-center gap-3">
          <Badge tone={kImportTone[status] ?? "neutral"}>{capitalize(status)}</Badge>
          <ProgressBar label="Import progress" value={Math.round(progress * 100)} max={100} fraction={progress} />
          {!done && (
            <span className="text-xs text-slate-500" data-testid="import-source">
              {kConnectionText[connection]}
            </span>
          )}
        </div>
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="import-counts">
          {counts.map(([label, n]) => (
            <div key={label}>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
              <dd className="text-2xl font-semibold tabular-nums text-slate-900">{n}</dd>
            </div>
          ))}
        </dl>
        {j.status === "failed" && j.errors[0] && <FormError message={`The import failed: ${j.errors[0].message}`} />}
        {j.errors.length > 0 && j.status !== "failed" && (
          <div>
            <h3 className="text-sm font-semibold text-slate-900">Rows not imported</h3>
            <ul className="mt-1 space-y-0.5 text-sm text-slate-700">
              {j.errors.slice(0, 5).map((e, i) => (
                <li key={i}>
                  Row {e.row} (line {e.line}){e.email ? `, ${e.email}` : ""}: {e.field ? `${e.field}: ` : ""}
                  {e.message}
                </li>
              ))}
              {j.errors.length > 5 && <li>… and {j.errors.length - 5} more in the report.</li>}
            </ul>
          </div>
        )}
        <div className="flex flex-wrap gap-2">
          {done && j.counts.invalid > 0 && (
            <a href={importErrorsUrl(kApiBase, workspace.id, j.id)} className={buttonClass("secondary")} download>
              Download the error report
            </a>
          )}
          {!done && can_edit && (
            <Button busy={cancel.isPending} onClick={() => cancel.mutate()}>
              Cancel import
            </Button>
          )}
          {done && (
            <Link to={`/w/${workspace.id}/leads${j.list_id ? `?list_id=${j.list_id}` : ""}`} className={buttonClass("primary")}>
              See the leads
            </Link>
          )}
          {done && can_edit && <Button onClick={onNew}>Import another file</Button>}
        </div>
        {cancel.isError && <FormError message={describeError(cancel.error)} />}
      </div>
    </Card>
  );
}

function PastImports({ current }: { current: number | undefined }) {
  const api = useApi();
  const workspace = useWorkspace();
  const imports = useQuery({
    queryKey: leadKeys.imports(workspace.id),
    queryFn: () => listImports(api.client, workspace.id),
  });
  return (
    <Card title="Past imports">
      {imports.isPending ? (
        <Loading label="Loading imports…" />
      ) : imports.isError ? (
        <ErrorState error={imports.error} onRetry={() => void imports.refetch()} />
      ) : imports.data.items.length === 0 ? (
        <EmptyState title="No imports yet" />
      ) : (
        <Table
          caption="Past imports"
          head={
            <tr>
              <Th>File</Th>
              <Th>Status</Th>
              <Th className="text-right">Imported</Th>
              <Th className="text-right">Invalid</Th>
              <Th>When</Th>
            </tr>
          }
        >
          {imports.data.items.map((i) => (
            <tr key={i.id} aria-current={i.id === current ? "true" : undefined}>
              <Td>
                <Link to={`/w/${workspace.id}/leads/import?id=${i.id}`} className="font-medium text-brand-700 hover:underline">
                  {i.file_name || `Import ${i.id}`}
                </Link>
              </Td>
              <Td>
                <Badge tone={kImportTone[i.status] ?? "neutral"}>{capitalize(i.status)}</Badge>
              </Td>
              <Td className="text-right tabular-nums">{i.counts.imported}</Td>
              <Td className="text-right tabular-nums">{i.counts.invalid}</Td>
              <Td className="whitespace-nowrap">{formatDateTime(i.created_at)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </Card>
  );
}
