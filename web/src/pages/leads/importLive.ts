// A lead import's progress from the workspace's live WebSocket (docs/api.md "Live progress",
// `import` frames), for the import screen: the frame's shape and parser, a pure fold of frames and
// fetched jobs into the progress shown (tested in importLive.test.ts), and useImportStream, which
// keeps the stream open while an import may still move and says whether it is connected (the
// screen polls the API only while it is not).

import { useEffect, useMemo, useReducer } from "react";
import type { ImportJob, ImportStatus } from "../../api/leads";
import { useLiveSocket, type SocketConnection } from "../../lib/live";

/** `import` of an `import` frame: one job's progress. */
export interface ImportFrameItem {
  id: number;
  file_name: string;
  status: ImportStatus;
  rows_read: number;
  rows_imported: number;
  /** Already in the workspace, repeated in the file, or suppressed. */
  rows_skipped: number;
  /** Invalid rows. */
  rows_failed: number;
  bytes_read: number;
  bytes_total: number;
  /** 0..1, by bytes. */
  progress: number;
}

export interface ImportFrame {
  type: "import";
  workspace_id: number;
  at: string;
  import: ImportFrameItem;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** Parses one text frame; undefined unless it is a well-formed `import` frame. */
export function parseImportFrame(text: string): ImportFrame | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const f = v as { type?: unknown; import?: unknown };
  if (f.type !== "import" || typeof f.import !== "object" || f.import === null) return undefined;
  const i = f.import as Record<string, unknown>;
  if (!isCount(i.id) || typeof i.status !== "string") return undefined;
  for (const k of ["rows_read", "rows_imported", "rows_skipped", "rows_failed", "bytes_read", "bytes_total", "progress"]) {
    if (!isCount(i[k])) return undefined;
  }
  return v as ImportFrame;
}

export function isImportDone(status: string): boolean {
  return status === "completed" || status === "failed" || status === "canceled";
}

/** What the progress card shows while an import runs. */
export interface ImportProgress {
  status: ImportStatus;
  /** 0..1. */
  progress: number;
  rows_read: number;
  imported: number;
  skipped: number;
  invalid: number;
}

/** The progress a fetched job stands for. */
export function progressOfJob(job: ImportJob): ImportProgress {
  return {
    status: job.status,
    progress: job.progress,
    rows_read: job.counts.rows,
    imported: job.counts.imported,
    skipped: job.counts.existing + job.counts.duplicates + job.counts.suppressed,
    invalid: job.counts.invalid,
  };
}

export function progressOfFrame(item: ImportFrameItem): ImportProgress {
  return {
    status: item.status,
    progress: Math.min(1, item.progress),
    rows_read: item.rows_read,
    imported: item.rows_imported,
    skipped: item.rows_skipped,
    invalid: item.rows_failed,
  };
}

/**
 * The newer of two readings of one import, whichever arrived last: an ended import never goes
 * back to running, and a running one never goes back in rows or bytes (a poll answered after a
 * frame, or a frame sent before the poll, can be older than what is shown).
 */
export function newerProgress(shown: ImportProgress | undefined, next: ImportProgress): ImportProgress {
  if (shown === undefined) return next;
  if (isImportDone(shown.status) && !isImportDone(next.status)) return shown;
  if (isImportDone(next.status)) return next;
  if (shown.status === "running" && next.status === "pending") return shown;
  if (next.rows_read < shown.rows_read || next.progress < shown.progress) return shown;
  return next;
}

export type StreamConnection = SocketConnection;

export interface ImportStreamState {
  connection: StreamConnection;
  /** The latest progress of each import the stream reported, by id. */
  imports: Record<number, ImportProgress>;
}

export const kNoImports: Record<number, ImportProgress> = {};

export type ImportStreamAction = { type: "reset" } | { type: "frame"; frame: ImportFrame };

/** Folds the stream's `import` frames into each import's progress, never going back (newerProgress). */
export function importStreamReducer(imports: Record<number, ImportProgress>, action: ImportStreamAction): Record<number, ImportProgress> {
  switch (action.type) {
    case "reset":
      return kNoImports;
    case "frame": {
      const item = action.frame.import;
      const next = newerProgress(imports[item.id], progressOfFrame(item));
      if (next === imports[item.id]) return imports;
      return { ...imports, [item.id]: next };
    }
  }
}

/**
 * Keeps the workspace's live stream open while `enabled` (useLiveSocket: the same reconnecting loop
 * as the Overview's) and collects its `import` frames for this workspace. `onRefused` is called
 * before reconnecting after a handshake that failed (it checks the session). The frames collected
 * start over each time the stream is enabled again.
 */
export function useImportStream(workspace_id: number, enabled: boolean, onRefused?: () => Promise<unknown>): ImportStreamState {
  const [imports, dispatch] = useReducer(importStreamReducer, kNoImports);

  useEffect(() => {
    if (enabled) dispatch({ type: "reset" });
  }, [workspace_id, enabled]);

  const connection = useLiveSocket(
    workspace_id,
    (text) => {
      const frame = parseImportFrame(text);
      if (frame !== undefined && frame.workspace_id === workspace_id) dispatch({ type: "frame", frame });
    },
    enabled,
    onRefused,
  );

  return useMemo(() => ({ connection, imports }), [connection, imports]);
}
