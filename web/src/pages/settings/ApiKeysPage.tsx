// API keys of the workspace: list, create with a name and role (the key is shown once), revoke.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import type { ApiKey, CreatedApiKey, Role } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDateTime } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { CopySecret } from "../../ui/CopySecret";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { FormError, SelectField, TextField } from "../../ui/Field";
import { Card, EmptyState, Td, Th } from "../../ui/Layout";
import { QueryTable } from "../../ui/QueryTable";
import { useToast } from "../../ui/Toast";
import { RequireRole } from "./SettingsLayout";

const kKeyRoles: Role[] = ["viewer", "member", "admin"];

export function ApiKeysPage() {
  return (
    <RequireRole min_role="admin">
      <ApiKeys />
    </RequireRole>
  );
}

function ApiKeys() {
  const api = useApi();
  const workspace = useWorkspace();
  const keys = useQuery({ queryKey: queryKeys.apiKeys(workspace.id), queryFn: () => api.apiKeys(workspace.id) });
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  return (
    <>
      <Card
        title="API keys"
        actions={<Button variant="primary" size="sm" onClick={() => setCreating(true)}>Create API key</Button>}
      >
        <p className="border-b border-slate-100 px-4 py-3 text-sm text-slate-600">
          Programs use a key as <code className="rounded bg-slate-100 px-1 font-mono text-xs">Authorization: Bearer kiln_…</code>.
          A key acts in this workspace only, with its role.
        </p>
        <QueryTable
          query={keys}
          items={(d) => d.items}
          loadingLabel="Loading API keys…"
          empty={<EmptyState title="No API keys">Create one for each program that talks to Kiln.</EmptyState>}
          caption="API keys"
          head={
            <tr>
              <Th>Name</Th>
              <Th>Key</Th>
              <Th>Role</Th>
              <Th>Created</Th>
              <Th>Last used</Th>
              <Th><span className="sr-only">Actions</span></Th>
            </tr>
          }
          row={(k) => (
            <tr key={k.id}>
              <Td className="font-medium text-slate-900">{k.name}</Td>
              <Td className="font-mono text-xs whitespace-nowrap">{k.prefix}…</Td>
              <Td>{capitalize(k.role)}</Td>
              <Td className="whitespace-nowrap">{formatDateTime(k.created_at)}</Td>
              <Td className="whitespace-nowrap">{k.last_used_at ? formatDateTime(k.last_used_at) : "Never"}</Td>
              <Td className="text-right">
                <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setRevoking(k)}
                  aria-label={`Revoke ${k.name}`}>
                  Revoke
                </Button>
              </Td>
            </tr>
          )}
        />
      </Card>
      <CreateKeyDialog open={creating} onClose={() => setCreating(false)} />
      <RevokeKeyDialog apiKey={revoking} onClose={() => setRevoking(null)} />
    </>
  );
}

function CreateKeyDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  function close() {
    setCreated(null);
    onClose();
  }
  return (
    <Dialog open={open} title={created ? "API key created" : "Create an API key"} onClose={close}>
      {created ? (
        <div className="space-y-4">
          <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            Copy the key now: Kiln stores only its hash and will not show it again.
          </p>
          <CopySecret label={`Key “${created.name}” (${created.role})`} value={created.key} />
          <div className="flex justify-end">
            <Button variant="primary" onClick={close}>Done</Button>
          </div>
        </div>
      ) : (
        <CreateKeyForm onCreated={setCreated} onCancel={close} />
      )}
    </Dialog>
  );
}

function CreateKeyForm({ onCreated, onCancel }: { onCreated: (k: CreatedApiKey) => void; onCancel: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const create = useMutation({
    mutationFn: () => api.createApiKey(workspace.id, { name: name.trim(), role }),
    onSuccess: (k) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.apiKeys(workspace.id) });
      onCreated(k);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name", "role"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setErrors({ fields: { name: "Name the key after the program that will use it." } });
      return;
    }
    setErrors(kNoErrors);
    create.mutate();
  }
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <TextField label="Name" hint="For example “CRM sync”." value={name} onChange={(e) => setName(e.target.value)}
        error={errors.fields.name} required />
      <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} error={errors.fields.role}
        options={kKeyRoles.map((r) => ({ value: r, label: capitalize(r) }))} />
      <FormError message={errors.form} />
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={create.isPending}>Create key</Button>
      </div>
    </form>
  );
}

function RevokeKeyDialog({ apiKey, onClose }: { apiKey: ApiKey | null; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => api.revokeApiKey(workspace.id, k.id),
    onSuccess: (_, k) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.apiKeys(workspace.id) });
      toast.success(`Revoked ${k.name}.`);
      close();
    },
  });
  function close() {
    revoke.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title="Revoke API key?"
      message={apiKey && <>Programs using <strong>{apiKey.name}</strong> ({apiKey.prefix}…) will be refused from now on.</>}
      confirm_label="Revoke key"
      busy={revoke.isPending}
      error={revoke.isError ? describeError(revoke.error) : undefined}
      onConfirm={() => apiKey && revoke.mutate(apiKey)}
      onClose={close}
    />
  );
}
