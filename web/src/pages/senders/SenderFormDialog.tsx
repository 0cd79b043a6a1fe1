// Add or edit a sender: provider preset, identity, SMTP and IMAP servers (passwords write-only),
// limits and network. Errors the API names appear under the field; others above the buttons.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import type { Security, Sender } from "../../api/types";
import { formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { useToast } from "../../ui/Toast";
import { kProviderPresets, type PresetId } from "./presets";
import {
  applyPreset,
  newSenderForm,
  senderFormFrom,
  senderInput,
  senderPatch,
  setEmail,
  validateSenderForm,
  type EndpointForm,
  type SenderForm,
} from "./senderForm";

const kShownFields = [
  "name",
  "email",
  "from_name",
  "daily_quota",
  "allow_self_signed",
  "source_ip",
  "proxy_url",
  "warmup_end_at",
  ...["smtp", "imap"].flatMap((k) => ["host", "port", "security", "username", "password"].map((f) => `${k}.${f}`)),
];

const kSecurityOptions: ReadonlyArray<{ value: Security; label: string }> = [
  { value: "tls", label: "TLS (implicit)" },
  { value: "starttls", label: "STARTTLS" },
  { value: "none", label: "None" },
];

const kPresetOptions = [
  ...kProviderPresets.map((p) => ({ value: p.id, label: p.label })),
  { value: "custom", label: "Custom servers" },
];

export interface SenderFormDialogProps {
  workspace_id: number;
  /** The sender to edit; undefined to add one. */
  sender: Sender | undefined;
  open: boolean;
  onClose: () => void;
}

export function SenderFormDialog({ workspace_id, sender, open, onClose }: SenderFormDialogProps) {
  return (
    <Dialog open={open} wide title={sender ? `Edit ${sender.name}` : "Add a sender"} onClose={onClose}
      description="A sender is a real mailbox Kiln sends from (SMTP) and watches for replies and bounces (IMAP).">
      {/* Keyed so that each opening starts from the sender's current values. */}
      <SenderFormBody key={sender?.id ?? "new"} workspace_id={workspace_id} sender={sender} onClose={onClose} />
    </Dialog>
  );
}

function SenderFormBody({ workspace_id, sender, onClose }: Omit<SenderFormDialogProps, "open">) {
  const api = useApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [original] = useState<SenderForm>(() => (sender ? senderFormFrom(sender) : newSenderForm()));
  const [form, setForm] = useState<SenderForm>(original);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);

  const save = useMutation({
    mutationFn: async (f: SenderForm) => {
      if (sender === undefined) return api.createSender(workspace_id, senderInput(f));
      const patch = senderPatch(original, f);
      if (Object.keys(patch).length === 0) return sender;
      return api.updateSender(workspace_id, sender.id, patch);
    },
    onSuccess: (saved) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      toast.success(sender ? `Saved ${saved.name}.` : `Added ${saved.name}.`);
      onClose();
    },
    onError: (e) => setErrors(formErrorsFrom(e, kShownFields)),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const local = validateSenderForm(form);
    if (Object.keys(local).length > 0) {
      setErrors({ fields: local, form: "Some fields need attention." });
      return;
    }
    setErrors(kNoErrors);
    save.mutate(form);
  }

  const err = (field: string) => errors.fields[field];
  const update = (patch: Partial<SenderForm>) => setForm((f) => ({ ...f, ...patch }));

  return (
    <form onSubmit={submit} noValidate className="space-y-6">
      <SelectField
        label="Provider"
        hint="Fills in the server settings; choose Custom servers for any other provider."
        value={form.preset}
        onChange={(e) => setForm((f) => applyPreset(f, e.target.value as PresetId))}
        options={kPresetOptions}
      />

      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-2 text-sm font-semibold text-slate-900">Mailbox</legend>
        <TextField label="Name" hint="How this sender is called in Kiln." value={form.name}
          onChange={(e) => update({ name: e.target.value })} error={err("name")} required />
        <TextField label="Email address" type="email" value={form.email} autoComplete="off"
          onChange={(e) => setForm((f) => setEmail(f, e.target.value))} error={err("email")} required />
        <TextField label="From name" hint="Shown to recipients; optional." value={form.from_name}
          onChange={(e) => update({ from_name: e.target.value })} error={err("from_name")} />
        <TextField label="Daily quota" hint="Most emails this mailbox sends a day, warm-up included." inputMode="numeric"
          value={form.daily_quota} onChange={(e) => update({ daily_quota: e.target.value })} error={err("daily_quota")} />
      </fieldset>

      <EndpointFields kind="smtp" legend="Sending server (SMTP)" value={form.smtp} errors={errors}
        onChange={(smtp) => setForm((f) => ({ ...f, smtp, usernames_edited: f.usernames_edited || smtp.username !== f.smtp.username }))}
        onServerEdit={() => update({ preset: "custom" })} />
      <EndpointFields kind="imap" legend="Receiving server (IMAP)" value={form.imap} errors={errors}
        onChange={(imap) => setForm((f) => ({ ...f, imap, usernames_edited: f.usernames_edited || imap.username !== f.imap.username }))}
        onServerEdit={() => update({ preset: "custom" })} />

      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-2 text-sm font-semibold text-slate-900">Warm-up and network</legend>
        <TextField label="Warm-up ends" type="date" hint="Until then the quota ramps up; optional." value={form.warmup_end_date}
          onChange={(e) => update({ warmup_end_date: e.target.value })} error={err("warmup_end_at")} />
        <TextField label="Source IP" hint="Local address to send from; optional." value={form.source_ip}
          onChange={(e) => update({ source_ip: e.target.value })} error={err("source_ip")} />
        <TextField label="Proxy URL" hint="socks5://host:port; optional." value={form.proxy_url} wrapperClassName="sm:col-span-2"
          onChange={(e) => update({ proxy_url: e.target.value })} error={err("proxy_url")} />
        <CheckboxField className="sm:col-span-2" label="Accept self-signed server certificates"
          hint="Only for servers you run yourself." checked={form.allow_self_signed}
          onChange={(e) => update({ allow_self_signed: e.target.checked })} error={err("allow_self_signed")} />
      </fieldset>

      <FormError message={errors.form} />
      <div className="flex justify-end gap-2">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={save.isPending}>
          {sender ? "Save changes" : "Add sender"}
        </Button>
      </div>
    </form>
  );
}

export interface EndpointFieldsProps {
  kind: "smtp" | "imap";
  legend: string;
  value: EndpointForm;
  errors: FormErrors;
  onChange: (value: EndpointForm) => void;
  /** Host, port or security typed by hand: the settings are no longer a preset's. */
  onServerEdit: () => void;
}

export function EndpointFields({ kind, legend, value, errors, onChange, onServerEdit }: EndpointFieldsProps) {
  const err = (f: string) => errors.fields[`${kind}.${f}`];
  const server = (patch: Partial<EndpointForm>) => {
    onChange({ ...value, ...patch });
    onServerEdit();
  };
  const label = kind.toUpperCase();
  return (
    <fieldset className="grid gap-4 sm:grid-cols-6">
      <legend className="mb-2 text-sm font-semibold text-slate-900">{legend}</legend>
      <TextField label={`${label} host`} wrapperClassName="sm:col-span-3" value={value.host} autoComplete="off"
        onChange={(e) => server({ host: e.target.value })} error={err("host")} required />
      <TextField label={`${label} port`} wrapperClassName="sm:col-span-1" inputMode="numeric" value={value.port}
        onChange={(e) => server({ port: e.target.value })} error={err("port")} required />
      <SelectField label={`${label} security`} wrapperClassName="sm:col-span-2" value={value.security}
        onChange={(e) => server({ security: e.target.value as Security })} error={err("security")} options={kSecurityOptions} />
      <TextField label={`${label} username`} wrapperClassName="sm:col-span-3" value={value.username} autoComplete="off"
        onChange={(e) => onChange({ ...value, username: e.target.value })} error={err("username")} required />
      <div className="sm:col-span-3">
        {value.changing_password ? (
          <div className="flex items-end gap-2">
            <TextField label={`${label} password`} type="password" wrapperClassName="flex-1" autoComplete="new-password"
              value={value.password} onChange={(e) => onChange({ ...value, password: e.target.value })}
              error={err("password")} required />
            {value.has_password && (
              <Button className="mb-px" onClick={() => onChange({ ...value, password: "", changing_password: false })}>
                Keep current
              </Button>
            )}
          </div>
        ) : (
          <div>
            <span className="mb-1 block text-sm font-medium text-slate-700">{label} password</span>
            <div className="flex items-center gap-3">
              <span className="font-mono text-sm text-slate-600">•••• set</span>
              <Button size="sm" aria-label={`Change ${label} password`}
                onClick={() => onChange({ ...value, changing_password: true })}>
                Change
              </Button>
            </div>
            {err("password") && <p className="mt-1 text-sm text-red-700">{err("password")}</p>}
          </div>
        )}
      </div>
    </fieldset>
  );
}
