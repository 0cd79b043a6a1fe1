// The SendersApi (CSV bulk add, test email) over the app's shared ApiClient.

import { useMemo } from "react";
import { useApi } from "../../api/context";
import { SendersApi } from "../../api/senders";

export function useSendersApi(): SendersApi {
  const api = useApi();
  return useMemo(() => new SendersApi(api.client), [api]);
}
