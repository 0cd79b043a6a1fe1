// The workspace's audit log, newest first, paged with the API's `before` cursor.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import type { AuditEntry } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formatDateTime } from "../../lib/format";
import { Button } from "../../ui/Button";
import { Card, EmptyState, ErrorState, Table, Td, Th } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { RequireRole } from "./SettingsLayout";

export const kAuditPageSize = 25;

export function AuditLogPage() {
  return (
    <RequireRole min_role="admin">
      <AuditLog />
    </RequireRole>
  );
}

function actor(e: AuditEntry): string {
  if (e.user_email) return e.user_email;
  if (e.api_key_id !== null && e.api_key_id !== undefined) return `API key #${e.api_key_id}`;
  if (e.user_id !== null && e.user_id !== undefined) return `User #${e.user_id}`;
  return "System";
}

function target(e: AuditEntry): string {
  if (!e.target_type) return "—";
  return e.target_id === null || e.target_id === undefined ? e.target_type : `${e.target_type} #${e.target_id}`;
}

/** "email: bob@acme.test · role: member" for an entry's details object. */
export function formatDetails(d: unknown): string {
  if (d === null || d === undefined || d === "") return "";
  if (typeof d !== "object" || Array.isArray(d)) return typeof d === "string" ? d : JSON.stringify(d);
  return Object.entries(d as Record<string, unknown>)
    .map(([key, value]) => {
      const text = Array.isArray(value)
        ? value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ")
        : typeof value === "object" && value !== null
          ? JSON.stringify(value)
          : String(value);
      return `${key.replaceAll("_", " ")}: ${text}`;
    })
    .join(" · ");
}

function AuditLog() {
  const api = useApi();
  const workspace = useWorkspace();
  // The cursors of the pages before the current one, so "Newer" can go back.
  const [cursors, setCursors] = useState<Array<number | undefined>>([]);
  const [before, setBefore] = useState<number | undefined>(undefined);
  const page = useQuery({
    queryKey: queryKeys.auditLog(workspace.id, before),
    queryFn: () => api.auditLog(workspace.id, { limit: kAuditPageSize, before }),
    placeholderData: keepPreviousData,
  });

  const page_number = cursors.length + 1;

  return (
    <Card title="Audit log">
      {page.isPending ? (
        <Loading label="Loading the audit log…" />
      ) : page.isError ? (
        <ErrorState error={page.error} onRetry={() => void page.refetch()} />
      ) : page.data.items.length === 0 ? (
        <EmptyState title="Nothing recorded yet">Sign-ins, changes to members, keys and senders appear here.</EmptyState>
      ) : (
        <>
          <Table caption={`Audit log, page ${page_number}`} head={
            <tr>
              <Th>When</Th>
              <Th>Action</Th>
              <Th>By</Th>
              <Th>Target</Th>
              <Th>IP</Th>
              <Th>Details</Th>
            </tr>
          }>
            {page.data.items.map((e) => (
              <tr key={e.id}>
                <Td className="whitespace-nowrap">{formatDateTime(e.created_at)}</Td>
                <Td className="font-mono text-xs whitespace-nowrap">{e.action}</Td>
                <Td className="whitespace-nowrap">{actor(e)}</Td>
                <Td className="whitespace-nowrap">{target(e)}</Td>
                <Td className="font-mono text-xs">{e.ip ?? "—"}</Td>
                <Td className="min-w-64 text-xs break-words text-slate-600">{formatDetails(e.details)}</Td>
              </tr>
            ))}
          </Table>
          <nav aria-label="Audit log pages" className="flex items-center justify-between border-t border-slate-200 px-4 py-3">
            <Button size="sm" disabled={cursors.length === 0 || page.isFetching}
              onClick={() => {
                setBefore(cursors[cursors.length - 1]);
                setCursors((c) => c.slice(0, -1));
              }}>
              Newer
            </Button>
            <span className="text-sm text-slate-600" aria-live="polite">Page {page_number}</span>
            <Button size="sm" disabled={page.data.next_before === null || page.isFetching}
              onClick={() => {
                const next = page.data.next_before;
                if (next === null) return;
                setCursors((c) => [...c, before]);
                setBefore(next);
              }}>
              Older
            </Button>
          </nav>
        </>
      )}
    </Card>
  );
}
