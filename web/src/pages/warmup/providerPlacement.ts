// Placement by receiving provider, shaped for a chart and a table: providers in a fixed, familiar
// order with readable names, and each placement's share of what was looked for. Pure functions,
// unit-tested in providerPlacement.test.ts.

import type { ProviderPlacement } from "../../api/placement";

const kProviderNames: Record<string, string> = {
  gmail: "Gmail",
  outlook: "Outlook",
  yahoo: "Yahoo",
  self_hosted: "Self-hosted",
  other: "Other providers",
  peer: "Other senders (peers)",
};

const kOrder = ["gmail", "outlook", "yahoo", "self_hosted", "other", "peer"];

/** "gmail" -> "Gmail"; a provider the dashboard does not know yet is shown as the API names it. */
export function providerName(provider: string): string {
  return kProviderNames[provider] ?? provider;
}

/** One provider's row: counts as the API gives them, and shares in percent (0..100, one decimal). */
export interface ProviderRow {
  provider: string;
  name: string;
  placed: number;
  inbox: number;
  spam: number;
  other_folder: number;
  missing: number;
  inbox_rate: number | null;
  spam_rate: number | null;
  /** Shares of `placed` in percent, all 0 when nothing was placed. */
  shares: { inbox: number; spam: number; other_folder: number; missing: number };
}

function share(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

/**
 * Rows for `by_provider`: known providers first in the order Gmail, Outlook, Yahoo, self-hosted,
 * other, peers; unknown ones after them by name. Providers with nothing placed are left out.
 */
export function providerRows(by_provider: readonly ProviderPlacement[]): ProviderRow[] {
  const rank = (p: string) => {
    const i = kOrder.indexOf(p);
    return i === -1 ? kOrder.length : i;
  };
  return by_provider
    .filter((p) => p.placed > 0)
    .slice()
    .sort((a, b) => rank(a.provider) - rank(b.provider) || a.provider.localeCompare(b.provider))
    .map((p) => ({
      provider: p.provider,
      name: providerName(p.provider),
      placed: p.placed,
      inbox: p.inbox,
      spam: p.spam,
      other_folder: p.other_folder,
      missing: p.missing,
      inbox_rate: p.inbox_rate,
      spam_rate: p.spam_rate,
      shares: {
        inbox: share(p.inbox, p.placed),
        spam: share(p.spam, p.placed),
        other_folder: share(p.other_folder, p.placed),
        missing: share(p.missing, p.placed),
      },
    }));
}
