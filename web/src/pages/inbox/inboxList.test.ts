import { describe, expect, it } from "vitest";
import type { Conversation } from "../../api/inbox";
import { filterKey, holdOpenConversation, visibleConversations, type HeldConversation } from "./inboxList";

function conversation(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    sender_id: 1,
    sender_email: "ann@acme.test",
    campaign_id: null,
    campaign_name: null,
    lead: { id: id * 10, email: `lead${id}@x.test`, first_name: null, last_name: null, status: "replied" },
    subject: `Re: hello ${id}`,
    status: "open",
    is_read: false,
    last_message_at: "2026-11-22T09:00:00.000Z",
    created_at: "2026-11-22T08:00:00.000Z",
    updated_at: "2026-11-22T09:00:00.000Z",
    ...over,
  };
}

const kUnread = filterKey({ unread: true });
const kAll = filterKey({});

/** One render of the list: the next held conversation and the rows shown. */
function render(held: HeldConversation | undefined, selected: number | undefined, key: string, fetched: Conversation[], latest?: Conversation) {
  const next = holdOpenConversation(held, selected, key, fetched);
  return { held: next, ids: visibleConversations(fetched, next, selected, key, latest).map((c) => c.id) };
}

describe("filterKey", () => {
  it("is equal for equal filters and differs when any field does", () => {
    expect(filterKey({ unread: true, q: undefined })).toBe(filterKey({ unread: true }));
    expect(filterKey({ unread: true })).not.toBe(filterKey({ unread: false }));
    expect(filterKey({ sender_id: 1 })).not.toBe(filterKey({ campaign_id: 1 }));
    expect(filterKey({ q: "x" })).not.toBe(kAll);
  });
});

describe("the open conversation under a filter that drops it", () => {
  const unread = [conversation(9), conversation(7), conversation(4)];

  it("stays in its place once read, showing its new state", () => {
    // Opened from the "Unread only" list.
    let r = render(undefined, 7, kUnread, unread);
    expect(r.ids).toEqual([9, 7, 4]);
    // Reading marked it read; the list fetched again without it.
    const read = conversation(7, { is_read: true });
    r = render(r.held, 7, kUnread, [conversation(9), conversation(4)], read);
    expect(r.ids).toEqual([9, 7, 4]);
    const rows = visibleConversations([conversation(9), conversation(4)], r.held, 7, kUnread, read);
    expect(rows[1].is_read).toBe(true);
    // Without the thread's newest state, the row is the one the list last showed.
    expect(visibleConversations([conversation(9), conversation(4)], r.held, 7, kUnread)[1]).toBe(r.held?.conversation);
  });

  it("goes once another conversation is opened", () => {
    let r = render(undefined, 7, kUnread, unread);
    r = render(r.held, 7, kUnread, [conversation(9), conversation(4)]);
    r = render(r.held, 4, kUnread, [conversation(9), conversation(4)]);
    expect(r.ids).toEqual([9, 4]);
    expect(r.held?.conversation.id).toBe(4);
    // Going back to it by its address does not bring it back: the filter applies.
    r = render(r.held, 7, kUnread, [conversation(9), conversation(4)]);
    expect(r.ids).toEqual([9, 4]);
    expect(r.held).toBeUndefined();
  });

  it("goes once the filter changes, and is not held back when the filter returns", () => {
    let r = render(undefined, 7, kUnread, unread);
    r = render(r.held, 7, kUnread, [conversation(9), conversation(4)]);
    // "Unread only" unchecked: the list now has it anyway, as a read conversation.
    const all = [conversation(9), conversation(7, { is_read: true }), conversation(4)];
    r = render(r.held, 7, kAll, all);
    expect(r.ids).toEqual([9, 7, 4]);
    expect(r.held?.filter_key).toBe(kAll);
    // Checked again: the filter applies at once, though the same conversation is still open.
    r = render(r.held, 7, kUnread, [conversation(9), conversation(4)]);
    expect(r.ids).toEqual([9, 4]);
  });

  it("goes when the conversation is closed", () => {
    let r = render(undefined, 7, kUnread, unread);
    r = render(r.held, undefined, kUnread, [conversation(9), conversation(4)]);
    expect(r.ids).toEqual([9, 4]);
    expect(r.held).toBeUndefined();
  });

  it("is put back in id order at either end, and into an empty list", () => {
    let r = render(undefined, 12, kUnread, [conversation(12), conversation(9)]);
    r = render(r.held, 12, kUnread, [conversation(9)]);
    expect(r.ids).toEqual([12, 9]);
    r = render(undefined, 2, kUnread, [conversation(9), conversation(2)]);
    r = render(r.held, 2, kUnread, [conversation(9)]);
    expect(r.ids).toEqual([9, 2]);
    // The last unread conversation, read: the list does not empty under the reader's eyes.
    r = render(undefined, 5, kUnread, [conversation(5)]);
    r = render(r.held, 5, kUnread, []);
    expect(r.ids).toEqual([5]);
  });

  it("a conversation the list never showed under this filter is not added", () => {
    const r = render(undefined, 3, kUnread, unread);
    expect(r.held).toBeUndefined();
    expect(r.ids).toEqual([9, 7, 4]);
  });

  it("keeps the same held value while nothing changes (no render loop)", () => {
    const first = render(undefined, 7, kUnread, unread).held;
    expect(holdOpenConversation(first, 7, kUnread, unread)).toBe(first);
    const away = holdOpenConversation(first, 7, kUnread, [conversation(9)]);
    expect(away).toBe(first);
    expect(holdOpenConversation(away, 7, kUnread, [conversation(9)])).toBe(first);
  });

  it("shows the fetched rows themselves when the list still has the open one", () => {
    const held = holdOpenConversation(undefined, 7, kAll, unread);
    expect(visibleConversations(unread, held, 7, kAll)).toBe(unread);
  });
});
