// The sender form's model: what the inputs hold (strings, as typed), how a sender fills it, and
// how it becomes the API's create input or a minimal PATCH. Pure functions, unit-tested.

import type { EndpointInput, Security, Sender, SenderInput, SenderPatch } from "../../api/types";
import { detectPreset, findPreset, type PresetId } from "./presets";

/** What the API applies when a sender is created without a quota. */
export const kDefaultDailyQuota = 50;
export const kMaxDailyQuota = 100000;

export interface EndpointForm {
  host: string;
  port: string;
  security: Security;
  username: string;
  /** The new password; "" means "keep the stored one" when editing. */
  password: string;
  /** Editing only: the stored password is being replaced. */
  changing_password: boolean;
  has_password: boolean;
}

export interface SenderForm {
  preset: PresetId;
  name: string;
  email: string;
  from_name: string;
  daily_quota: string;
  smtp: EndpointForm;
  imap: EndpointForm;
  /** While false, the usernames follow the email address as it is typed. */
  usernames_edited: boolean;
  allow_self_signed: boolean;
  source_ip: string;
  proxy_url: string;
  /** yyyy-mm-dd from a date input, or "". */
  warmup_end_date: string;
}

function emptyEndpoint(port: number, security: Security): EndpointForm {
  return { host: "", port: String(port), security, username: "", password: "", changing_password: true, has_password: false };
}

export function newSenderForm(): SenderForm {
  return applyPreset(
    {
      preset: "gmail",
      name: "",
      email: "",
      from_name: "",
      daily_quota: String(kDefaultDailyQuota),
      smtp: emptyEndpoint(587, "starttls"),
      imap: emptyEndpoint(993, "tls"),
      usernames_edited: false,
      allow_self_signed: false,
      source_ip: "",
      proxy_url: "",
      warmup_end_date: "",
    },
    "gmail",
  );
}

export function senderFormFrom(sender: Sender): SenderForm {
  const endpoint = (e: Sender["smtp"]): EndpointForm => ({
    host: e.host,
    port: String(e.port),
    security: e.security,
    username: e.username,
    password: "",
    changing_password: !e.has_password,
    has_password: e.has_password,
  });
  return {
    preset: detectPreset(sender.smtp, sender.imap),
    name: sender.name,
    email: sender.email,
    from_name: sender.from_name ?? "",
    daily_quota: String(sender.daily_quota),
    smtp: endpoint(sender.smtp),
    imap: endpoint(sender.imap),
    usernames_edited: true,
    allow_self_signed: sender.allow_self_signed,
    source_ip: sender.source_ip ?? "",
    proxy_url: sender.proxy_url ?? "",
    warmup_end_date: sender.warmup_end_at ? sender.warmup_end_at.slice(0, 10) : "",
  };
}

/** Fills both servers from a provider preset; "custom" leaves them as they are. */
export function applyPreset(form: SenderForm, preset: PresetId): SenderForm {
  const p = findPreset(preset);
  if (p === undefined) return { ...form, preset };
  return {
    ...form,
    preset,
    smtp: { ...form.smtp, host: p.smtp.host, port: String(p.smtp.port), security: p.smtp.security },
    imap: { ...form.imap, host: p.imap.host, port: String(p.imap.port), security: p.imap.security },
  };
}

/** Sets the email, carrying it into the usernames until the user edits those. */
export function setEmail(form: SenderForm, email: string): SenderForm {
  if (form.usernames_edited) return { ...form, email };
  return { ...form, email, smtp: { ...form.smtp, username: email }, imap: { ...form.imap, username: email } };
}

/** Checks what the browser can check; the API remains the judge. Keys are API field names. */
export function validateSenderForm(form: SenderForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (form.name.trim() === "") errors.name = "Enter a name for this sender.";
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim())) errors.email = "Enter a valid email address.";
  const quota = form.daily_quota.trim();
  if (!/^\d+$/.test(quota) || Number(quota) < 1 || Number(quota) > kMaxDailyQuota) {
    errors.daily_quota = `Enter a whole number of emails per day, from 1 to ${kMaxDailyQuota}.`;
  }
  for (const kind of ["smtp", "imap"] as const) {
    const e = form[kind];
    if (e.host.trim() === "") errors[`${kind}.host`] = "Enter the server's host name.";
    const port = Number(e.port);
    if (!/^\d+$/.test(e.port.trim()) || port < 1 || port > 65535) errors[`${kind}.port`] = "Enter a port from 1 to 65535.";
    if (e.username.trim() === "") errors[`${kind}.username`] = "Enter the login user name.";
    if (e.changing_password && e.password === "") errors[`${kind}.password`] = "Enter the password.";
  }
  return errors;
}

function endpointInput(e: EndpointForm): EndpointInput {
  const input: EndpointInput = {
    host: e.host.trim(),
    port: Number(e.port),
    security: e.security,
    username: e.username.trim(),
  };
  if (e.changing_password && e.password !== "") input.password = e.password;
  return input;
}

function warmupEndAt(date: string): string | undefined {
  return date === "" ? undefined : `${date}T00:00:00.000Z`;
}

/** The create body for a valid form. */
export function senderInput(form: SenderForm): SenderInput {
  const input: SenderInput = {
    name: form.name.trim(),
    email: form.email.trim(),
    smtp: endpointInput(form.smtp),
    imap: endpointInput(form.imap),
    allow_self_signed: form.allow_self_signed,
  };
  if (form.from_name.trim() !== "") input.from_name = form.from_name.trim();
  if (form.daily_quota.trim() !== "") input.daily_quota = Number(form.daily_quota.trim());
  if (form.source_ip.trim() !== "") input.source_ip = form.source_ip.trim();
  if (form.proxy_url.trim() !== "") input.proxy_url = form.proxy_url.trim();
  const warmup = warmupEndAt(form.warmup_end_date);
  if (warmup !== undefined) input.warmup_end_at = warmup;
  return input;
}

/**
 * The PATCH body: only what differs from `original`, passwords only when replaced. An optional
 * text the user emptied is sent as null (cleared). Empty object means nothing changed.
 */
export function senderPatch(original: SenderForm, form: SenderForm): SenderPatch {
  const patch: Record<string, unknown> = {};
  const text = (key: "name" | "email") => {
    if (form[key].trim() !== original[key].trim()) patch[key] = form[key].trim();
  };
  text("name");
  text("email");
  const optional = (key: "from_name" | "source_ip" | "proxy_url") => {
    const now = form[key].trim();
    if (now === original[key].trim()) return;
    patch[key] = now === "" ? null : now;
  };
  optional("from_name");
  optional("source_ip");
  optional("proxy_url");
  if (form.daily_quota.trim() !== original.daily_quota.trim()) patch.daily_quota = Number(form.daily_quota.trim());
  if (form.allow_self_signed !== original.allow_self_signed) patch.allow_self_signed = form.allow_self_signed;
  if (form.warmup_end_date !== original.warmup_end_date) {
    patch.warmup_end_at = warmupEndAt(form.warmup_end_date) ?? null;
  }
  for (const kind of ["smtp", "imap"] as const) {
    const a = original[kind];
    const b = form[kind];
    const changed: Partial<EndpointInput> = {};
    if (b.host.trim() !== a.host) changed.host = b.host.trim();
    if (b.port.trim() !== a.port) changed.port = Number(b.port);
    if (b.security !== a.security) changed.security = b.security;
    if (b.username.trim() !== a.username) changed.username = b.username.trim();
    if (b.changing_password && b.password !== "") changed.password = b.password;
    if (Object.keys(changed).length > 0) patch[kind] = changed;
  }
  return patch as SenderPatch;
}
