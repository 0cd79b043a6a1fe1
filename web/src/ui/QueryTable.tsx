// The skeleton every list screen shares: a query's loading state, its error with a retry, an
// empty state, or the table of its items followed by an optional pager; and the keyset pager
// itself (Newer / Older over `before` cursors, lib/keyset.ts). Pure presentation: each page keeps
// its own query, columns and rows.

import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { Button } from "./Button";
import { ErrorState, Table } from "./Layout";
import { Loading } from "./Spinner";

export interface QueryTableProps<D, T> {
  /** The list's query; its data holds the items. */
  query: UseQueryResult<D>;
  /** The rows of the data. */
  items: (data: D) => T[];
  /** Said while the first answer is awaited ("Loading members…"). */
  loadingLabel: string;
  /** Shown instead of the table when there is no item (usually an EmptyState). */
  empty: ReactNode;
  /** The table's caption for screen readers. */
  caption: string;
  /** The header row(s). */
  head: ReactNode;
  /** One item's <tr>. */
  row: (item: T) => ReactNode;
  /** Under the table when there are items (a Pager), given the data. */
  footer?: (data: D) => ReactNode;
}

export function QueryTable<D, T>({ query, items, loadingLabel, empty, caption, head, row, footer }: QueryTableProps<D, T>) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  const list = items(query.data);
  if (list.length === 0) return <>{empty}</>;
  return (
    <>
      <Table caption={caption} head={head}>
        {list.map(row)}
      </Table>
      {footer?.(query.data)}
    </>
  );
}

export interface PagerProps {
  /** Names the navigation landmark ("Audit log pages"). */
  label: string;
  /** Whether there is a newer (previous) page to go back to. */
  hasNewer: boolean;
  /** Whether there is an older (next) page. */
  hasOlder: boolean;
  onNewer: () => void;
  onOlder: () => void;
  /** While a page is loading both buttons wait. */
  busy?: boolean;
  /** "Page 2", announced politely when it changes; omitted when not given. */
  status?: string;
  /** The buttons' words (default Newer / Older). */
  newerLabel?: string;
  olderLabel?: string;
}

/** Newer / Older buttons for a keyset-paged list, with an optional page status between them. */
export function Pager({ label, hasNewer, hasOlder, onNewer, onOlder, busy = false, status, newerLabel = "Newer", olderLabel = "Older" }: PagerProps) {
  return (
    <nav aria-label={label} className="flex items-center justify-between border-t border-slate-200 px-4 py-3">
      <Button size="sm" disabled={!hasNewer || busy} onClick={onNewer}>
        {newerLabel}
      </Button>
      {status !== undefined && (
        <span className="text-sm text-slate-600" aria-live="polite">
          {status}
        </span>
      )}
      <Button size="sm" disabled={!hasOlder || busy} onClick={onOlder}>
        {olderLabel}
      </Button>
    </nav>
  );
}
