// One conversation: who it is with (lead, campaign, sender), the messages in time order, the
// lead's and the conversation's status, and the reply form. Opening an unread conversation marks
// it read. A refused reply shows the server's own words next to the form.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { isApiError } from "../../api/client";
import {
  inboxKeys,
  kConversationStatuses,
  kLeadStatuses,
  statusLabel,
  type ConversationMessage,
  type ConversationPatch,
  type ConversationStatus,
  type LeadStatus,
  type Thread,
} from "../../api/inbox";
import { formatDateTime } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { FormError, SelectField } from "../../ui/Field";
import { Badge, Card, ErrorState } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { leadName } from "./inboxNav";
import { useInboxApi } from "./useInboxApi";

export function ThreadView({ workspace_id, conversation_id, can_edit }: { workspace_id: number; conversation_id: number; can_edit: boolean }) {
  const inbox = useInboxApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const thread = useQuery({
    queryKey: inboxKeys.thread(workspace_id, conversation_id),
    queryFn: () => inbox.thread(workspace_id, conversation_id),
    refetchInterval: 30_000,
  });

  const update = useMutation({
    mutationFn: (patch: ConversationPatch) => inbox.updateConversation(workspace_id, conversation_id, patch),
    onSuccess: (conversation, patch) => {
      query_client.setQueryData<Thread>(inboxKeys.thread(workspace_id, conversation_id), (old) =>
        old ? { ...old, ...conversation, messages: old.messages } : old,
      );
      void query_client.invalidateQueries({ queryKey: inboxKeys.conversationLists(workspace_id) });
      if (patch.lead_status !== undefined) {
        toast.success(`${leadName(conversation.lead)} is now ${statusLabel(patch.lead_status).toLowerCase()}.`);
      }
      if (patch.status !== undefined) toast.success(`Conversation marked ${statusLabel(patch.status).toLowerCase()}.`);
    },
    onError: (e) => toast.error(describeError(e)),
  });

  // Reading a conversation marks it read, once per opening.
  const marked = useRef(false);
  const data = thread.data;
  useEffect(() => {
    if (data === undefined || data.is_read || marked.current || !can_edit) return;
    marked.current = true;
    update.mutate({ is_read: true });
  }, [data, can_edit, update]);

  if (thread.isPending) return <Card><Loading label="Loading the conversation…" /></Card>;
  if (thread.isError) return <Card><ErrorState error={thread.error} onRetry={() => void thread.refetch()} /></Card>;
  const t = thread.data;

  return (
    <div className="space-y-4">
      <Card>
        <div className="space-y-3 p-4">
          <h2 className="text-lg font-semibold break-words text-slate-900">{t.subject || "(no subject)"}</h2>
          <dl className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
            <dt className="text-slate-500">Lead</dt>
            <dd className="min-w-0 break-words text-slate-900">
              {leadName(t.lead)}
              {leadName(t.lead) !== t.lead.email && <span className="text-slate-500"> &lt;{t.lead.email}&gt;</span>}
            </dd>
            <dt className="text-slate-500">Campaign</dt>
            <dd className="text-slate-900">{t.campaign_name ?? "—"}</dd>
            <dt className="text-slate-500">Sender</dt>
            <dd className="break-words text-slate-900">{t.sender_email}</dd>
          </dl>
          {can_edit && (
            <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
              <SelectField label="Lead status" wrapperClassName="sm:w-48" value={t.lead.status}
                disabled={update.isPending}
                options={kLeadStatuses.map((s) => ({ value: s, label: statusLabel(s) }))}
                onChange={(e) => update.mutate({ lead_status: e.target.value as LeadStatus })} />
              <SelectField label="Conversation status" wrapperClassName="sm:w-48" value={t.status}
                disabled={update.isPending}
                options={kConversationStatuses.map((s) => ({ value: s, label: statusLabel(s) }))}
                onChange={(e) => update.mutate({ status: e.target.value as ConversationStatus })} />
              <Button disabled={update.isPending} onClick={() => update.mutate({ is_read: !t.is_read })}>
                {t.is_read ? "Mark as unread" : "Mark as read"}
              </Button>
            </div>
          )}
        </div>
      </Card>

      <ol aria-label="Messages" className="space-y-3">
        {t.messages.map((m) => (
          <li key={`${m.kind}-${m.id}`}>
            <MessageCard message={m} />
          </li>
        ))}
      </ol>

      {can_edit && <ReplyForm workspace_id={workspace_id} thread={t} />}
    </div>
  );
}

const kKindLabel: Record<ConversationMessage["kind"], string> = {
  campaign: "Campaign email",
  reply: "Reply",
  auto_reply: "Automatic reply",
};

function MessageCard({ message: m }: { message: ConversationMessage }) {
  const body = messageText(m);
  return (
    <article aria-label={`${m.direction === "in" ? "From the lead" : "Sent"} ${formatDateTime(m.at)}`}
      className={m.direction === "in"
        ? "rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200"
        : "rounded-lg bg-brand-50 p-4 ring-1 ring-brand-100 sm:ml-8"}>
      <header className="mb-2 flex flex-wrap items-baseline justify-between gap-2 text-xs text-slate-600">
        <span className="min-w-0 break-words">
          <span className="font-medium text-slate-900">{m.from ?? "—"}</span> → {m.to ?? "—"}
        </span>
        <span className="flex items-center gap-2">
          <Badge tone={m.direction === "in" ? "blue" : "neutral"}>{kKindLabel[m.kind] ?? m.kind}</Badge>
          <time dateTime={m.at}>{formatDateTime(m.at)}</time>
        </span>
      </header>
      {m.subject && <p className="mb-1 text-sm font-medium break-words text-slate-900">{m.subject}</p>}
      {m.kind === "campaign" && body === "" ? (
        <p className="text-sm text-slate-500 italic">
          The campaign email{m.status ? ` (${statusLabel(m.status).toLowerCase()})` : ""}; its body is not kept.
        </p>
      ) : (
        <div className="text-sm whitespace-pre-wrap break-words text-slate-800">{body || <span className="italic text-slate-500">(empty)</span>}</div>
      )}
    </article>
  );
}

/** The message's text, or the text of its HTML part (parsed inertly: nothing runs or loads). */
function messageText(m: ConversationMessage): string {
  if (m.body_text && m.body_text.trim() !== "") return m.body_text.trim();
  if (m.body_html && typeof DOMParser !== "undefined") {
    const doc = new DOMParser().parseFromString(m.body_html, "text/html");
    return (doc.body.textContent ?? "").trim();
  }
  return "";
}

function ReplyForm({ workspace_id, thread }: { workspace_id: number; thread: Thread }) {
  const inbox = useInboxApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const text_id = useId();
  const error_id = useId();

  const send = useMutation({
    mutationFn: (body: string) => inbox.reply(workspace_id, thread.id, { text: body }),
    onSuccess: (answer) => {
      setText("");
      setError(undefined);
      setNote(answer.sent_copy ? undefined : `Sent, but the copy in the Sent folder failed: ${answer.sent_copy_error ?? "unknown reason"}`);
      toast.success(`Reply sent to ${answer.to}.`);
      void query_client.invalidateQueries({ queryKey: inboxKeys.thread(workspace_id, thread.id) });
      void query_client.invalidateQueries({ queryKey: inboxKeys.conversationLists(workspace_id) });
    },
    onError: (e) => {
      setNote(undefined);
      if (isApiError(e) && (e.status === 503 || e.code === "unavailable")) {
        setError(`Temporary failure, nothing was sent; try again in a moment. ${e.message}`);
      } else {
        setError(describeError(e));
      }
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (text.trim() === "") {
      setError("Write a reply first.");
      return;
    }
    send.mutate(text);
  }

  return (
    <Card>
      <form onSubmit={submit} noValidate className="space-y-3 p-4" aria-label="Reply">
        <label htmlFor={text_id} className="block text-sm font-medium text-slate-700">
          Reply to {thread.lead.email} from {thread.sender_email}
        </label>
        <textarea id={text_id} rows={6} value={text} onChange={(e) => setText(e.target.value)}
          aria-invalid={error ? true : undefined} aria-describedby={error ? error_id : undefined}
          className="block w-full rounded-md border-0 px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none" />
        {error && (
          <div id={error_id}>
            <FormError message={error} />
          </div>
        )}
        {note && <p role="status" className="text-sm text-amber-800">{note}</p>}
        <div className="flex justify-end">
          <Button type="submit" variant="primary" busy={send.isPending}>Send reply</Button>
        </div>
      </form>
    </Card>
  );
}
