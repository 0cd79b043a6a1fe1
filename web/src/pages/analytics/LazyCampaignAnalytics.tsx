// The campaign page's analytics section, loaded on first use (its own bundle chunk).

import { lazy, Suspense, type ComponentProps } from "react";
import { Loading } from "../../ui/Spinner";

const Section = lazy(() => import("./CampaignAnalytics").then((m) => ({ default: m.CampaignAnalyticsSection })));

export function LazyCampaignAnalytics(props: ComponentProps<typeof Section>) {
  return (
    <Suspense fallback={<Loading label="Loading analytics…" />}>
      <Section {...props} />
    </Suspense>
  );
}
