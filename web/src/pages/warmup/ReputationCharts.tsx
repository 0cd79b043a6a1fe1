// Reputation of a sender or a warm-up inbox: inbox vs spam placement over the last 7, 14 and 30
// days, and the daily history (placement and health score) for the chosen span, drawn with
// Recharts. Each chart has a text summary for screen readers.

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Reputation } from "../../api/warmup";
import { SelectField } from "../../ui/Field";
import { EmptyState, ErrorState } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";

const kSpans = [7, 14, 30] as const;

/** "87%" for a 0..1 rate, "—" when there was nothing to divide by. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

export function ReputationCharts({ queryKey, load }: { queryKey: (days: number) => readonly unknown[]; load: (days: number) => Promise<Reputation> }) {
  const [days, setDays] = useState<number>(30);
  const reputation = useQuery({ queryKey: queryKey(days), queryFn: () => load(days) });

  if (reputation.isPending) return <Loading label="Loading reputation…" />;
  if (reputation.isError) return <ErrorState error={reputation.error} onRetry={() => void reputation.refetch()} />;
  const r = reputation.data;
  const windows = r.windows.map((w) => ({ name: `${w.days} days`, Inbox: w.inbox, Spam: w.spam, Other: w.other_folder, Missing: w.missing, w }));
  const daily = r.daily.map((d) => ({ day: d.day, Inbox: d.inbox ?? 0, Spam: d.spam ?? 0, Score: d.score }));
  const with_sample = r.windows.some((w) => w.has_sample);

  return (
    <div className="space-y-6">
      <div>
        <h3 className="mb-2 text-sm font-semibold text-slate-900">Placement, last 7 / 14 / 30 days</h3>
        <ul className="mb-3 grid gap-2 text-sm sm:grid-cols-3">
          {r.windows.map((w) => (
            <li key={w.days} className="rounded-md bg-slate-50 px-3 py-2 ring-1 ring-slate-200">
              <div className="text-xs text-slate-500">{w.days} days</div>
              <div>
                Inbox <strong>{percent(w.inbox_rate)}</strong> · Spam <strong>{percent(w.spam_rate)}</strong>
              </div>
              <div className="text-xs text-slate-600">
                {w.placed} placed of {w.warmup_sent} warm-up sent · replies {percent(w.reply_rate)} · score {w.score ?? "—"}
              </div>
            </li>
          ))}
        </ul>
        {with_sample ? (
          <div className="h-56" role="img" aria-label={`Inbox and spam counts: ${r.windows.map((w) => `${w.days} days ${w.inbox} inbox, ${w.spam} spam`).join("; ")}`}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={windows}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="name" fontSize={12} />
                <YAxis allowDecimals={false} fontSize={12} width={36} />
                <Tooltip />
                <Legend />
                <Bar dataKey="Inbox" stackId="p" fill="#16a34a" />
                <Bar dataKey="Spam" stackId="p" fill="#dc2626" />
                <Bar dataKey="Other" stackId="p" fill="#f59e0b" />
                <Bar dataKey="Missing" stackId="p" fill="#94a3b8" />
              </BarChart>
            </ResponsiveContainer>
          </div>
        ) : (
          <EmptyState title={r.windows.some((w) => w.placed > 0) ? "Too little placement measured for a chart yet" : "No placement measured yet"}>
            Placement appears once enough warm-up mail has been sent and looked for.
          </EmptyState>
        )}
      </div>
      <div>
        <div className="mb-2 flex flex-wrap items-end justify-between gap-3">
          <h3 className="text-sm font-semibold text-slate-900">Daily history</h3>
          <SelectField label="Span" wrapperClassName="w-32" value={String(days)}
            options={kSpans.map((d) => ({ value: String(d), label: `${d} days` }))}
            onChange={(e) => setDays(Number(e.target.value))} />
        </div>
        {daily.length === 0 ? (
          <EmptyState title="No history yet">The daily job writes one point a day.</EmptyState>
        ) : (
          <div className="grid gap-4 md:grid-cols-2">
            <div className="h-56" role="img" aria-label={`Health score by day, last ${days} days: ${daily.map((d) => `${d.day} ${d.Score ?? "no sample"}`).join(", ")}`}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={daily}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="day" fontSize={11} />
                  <YAxis domain={[0, 100]} fontSize={12} width={36} />
                  <Tooltip />
                  <Line type="monotone" dataKey="Score" name="Health score" stroke="#c2410c" connectNulls dot={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
            <div className="h-56" role="img" aria-label={`Inbox and spam by day, last ${days} days`}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={daily}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="day" fontSize={11} />
                  <YAxis allowDecimals={false} fontSize={12} width={36} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="Inbox" stackId="d" fill="#16a34a" />
                  <Bar dataKey="Spam" stackId="d" fill="#dc2626" />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
