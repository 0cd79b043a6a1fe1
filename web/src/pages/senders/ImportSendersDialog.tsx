// "Bulk add from CSV": choose a file or paste CSV text, see the first rows as the server will read
// them (a file is decoded by the server's rule, UTF-8 else Windows-1252: lib/csvFile.ts, and its
// own bytes are uploaded), upload (POST …/senders/import: all or nothing), see every problem next
// to its row, then the summary and an offer to verify the new senders one after the other.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Fragment, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { isApiError } from "../../api/client";
import { queryKeys } from "../../api/endpoints";
import type { SenderVerification } from "../../api/warmup";
import { kCsvEncodingLabel, readCsvFile, type CsvEncoding } from "../../lib/csvFile";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FormError } from "../../ui/Field";
import { useWarmupApi } from "../warmup/useWarmupApi";
import {
  canonicalColumn,
  describeRowProblem,
  groupImportProblems,
  importSummary,
  kSenderImportExample,
  previewCell,
  previewSenderCsv,
  type ImportProblemsByRow,
} from "./senderImport";
import { describeVerification } from "./testConnection";
import { useSendersApi } from "./useSendersApi";

/** The server takes at most 4 MB (docs/api.md). */
const kMaxBytes = 4 * 1024 * 1024;
const kNoProblems: ImportProblemsByRow = { rows: [], file: [], total: 0 };

export function ImportSendersDialog({ workspace_id, open, onClose }: { workspace_id: number; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} wide title="Bulk add senders from CSV" onClose={onClose}
      description="One sender per row. The first row names the columns: email (required), from_name, preset (gmail, outlook or custom), password (or smtp_password and imap_password), smtp_host, smtp_port, smtp_security, imap_host, imap_port, imap_security, daily_quota, and the warm-up columns. If any row is wrong, nothing is added.">
      {open && <ImportSendersForm workspace_id={workspace_id} onClose={onClose} />}
    </Dialog>
  );
}

interface VerifyState {
  done: number;
  results: Array<{ id: number; ok: boolean; text: string }>;
  running: boolean;
}

function ImportSendersForm({ workspace_id, onClose }: { workspace_id: number; onClose: () => void }) {
  const senders = useSendersApi();
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const [text, setText] = useState("");
  const [file_name, setFileName] = useState<string | undefined>();
  // The chosen file, uploaded as it is (the server decodes it as the preview did), and its encoding.
  const [file, setFile] = useState<{ blob: Blob; encoding: CsvEncoding } | undefined>();
  const choosing = useRef(0);
  const [error, setError] = useState<string | undefined>();
  const [problems, setProblems] = useState<ImportProblemsByRow>(kNoProblems);
  const [verify, setVerify] = useState<VerifyState | null>(null);
  const closed = useRef(false);
  const file_id = useId();
  const paste_id = useId();
  const paste_hint_id = useId();
  const preview = useMemo(() => (text.trim() === "" ? null : previewSenderCsv(text)), [text]);

  const upload = useMutation({
    mutationFn: (csv: Blob | string) => senders.importSenders(workspace_id, csv),
    onSuccess: () => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
    },
    onError: (e) => {
      const grouped = isApiError(e) ? groupImportProblems(e.problems) : kNoProblems;
      setProblems(grouped);
      setError(grouped.total > 0 ? `${describeError(e)}. Fix the rows listed below and upload again.` : describeError(e));
    },
  });

  function reset(next_text: string, name: string | undefined, chosen?: { blob: Blob; encoding: CsvEncoding }) {
    setText(next_text);
    setFileName(name);
    setFile(chosen);
    setProblems(kNoProblems);
    setError(undefined);
    upload.reset();
  }

  async function chooseFile(chosen: File | undefined) {
    // Only the latest choice counts when an earlier file is still being read.
    const choice = ++choosing.current;
    if (chosen === undefined) return reset("", undefined);
    if (chosen.size > kMaxBytes) {
      reset("", undefined);
      setError(`${chosen.name} is larger than 4 MB; split it into smaller files.`);
      return;
    }
    try {
      const read = await readCsvFile(chosen);
      if (choice === choosing.current) reset(read.text, chosen.name, { blob: chosen, encoding: read.encoding });
    } catch (e) {
      if (choice !== choosing.current) return;
      reset("", undefined);
      setError(`${chosen.name} could not be read: ${describeError(e)}`);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (preview === null) return setError("Choose a CSV file or paste the rows first.");
    if (preview.missing_email) return setError("The first row must name an email column.");
    if (preview.total_rows === 0) return setError("The file has no senders below its header row.");
    setProblems(kNoProblems);
    setError(undefined);
    upload.mutate(file?.blob ?? text);
  }

  async function verifyAll(ids: number[]) {
    setVerify({ done: 0, results: [], running: true });
    for (const id of ids) {
      if (closed.current) return;
      let result: { id: number; ok: boolean; text: string };
      try {
        const v: SenderVerification = await warmup.verifySender(workspace_id, id);
        result = { id, ok: v.smtp.ok && v.imap.ok, text: describeVerification(v) };
      } catch (e) {
        result = { id, ok: false, text: describeError(e) };
      }
      setVerify((s) => s && { ...s, done: s.done + 1, results: [...s.results, result] });
    }
    setVerify((s) => s && { ...s, running: false });
    void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
  }

  function close() {
    closed.current = true;
    onClose();
  }

  if (upload.isSuccess) {
    const { created, ids } = upload.data;
    const passed = verify?.results.filter((r) => r.ok).length ?? 0;
    return (
      <div className="space-y-4">
        <p role="status" className="rounded-md bg-green-50 p-3 text-sm text-green-800 ring-1 ring-green-200">
          {importSummary(created)}
        </p>
        {verify === null ? (
          <p className="text-sm text-slate-700">
            Verify them now? Kiln logs in to each one over SMTP and IMAP; a sender can send once it passes.
          </p>
        ) : (
          <div className="space-y-2">
            <div className="text-sm text-slate-700" role="status" aria-live="polite">
              {verify.running
                ? `Verifying… ${verify.done} of ${ids.length} done.`
                : `Verified ${ids.length} sender${ids.length === 1 ? "" : "s"}: ${passed} passed, ${ids.length - passed} failed.`}
            </div>
            <progress className="h-2 w-full" max={ids.length} value={verify.done} aria-label="Verification progress" />
            <ul aria-label="Verification results" className="max-h-60 space-y-1 overflow-y-auto text-sm">
              {verify.results.map((r) => (
                <li key={r.id} className={r.ok ? "text-green-800" : "text-red-700"}>
                  {r.ok ? "✓ " : "✗ "}{r.text}
                </li>
              ))}
            </ul>
          </div>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          {verify === null && ids.length > 0 && (
            <Button variant="primary" onClick={() => void verifyAll(ids)}>
              Verify {ids.length} sender{ids.length === 1 ? "" : "s"}
            </Button>
          )}
          <Button onClick={close} disabled={verify?.running}>{verify === null ? "Later" : "Done"}</Button>
        </div>
      </div>
    );
  }

  const problem_rows = new Map(problems.rows.map((r) => [r.row, r.problems]));
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor={file_id} className="mb-1 block text-sm font-medium text-slate-700">CSV file</label>
          <input id={file_id} type="file" accept=".csv,text/csv,text/plain"
            onChange={(e) => void chooseFile(e.target.files?.[0])}
            className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium" />
          <p className="mt-1 text-xs text-slate-500">
            Up to 5,000 rows and 4 MB. UTF-8 or Windows-1252, comma, semicolon or tab.{" "}
            <a className="text-brand-700 underline" download="senders-example.csv"
              href={`data:text/csv;charset=utf-8,${encodeURIComponent(kSenderImportExample)}`}>
              Download an example
            </a>
          </p>
        </div>
        <div>
          <label htmlFor={paste_id} className="mb-1 block text-sm font-medium text-slate-700">Or paste the rows</label>
          <textarea id={paste_id} rows={4} spellCheck={false} aria-describedby={paste_hint_id}
            value={file_name === undefined ? text : ""} placeholder={file_name === undefined ? "email,preset,password\nann@example.com,gmail,app-password" : `Using ${file_name}`}
            onChange={(e) => {
              choosing.current++;
              reset(e.target.value, undefined);
            }}
            className="block w-full rounded-md border-0 px-3 py-2 font-mono text-xs text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none" />
          <p id={paste_hint_id} className="mt-1 text-xs text-slate-500">Including the header row.</p>
        </div>
      </div>

      {preview && (
        <section aria-label="Preview" className="space-y-2">
          <p className="text-sm text-slate-700">
            {file_name ? <><strong>{file_name}</strong>: </> : null}
            {preview.total_rows} row{preview.total_rows === 1 ? "" : "s"} below the header
            {preview.total_rows > preview.rows.length ? `; the first ${preview.rows.length} shown` : ""}.
            {file ? ` Read as ${kCsvEncodingLabel[file.encoding]} text.` : null}
          </p>
          {preview.missing_email && (
            <p className="text-sm text-red-700">The first row names no email column; the server needs one to read the file.</p>
          )}
          {preview.unknown_columns.length > 0 && (
            <p className="text-sm text-amber-800">
              Unknown column{preview.unknown_columns.length === 1 ? "" : "s"}: {preview.unknown_columns.join(", ")}. The server will refuse the file until {preview.unknown_columns.length === 1 ? "it is" : "they are"} renamed or removed.
            </p>
          )}
          {preview.unclosed_quote && (
            <p className="text-sm text-amber-800">A quoted value is not closed before the end of the text.</p>
          )}
          <div className="overflow-x-auto rounded-md ring-1 ring-slate-200">
            <table className="min-w-full text-left text-xs">
              <caption className="sr-only">First rows of the file</caption>
              <thead className="bg-slate-50">
                <tr>
                  <th scope="col" className="px-2 py-1 font-medium text-slate-500">Row</th>
                  {preview.header.map((h, i) => (
                    <th key={i} scope="col" className="whitespace-nowrap px-2 py-1 font-medium text-slate-700">{h}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.rows.map((r) => {
                  const row_problems = problem_rows.get(r.row);
                  return (
                    <Fragment key={r.row}>
                    <tr className={row_problems ? "bg-red-50" : undefined}>
                      <th scope="row" className="px-2 py-1 align-top font-normal text-slate-500">{r.row}</th>
                      {preview.header.map((h, i) => {
                        const bad = row_problems?.some((p) => p.column !== "" && p.column === canonicalColumn(h));
                        return (
                          <td key={i} className={`whitespace-nowrap px-2 py-1 align-top ${bad ? "font-medium text-red-700" : "text-slate-800"}`}>
                            {previewCell(h, r.cells[i] ?? "")}
                          </td>
                        );
                      })}
                    </tr>
                    {row_problems && (
                      <tr className="bg-red-50">
                        <td />
                        <td colSpan={preview.header.length} className="px-2 pb-1 text-red-700">
                          {row_problems.map(describeRowProblem).join("; ")}
                        </td>
                      </tr>
                    )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}

      <FormError message={error} />
      {problems.total > 0 && (
        <section aria-label="Problems in the file" className="max-h-64 overflow-y-auto rounded-md bg-red-50 p-3 text-sm text-red-800 ring-1 ring-red-200">
          {problems.file.length > 0 && (
            <ul className="mb-2 space-y-1">{problems.file.map((p, i) => <li key={i}>{p}</li>)}</ul>
          )}
          <ul className="space-y-1">
            {problems.rows.map((r) => (
              <li key={r.row}>
                <span className="font-medium">Row {r.row}</span>: {r.problems.map(describeRowProblem).join("; ")}
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="flex justify-end gap-2">
        <Button onClick={close}>Cancel</Button>
        <Button type="submit" variant="primary" busy={upload.isPending} disabled={preview === null}>
          {preview && preview.total_rows > 0 ? `Add ${preview.total_rows} sender${preview.total_rows === 1 ? "" : "s"}` : "Add senders"}
        </Button>
      </div>
    </form>
  );
}
