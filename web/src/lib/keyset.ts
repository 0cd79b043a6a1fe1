// Keyset paging of the API's lists (`before` cursors, newest first): the cursors of the pages
// seen so far, so "Newer" can go back the way "Older" came. Pure steps (tested in
// keyset.test.ts) and the useKeyset hook a list screen keeps them in.

import { useCallback, useMemo, useState } from "react";

/** The `before` of each page seen, oldest last; the first page's is undefined. Never empty. */
export type KeysetPages<C> = ReadonlyArray<C | undefined>;

export const kFirstPages: KeysetPages<never> = [undefined];

/** The pages after moving to the page older than the current one, which starts at `next`. */
export function olderPages<C>(pages: KeysetPages<C>, next: C): KeysetPages<C> {
  return [...pages, next];
}

/** The pages after going back to the newer page; the first page stays the first. */
export function newerPages<C>(pages: KeysetPages<C>): KeysetPages<C> {
  return pages.length <= 1 ? kFirstPages : pages.slice(0, -1);
}

export interface Keyset<C> {
  /** The cursor of the page shown (undefined: the first page). */
  before: C | undefined;
  /** 1-based number of the page shown. */
  page: number;
  hasNewer: boolean;
  newer: () => void;
  /** Moves to the page starting at `next` (the list's next_before); null does nothing. */
  older: (next: C | null) => void;
  /** Back to the first page (after a search or filter changed). */
  reset: () => void;
}

export function useKeyset<C>(): Keyset<C> {
  const [pages, setPages] = useState<KeysetPages<C>>(kFirstPages);
  const newer = useCallback(() => setPages((p) => newerPages(p)), []);
  const older = useCallback((next: C | null) => {
    if (next !== null) setPages((p) => olderPages(p, next));
  }, []);
  const reset = useCallback(() => setPages(kFirstPages), []);
  return useMemo(
    () => ({ before: pages[pages.length - 1], page: pages.length, hasNewer: pages.length > 1, newer, older, reset }),
    [pages, newer, older, reset],
  );
}
