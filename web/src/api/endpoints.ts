// Typed functions for each API v1 endpoint the dashboard uses, over one shared ApiClient.
// Each resolves with the documented answer or rejects with ApiError (see client.ts).

import type { ApiClient } from "./client";
import type {
  AddMemberAnswer,
  ApiKey,
  AuditEntry,
  CreatedApiKey,
  Items,
  Me,
  Member,
  Page,
  Role,
  Sender,
  SenderInput,
  SenderPatch,
  Session,
  User,
  Workspace,
} from "./types";

export class KilnApi {
  constructor(readonly client: ApiClient) {}

  // --- session ---------------------------------------------------------------------------
  async login(email: string, password: string): Promise<Session> {
    const session = await this.client.post<Session>("/auth/login", { email, password });
    this.client.setCsrfToken(session.csrf_token);
    return session;
  }

  /** Ends the session server-side; the in-memory token is dropped even if the call fails. */
  async logout(): Promise<void> {
    try {
      await this.client.post<void>("/auth/logout");
    } finally {
      this.client.clearSession();
    }
  }

  me(): Promise<Me> {
    return this.client.get<Me>("/me");
  }

  updateMe(name: string): Promise<User> {
    return this.client.patch<User>("/me", { name });
  }

  changePassword(current_password: string, new_password: string): Promise<void> {
    return this.client.post<void>("/me/password", { current_password, new_password });
  }

  // --- workspaces ------------------------------------------------------------------------
  workspaces(): Promise<Items<Workspace>> {
    return this.client.get<Items<Workspace>>("/workspaces");
  }

  workspace(ws: number): Promise<Workspace> {
    return this.client.get<Workspace>(`/workspaces/${ws}`);
  }

  createWorkspace(name: string): Promise<Workspace> {
    return this.client.post<Workspace>("/workspaces", { name });
  }

  renameWorkspace(ws: number, name: string): Promise<Workspace> {
    return this.client.patch<Workspace>(`/workspaces/${ws}`, { name });
  }

  // --- members ---------------------------------------------------------------------------
  members(ws: number): Promise<Items<Member>> {
    return this.client.get<Items<Member>>(`/workspaces/${ws}/members`);
  }

  addMember(ws: number, input: { email: string; role: Role; name?: string }): Promise<AddMemberAnswer> {
    return this.client.post<AddMemberAnswer>(`/workspaces/${ws}/members`, input);
  }

  setMemberRole(ws: number, user_id: number, role: Role): Promise<Member> {
    return this.client.patch<Member>(`/workspaces/${ws}/members/${user_id}`, { role });
  }

  removeMember(ws: number, user_id: number): Promise<void> {
    return this.client.delete(`/workspaces/${ws}/members/${user_id}`);
  }

  // --- API keys --------------------------------------------------------------------------
  apiKeys(ws: number): Promise<Items<ApiKey>> {
    return this.client.get<Items<ApiKey>>(`/workspaces/${ws}/api-keys`);
  }

  createApiKey(ws: number, input: { name: string; role: Role }): Promise<CreatedApiKey> {
    return this.client.post<CreatedApiKey>(`/workspaces/${ws}/api-keys`, input);
  }

  revokeApiKey(ws: number, id: number): Promise<void> {
    return this.client.delete(`/workspaces/${ws}/api-keys/${id}`);
  }

  // --- audit log -------------------------------------------------------------------------
  auditLog(ws: number, options: { limit: number; before?: number }): Promise<Page<AuditEntry>> {
    return this.client.get<Page<AuditEntry>>(`/workspaces/${ws}/audit-log`, {
      query: { limit: options.limit, before: options.before },
    });
  }

  // --- senders ---------------------------------------------------------------------------
  senders(ws: number): Promise<Items<Sender>> {
    return this.client.get<Items<Sender>>(`/workspaces/${ws}/senders`);
  }

  sender(ws: number, id: number): Promise<Sender> {
    return this.client.get<Sender>(`/workspaces/${ws}/senders/${id}`);
  }

  createSender(ws: number, input: SenderInput): Promise<Sender> {
    return this.client.post<Sender>(`/workspaces/${ws}/senders`, input);
  }

  updateSender(ws: number, id: number, patch: SenderPatch): Promise<Sender> {
    return this.client.patch<Sender>(`/workspaces/${ws}/senders/${id}`, patch);
  }

  deleteSender(ws: number, id: number): Promise<void> {
    return this.client.delete(`/workspaces/${ws}/senders/${id}`);
  }
}

/** Query keys, one place, so that mutations invalidate exactly what they change. */
export const queryKeys = {
  me: ["me"] as const,
  workspaces: ["workspaces"] as const,
  workspace: (ws: number) => ["ws", ws] as const,
  members: (ws: number) => ["ws", ws, "members"] as const,
  apiKeys: (ws: number) => ["ws", ws, "api-keys"] as const,
  auditLog: (ws: number, before: number | undefined) => ["ws", ws, "audit-log", before ?? "latest"] as const,
  senders: (ws: number) => ["ws", ws, "senders"] as const,
};
