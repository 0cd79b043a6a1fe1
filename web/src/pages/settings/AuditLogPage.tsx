// The workspace's audit log, newest first, paged with the API's `before` cursor.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import type { AuditEntry } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formatDateTime } from "../../lib/format";
import { useKeyset } from "../../lib/keyset";
import { Card, EmptyState, Td, Th } from "../../ui/Layout";
import { Pager, QueryTable } from "../../ui/QueryTable";
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
  const pages = useKeyset<number>();
  const before = pages.before;
  const page = useQuery({
    queryKey: queryKeys.auditLog(workspace.id, before),
    queryFn: () => api.auditLog(workspace.id, { limit: kAuditPageSize, before }),
    placeholderData: keepPreviousData,
  });

  const page_number = pages.page;

  return (
    <Card title="Audit log">
      <QueryTable
        query={page}
        items={(d) => d.items}
        loadingLabel="Loading the audit log…"
        empty={<EmptyState title="Nothing recorded yet">Sign-ins, changes to members, keys and senders appear here.</EmptyState>}
        caption={`Audit log, page ${page_number}`}
        head={
          <tr>
            <Th>When</Th>
            <Th>Action</Th>
            <Th>By</Th>
            <Th>Target</Th>
            <Th>IP</Th>
            <Th>Details</Th>
          </tr>
        }
        row={(e) => (
          <tr key={e.id}>
            <Td className="whitespace-nowrap">{formatDateTime(e.created_at)}</Td>
            <Td className="font-mono text-xs whitespace-nowrap">{e.action}</Td>
            <Td className="whitespace-nowrap">{actor(e)}</Td>
            <Td className="whitespace-nowrap">{target(e)}</Td>
            <Td className="font-mono text-xs">{e.ip ?? "—"}</Td>
            <Td className="min-w-64 text-xs break-words text-slate-600">{formatDetails(e.details)}</Td>
          </tr>
        )}
        footer={(d) => (
          <Pager
            label="Audit log pages"
            hasNewer={pages.hasNewer}
            hasOlder={d.next_before !== null}
            busy={page.isFetching}
            onNewer={pages.newer}
            onOlder={() => pages.older(d.next_before)}
            status={`Page ${page_number}`}
          />
        )}
      />
    </Card>
  );
}
