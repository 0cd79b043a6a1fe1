import { describe, expect, it } from "vitest";
import type { ImportJob } from "../../api/leads";
import {
  importStreamReducer,
  kNoImports,
  newerProgress,
  parseImportFrame,
  progressOfJob,
  type ImportFrame,
  type ImportFrameItem,
} from "./importLive";

function item(over: Partial<ImportFrameItem> = {}): ImportFrameItem {
  return {
    id: 7,
    file_name: "leads.csv",
    status: "running",
    rows_read: 100,
    rows_imported: 90,
    rows_skipped: 6,
    rows_failed: 4,
    bytes_read: 5000,
    bytes_total: 10000,
    progress: 0.5,
    ...over,
  };
}

function frame(over: Partial<ImportFrameItem> = {}): ImportFrame {
  return { type: "import", workspace_id: 1, at: "2026-11-22T09:00:00.000Z", import: item(over) };
}

function job(over: Partial<ImportJob> = {}): ImportJob {
  return {
    id: 7,
    file_name: "leads.csv",
    status: "running",
    list_id: null,
    bytes_total: 10000,
    bytes_read: 2000,
    progress: 0.2,
    counts: { rows: 40, imported: 30, existing: 3, duplicates: 2, suppressed: 1, invalid: 4, role: 0, disposable: 0 },
    errors: [],
    encoding: "utf-8",
    delimiter: ",",
    created_at: "2026-11-22T08:59:00.000Z",
    started_at: "2026-11-22T08:59:01.000Z",
    finished_at: null,
    ...over,
  };
}

describe("parseImportFrame", () => {
  it("reads an import frame", () => {
    expect(parseImportFrame(JSON.stringify(frame()))).toEqual(frame());
  });
  it("ignores other frames, bad JSON and frames missing counts", () => {
    expect(parseImportFrame('{"type":"heartbeat","workspace_id":1,"at":"x"}')).toBeUndefined();
    expect(parseImportFrame("not json")).toBeUndefined();
    expect(parseImportFrame("null")).toBeUndefined();
    const broken = frame() as unknown as { import: Record<string, unknown> };
    delete broken.import.rows_read;
    expect(parseImportFrame(JSON.stringify(broken))).toBeUndefined();
    expect(parseImportFrame(JSON.stringify({ ...frame(), import: { ...item(), progress: "half" } }))).toBeUndefined();
  });
});

describe("frames into progress", () => {
  it("folds a frame into the stream's progress of that import", () => {
    const s = importStreamReducer(kNoImports, { type: "frame", frame: frame() });
    expect(s[7]).toEqual({ status: "running", progress: 0.5, rows_read: 100, imported: 90, skipped: 6, invalid: 4 });
  });

  it("keeps imports apart and moves each forward", () => {
    let s = importStreamReducer(kNoImports, { type: "frame", frame: frame() });
    s = importStreamReducer(s, { type: "frame", frame: frame({ id: 8, rows_read: 5, progress: 0.01 }) });
    s = importStreamReducer(s, { type: "frame", frame: frame({ rows_read: 150, rows_imported: 140, progress: 0.75 }) });
    expect(s[7].rows_read).toBe(150);
    expect(s[8].rows_read).toBe(5);
    expect(importStreamReducer(s, { type: "reset" })).toBe(kNoImports);
  });

  it("never goes back: an older frame and a late running after the end are ignored", () => {
    let s = importStreamReducer(kNoImports, { type: "frame", frame: frame({ rows_read: 150, progress: 0.75 }) });
    const before = s;
    s = importStreamReducer(s, { type: "frame", frame: frame({ rows_read: 120, progress: 0.6 }) });
    expect(s).toBe(before);
    s = importStreamReducer(s, { type: "frame", frame: frame({ status: "completed", rows_read: 200, progress: 1 }) });
    expect(s[7].status).toBe("completed");
    s = importStreamReducer(s, { type: "frame", frame: frame({ status: "running", rows_read: 300 }) });
    expect(s[7].status).toBe("completed");
  });

  it("an ended import wins even with fewer rows (canceled mid-batch)", () => {
    const running = { status: "running" as const, progress: 0.5, rows_read: 100, imported: 90, skipped: 6, invalid: 4 };
    expect(newerProgress(running, { ...running, status: "canceled", rows_read: 100, progress: 0.4 }).status).toBe("canceled");
  });

  it("shows the newer of the fetched job and the last frame", () => {
    const fetched = progressOfJob(job());
    expect(fetched).toEqual({ status: "running", progress: 0.2, rows_read: 40, imported: 30, skipped: 6, invalid: 4 });
    const framed = importStreamReducer(kNoImports, { type: "frame", frame: frame() })[7];
    expect(newerProgress(fetched, framed).rows_read).toBe(100);
    // A poll answered after the frame with more rows read wins.
    expect(newerProgress(framed, progressOfJob(job({ progress: 0.9, counts: { ...job().counts, rows: 180 } }))).rows_read).toBe(180);
  });
});
