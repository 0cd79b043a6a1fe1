// Members of the workspace: list, add by email with a role (a new account's one-time password is
// shown once), change role, remove. Managing needs admin; granting owner needs owner.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { kRoles, roleAtLeast, type AddMemberAnswer, type Member, type Role } from "../../api/types";
import { useMe } from "../../auth/session";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDate } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { CopySecret } from "../../ui/CopySecret";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, Td, Th } from "../../ui/Layout";
import { QueryTable } from "../../ui/QueryTable";
import { useToast } from "../../ui/Toast";

/** Roles the current user may hand out: owners grant any, admins up to admin. */
export function grantableRoles(my_role: Role): Role[] {
  return kRoles.filter((r) => r !== "owner" || my_role === "owner");
}

function roleOptions(roles: Role[]) {
  return roles.map((r) => ({ value: r, label: capitalize(r) }));
}

export function MembersPage() {
  const api = useApi();
  const me = useMe();
  const workspace = useWorkspace();
  const can_manage = roleAtLeast(workspace.role, "admin");
  const members = useQuery({ queryKey: queryKeys.members(workspace.id), queryFn: () => api.members(workspace.id) });
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);

  return (
    <>
      <Card
        title="Members"
        actions={can_manage && (
          <Button variant="primary" size="sm" onClick={() => setAdding(true)}>
            Add member
          </Button>
        )}
      >
        <QueryTable
          query={members}
          items={(d) => d.items}
          loadingLabel="Loading members…"
          empty={<EmptyState title="No members" />}
          caption="Members"
          head={
            <tr>
              <Th>Member</Th>
              <Th>Role</Th>
              <Th>Added</Th>
              {can_manage && <Th><span className="sr-only">Actions</span></Th>}
            </tr>
          }
          row={(m) => (
            <tr key={m.user_id}>
              <Td>
                <div className="font-medium text-slate-900">
                  {m.name || m.email} {m.user_id === me.user.id && <Badge>You</Badge>}
                </div>
                {m.name && <div className="text-xs text-slate-500">{m.email}</div>}
              </Td>
              <Td>
                {can_manage && m.user_id !== me.user.id && (m.role !== "owner" || workspace.role === "owner") ? (
                  <RoleSelect member={m} />
                ) : (
                  capitalize(m.role)
                )}
              </Td>
              <Td className="whitespace-nowrap">{formatDate(m.created_at)}</Td>
              {can_manage && (
                <Td className="text-right">
                  {m.user_id !== me.user.id && (m.role !== "owner" || workspace.role === "owner") && (
                    <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setRemoving(m)}
                      aria-label={`Remove ${m.email}`}>
                      Remove
                    </Button>
                  )}
                </Td>
              )}
            </tr>
          )}
        />
      </Card>
      <AddMemberDialog open={adding} onClose={() => setAdding(false)} />
      <RemoveMemberDialog member={removing} onClose={() => setRemoving(null)} />
    </>
  );
}

function RoleSelect({ member }: { member: Member }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const change = useMutation({
    mutationFn: (role: Role) => api.setMemberRole(workspace.id, member.user_id, role),
    onSuccess: (m) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.members(workspace.id) });
      toast.success(`${m.email} is now ${m.role}.`);
    },
    onError: (e) => toast.error(`Could not change the role of ${member.email}: ${describeError(e)}`),
  });
  return (
    <select
      aria-label={`Role of ${member.email}`}
      value={change.isPending ? change.variables : member.role}
      disabled={change.isPending}
      onChange={(e) => change.mutate(e.target.value as Role)}
      className="rounded-md border-0 bg-white py-1 pr-7 pl-2 text-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none"
    >
      {roleOptions(grantableRoles(workspace.role)).map((o) => (
        <option key={o.value} value={o.value}>{o.label}</option>
      ))}
    </select>
  );
}

function AddMemberDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [answer, setAnswer] = useState<AddMemberAnswer | null>(null);
  function close() {
    setAnswer(null);
    onClose();
  }
  return (
    <Dialog open={open} title={answer ? "Member added" : "Add a member"} onClose={close}
      description={answer ? undefined : "Adds an existing Kiln user, or creates an account for a new email address."}>
      {answer ? <AddedMember answer={answer} onDone={close} /> : <AddMemberForm onAdded={setAnswer} onCancel={close} />}
    </Dialog>
  );
}

function AddMemberForm({ onAdded, onCancel }: { onAdded: (a: AddMemberAnswer) => void; onCancel: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const add = useMutation({
    mutationFn: () => api.addMember(workspace.id, { email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}) }),
    onSuccess: (a) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.members(workspace.id) });
      onAdded(a);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["email", "name", "role"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) {
      setErrors({ fields: { email: "Enter a valid email address." } });
      return;
    }
    setErrors(kNoErrors);
    add.mutate();
  }
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <TextField label="Email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)}
        error={errors.fields.email} required />
      <TextField label="Name" hint="Optional; used when a new account is created." value={name}
        onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
      <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)}
        options={roleOptions(grantableRoles(workspace.role))} error={errors.fields.role}
        hint="Viewers read; members also edit senders, leads and campaigns; admins also manage the team." />
      <FormError message={errors.form} />
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={add.isPending}>Add member</Button>
      </div>
    </form>
  );
}

function AddedMember({ answer, onDone }: { answer: AddMemberAnswer; onDone: () => void }) {
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-700">
        <strong>{answer.member.email}</strong> is now a {answer.member.role} of this workspace.
      </p>
      {answer.initial_password ? (
        <>
          <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            A new account was created. Give them this one-time password securely; it is shown only now.
          </p>
          <CopySecret label="Initial password" value={answer.initial_password} />
        </>
      ) : (
        <p className="text-sm text-slate-600">They already had a Kiln account and can sign in with their password.</p>
      )}
      <div className="flex justify-end">
        <Button variant="primary" onClick={onDone}>Done</Button>
      </div>
    </div>
  );
}

function RemoveMemberDialog({ member, onClose }: { member: Member | null; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (m: Member) => api.removeMember(workspace.id, m.user_id),
    onSuccess: (_, m) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.members(workspace.id) });
      toast.success(`Removed ${m.email}.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={member !== null}
      title="Remove member?"
      message={member && <><strong>{member.email}</strong> will lose access to {workspace.name}.</>}
      confirm_label="Remove member"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => member && remove.mutate(member)}
      onClose={close}
    />
  );
}
