// A sender's warm-up placement by the receiving mailbox's provider (Gmail, Outlook, Yahoo, …, other
// senders) over the last 7, 14 or 30 days: a stacked bar of inbox / spam / other folder / missing
// shares per provider, and the same numbers in a table that screen readers use (the chart itself
// is hidden from them). Drawn with Recharts, so this module is loaded on first use.

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { SenderPlacement } from "../../api/placement";
import { SelectField } from "../../ui/Field";
import { EmptyState, ErrorState, Table, Td, Th } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { providerRows } from "./providerPlacement";
import { percent } from "./ReputationCharts";

const kSpans = [7, 14, 30] as const;

const kSeries = [
  { key: "inbox", name: "Inbox", color: "#16a34a" },
  { key: "spam", name: "Spam", color: "#dc2626" },
  { key: "other_folder", name: "Other folder", color: "#f59e0b" },
  { key: "missing", name: "Missing", color: "#94a3b8" },
] as const;

export function ProviderPlacement({ queryKey, load }: { queryKey: (days: number) => readonly unknown[]; load: (days: number) => Promise<SenderPlacement> }) {
  const [days, setDays] = useState<number>(30);
  const placement = useQuery({ queryKey: queryKey(days), queryFn: () => load(days) });
  const rows = placement.data ? providerRows(placement.data.by_provider) : [];
  const chart = rows.map((r) => ({ name: r.name, ...r.shares }));

  return (
    <div>
      <div className="mb-2 flex flex-wrap items-end justify-between gap-3">
        <h3 className="text-sm font-semibold text-slate-900">Placement by provider</h3>
        <SelectField label="Period" wrapperClassName="w-32" value={String(days)}
          options={kSpans.map((d) => ({ value: String(d), label: `${d} days` }))}
          onChange={(e) => setDays(Number(e.target.value))} />
      </div>
      {placement.isPending ? (
        <Loading label="Loading placement by provider…" />
      ) : placement.isError ? (
        <ErrorState error={placement.error} onRetry={() => void placement.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No placement by provider yet">
          Rows appear once warm-up mail sent in the last {days} days has been looked for in the receiving mailboxes.
        </EmptyState>
      ) : (
        <div className="space-y-3">
          <div className="w-full" style={{ height: 48 + rows.length * 40 }} aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={chart} layout="vertical" margin={{ left: 8, right: 16 }}>
                <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                <XAxis type="number" domain={[0, 100]} unit="%" fontSize={12} />
                <YAxis type="category" dataKey="name" width={110} fontSize={12} />
                <Tooltip formatter={(value) => `${String(value)}%`} />
                <Legend />
                {kSeries.map((s) => (
                  <Bar key={s.key} dataKey={s.key} name={s.name} stackId="p" fill={s.color} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <Table
            caption={`Warm-up placement by provider, last ${days} days`}
            head={
              <tr>
                <Th>Provider</Th>
                <Th className="text-right">Looked for</Th>
                <Th className="text-right">Inbox</Th>
                <Th className="text-right">Spam</Th>
                <Th className="text-right">Other folder</Th>
                <Th className="text-right">Missing</Th>
              </tr>
            }
          >
            {rows.map((r) => (
              <tr key={r.provider}>
                <th scope="row" className="px-4 py-3 text-left font-medium whitespace-nowrap text-slate-900">{r.name}</th>
                <Td className="text-right tabular-nums">{r.placed}</Td>
                <Td className="text-right tabular-nums">{r.inbox} ({percent(r.inbox_rate)})</Td>
                <Td className="text-right tabular-nums">{r.spam} ({percent(r.spam_rate)})</Td>
                <Td className="text-right tabular-nums">{r.other_folder} ({r.shares.other_folder}%)</Td>
                <Td className="text-right tabular-nums">{r.missing} ({r.shares.missing}%)</Td>
              </tr>
            ))}
          </Table>
        </div>
      )}
    </div>
  );
}
