// The unified inbox: conversations with leads across every sender of the workspace, filtered by
// status, read state, sender and text; the selected conversation's thread opens beside the list
// (on a phone, instead of it). j/k or the arrow keys move through the list. The open conversation
// stays in the list while it is open even when the filter no longer takes it (inboxList.ts).

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { campaignKeys, listCampaigns } from "../../api/campaigns";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import {
  inboxKeys,
  kConversationStatuses,
  statusLabel,
  type Conversation,
  type ConversationFilter,
  type ConversationStatus,
} from "../../api/inbox";
import { useWorkspace } from "../../layout/workspace";
import { cx } from "../../lib/cx";
import { formatDateTime } from "../../lib/format";
import { Button } from "../../ui/Button";
import { CheckboxField, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, PageHeader, type Tone } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { filterKey, holdOpenConversation, visibleConversations, type HeldConversation } from "./inboxList";
import { isTypingTarget, leadName, nextSelection } from "./inboxNav";
import { ThreadView } from "./ThreadView";
import { useInboxApi } from "./useInboxApi";

const kPageSize = 50;

export const kConversationTone: Record<ConversationStatus, Tone> = {
  open: "blue",
  interested: "green",
  not_interested: "neutral",
  closed: "neutral",
};

export function InboxPage() {
  const workspace = useWorkspace();
  const inbox = useInboxApi();
  const api = useApi();
  const navigate = useNavigate();
  const params = useParams();
  const selected = params.conversationId === undefined ? undefined : Number(params.conversationId);

  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [status, setStatus] = useState<ConversationStatus | "">("");
  const [unread_only, setUnreadOnly] = useState(false);
  const [sender_id, setSenderId] = useState("");
  const [campaign_id, setCampaignId] = useState("");

  // The search runs a moment after typing stops, not on every key.
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const filter: ConversationFilter = useMemo(
    () => ({
      q: q.trim() === "" ? undefined : q.trim(),
      status: status === "" ? undefined : status,
      unread: unread_only ? true : undefined,
      sender_id: sender_id === "" ? undefined : Number(sender_id),
      campaign_id: campaign_id === "" ? undefined : Number(campaign_id),
    }),
    [q, status, unread_only, sender_id, campaign_id],
  );

  const senders = useQuery({ queryKey: queryKeys.senders(workspace.id), queryFn: () => api.senders(workspace.id) });
  const campaigns = useQuery({ queryKey: campaignKeys.list(workspace.id, ""), queryFn: () => listCampaigns(api.client, workspace.id) });
  const list = useInfiniteQuery({
    queryKey: inboxKeys.conversationList(workspace.id, filter),
    queryFn: ({ pageParam }) => inbox.conversations(workspace.id, filter, { limit: kPageSize, before: pageParam }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_before ?? undefined,
    // New replies arrive from the inbox watcher; look again now and then.
    refetchInterval: 30_000,
  });
  const fetched: Conversation[] = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  // The open conversation stays listed while it is open, even once the filter no longer takes it
  // (reading it under "Unread only"); opening another or changing the filter lets it go.
  const filter_key = filterKey(filter);
  const [held, setHeld] = useState<HeldConversation | undefined>();
  const next_held = holdOpenConversation(held, selected, filter_key, fetched);
  if (next_held !== held) setHeld(next_held);
  const shows_held = next_held !== undefined && !fetched.some((c) => c.id === next_held.conversation.id);
  // Its row shows what the thread now says (read, its status), from the thread's own query.
  const open_thread = useQuery({
    queryKey: inboxKeys.thread(workspace.id, selected ?? 0),
    queryFn: () => inbox.thread(workspace.id, selected ?? 0),
    enabled: shows_held,
  });
  const conversations = useMemo(
    () => visibleConversations(fetched, next_held, selected, filter_key, shows_held ? open_thread.data : undefined),
    [fetched, next_held, selected, filter_key, shows_held, open_thread.data],
  );

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.altKey || e.ctrlKey || e.metaKey || isTypingTarget(e.target)) return;
      // Inside an open dialog or menu the keys belong to it.
      if (e.target instanceof HTMLElement && e.target.closest("dialog,[role=menu]")) return;
      const next = nextSelection(conversations.map((c) => c.id), selected, e.key);
      if (next === undefined) return;
      e.preventDefault();
      if (next !== selected) {
        navigate(`/w/${workspace.id}/inbox/${next}`);
        window.requestAnimationFrame(() => document.getElementById(`conversation-${next}`)?.focus());
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [conversations, selected, navigate, workspace.id]);

  const sender_options = [
    { value: "", label: "All senders" },
    ...(senders.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.email })),
  ];
  const campaign_options = [
    { value: "", label: "All campaigns" },
    ...(campaigns.data?.items ?? []).map((c) => ({ value: String(c.id), label: c.name })),
  ];
  const status_options = [
    { value: "", label: "Any status" },
    ...kConversationStatuses.map((s) => ({ value: s, label: statusLabel(s) })),
  ];
  const filtered = filter.q !== undefined || filter.status !== undefined || filter.unread !== undefined || filter.sender_id !== undefined || filter.campaign_id !== undefined;

  return (
    <>
      <PageHeader title="Inbox" description="Replies from leads to every sender, in one place. Answers go out through the sender the lead wrote to." />
      <div className="grid gap-4 lg:grid-cols-[minmax(18rem,24rem)_1fr]">
        <Card className={cx("min-w-0", selected !== undefined && "hidden lg:block")}>
          <div className="space-y-3 border-b border-slate-200 p-3" role="search" aria-label="Filter conversations">
            <TextField label="Search" type="search" placeholder="Subject or lead address" value={search}
              onChange={(e) => setSearch(e.target.value)} />
            <div className="grid grid-cols-2 gap-2">
              <SelectField label="Status" value={status} options={status_options}
                onChange={(e) => setStatus(e.target.value as ConversationStatus | "")} />
              <SelectField label="Sender" value={sender_id} options={sender_options}
                onChange={(e) => setSenderId(e.target.value)} />
            </div>
            <SelectField label="Campaign" value={campaign_id} options={campaign_options}
              onChange={(e) => setCampaignId(e.target.value)} />
            <CheckboxField label="Unread only" checked={unread_only} onChange={(e) => setUnreadOnly(e.target.checked)} />
          </div>
          {list.isPending ? (
            <Loading label="Loading conversations…" />
          ) : list.isError ? (
            <ErrorState error={list.error} onRetry={() => void list.refetch()} />
          ) : conversations.length === 0 ? (
            <EmptyState title={filtered ? "No conversations match" : "No replies yet"}>
              {filtered ? "Change the filters to see more." : "When a lead answers a campaign, the conversation appears here."}
            </EmptyState>
          ) : (
            <>
              <p className="sr-only">Use j and k or the arrow keys to move through the conversations.</p>
              <ul aria-label="Conversations" className="divide-y divide-slate-100">
                {conversations.map((c) => (
                  <ConversationRow key={c.id} conversation={c} workspace_id={workspace.id} selected={c.id === selected} />
                ))}
              </ul>
              {list.hasNextPage && (
                <div className="p-3">
                  <Button className="w-full" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                    Load older conversations
                  </Button>
                </div>
              )}
            </>
          )}
        </Card>
        <div className={cx("min-w-0", selected === undefined && "hidden lg:block")}>
          {selected === undefined || Number.isNaN(selected) ? (
            <Card>
              <EmptyState title="No conversation selected">Choose a conversation to read the thread and answer.</EmptyState>
            </Card>
          ) : (
            <>
              <Link to={`/w/${workspace.id}/inbox`} className="mb-3 inline-block text-sm font-medium text-brand-700 lg:hidden">
                ← All conversations
              </Link>
              <ThreadView key={selected} workspace_id={workspace.id} conversation_id={selected} can_edit={workspace.role !== "viewer"} />
            </>
          )}
        </div>
      </div>
    </>
  );
}

function ConversationRow({ conversation: c, workspace_id, selected }: { conversation: Conversation; workspace_id: number; selected: boolean }) {
  const label_id = useId();
  return (
    <li>
      <Link
        id={`conversation-${c.id}`}
        to={`/w/${workspace_id}/inbox/${c.id}`}
        aria-current={selected ? "page" : undefined}
        aria-labelledby={label_id}
        className={cx(
          "block px-3 py-3 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-brand-600",
          selected ? "bg-brand-50" : "hover:bg-slate-50",
        )}
      >
        <span id={label_id} className="sr-only">
          {`${c.is_read ? "" : "Unread. "}${leadName(c.lead)}: ${c.subject}`}
        </span>
        <div className="flex items-baseline justify-between gap-2">
          <span className={cx("truncate text-sm", c.is_read ? "text-slate-700" : "font-semibold text-slate-900")}>
            {!c.is_read && <span aria-hidden="true" className="mr-1.5 inline-block h-2 w-2 rounded-full bg-brand-600" />}
            {leadName(c.lead)}
          </span>
          <time dateTime={c.last_message_at} className="shrink-0 text-xs text-slate-500">{formatDateTime(c.last_message_at)}</time>
        </div>
        <div className={cx("mt-0.5 truncate text-sm", c.is_read ? "text-slate-600" : "font-medium text-slate-800")}>{c.subject}</div>
        <div className="mt-1 flex flex-wrap items-center gap-2 text-xs text-slate-500">
          <Badge tone={kConversationTone[c.status] ?? "neutral"}>{statusLabel(c.status)}</Badge>
          <span className="truncate">via {c.sender_email}</span>
        </div>
      </Link>
    </li>
  );
}
