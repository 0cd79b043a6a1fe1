// Which conversations the inbox list shows. A filter such as "Unread only" would drop the thread
// the user is reading as soon as reading marks it read; like a mail client's unified inbox, the
// open thread stays in the list until the user opens another one or changes the filter, and then
// the filter applies again. Pure and unit-tested (inboxList.test.ts); InboxPage keeps the
// HeldConversation between renders.

import type { Conversation, ConversationFilter } from "../../api/inbox";

/** The open conversation as the list last showed it, and the filter it was shown under. */
export interface HeldConversation {
  filter_key: string;
  conversation: Conversation;
}

/** A key equal for equal filters (the fields in a fixed order, unset ones left out). */
export function filterKey(filter: ConversationFilter): string {
  return JSON.stringify([filter.q ?? null, filter.status ?? null, filter.unread ?? null, filter.sender_id ?? null, filter.campaign_id ?? null]);
}

/**
 * What to hold after the list answered `fetched` under `filter_key` while `selected` is open:
 * nothing when no conversation is open; the open one as fetched when the list has it; else what was
 * held, as long as it is the open one under the same filter (opening another conversation or
 * changing the filter lets it go). A conversation opened from elsewhere that the list never showed
 * under this filter is not held.
 */
export function holdOpenConversation(
  held: HeldConversation | undefined,
  selected: number | undefined,
  filter_key: string,
  fetched: readonly Conversation[],
): HeldConversation | undefined {
  if (selected === undefined) return undefined;
  const found = fetched.find((c) => c.id === selected);
  if (found !== undefined) {
    if (held !== undefined && held.conversation === found && held.filter_key === filter_key) return held;
    return { filter_key, conversation: found };
  }
  if (held === undefined || held.conversation.id !== selected || held.filter_key !== filter_key) return undefined;
  return held;
}

/**
 * The rows to show: `fetched` (newest first: ids descending, as the server orders them), with the
 * held conversation put back in its place when the filter no longer lists it but it is still the
 * open one under the same filter. `latest` is the open conversation's newest state (its thread, as
 * just read or changed), shown in the held row instead of the state it had when it left the list.
 */
export function visibleConversations(
  fetched: readonly Conversation[],
  held: HeldConversation | undefined,
  selected: number | undefined,
  filter_key: string,
  latest?: Conversation,
): readonly Conversation[] {
  if (held === undefined || selected === undefined || held.conversation.id !== selected || held.filter_key !== filter_key) return fetched;
  if (fetched.some((c) => c.id === selected)) return fetched;
  const row = latest !== undefined && latest.id === selected ? latest : held.conversation;
  const at = fetched.findIndex((c) => c.id < selected);
  if (at === -1) return [...fetched, row];
  return [...fetched.slice(0, at), row, ...fetched.slice(at)];
}
