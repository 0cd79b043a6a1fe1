import { describe, expect, it } from "vitest";
import { kFirstPages, newerPages, olderPages } from "./keyset";

describe("keyset pages", () => {
  it("goes older page by page and back the same way", () => {
    let pages = olderPages<number>(kFirstPages, 90);
    pages = olderPages(pages, 40);
    expect(pages).toEqual([undefined, 90, 40]);
    pages = newerPages(pages);
    expect(pages).toEqual([undefined, 90]);
    expect(pages[pages.length - 1]).toBe(90);
    pages = newerPages(pages);
    expect(pages).toEqual([undefined]);
  });

  it("stays on the first page when going newer from it", () => {
    expect(newerPages(kFirstPages)).toEqual([undefined]);
    expect(newerPages([])).toEqual([undefined]);
  });

  it("does not change the pages it is given", () => {
    const pages = [undefined, 5];
    olderPages(pages, 3);
    newerPages(pages);
    expect(pages).toEqual([undefined, 5]);
  });
});
