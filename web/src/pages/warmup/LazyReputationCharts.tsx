// ReputationCharts loaded on first use: Recharts is a large library that only these dialogs
// need, so it lives in its own bundle chunk instead of the one every page loads.

import { lazy, Suspense, type ComponentProps } from "react";
import { Loading } from "../../ui/Spinner";

const Charts = lazy(() => import("./ReputationCharts").then((m) => ({ default: m.ReputationCharts })));

export function LazyReputationCharts(props: ComponentProps<typeof Charts>) {
  return (
    <Suspense fallback={<Loading label="Loading charts…" />}>
      <Charts {...props} />
    </Suspense>
  );
}
