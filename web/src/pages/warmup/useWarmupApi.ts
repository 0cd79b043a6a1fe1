// The WarmupApi (bots, reputation, sender plans and checks) over the app's shared ApiClient.

import { useMemo } from "react";
import { useApi } from "../../api/context";
import { WarmupApi } from "../../api/warmup";

export function useWarmupApi(): WarmupApi {
  const api = useApi();
  return useMemo(() => new WarmupApi(api.client), [api]);
}
