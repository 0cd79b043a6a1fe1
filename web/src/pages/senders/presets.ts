// Server settings of the common mailbox providers, offered when adding a sender.

import type { Security } from "../../api/types";

export interface EndpointPreset {
  host: string;
  port: number;
  security: Security;
}

export interface ProviderPreset {
  id: "gmail" | "outlook";
  label: string;
  smtp: EndpointPreset;
  imap: EndpointPreset;
}

export const kProviderPresets: readonly ProviderPreset[] = [
  {
    id: "gmail",
    label: "Gmail / Google Workspace",
    smtp: { host: "smtp.gmail.com", port: 587, security: "starttls" },
    imap: { host: "imap.gmail.com", port: 993, security: "tls" },
  },
  {
    id: "outlook",
    label: "Outlook / Microsoft 365",
    smtp: { host: "smtp.office365.com", port: 587, security: "starttls" },
    imap: { host: "outlook.office365.com", port: 993, security: "tls" },
  },
];

export type PresetId = ProviderPreset["id"] | "custom";

/** The preset whose servers match exactly, else "custom". */
export function detectPreset(smtp: EndpointPreset, imap: EndpointPreset): PresetId {
  const same = (a: EndpointPreset, b: EndpointPreset) =>
    a.host.toLowerCase() === b.host && a.port === b.port && a.security === b.security;
  return kProviderPresets.find((p) => same(smtp, p.smtp) && same(imap, p.imap))?.id ?? "custom";
}

export function findPreset(id: PresetId): ProviderPreset | undefined {
  return kProviderPresets.find((p) => p.id === id);
}
