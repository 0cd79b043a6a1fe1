// The InboxApi (conversations and suppression) over the app's shared ApiClient.

import { useMemo } from "react";
import { useApi } from "../../api/context";
import { InboxApi } from "../../api/inbox";

export function useInboxApi(): InboxApi {
  const api = useApi();
  return useMemo(() => new InboxApi(api.client), [api]);
}
