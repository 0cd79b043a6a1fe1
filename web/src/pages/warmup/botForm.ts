// The warm-up inbox form's model: inputs as typed (strings), the provider's server preset, the
// checks the browser can make and the API's create input. Pure functions, unit-tested.

import type { ApiProblem } from "../../api/client";
import type { Security } from "../../api/types";
import type { BotInput, BotProvider } from "../../api/warmup";
import type { EndpointForm } from "../senders/senderForm";
import { findPreset } from "../senders/presets";

export interface BotForm {
  provider: BotProvider;
  email: string;
  name: string;
  smtp: EndpointForm;
  imap: EndpointForm;
  allow_self_signed: boolean;
  daily_send_limit: string;
  daily_receive_limit: string;
  reply_rate_percent: string;
}

function endpoint(host: string, port: number, security: Security): EndpointForm {
  return { host, port: String(port), security, username: "", password: "", changing_password: true, has_password: false };
}

/** Gmail and Outlook fill in their servers; the others keep what is typed. */
export function applyBotProvider(form: BotForm, provider: BotProvider): BotForm {
  const preset = provider === "gmail" || provider === "outlook" ? findPreset(provider) : undefined;
  if (preset === undefined) return { ...form, provider };
  return {
    ...form,
    provider,
    smtp: { ...form.smtp, host: preset.smtp.host, port: String(preset.smtp.port), security: preset.smtp.security },
    imap: { ...form.imap, host: preset.imap.host, port: String(preset.imap.port), security: preset.imap.security },
  };
}

export function newBotForm(): BotForm {
  return applyBotProvider(
    {
      provider: "gmail",
      email: "",
      name: "",
      smtp: endpoint("", 465, "tls"),
      imap: endpoint("", 993, "tls"),
      allow_self_signed: false,
      daily_send_limit: "20",
      daily_receive_limit: "40",
      reply_rate_percent: "30",
    },
    "gmail",
  );
}

/** Sets the address; usernames left empty or equal to the old address follow it. */
export function setBotEmail(form: BotForm, email: string): BotForm {
  const follow = (e: EndpointForm) => (e.username === "" || e.username === form.email ? { ...e, username: email } : e);
  return { ...form, email, smtp: follow(form.smtp), imap: follow(form.imap) };
}

function wholeNumber(text: string, min: number, max: number): boolean {
  return /^\d+$/.test(text.trim()) && Number(text) >= min && Number(text) <= max;
}

/** Checks what the browser can check; keys are the API's field names. */
export function validateBotForm(form: BotForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim())) errors.email = "Enter a valid email address.";
  for (const kind of ["smtp", "imap"] as const) {
    const e = form[kind];
    if (e.host.trim() === "") errors[`${kind}.host`] = "Enter the server's host name.";
    if (!wholeNumber(e.port, 1, 65535)) errors[`${kind}.port`] = "Enter a port from 1 to 65535.";
    if (e.password === "") errors[`${kind}.password`] = "Enter the password.";
  }
  if (!wholeNumber(form.daily_send_limit, 1, 10000)) errors.daily_send_limit = "Enter a whole number from 1 to 10,000.";
  if (!wholeNumber(form.daily_receive_limit, 0, 10000)) errors.daily_receive_limit = "Enter a whole number from 0 to 10,000.";
  if (!wholeNumber(form.reply_rate_percent, 0, 100)) errors.reply_rate_percent = "Enter a percentage from 0 to 100.";
  return errors;
}

/** The create body for a valid form; an empty username is left out (the API uses the address). */
export function botInput(form: BotForm): BotInput {
  const ep = (e: EndpointForm) => {
    const out: BotInput["smtp"] = { host: e.host.trim(), port: Number(e.port), security: e.security, password: e.password };
    if (e.username.trim() !== "") out.username = e.username.trim();
    return out;
  };
  const input: BotInput = {
    email: form.email.trim(),
    provider: form.provider,
    smtp: ep(form.smtp),
    imap: ep(form.imap),
    allow_self_signed: form.allow_self_signed,
    daily_send_limit: Number(form.daily_send_limit),
    daily_receive_limit: Number(form.daily_receive_limit),
    reply_rate_percent: Number(form.reply_rate_percent),
  };
  if (form.name.trim() !== "") input.name = form.name.trim();
  return input;
}

/** "Row 3, smtp_port: must be …" lines for a CSV import's problems, in row order. */
export function describeImportProblems(problems: readonly ApiProblem[]): string[] {
  return [...problems]
    .sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    .map((p) => {
      const where = p.row !== undefined ? `Row ${p.row}${p.column ? `, ${p.column}` : ""}` : p.field ?? "File";
      return `${where}: ${p.message}`;
    });
}

/** "2026-11-22" → "2026-11-22T00:00:00.000Z"; "" → null. */
export function dateInputToIso(date: string): string | null {
  return date === "" ? null : `${date}T00:00:00.000Z`;
}

/** An ISO time → the yyyy-mm-dd a date input shows (UTC); null → "". */
export function isoToDateInput(iso: string | null): string {
  return iso ? iso.slice(0, 10) : "";
}

/**
 * Where a bot's aging ramp stands at `now_ms`: the share of the ramp done (0..1) and the day's
 * send volume, rising linearly from `aging_start_volume` to `daily_send_limit` between
 * aging_start_at and aging_end_at. Before the start: the start volume; after the end (or with
 * no dates): the limit.
 */
export function agingToday(
  bot: { aging_start_at: string | null; aging_end_at: string | null; aging_start_volume: number; daily_send_limit: number },
  now_ms: number,
): { progress: number; volume: number } {
  const start = bot.aging_start_at ? Date.parse(bot.aging_start_at) : Number.NaN;
  const end = bot.aging_end_at ? Date.parse(bot.aging_end_at) : Number.NaN;
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return { progress: 1, volume: bot.daily_send_limit };
  const progress = Math.min(1, Math.max(0, (now_ms - start) / (end - start)));
  const volume = Math.round(bot.aging_start_volume + (bot.daily_send_limit - bot.aging_start_volume) * progress);
  return { progress, volume };
}

/** The domain of an address ("b@kiln-b.test" → "kiln-b.test"). */
export function domainOf(email: string): string {
  const at = email.lastIndexOf("@");
  return at === -1 ? "" : email.slice(at + 1);
}
