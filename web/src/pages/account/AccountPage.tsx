// The signed-in user's profile (name) and password.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { useMe } from "../../auth/session";
import { formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { FormError, TextField } from "../../ui/Field";
import { Card, PageHeader } from "../../ui/Layout";
import { useToast } from "../../ui/Toast";

export function AccountPage() {
  const me = useMe();
  return (
    <>
      <PageHeader title="Your account" description={me.user.email} />
      <div className="grid gap-6 lg:grid-cols-2">
        <Profile />
        <ChangePassword />
      </div>
    </>
  );
}

function Profile() {
  const api = useApi();
  const me = useMe();
  const query_client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(me.user.name);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const save = useMutation({
    mutationFn: () => api.updateMe(name.trim()),
    onSuccess: () => {
      void query_client.invalidateQueries({ queryKey: queryKeys.me });
      toast.success("Saved your name.");
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setErrors(kNoErrors);
    save.mutate();
  }
  return (
    <Card title="Profile">
      <form onSubmit={submit} noValidate className="space-y-4 p-4">
        <TextField label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
        <FormError message={errors.form} />
        <Button type="submit" variant="primary" busy={save.isPending} disabled={name.trim() === me.user.name}>
          Save
        </Button>
      </form>
    </Card>
  );
}

function ChangePassword() {
  const api = useApi();
  const me = useMe();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const change = useMutation({
    mutationFn: () => api.changePassword(current, next),
    onSuccess: () => {
      setCurrent("");
      setNext("");
      setConfirm("");
      toast.success("Password changed. Your other sessions have been signed out.");
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["current_password", "new_password"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (current === "") fields.current_password = "Enter your current password.";
    if (next === "") fields.new_password = "Enter a new password.";
    else if (confirm !== next) fields.confirm = "The two new passwords differ.";
    if (Object.keys(fields).length > 0) {
      setErrors({ fields });
      return;
    }
    setErrors(kNoErrors);
    change.mutate();
  }
  return (
    <Card title="Change password">
      <form onSubmit={submit} noValidate className="space-y-4 p-4">
        {/* Lets password managers tie the new password to this account. */}
        <input type="email" name="username" autoComplete="username" value={me.user.email} readOnly hidden />
        <TextField label="Current password" type="password" autoComplete="current-password" value={current}
          onChange={(e) => setCurrent(e.target.value)} error={errors.fields.current_password} />
        <TextField label="New password" type="password" autoComplete="new-password" value={next}
          onChange={(e) => setNext(e.target.value)} error={errors.fields.new_password} />
        <TextField label="Repeat the new password" type="password" autoComplete="new-password" value={confirm}
          onChange={(e) => setConfirm(e.target.value)} error={errors.fields.confirm} />
        <FormError message={errors.form} />
        <Button type="submit" variant="primary" busy={change.isPending}>Change password</Button>
      </form>
    </Card>
  );
}
