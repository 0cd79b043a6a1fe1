// Dialogs of the warm-up inboxes screen: add one inbox (SMTP + IMAP like a sender), import many
// from a CSV file (every bad row listed, nothing written), provision a new mailbox on the
// operator's own server (admins), and one inbox's reputation.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { isApiError } from "../../api/client";
import type { Security } from "../../api/types";
import { kBotProviders, warmupKeys, type Bot, type BotProvider } from "../../api/warmup";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { useToast } from "../../ui/Toast";
import { EndpointFields } from "../senders/SenderFormDialog";
import { applyBotProvider, botInput, describeImportProblems, newBotForm, setBotEmail, validateBotForm, type BotForm } from "./botForm";
import { LazyReputationCharts as ReputationCharts } from "./LazyReputationCharts";
import { useWarmupApi } from "./useWarmupApi";
import { BotActivity } from "./BotActivity";

const kBotFields = [
  "email",
  "name",
  "provider",
  "daily_send_limit",
  "daily_receive_limit",
  "reply_rate_percent",
  "allow_self_signed",
  ...["smtp", "imap"].flatMap((k) => ["host", "port", "security", "username", "password"].map((f) => `${k}.${f}`)),
];

export function AddBotDialog({ workspace_id, open, onClose }: { workspace_id: number; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} wide title="Add a warm-up inbox" onClose={onClose}
      description="A mailbox that receives warm-up mail from your senders, rescues it from spam and answers some of it.">
      {open && <AddBotForm workspace_id={workspace_id} onClose={onClose} />}
    </Dialog>
  );
}

function AddBotForm({ workspace_id, onClose }: { workspace_id: number; onClose: () => void }) {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState<BotForm>(newBotForm);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const save = useMutation({
    mutationFn: (f: BotForm) => warmup.createBot(workspace_id, botInput(f)),
    onSuccess: (bot) => {
      void query_client.invalidateQueries({ queryKey: warmupKeys.bots(workspace_id) });
      toast.success(`Added ${bot.email}. Verify it to start warming up.`);
      onClose();
    },
    onError: (e) => setErrors(formErrorsFrom(e, kBotFields)),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const local = validateBotForm(form);
    if (Object.keys(local).length > 0) {
      setErrors({ fields: local, form: "Some fields need attention." });
      return;
    }
    setErrors(kNoErrors);
    save.mutate(form);
  }
  const err = (f: string) => errors.fields[f];
  const update = (patch: Partial<BotForm>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <form onSubmit={submit} noValidate className="space-y-6">
      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-2 text-sm font-semibold text-slate-900">Mailbox</legend>
        <SelectField label="Provider" value={form.provider} options={kBotProviders} error={err("provider")}
          hint="Gmail and Outlook fill in their servers."
          onChange={(e) => setForm((f) => applyBotProvider(f, e.target.value as BotProvider))} />
        <TextField label="Email address" type="email" autoComplete="off" value={form.email} error={err("email")} required
          onChange={(e) => setForm((f) => setBotEmail(f, e.target.value))} />
        <TextField label="Name" hint="Optional." value={form.name} error={err("name")}
          onChange={(e) => update({ name: e.target.value })} />
      </fieldset>
      <EndpointFields kind="smtp" legend="Sending server (SMTP)" value={form.smtp} errors={errors}
        onChange={(smtp) => update({ smtp })} onServerEdit={() => undefined} />
      <EndpointFields kind="imap" legend="Receiving server (IMAP)" value={form.imap} errors={errors}
        onChange={(imap) => update({ imap })} onServerEdit={() => undefined} />
      <fieldset className="grid gap-4 sm:grid-cols-3">
        <legend className="mb-2 text-sm font-semibold text-slate-900">Limits</legend>
        <TextField label="Sends a day" hint="Reached at the end of aging." inputMode="numeric" value={form.daily_send_limit}
          error={err("daily_send_limit")} onChange={(e) => update({ daily_send_limit: e.target.value })} />
        <TextField label="Receives a day" inputMode="numeric" value={form.daily_receive_limit}
          error={err("daily_receive_limit")} onChange={(e) => update({ daily_receive_limit: e.target.value })} />
        <TextField label="Reply rate (%)" inputMode="numeric" value={form.reply_rate_percent}
          error={err("reply_rate_percent")} onChange={(e) => update({ reply_rate_percent: e.target.value })} />
        <CheckboxField className="sm:col-span-3" label="Accept self-signed server certificates" hint="Only for servers you run yourself."
          checked={form.allow_self_signed} onChange={(e) => update({ allow_self_signed: e.target.checked })} />
      </fieldset>
      <FormError message={errors.form} />
      <div className="flex justify-end gap-2">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={save.isPending}>Add inbox</Button>
      </div>
    </form>
  );
}

export function ImportBotsDialog({ workspace_id, open, onClose }: { workspace_id: number; open: boolean; onClose: () => void }) {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [file, setFile] = useState<File | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [error, setError] = useState<string | undefined>();
  const file_id = useId();
  const upload = useMutation({
    mutationFn: (f: File) => warmup.importBots(workspace_id, f),
    onSuccess: (answer) => {
      void query_client.invalidateQueries({ queryKey: warmupKeys.bots(workspace_id) });
      toast.success(`Imported ${answer.created} warm-up inbox${answer.created === 1 ? "" : "es"}.`);
      close();
    },
    onError: (e) => {
      const listed = isApiError(e) ? describeImportProblems(e.problems) : [];
      setProblems(listed);
      setError(listed.length > 0 ? `Nothing was imported: ${listed.length} problem${listed.length === 1 ? "" : "s"} in the file.` : describeError(e));
    },
  });
  function close() {
    setFile(null);
    setProblems([]);
    setError(undefined);
    upload.reset();
    onClose();
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    if (file === null) {
      setError("Choose a CSV file first.");
      return;
    }
    upload.mutate(file);
  }
  return (
    <Dialog open={open} wide title="Import warm-up inboxes" onClose={close}
      description="One inbox per row. The first row names the columns: email (required), name, provider, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, imap_… the same, allow_self_signed, daily_send_limit, daily_receive_limit, reply_rate_percent, timezone. If any row is wrong, nothing is imported.">
      <form onSubmit={submit} noValidate className="space-y-4">
        <div>
          <label htmlFor={file_id} className="mb-1 block text-sm font-medium text-slate-700">CSV file</label>
          <input id={file_id} type="file" accept=".csv,text/csv,text/plain"
            onChange={(e) => { setFile(e.target.files?.[0] ?? null); setProblems([]); setError(undefined); }}
            className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium" />
        </div>
        <FormError message={error} />
        {problems.length > 0 && (
          <ul aria-label="Problems in the file" className="max-h-60 space-y-1 overflow-y-auto rounded-md bg-red-50 p-3 text-sm text-red-800 ring-1 ring-red-200">
            {problems.map((p, i) => <li key={i}>{p}</li>)}
          </ul>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={upload.isPending}>Import</Button>
        </div>
      </form>
    </Dialog>
  );
}

const kSecurityOptions: ReadonlyArray<{ value: Security; label: string }> = [
  { value: "tls", label: "TLS (implicit)" },
  { value: "starttls", label: "STARTTLS" },
  { value: "none", label: "None" },
];

interface ProvisionForm {
  local_part: string;
  domain: string;
  smtp_host: string;
  smtp_port: string;
  smtp_security: Security;
  imap_host: string;
  imap_port: string;
  imap_security: Security;
  allow_self_signed: boolean;
}

export function ProvisionBotDialog({ workspace_id, open, onClose }: { workspace_id: number; open: boolean; onClose: () => void }) {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState<ProvisionForm>({
    local_part: "", domain: "", smtp_host: "", smtp_port: "587", smtp_security: "starttls",
    imap_host: "", imap_port: "993", imap_security: "tls", allow_self_signed: false,
  });
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const fields = ["local_part", "domain", "smtp.host", "smtp.port", "smtp.security", "imap.host", "imap.port", "imap.security", "allow_self_signed"];
  const provision = useMutation({
    mutationFn: (f: ProvisionForm) => warmup.provisionBot(workspace_id, {
      local_part: f.local_part.trim(),
      domain: f.domain.trim(),
      smtp: { host: f.smtp_host.trim(), port: Number(f.smtp_port), security: f.smtp_security },
      imap: { host: f.imap_host.trim(), port: Number(f.imap_port), security: f.imap_security },
      allow_self_signed: f.allow_self_signed,
    }),
    onSuccess: (v) => {
      void query_client.invalidateQueries({ queryKey: warmupKeys.bots(workspace_id) });
      if (v.bot.status === "active") toast.success(`Created ${v.bot.email}; it logs in and is warming up.`);
      else toast.error(`Created ${v.bot.email}, but it does not log in yet: ${v.bot.status_reason ?? v.bot.status}`);
      close();
    },
    onError: (e) => setErrors(formErrorsFrom(e, fields)),
  });
  function close() {
    setErrors(kNoErrors);
    provision.reset();
    onClose();
  }
  const err = (f: string) => errors.fields[f];
  const update = (patch: Partial<ProvisionForm>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <Dialog open={open} wide title="Provision a warm-up inbox" onClose={close}
      description="Creates a new mailbox on your own mail server with a generated password, adds it as a warm-up inbox and verifies it.">
      <form noValidate className="space-y-4" onSubmit={(e) => { e.preventDefault(); setErrors(kNoErrors); provision.mutate(form); }}>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Local part" hint="a-z, 0-9, . - _" value={form.local_part} error={err("local_part")}
            onChange={(e) => update({ local_part: e.target.value })} required />
          <TextField label="Domain" value={form.domain} error={err("domain")} onChange={(e) => update({ domain: e.target.value })} required />
          <TextField label="SMTP host" value={form.smtp_host} error={err("smtp.host")} onChange={(e) => update({ smtp_host: e.target.value })} required />
          <div className="grid grid-cols-2 gap-2">
            <TextField label="SMTP port" inputMode="numeric" value={form.smtp_port} error={err("smtp.port")} onChange={(e) => update({ smtp_port: e.target.value })} />
            <SelectField label="SMTP security" value={form.smtp_security} options={kSecurityOptions} error={err("smtp.security")}
              onChange={(e) => update({ smtp_security: e.target.value as Security })} />
          </div>
          <TextField label="IMAP host" value={form.imap_host} error={err("imap.host")} onChange={(e) => update({ imap_host: e.target.value })} required />
          <div className="grid grid-cols-2 gap-2">
            <TextField label="IMAP port" inputMode="numeric" value={form.imap_port} error={err("imap.port")} onChange={(e) => update({ imap_port: e.target.value })} />
            <SelectField label="IMAP security" value={form.imap_security} options={kSecurityOptions} error={err("imap.security")}
              onChange={(e) => update({ imap_security: e.target.value as Security })} />
          </div>
          <CheckboxField className="sm:col-span-2" label="Accept self-signed server certificates" checked={form.allow_self_signed}
            onChange={(e) => update({ allow_self_signed: e.target.checked })} />
        </div>
        <FormError message={errors.form} />
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={provision.isPending}>Provision</Button>
        </div>
      </form>
    </Dialog>
  );
}

export function BotReputationDialog({ workspace_id, bot, onClose }: { workspace_id: number; bot: Bot | null; onClose: () => void }) {
  const warmup = useWarmupApi();
  return (
    <Dialog open={bot !== null} wide title={bot ? `Reputation of ${bot.email}` : "Reputation"} onClose={onClose}
      description="How its answers to warm-up mail were placed, its health score over time, and what it did with the mail it received.">
      {bot && (
        <div className="space-y-6">
          <ReputationCharts queryKey={(days) => warmupKeys.botReputation(workspace_id, bot.id, days)}
            load={(days) => warmup.botReputation(workspace_id, bot.id, days)} />
          <BotActivity workspace_id={workspace_id} bot_id={bot.id} />
        </div>
      )}
    </Dialog>
  );
}
