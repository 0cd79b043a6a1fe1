// Lists: named groups of leads that campaigns send to. Create, rename (and describe), delete
// (the leads stay), and open a list's leads on the Leads screen.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useApi } from "../../api/context";
import { createList, deleteList, leadKeys, listLists, updateList, type LeadList } from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { formatDate } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { FormError, TextField } from "../../ui/Field";
import { Card, EmptyState, PageHeader, Td, Th } from "../../ui/Layout";
import { QueryTable } from "../../ui/QueryTable";
import { useToast } from "../../ui/Toast";

export function ListsPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id) });
  const [editing, setEditing] = useState<{ list: LeadList | undefined } | null>(null);
  const [deleting, setDeleting] = useState<LeadList | null>(null);

  return (
    <>
      <PageHeader
        title="Lists"
        description="Groups of leads. A campaign sends to the leads of its lists."
        actions={can_edit && (
          <Button variant="primary" onClick={() => setEditing({ list: undefined })}>
            New list
          </Button>
        )}
      />
      <Card>
        <QueryTable
          query={lists}
          items={(d) => d.items}
          loadingLabel="Loading lists…"
          empty={
            <EmptyState title="No lists yet" action={can_edit && (
              <Button variant="primary" onClick={() => setEditing({ list: undefined })}>Create your first list</Button>
            )}>
              Make a list, then add leads to it when you import them or add them one by one.
            </EmptyState>
          }
          caption="Lists"
          head={
            <tr>
              <Th>List</Th>
              <Th className="text-right">Leads</Th>
              <Th>Created</Th>
              <Th><span className="sr-only">Actions</span></Th>
            </tr>
          }
          row={(l) => (
            <tr key={l.id}>
              <Td>
                <div className="font-medium text-slate-900">{l.name}</div>
                {l.description && <div className="text-xs text-slate-500">{l.description}</div>}
              </Td>
              <Td className="text-right tabular-nums">{l.contact_count}</Td>
              <Td className="whitespace-nowrap">{formatDate(l.created_at)}</Td>
              <Td className="whitespace-nowrap text-right">
                <div className="flex justify-end gap-2">
                  <Link
                    to={`/w/${workspace.id}/leads?list_id=${l.id}`}
                    className="rounded-md px-2.5 py-1.5 text-sm font-medium text-brand-700 hover:bg-slate-100"
                    aria-label={`Open the leads of ${l.name}`}
                  >
                    Open leads
                  </Link>
                  {can_edit && (
                    <>
                      <Button size="sm" onClick={() => setEditing({ list: l })} aria-label={`Rename ${l.name}`}>
                        Rename
                      </Button>
                      <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setDeleting(l)} aria-label={`Delete ${l.name}`}>
                        Delete
                      </Button>
                    </>
                  )}
                </div>
              </Td>
            </tr>
          )}
        />
      </Card>
      <ListFormDialog list={editing?.list} open={editing !== null} onClose={() => setEditing(null)} />
      <DeleteListDialog list={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function ListFormDialog({ list, open, onClose }: { list: LeadList | undefined; open: boolean; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  useEffect(() => {
    if (!open) return;
    setName(list?.name ?? "");
    setDescription(list?.description ?? "");
    setErrors(kNoErrors);
  }, [open, list]);
  const save = useMutation({
    mutationFn: () =>
      list === undefined
        ? createList(api.client, workspace.id, { name: name.trim(), description: description.trim() })
        : updateList(api.client, workspace.id, list.id, { name: name.trim(), description: description.trim() }),
    onSuccess: (l) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
      toast.success(list === undefined ? `Created the list ${l.name}.` : `Saved ${l.name}.`);
      save.reset();
      onClose();
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["name", "description"])),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setErrors({ fields: { name: "Give the list a name." } });
      return;
    }
    save.mutate();
  }
  return (
    <Dialog open={open} title={list === undefined ? "New list" : `Rename ${list.name}`} onClose={onClose}>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <FormError message={errors.form} />
        <TextField label="List name" value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} autoFocus maxLength={200} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={errors.fields.description} hint="Optional" />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={save.isPending}>
            {list === undefined ? "Create list" : "Save"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteListDialog({ list, onClose }: { list: LeadList | null; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (l: LeadList) => deleteList(api.client, workspace.id, l.id),
    onSuccess: (_, l) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(workspace.id) });
      toast.success(`Deleted the list ${l.name}; its leads stay.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={list !== null}
      title="Delete list?"
      message={list && <>The list <strong>{list.name}</strong> goes away; its {list.contact_count} leads stay in the workspace.</>}
      confirm_label="Delete list"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => list && remove.mutate(list)}
      onClose={close}
    />
  );
}
