// The daily series of an analytics slice (sent, opens, clicks, replies, bounces per UTC day), drawn
// with Recharts. Loaded lazily (LazyDailyChart in parts.tsx) so Recharts stays out of the bundle
// every page loads. The chart is an image to assistive technology, named by `label` and described
// by a one-sentence text summary of the series.

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { summarizeDaily, type ChartDay } from "./analyticsFormat";

const kSeries: ReadonlyArray<{ key: keyof Omit<ChartDay, "day">; color: string }> = [
  { key: "Sent", color: "#2563eb" },
  { key: "Opens", color: "#16a34a" },
  { key: "Clicks", color: "#9333ea" },
  { key: "Replies", color: "#c2410c" },
  { key: "Bounces", color: "#dc2626" },
];

export function DailyChart({ days, label }: { days: ChartDay[]; label: string }) {
  return (
    <figure>
      <div className="h-64" role="img" aria-label={`${label}. ${summarizeDaily(days)}`}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={days} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" fontSize={11} minTickGap={16} />
            <YAxis allowDecimals={false} fontSize={12} width={40} />
            <Tooltip />
            <Legend />
            {kSeries.map((s) => (
              <Line key={s.key} type="monotone" dataKey={s.key} stroke={s.color} dot={days.length <= 14} strokeWidth={2} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="mt-2 text-xs text-slate-500">{summarizeDaily(days)}</figcaption>
    </figure>
  );
}
