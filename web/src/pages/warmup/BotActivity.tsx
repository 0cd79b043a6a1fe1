// A warm-up inbox's recent activity, shown in its reputation dialog: each warm-up mail it received
// (from which sender, the subject) with what it did with it and when, newest first, paged.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { botActivityKeys, getBotActivity, activitySteps } from "../../api/botActivity";
import { useApi } from "../../api/context";
import { formatDateTime } from "../../lib/format";
import { useKeyset } from "../../lib/keyset";
import { EmptyState, ErrorState } from "../../ui/Layout";
import { Pager } from "../../ui/QueryTable";
import { Loading } from "../../ui/Spinner";

export function BotActivity({ workspace_id, bot_id }: { workspace_id: number; bot_id: number }) {
  const api = useApi();
  const pages = useKeyset<number>();
  const activity = useQuery({
    queryKey: botActivityKeys.page(workspace_id, bot_id, pages.before),
    queryFn: () => getBotActivity(api.client, workspace_id, bot_id, pages.before),
    placeholderData: keepPreviousData,
  });

  return (
    <section aria-labelledby={`bot-activity-${bot_id}`}>
      <h3 id={`bot-activity-${bot_id}`} className="mb-2 text-sm font-semibold text-slate-900">Recent activity</h3>
      {activity.isPending ? (
        <Loading label="Loading activity…" />
      ) : activity.isError ? (
        <ErrorState error={activity.error} onRetry={() => void activity.refetch()} />
      ) : activity.data.items.length === 0 ? (
        <EmptyState title="No warm-up mail received yet">Mail your senders send to this inbox shows here with what it did with it.</EmptyState>
      ) : (
        <>
          <ul className="divide-y divide-slate-100 rounded-md ring-1 ring-slate-200" aria-label="Warm-up mail received">
            {activity.data.items.map((item) => {
              const steps = activitySteps(item);
              return (
                <li key={item.id} className="px-3 py-2 text-sm">
                  <div className="flex flex-wrap justify-between gap-x-3">
                    <span className="min-w-0 break-words font-medium text-slate-900">{item.subject || "(no subject)"}</span>
                    <span className="text-xs text-slate-500">from {item.sender_email}</span>
                  </div>
                  {steps.length === 0 ? (
                    <p className="mt-1 text-xs text-slate-500">Sent {item.sent_at ? formatDateTime(item.sent_at) : ""}; not looked for yet.</p>
                  ) : (
                    <ol className="mt-1 flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-600">
                      {steps.map((s) => (
                        <li key={s.label}>
                          {s.label}{s.at !== null && <> <span className="text-slate-500">{formatDateTime(s.at)}</span></>}
                        </li>
                      ))}
                    </ol>
                  )}
                </li>
              );
            })}
          </ul>
          {(pages.hasNewer || activity.data.next_before !== null) && (
            <Pager label="Pages of activity" hasNewer={pages.hasNewer} hasOlder={activity.data.next_before !== null}
              busy={activity.isFetching} onNewer={pages.newer} onOlder={() => pages.older(activity.data.next_before)}
              status={`Page ${pages.page}`} />
          )}
        </>
      )}
    </section>
  );
}
