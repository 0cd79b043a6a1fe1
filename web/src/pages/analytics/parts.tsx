// Pieces both analytics screens use: the date-range picker (presets and a checked custom range),
// the grid of headline numbers with their rates, and the lazily loaded daily chart.

import { lazy, Suspense, useState, type ComponentProps } from "react";
import type { AnalyticsCounters, DayRange } from "../../api/analytics";
import { Button } from "../../ui/Button";
import { SelectField, TextField } from "../../ui/Field";
import { Loading } from "../../ui/Spinner";
import { checkCustomRange, formatCount, kRangePresets, presetRange, rangeOfPreset, totalItems, utcDay, type RangePreset } from "./analyticsFormat";

const Chart = lazy(() => import("./DailyChart").then((m) => ({ default: m.DailyChart })));

export function LazyDailyChart(props: ComponentProps<typeof Chart>) {
  return (
    <Suspense fallback={<Loading label="Loading the chart…" />}>
      <Chart {...props} />
    </Suspense>
  );
}

export interface RangeState {
  preset: RangePreset;
  /** The range asked of the API: a preset's days, or the last applied custom range. */
  range: DayRange;
}

/** The range picker's state, starting at `initial` (a preset other than "custom"). */
export function useRangeState(initial: Exclude<RangePreset, "custom">): [RangeState, (s: RangeState) => void] {
  const [state, setState] = useState<RangeState>(() => ({ preset: initial, range: rangeOfPreset(initial, new Date()) }));
  return [state, setState];
}

/**
 * Presets apply at once; a custom range is checked (real days, end not before start) and applied
 * with the button. `apiErrors` are the API's messages for "from"/"to", shown under those fields.
 */
export function RangePicker({
  value,
  onChange,
  apiErrors,
  allowAll = false,
}: {
  value: RangeState;
  onChange: (s: RangeState) => void;
  apiErrors?: Partial<Record<"from" | "to", string>>;
  /** Offer "All time" (the whole campaign). */
  allowAll?: boolean;
}) {
  const [from, setFrom] = useState(value.range.from ?? presetRange(30, new Date()).from);
  const [to, setTo] = useState(value.range.to ?? utcDay(new Date()));
  const [errors, setErrors] = useState<Partial<Record<"from" | "to", string>>>({});

  function choose(preset: RangePreset) {
    setErrors({});
    if (preset === "custom") {
      onChange({ ...value, preset });
      return;
    }
    const range = rangeOfPreset(preset, new Date());
    if (range.from !== undefined && range.to !== undefined) {
      setFrom(range.from);
      setTo(range.to);
    }
    onChange({ preset, range });
  }

  function apply() {
    const check = checkCustomRange(from, to);
    setErrors(check.errors);
    if (check.range) onChange({ preset: "custom", range: check.range });
  }

  return (
    <div className="flex flex-wrap items-end gap-3">
      <SelectField label="Date range" wrapperClassName="w-44" value={value.preset} options={kRangePresets.filter((p) => allowAll || p.value !== "all")} onChange={(e) => choose(e.target.value as RangePreset)} />
      {value.preset === "custom" && (
        <form
          noValidate
          aria-label="Custom range"
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <TextField label="From (UTC)" type="date" wrapperClassName="w-44" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} error={errors.from ?? apiErrors?.from} />
          <TextField label="To (UTC)" type="date" wrapperClassName="w-44" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} error={errors.to ?? apiErrors?.to} />
          <Button type="submit">Apply</Button>
        </form>
      )}
    </div>
  );
}

/** Headline counts with their rates, as a definition list (two columns on a phone). */
export function TotalsGrid({ totals, testId }: { totals: AnalyticsCounters; testId?: string }) {
  return (
    <dl className="grid grid-cols-2 gap-4 p-4 sm:grid-cols-3 lg:grid-cols-5" data-testid={testId}>
      {totalItems(totals).map((item) => (
        <div key={item.key} data-testid={testId ? `${testId}-${item.key}` : undefined}>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{item.label}</dt>
          <dd className="text-2xl font-semibold tabular-nums text-slate-900">{formatCount(item.value)}</dd>
          {item.rate && <dd className="text-xs text-slate-600">{item.rate}</dd>}
        </div>
      ))}
    </dl>
  );
}
