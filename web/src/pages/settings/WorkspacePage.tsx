// Workspace settings: rename the current workspace (admin) and create a new one (anyone).

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { FormError, TextField } from "../../ui/Field";
import { Card } from "../../ui/Layout";
import { useToast } from "../../ui/Toast";

export function WorkspacePage() {
  const workspace = useWorkspace();
  return (
    <div className="space-y-6">
      {roleAtLeast(workspace.role, "admin") ? (
        <RenameWorkspace key={workspace.id} />
      ) : (
        <Card title="Workspace">
          <p className="px-4 py-4 text-sm text-slate-700">
            {workspace.name}. Only admins and owners can rename it.
          </p>
        </Card>
      )}
      <CreateWorkspace />
    </div>
  );
}

function RenameWorkspace() {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(workspace.name);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const rename = useMutation({
    mutationFn: () => api.renameWorkspace(workspace.id, name.trim()),
    onSuccess: (w) => {
      void query_client.invalidateQueries({ queryKey: queryKeys.me });
      void query_client.invalidateQueries({ queryKey: queryKeys.workspaces });
      toast.success(`Renamed the workspace to ${w.name}.`);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setErrors({ fields: { name: "Enter a name." } });
      return;
    }
    setErrors(kNoErrors);
    rename.mutate();
  }
  return (
    <Card title="Workspace name">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4 p-4 sm:flex-row sm:items-start">
        <TextField label="Name" wrapperClassName="flex-1" value={name} onChange={(e) => setName(e.target.value)}
          error={errors.fields.name} required />
        <Button type="submit" variant="primary" className="sm:mt-6" busy={rename.isPending}
          disabled={name.trim() === workspace.name}>
          Rename
        </Button>
      </form>
      {errors.form && <div className="px-4 pb-4"><FormError message={errors.form} /></div>}
    </Card>
  );
}

/** Creates a workspace (the user becomes its owner) and opens it. Also used with no workspace. */
export function CreateWorkspace({ first }: { first?: boolean }) {
  const api = useApi();
  const query_client = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const toast = useToast();
  const card = useRef<HTMLDivElement>(null);
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);

  useEffect(() => {
    if (location.hash === "#create") card.current?.querySelector("input")?.focus();
  }, [location.hash]);

  const create = useMutation({
    mutationFn: () => api.createWorkspace(name.trim()),
    onSuccess: async (w) => {
      await query_client.invalidateQueries({ queryKey: queryKeys.me });
      void query_client.invalidateQueries({ queryKey: queryKeys.workspaces });
      toast.success(`Created ${w.name}.`);
      setName("");
      navigate(`/w/${w.id}`);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setErrors({ fields: { name: "Enter a name." } });
      return;
    }
    setErrors(kNoErrors);
    create.mutate();
  }
  return (
    <div ref={card} id="create">
      <Card title={first ? "Create your first workspace" : "New workspace"}>
        <form onSubmit={submit} noValidate className="space-y-4 p-4">
          <p className="text-sm text-slate-600">
            A workspace keeps its own senders, leads, campaigns and team. You become its owner.
          </p>
          <div className="flex flex-col gap-4 sm:flex-row sm:items-start">
            <TextField label="Workspace name" wrapperClassName="flex-1" value={name} onChange={(e) => setName(e.target.value)}
              error={errors.fields.name} required />
            <Button type="submit" variant="primary" className="sm:mt-6" busy={create.isPending}>
              Create workspace
            </Button>
          </div>
          <FormError message={errors.form} />
        </form>
      </Card>
    </div>
  );
}
