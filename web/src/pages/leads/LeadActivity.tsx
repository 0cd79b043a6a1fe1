// The lead page's "Activity" card: every event of the mail sent to the lead, from every campaign,
// newest first, 20 to a page — what happened (sent, opened, clicked with the URL, replied with a
// link to the conversation, bounced with the reason…), when, and from which campaign, step and
// variant. Opens and clicks by privacy proxies and scanners are marked as such.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useApi } from "../../api/context";
import { describeLeadEvent, getLeadEvents, leadEventKeys, stepLabel, type LeadEvent } from "../../api/leadEvents";
import { useWorkspace } from "../../layout/workspace";
import { formatDateTime } from "../../lib/format";
import { useKeyset } from "../../lib/keyset";
import { Badge, Card, EmptyState, ErrorState } from "../../ui/Layout";
import { Pager } from "../../ui/QueryTable";
import { Loading } from "../../ui/Spinner";

export function LeadActivityCard({ lead_id }: { lead_id: number }) {
  const api = useApi();
  const workspace = useWorkspace();
  const pages = useKeyset<number>();
  const events = useQuery({
    queryKey: leadEventKeys.page(workspace.id, lead_id, pages.before),
    queryFn: () => getLeadEvents(api.client, workspace.id, lead_id, pages.before),
    placeholderData: keepPreviousData,
  });
  return (
    <Card title="Activity">
      {events.isPending ? (
        <Loading label="Loading activity…" />
      ) : events.isError ? (
        <ErrorState error={events.error} onRetry={() => void events.refetch()} />
      ) : events.data.items.length === 0 && !pages.hasNewer ? (
        <EmptyState title="No activity yet">Sends, opens, clicks, replies and bounces of this lead's campaign mail appear here.</EmptyState>
      ) : (
        <>
          <ol className="divide-y divide-slate-100" aria-label="Activity, newest first" data-testid="lead-activity">
            {events.data.items.map((e) => (
              <EventRow key={e.id} event={e} workspace_id={workspace.id} />
            ))}
          </ol>
          {(pages.hasNewer || events.data.next_before !== null) && (
            <Pager
              label="Pages of activity"
              hasNewer={pages.hasNewer}
              hasOlder={events.data.next_before !== null}
              busy={events.isFetching}
              onNewer={pages.newer}
              onOlder={() => pages.older(events.data.next_before)}
              status={`Page ${pages.page}`}
            />
          )}
        </>
      )}
    </Card>
  );
}

function EventRow({ event, workspace_id }: { event: LeadEvent; workspace_id: number }) {
  const d = describeLeadEvent(event);
  const step = stepLabel(event);
  return (
    <li className="px-4 py-3 text-sm" data-testid="lead-event">
      <div className="flex flex-wrap items-center justify-between gap-x-3 gap-y-1">
        <span className="flex flex-wrap items-center gap-2">
          <Badge tone={d.tone}>{d.label}</Badge>
          {event.is_machine && (
            <span className="text-xs text-slate-500" title="Recorded from a privacy proxy or link scanner, not counted as the lead's">
              by a machine<span className="sr-only"> (a privacy proxy or link scanner, not the lead)</span>
            </span>
          )}
        </span>
        <time dateTime={event.at} className="text-xs text-slate-500">
          {formatDateTime(event.at)}
        </time>
      </div>
      <div className="mt-1 text-xs text-slate-600">
        <Link to={`/w/${workspace_id}/campaigns/${event.campaign_id}`} className="font-medium text-brand-700 hover:underline">
          {event.campaign_name || `Campaign ${event.campaign_id}`}
        </Link>
        {step !== "" && <> · {step}</>}
        {d.conversation_id !== undefined && (
          <>
            {" · "}
            <Link to={`/w/${workspace_id}/inbox/${d.conversation_id}`} className="text-brand-700 hover:underline">
              Open the conversation
            </Link>
          </>
        )}
      </div>
      {d.note !== "" && (
        <p className="mt-1 text-xs break-all text-slate-600">
          {d.url !== undefined ? (
            <a href={d.url} target="_blank" rel="noopener noreferrer" className="text-brand-700 hover:underline">
              {d.note}
              <span className="sr-only"> (opens in a new tab)</span>
            </a>
          ) : (
            d.note
          )}
        </p>
      )}
    </li>
  );
}
