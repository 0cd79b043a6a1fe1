// Shapes of the Kiln JSON API v1 (docs/api.md). Times are ISO 8601 UTC strings, ids integers.

export type Role = "viewer" | "member" | "admin" | "owner";
export const kRoles: readonly Role[] = ["viewer", "member", "admin", "owner"];

/** True when `role` is at least `minimum` in viewer < member < admin < owner. */
export function roleAtLeast(role: Role | undefined, minimum: Role): boolean {
  if (role === undefined) return false;
  return kRoles.indexOf(role) >= kRoles.indexOf(minimum);
}

export interface User {
  id: number;
  email: string;
  name: string;
  created_at: string;
}

export interface WorkspaceRef {
  id: number;
  name: string;
  role: Role;
}

export interface Workspace extends WorkspaceRef {
  created_at: string;
}

export interface Session {
  user: User;
  workspaces: WorkspaceRef[];
  csrf_token: string;
  access_expires_at: string;
}

export interface Me {
  user: User;
  workspaces: WorkspaceRef[];
}

export interface Items<T> {
  items: T[];
}

export interface Page<T> extends Items<T> {
  next_before: number | null;
}

export interface Member {
  user_id: number;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

export interface AddMemberAnswer {
  member: Member;
  /** Only for an account the call created (null otherwise); shown once. */
  initial_password?: string | null;
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  created_at: string;
  last_used_at: string | null;
  created_by_user_id: number | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The secret; the API shows it only in this answer. */
  key: string;
}

export interface AuditEntry {
  id: number;
  action: string;
  user_id: number | null;
  user_email: string | null;
  api_key_id: number | null;
  target_type: string | null;
  target_id: string | number | null;
  ip: string | null;
  details: unknown;
  created_at: string;
}

export type Security = "tls" | "starttls" | "none";
export type SenderStatus = "unverified" | "active" | "paused" | "failed";
export const kSenderStatuses: readonly SenderStatus[] = ["active", "unverified", "paused", "failed"];

export interface ServerEndpoint {
  host: string;
  port: number;
  security: Security;
  username: string;
  has_password: boolean;
}

export interface Sender {
  id: number;
  name: string;
  email: string;
  from_name: string | null;
  daily_quota: number;
  smtp: ServerEndpoint;
  imap: ServerEndpoint;
  allow_self_signed: boolean;
  source_ip: string | null;
  proxy_url: string | null;
  warmup_end_at: string | null;
  status: SenderStatus;
  status_reason: string | null;
  health_score: number | null;
  created_at: string;
  updated_at: string;
}

export interface EndpointInput {
  host: string;
  port: number;
  security: Security;
  username: string;
  password?: string;
}

export interface SenderInput {
  name: string;
  email: string;
  from_name?: string;
  daily_quota?: number;
  smtp: EndpointInput;
  imap: EndpointInput;
  allow_self_signed?: boolean;
  source_ip?: string;
  proxy_url?: string;
  warmup_end_at?: string;
}

/** What PATCH accepts: any subset of SenderInput, endpoints themselves partial; null clears an optional value. */
export type SenderPatch = {
  [K in Exclude<keyof SenderInput, "smtp" | "imap" | "name" | "email">]?: SenderInput[K] | null;
} & {
  name?: string;
  email?: string;
  smtp?: Partial<EndpointInput>;
  imap?: Partial<EndpointInput>;
};
