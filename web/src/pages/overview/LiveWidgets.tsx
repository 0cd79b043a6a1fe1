// The Overview's live pieces: a labelled progress bar, running campaigns with their progress, the
// speed chart (a small SVG: Recharts is not a dependency yet) and the activity feed. Pure
// presentation of useLive's state (lib/live.ts).

import type { LiveActivity, LiveCampaign, LiveConnection, SpeedPoint } from "../../lib/live";
import { cx } from "../../lib/cx";
import { Badge, EmptyState, type Tone } from "../../ui/Layout";

const kNumber = new Intl.NumberFormat();
export const fmt = (n: number) => kNumber.format(n);

/** A horizontal bar with an accessible name and value ("42 of 300"). */
export function ProgressBar({ label, value, max, tone = "brand" }: { label: string; value: number; max: number; tone?: "brand" | "amber" }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={Math.max(max, 0)}
      aria-valuenow={Math.min(value, Math.max(max, 0))}
      aria-valuetext={`${fmt(value)} of ${fmt(max)}`}
      className="h-2 w-full overflow-hidden rounded-full bg-slate-100"
    >
      <div
        className={cx("h-full rounded-full transition-[width] duration-500", tone === "brand" ? "bg-brand-600" : "bg-amber-500")}
        style={{ width: `${pct}%` }}
      />
    </div>
  );
}

export function ConnectionBadge({ connection, stale }: { connection: LiveConnection; stale: boolean }) {
  if (connection === "open" && !stale) return <Badge tone="green">Live</Badge>;
  if (connection === "connecting") return <Badge tone="blue">Connecting…</Badge>;
  return (
    <span title="The numbers may be out of date; reconnecting in the background">
      <Badge tone="amber">{connection === "open" ? "Stale" : "Reconnecting…"}</Badge>
    </span>
  );
}

export function CampaignProgress({ campaigns }: { campaigns: LiveCampaign[] }) {
  if (campaigns.length === 0) {
    return <EmptyState title="No campaign is running">Launch a campaign to see its progress here.</EmptyState>;
  }
  return (
    <ul className="divide-y divide-slate-100" aria-label="Running campaigns">
      {campaigns.map((c) => {
        const done = Math.max(0, c.enrolled - c.remaining);
        return (
          <li key={c.id} className="px-4 py-3" data-testid={`live-campaign-${c.id}`}>
            <div className="flex items-baseline justify-between gap-3">
              <span className="truncate font-medium text-slate-900">{c.name}</span>
              <span className="shrink-0 text-xs tabular-nums text-slate-600">{fmt(c.rate_per_minute)} / min</span>
            </div>
            <div className="mt-2">
              <ProgressBar label={`${c.name}: leads done`} value={done} max={c.enrolled} />
            </div>
            <dl className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
              <Count label="Sent" value={c.sent} testid={`live-campaign-${c.id}-sent`} />
              <Count label="Replied" value={c.replied} />
              <Count label="Bounced" value={c.bounced} />
              <Count label="Failed" value={c.failed} />
              <Count label="Remaining" value={c.remaining} />
            </dl>
          </li>
        );
      })}
    </ul>
  );
}

function Count({ label, value, testid }: { label: string; value: number; testid?: string }) {
  return (
    <div className="flex gap-1">
      <dt>{label}</dt>
      <dd className="font-medium tabular-nums text-slate-900" data-testid={testid}>
        {fmt(value)}
      </dd>
    </div>
  );
}

/** Sends per minute over time; the last value is also given as text for screen readers. */
export function SpeedChart({ points }: { points: SpeedPoint[] }) {
  const width = 320;
  const height = 96;
  const last = points.length > 0 ? points[points.length - 1].per_minute : 0;
  const max = Math.max(1, ...points.map((p) => p.per_minute));
  let path = "";
  if (points.length > 1) {
    const t0 = points[0].at_ms;
    const span = Math.max(1, points[points.length - 1].at_ms - t0);
    path = points
      .map((p, i) => {
        const x = ((p.at_ms - t0) / span) * width;
        const y = height - (p.per_minute / max) * (height - 8) - 4;
        return `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(" ");
  }
  return (
    <figure className="p-4">
      <p className="text-3xl font-semibold tabular-nums text-slate-900">
        {fmt(last)} <span className="text-sm font-normal text-slate-600">sends / min (last 5 min)</span>
      </p>
      <svg viewBox={`0 0 ${width} ${height}`} className="mt-3 h-24 w-full" role="img" aria-label={`Send speed: ${fmt(last)} per minute now, at most ${fmt(max)} since this page opened`} preserveAspectRatio="none">
        <line x1="0" x2={width} y1={height - 4} y2={height - 4} className="stroke-slate-200" strokeWidth="1" />
        {path && <path d={path} fill="none" className="stroke-brand-600" strokeWidth="2" vectorEffect="non-scaling-stroke" />}
      </svg>
      <figcaption className="mt-1 text-xs text-slate-500">Since this page was opened; updated live.</figcaption>
    </figure>
  );
}

const kEventTone: Record<LiveActivity["type"], Tone> = {
  sent: "neutral",
  opened: "blue",
  clicked: "blue",
  replied: "green",
  bounced: "red",
  unsubscribed: "amber",
};

const kEventWords: Record<LiveActivity["type"], string> = {
  sent: "Sent to",
  opened: "Opened by",
  clicked: "Clicked by",
  replied: "Reply from",
  bounced: "Bounced:",
  unsubscribed: "Unsubscribed:",
};

const kTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function ActivityFeed({ items }: { items: LiveActivity[] }) {
  if (items.length === 0) return <EmptyState title="No activity yet">Sends, opens, clicks and replies appear here as they happen.</EmptyState>;
  return (
    <ol className="max-h-96 divide-y divide-slate-100 overflow-y-auto" aria-label="Activity" aria-live="polite" data-testid="live-activity">
      {items.map((a) => (
        <li key={a.id} className="flex items-start justify-between gap-3 px-4 py-2 text-sm">
          <div className="min-w-0">
            <Badge tone={kEventTone[a.type] ?? "neutral"}>{a.type}</Badge>{" "}
            <span className="text-slate-700">{kEventWords[a.type] ?? a.type}</span>{" "}
            <span className="font-medium text-slate-900">{a.lead_email}</span>
            {a.machine && <span className="ml-1 text-xs text-slate-500">(automated)</span>}
            {a.campaign_name && <div className="truncate text-xs text-slate-500">{a.campaign_name}</div>}
          </div>
          <time dateTime={a.at} className="shrink-0 text-xs tabular-nums text-slate-500">
            {Number.isNaN(Date.parse(a.at)) ? "" : kTime.format(Date.parse(a.at))}
          </time>
        </li>
      ))}
    </ol>
  );
}
