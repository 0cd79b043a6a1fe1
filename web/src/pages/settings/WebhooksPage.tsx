// Settings → Webhooks (admins): outgoing subscriptions (list with their state, create with the
// signing secret shown once, edit, enable/disable, delete, a test ping), the delivery log of one
// subscription (status filter, "Load older" paging, retry of failed deliveries), how to verify the
// `Kiln-Signature` header, and the inbound provider webhook (Mailgun signing key, inbound URL shown
// once).

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useApi } from "../../api/context";
import {
  createWebhook,
  deleteWebhook,
  getProviderWebhook,
  kDeliveryStatuses,
  listDeliveries,
  listWebhookEventTypes,
  listWebhooks,
  pingWebhook,
  retryDelivery,
  rotateProviderWebhook,
  updateWebhook,
  webhookKeys,
  type CreatedWebhook,
  type DeliveryStatus,
  type PingResult,
  type RotatedProviderWebhook,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventTypeInfo,
} from "../../api/webhooks";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDateTime } from "../../lib/format";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { CopySecret } from "../../ui/CopySecret";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, Table, Td, Th, type Tone } from "../../ui/Layout";
import { Menu } from "../../ui/Menu";
import { Loading, Spinner } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { RequireRole } from "./SettingsLayout";
import { kNodeRecipe, kPythonRecipe } from "./signatureRecipes";
import {
  deliveryOutcome,
  describeEventTypes,
  eventTypesBody,
  foldDeliveryPages,
  pingOutcome,
  replaceDelivery,
  selectionFrom,
  toggleType,
  urlProblem,
  webhookState,
  type EventSelection,
} from "./webhookLogic";

const kDeliveryTone: Record<DeliveryStatus, Tone> = { pending: "blue", delivered: "green", failed: "red" };

export function WebhooksPage() {
  return (
    <RequireRole min_role="admin">
      <div className="space-y-6">
        <Webhooks />
        <SignatureRecipe />
        <ProviderWebhookCard />
      </div>
    </RequireRole>
  );
}

function Webhooks() {
  const api = useApi();
  const workspace = useWorkspace();
  const [params, setParams] = useSearchParams();
  const hooks = useQuery({ queryKey: webhookKeys.list(workspace.id), queryFn: () => listWebhooks(api.client, workspace.id) });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [pinging, setPinging] = useState<Webhook | null>(null);
  const selected_param = Number(params.get("webhook") ?? "");
  const selected = hooks.data?.items.find((w) => w.id === selected_param);

  const query_client = useQueryClient();
  const toast = useToast();
  const toggle = useMutation({
    mutationFn: (w: Webhook) => updateWebhook(api.client, workspace.id, w.id, { is_enabled: !w.is_enabled }),
    onSuccess: (w) => {
      void query_client.invalidateQueries({ queryKey: webhookKeys.list(workspace.id) });
      toast.success(`${w.is_enabled ? "Enabled" : "Disabled"} the webhook to ${w.url}.`);
    },
    onError: (e) => toast.error(describeError(e)),
  });

  function showLog(w: Webhook) {
    setParams({ webhook: String(w.id) });
  }

  return (
    <>
      <Card
        title="Webhooks"
        actions={
          <Button variant="primary" size="sm" onClick={() => setCreating(true)}>
            Add webhook
          </Button>
        }
      >
        <p className="border-b border-slate-100 px-4 py-3 text-sm text-slate-600">
          Kiln POSTs each event of this workspace (sends, opens, clicks, replies, bounces…) as JSON to your URL, signed with
          the webhook's secret, and retries failures for a day.
        </p>
        {hooks.isPending ? (
          <Loading label="Loading webhooks…" />
        ) : hooks.isError ? (
          <ErrorState error={hooks.error} onRetry={() => void hooks.refetch()} />
        ) : hooks.data.items.length === 0 ? (
          <EmptyState title="No webhooks">Add one to receive this workspace's events in your own systems.</EmptyState>
        ) : (
          <Table
            caption="Webhooks"
            head={
              <tr>
                <Th>Endpoint</Th>
                <Th>Events</Th>
                <Th>State</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            }
          >
            {hooks.data.items.map((w) => {
              const state = webhookState(w, formatDateTime);
              return (
                <tr key={w.id} aria-current={w.id === selected?.id ? "true" : undefined} className={w.id === selected?.id ? "bg-brand-50/40" : undefined}>
                  <Td className="max-w-xs min-w-48">
                    <div className="font-mono text-xs break-all text-slate-900">{w.url}</div>
                    {w.description && <div className="mt-0.5 text-xs text-slate-500">{w.description}</div>}
                  </Td>
                  <Td className="text-slate-700">{describeEventTypes(w.event_types)}</Td>
                  <Td className="min-w-48">
                    <Badge tone={state.tone}>{state.label}</Badge>
                    {state.detail && <div className="mt-1 text-xs text-slate-600">{state.detail}</div>}
                  </Td>
                  <Td className="text-right whitespace-nowrap">
                    <div className="flex items-center justify-end gap-1">
                      <Button size="sm" onClick={() => showLog(w)} aria-label={`Delivery log of ${w.url}`}>
                        Deliveries
                      </Button>
                      <Menu
                        label={`Actions for ${w.url}`}
                        button={<span aria-hidden="true">⋯</span>}
                        items={[
                          { key: "ping", label: "Send test ping", onSelect: () => setPinging(w) },
                          { key: "edit", label: "Edit", onSelect: () => setEditing(w) },
                          {
                            key: "toggle",
                            label: w.is_enabled ? "Disable" : "Enable",
                            onSelect: () => toggle.mutate(w),
                          },
                          { key: "delete", label: "Delete", danger: true, onSelect: () => setDeleting(w) },
                        ]}
                      />
                    </div>
                  </Td>
                </tr>
              );
            })}
          </Table>
        )}
      </Card>
      {selected !== undefined && <DeliveryLogCard key={selected.id} webhook={selected} onClose={() => setParams({})} onPing={() => setPinging(selected)} />}
      <WebhookDialog open={creating} webhook={null} onClose={() => setCreating(false)} onCreated={showLog} />
      <WebhookDialog open={editing !== null} webhook={editing} onClose={() => setEditing(null)} />
      <DeleteWebhookDialog webhook={deleting} onClose={() => setDeleting(null)} onDeleted={(w) => w.id === selected?.id && setParams({})} />
      <PingDialog webhook={pinging} onClose={() => setPinging(null)} />
    </>
  );
}

/** The event types a subscription can name, with their descriptions, from the server. */
function useEventTypes() {
  const api = useApi();
  const workspace = useWorkspace();
  return useQuery({
    queryKey: webhookKeys.eventTypes(workspace.id),
    queryFn: () => listWebhookEventTypes(api.client, workspace.id),
    staleTime: Infinity,
  });
}

/**
 * The subscription form's event-type choice: "every event" or a checkbox per type the server
 * lists (`types`; undefined while they load).
 */
function EventTypesField({
  value,
  onChange,
  error,
  types,
}: {
  value: EventSelection;
  onChange: (s: EventSelection) => void;
  error?: string;
  types: ReturnType<typeof useEventTypes>;
}) {
  const legend_id = useId();
  const known: WebhookEventTypeInfo[] = types.data?.items ?? [];
  return (
    <fieldset aria-describedby={error ? `${legend_id}-error` : undefined}>
      <legend id={legend_id} className="mb-2 text-sm font-medium text-slate-700">
        Events to send
      </legend>
      <CheckboxField
        label="Every event type"
        hint="Includes types Kiln adds later."
        checked={value.all}
        onChange={(e) => onChange(e.target.checked ? { all: true, types: new Set() } : { all: false, types: new Set() })}
      />
      {types.isPending ? (
        <Loading label="Loading the event types…" />
      ) : types.isError ? (
        <ErrorState error={types.error} onRetry={() => void types.refetch()} />
      ) : (
        <div className="mt-3 grid gap-2 sm:grid-cols-2" data-testid="webhook-event-types">
          {known.map((t) => (
            <CheckboxField
              key={t.type}
              label={<span className="font-mono text-xs">{t.type}</span>}
              hint={t.description}
              checked={value.all || value.types.has(t.type)}
              onChange={(e) =>
                onChange(toggleType(value.all ? { all: false, types: new Set(known.map((k) => k.type)) } : value, t.type, e.target.checked))
              }
            />
          ))}
        </div>
      )}
      {error && (
        <p id={`${legend_id}-error`} className="mt-2 text-sm text-red-700">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** Create (webhook null) or edit a subscription; after a create, shows the secret once. */
function WebhookDialog({
  open,
  webhook,
  onClose,
  onCreated,
}: {
  open: boolean;
  webhook: Webhook | null;
  onClose: () => void;
  onCreated?: (w: Webhook) => void;
}) {
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  function close() {
    if (created !== null) onCreated?.(created);
    setCreated(null);
    onClose();
  }
  const title = created ? "Webhook added" : webhook ? "Edit webhook" : "Add a webhook";
  return (
    <Dialog open={open} title={title} onClose={close} wide>
      {created ? (
        <div className="space-y-4">
          <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            Copy the signing secret now and store it with your receiver: Kiln will not show it again. Without it you cannot
            verify that requests come from Kiln (to get a new one, delete the webhook and add it again).
          </p>
          <CopySecret label={`Signing secret of ${created.url}`} value={created.secret} />
          <div className="flex justify-end">
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </div>
        </div>
      ) : (
        open && <WebhookForm key={webhook?.id ?? "new"} webhook={webhook} onCreated={setCreated} onSaved={close} onCancel={close} />
      )}
    </Dialog>
  );
}

function WebhookForm({
  webhook,
  onCreated,
  onSaved,
  onCancel,
}: {
  webhook: Webhook | null;
  onCreated: (w: CreatedWebhook) => void;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const [url, setUrl] = useState(webhook?.url ?? "");
  const [description, setDescription] = useState(webhook?.description ?? "");
  const [events, setEvents] = useState<EventSelection>(() => selectionFrom(webhook?.event_types ?? []));
  const [enabled, setEnabled] = useState(webhook?.is_enabled ?? true);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const event_types = useEventTypes();

  const save = useMutation({
    mutationFn: (body: { url: string; description: string; event_types: string[]; is_enabled: boolean }) =>
      webhook === null ? createWebhook(api.client, workspace.id, body) : updateWebhook(api.client, workspace.id, webhook.id, body),
    onSuccess: (w) => {
      void query_client.invalidateQueries({ queryKey: webhookKeys.list(workspace.id) });
      if ("secret" in w) {
        onCreated(w as CreatedWebhook);
      } else {
        toast.success("Webhook saved.");
        onSaved();
      }
    },
    onError: (e) => {
      const form = formErrorsFrom(e, ["url", "description", "is_enabled"]);
      // event_types[3] and the like belong to the checkboxes.
      if (form.form?.startsWith("event_types")) setErrors({ fields: { event_types: form.form } });
      else setErrors(form);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    const url_problem = urlProblem(url);
    if (url_problem) fields.url = url_problem;
    const types = eventTypesBody(events, (event_types.data?.items ?? []).map((t) => t.type));
    if (types === undefined) fields.event_types = "Choose at least one event type, or every event type.";
    if (Object.keys(fields).length > 0 || types === undefined) {
      setErrors({ fields });
      return;
    }
    setErrors(kNoErrors);
    save.mutate({ url: url.trim(), description: description.trim(), event_types: types, is_enabled: enabled });
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <TextField
        label="Endpoint URL"
        type="url"
        inputMode="url"
        placeholder="https://example.com/kiln-events"
        hint="Kiln POSTs JSON here. Private and loopback addresses are refused unless the server allows them."
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        error={errors.fields.url}
        required
      />
      <TextField
        label="Description"
        hint="Optional: what receives these events."
        value={description}
        maxLength={500}
        onChange={(e) => setDescription(e.target.value)}
        error={errors.fields.description}
      />
      <EventTypesField value={events} onChange={setEvents} error={errors.fields.event_types} types={event_types} />
      <CheckboxField
        label="Enabled"
        hint={webhook?.disabled_reason ? `Kiln turned it off: ${webhook.disabled_reason} Enabling resumes its pending deliveries.` : "Disabled webhooks receive nothing."}
        checked={enabled}
        onChange={(e) => setEnabled(e.target.checked)}
        error={errors.fields.is_enabled}
      />
      <FormError message={errors.form} />
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={save.isPending}>
          {webhook === null ? "Add webhook" : "Save"}
        </Button>
      </div>
    </form>
  );
}

function DeleteWebhookDialog({ webhook, onClose, onDeleted }: { webhook: Webhook | null; onClose: () => void; onDeleted: (w: Webhook) => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: (w: Webhook) => deleteWebhook(api.client, workspace.id, w.id),
    onSuccess: (_, w) => {
      // Its log is gone with it: close it, and refresh only the list (asking for the log again
      // would answer 404; its cached pages are dropped once unused).
      onDeleted(w);
      void query_client.invalidateQueries({ queryKey: webhookKeys.list(workspace.id) });
      toast.success(`Deleted the webhook to ${w.url}.`);
      close();
    },
  });
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={webhook !== null}
      title="Delete webhook?"
      message={
        webhook && (
          <>
            <strong className="break-all">{webhook.url}</strong> will receive no more events, and its delivery log is deleted with it.
          </>
        )
      }
      confirm_label="Delete webhook"
      busy={remove.isPending}
      error={remove.isError ? describeError(remove.error) : undefined}
      onConfirm={() => webhook && remove.mutate(webhook)}
      onClose={close}
    />
  );
}

/** Sends a signed `ping` when asked and shows what the receiver answered (delivered, HTTP status, error). */
function PingDialog({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  return (
    <Dialog open={webhook !== null} title="Test ping" onClose={onClose}>
      {webhook && <PingRun key={webhook.id} webhook={webhook} onClose={onClose} />}
    </Dialog>
  );
}

function PingRun({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const ping = useMutation({
    mutationFn: () => pingWebhook(api.client, workspace.id, webhook.id),
    onSettled: () => void query_client.invalidateQueries({ queryKey: webhookKeys.all(workspace.id) }),
  });
  const result: PingResult | undefined = ping.data;
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-700">
        Sends one signed <code className="rounded bg-slate-100 px-1 font-mono text-xs">ping</code> event to{" "}
        <span className="font-mono text-xs break-all">{webhook.url}</span> now, once, without retries.
      </p>
      <div role="status" aria-live="polite" className="min-h-6 text-sm">
        {ping.isPending && (
          <span className="inline-flex items-center gap-2 text-slate-600">
            <Spinner /> Sending…
          </span>
        )}
        {result && (
          <div
            data-testid="ping-result"
            className={
              "rounded-md px-3 py-2 ring-1 ring-inset " +
              (result.delivered ? "bg-green-50 text-green-900 ring-green-200" : "bg-red-50 text-red-900 ring-red-200")
            }
          >
            <p className="font-medium">{pingOutcome(result)}</p>
            <p className="mt-1 text-xs">Delivery {result.delivery_id} is in the log.</p>
          </div>
        )}
        {ping.isError && <FormError message={describeError(ping.error)} />}
      </div>
      <div className="flex justify-end gap-2">
        <Button onClick={onClose}>Close</Button>
        <Button variant="primary" busy={ping.isPending} onClick={() => ping.mutate()}>
          {result || ping.isError ? "Send again" : "Send test ping"}
        </Button>
      </div>
    </div>
  );
}

function DeliveryLogCard({ webhook, onClose, onPing }: { webhook: Webhook; onClose: () => void; onPing: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const [status, setStatus] = useState<DeliveryStatus | "">("");
  const key = webhookKeys.deliveries(workspace.id, webhook.id, status);
  const log = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => listDeliveries(api.client, workspace.id, webhook.id, { status: status || undefined, before: pageParam }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
  const retry = useMutation({
    mutationFn: (d: WebhookDelivery) => retryDelivery(api.client, workspace.id, webhook.id, d.id),
    onSuccess: (next) => {
      query_client.setQueryData<{ pages: Array<{ items: WebhookDelivery[]; next_before: number | null }>; pageParams: unknown[] }>(
        key,
        (old) => (old ? { ...old, pages: replaceDelivery(old.pages, next) } : old),
      );
      toast.success(`Delivery ${next.id} will be sent again in a moment.`);
    },
    onError: (e) => toast.error(describeError(e)),
  });
  const folded = log.data ? foldDeliveryPages(log.data.pages) : undefined;

  return (
    <Card
      title="Delivery log"
      actions={
        <div className="flex flex-wrap justify-end gap-1">
          <Button size="sm" onClick={onPing}>
            Send test ping
          </Button>
          <Button size="sm" variant="ghost" onClick={() => void log.refetch()} aria-label="Refresh the delivery log">
            Refresh
          </Button>
          <Button size="sm" variant="ghost" onClick={onClose} aria-label="Close the delivery log">
            Close
          </Button>
        </div>
      }
    >
      <div className="space-y-3 border-b border-slate-100 px-4 py-3">
        <p className="text-sm text-slate-600">
          Deliveries to <span className="font-mono text-xs break-all text-slate-900">{webhook.url}</span>, newest first.
        </p>
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => setStatus(e.target.value as DeliveryStatus | "")}
          options={[{ value: "", label: "All deliveries" }, ...kDeliveryStatuses.map((s) => ({ value: s, label: capitalize(s) }))]}
          wrapperClassName="max-w-xs"
        />
      </div>
      {log.isPending ? (
        <Loading label="Loading deliveries…" />
      ) : log.isError ? (
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      ) : folded === undefined || folded.items.length === 0 ? (
        <EmptyState title={status ? `No ${status} deliveries` : "No deliveries yet"}>
          Events after the webhook was added show up here; send a test ping to try the endpoint.
        </EmptyState>
      ) : (
        <>
          <Table
            caption={`Deliveries to ${webhook.url}, newest first`}
            head={
              <tr>
                <Th>Event</Th>
                <Th>Status</Th>
                <Th>Outcome</Th>
                <Th>Created</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            }
          >
            {folded.items.map((d) => (
              <tr key={d.id} data-testid="delivery-row">
                <Td className="whitespace-nowrap">
                  <span className="font-mono text-xs">{d.event_type}</span>
                  <div className="text-xs text-slate-500">#{d.id}</div>
                </Td>
                <Td>
                  <Badge tone={kDeliveryTone[d.status]}>{capitalize(d.status)}</Badge>
                </Td>
                <Td className="max-w-md text-xs break-words text-slate-700">{deliveryOutcome(d, formatDateTime)}</Td>
                <Td className="whitespace-nowrap">{formatDateTime(d.created_at)}</Td>
                <Td className="text-right">
                  {d.status === "failed" && (
                    <Button
                      size="sm"
                      busy={retry.isPending && retry.variables?.id === d.id}
                      onClick={() => retry.mutate(d)}
                      aria-label={`Retry delivery ${d.id}`}
                    >
                      Retry
                    </Button>
                  )}
                </Td>
              </tr>
            ))}
          </Table>
          <div className="flex items-center justify-between gap-2 border-t border-slate-100 px-4 py-3 text-sm text-slate-600">
            <span>
              {folded.items.length} deliver{folded.items.length === 1 ? "y" : "ies"} shown
            </span>
            {log.hasNextPage ? (
              <Button size="sm" busy={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
                Load older
              </Button>
            ) : (
              <span>End of the log</span>
            )}
          </div>
        </>
      )}
    </Card>
  );
}

function SignatureRecipe() {
  const [lang, setLang] = useState<"node" | "python">("node");
  return (
    <Card title="Verifying requests">
      <div className="space-y-3 p-4 text-sm text-slate-700">
        <p>
          Every request carries <code className="rounded bg-slate-100 px-1 font-mono text-xs">Kiln-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>{" "}
          and <code className="rounded bg-slate-100 px-1 font-mono text-xs">Kiln-Event-Id</code>. <code className="font-mono text-xs">v1</code> is the
          HMAC-SHA256 of <code className="rounded bg-slate-100 px-1 font-mono text-xs">"&lt;t&gt;.&lt;raw body&gt;"</code> keyed with the webhook's
          secret (<code className="font-mono text-xs">whsec_…</code>, used as given).
        </p>
        <ol className="list-decimal space-y-1 pl-5">
          <li>Split the header on commas; take <code className="font-mono text-xs">t</code> and every <code className="font-mono text-xs">v1</code>.</li>
          <li>Compute the HMAC over the raw body bytes, before parsing the JSON.</li>
          <li>Compare in constant time; refuse the request when no <code className="font-mono text-xs">v1</code> matches or <code className="font-mono text-xs">t</code> is more than five minutes from your clock.</li>
          <li>Answer 2xx within 10 seconds and do slow work afterwards; deduplicate by <code className="font-mono text-xs">Kiln-Event-Id</code> (delivery is at least once).</li>
        </ol>
        <div role="group" aria-label="Example language" className="flex gap-2">
          <Button size="sm" variant={lang === "node" ? "primary" : "secondary"} aria-pressed={lang === "node"} onClick={() => setLang("node")}>
            Node.js
          </Button>
          <Button size="sm" variant={lang === "python" ? "primary" : "secondary"} aria-pressed={lang === "python"} onClick={() => setLang("python")}>
            Python
          </Button>
        </div>
        <pre className="overflow-x-auto rounded-md bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100" tabIndex={0} aria-label={`Verification in ${lang === "node" ? "Node.js" : "Python"}`}>
          {lang === "node" ? kNodeRecipe : kPythonRecipe}
        </pre>
      </div>
    </Card>
  );
}

function ProviderWebhookCard() {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const provider = useQuery({ queryKey: webhookKeys.provider(workspace.id), queryFn: () => getProviderWebhook(api.client, workspace.id) });
  const [key, setKey] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  /** The URL generated last, and whether it replaced one. */
  const [rotated, setRotated] = useState<{ answer: RotatedProviderWebhook; replaced: boolean } | null>(null);
  const rotate = useMutation({
    mutationFn: () => rotateProviderWebhook(api.client, workspace.id, key),
    onSuccess: (r) => {
      setRotated({ answer: r, replaced: provider.data?.configured === true });
      setKey("");
      setConfirming(false);
      void query_client.invalidateQueries({ queryKey: webhookKeys.provider(workspace.id) });
    },
    onError: (e) => {
      setConfirming(false);
      setErrors(formErrorsFrom(e, ["mailgun_signing_key"]));
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setErrors(kNoErrors);
    if (provider.data?.configured) setConfirming(true);
    else rotate.mutate();
  }
  const inbound_url = rotated ? `${window.location.origin}${rotated.answer.path}` : "";
  return (
    <Card title="Inbound provider events">
      <div className="space-y-4 p-4 text-sm text-slate-700">
        <p>
          If you send through a provider (Mailgun, Postmark, or anything that can POST Kiln's generic JSON), give it Kiln's secret
          inbound URL: bounces, complaints and unsubscribes it reports suppress the address and stop the lead's sequences. Postmark
          signs nothing, so the URL is its only credential; Mailgun's events are also checked against its signing key.
        </p>
        {provider.isPending ? (
          <Loading label="Loading the inbound webhook…" />
        ) : provider.isError ? (
          <ErrorState error={provider.error} onRetry={() => void provider.refetch()} />
        ) : (
          <dl className="grid gap-3 sm:grid-cols-2" data-testid="provider-state">
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Inbound URL</dt>
              <dd className="mt-1">
                {provider.data.configured ? (
                  <Badge tone="green">Configured{provider.data.updated_at ? ` ${formatDateTime(provider.data.updated_at)}` : ""}</Badge>
                ) : (
                  <Badge>Not set up</Badge>
                )}
              </dd>
            </div>
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Mailgun signing key</dt>
              <dd className="mt-1">{provider.data.mailgun_signing_key_set ? <Badge tone="green">Set</Badge> : <Badge>Not set: Mailgun payloads are refused</Badge>}</dd>
            </div>
          </dl>
        )}
        {rotated && (
          <div className="space-y-2 rounded-md bg-amber-50 p-3 ring-1 ring-inset ring-amber-200">
            <p role="alert" className="text-amber-900">
              Copy this URL into your provider now: Kiln keeps only a hash of it and will not show it again.
              {rotated.replaced ? " The previous inbound URL no longer works." : ""}
            </p>
            <CopySecret label="Inbound URL" value={inbound_url} />
            <p className="text-xs text-amber-900">
              This URL uses the address you opened the dashboard with; if your provider reaches Kiln by another name (its public
              URL), keep the path and change the start.
            </p>
          </div>
        )}
        <form onSubmit={submit} noValidate className="space-y-3">
          <TextField
            label="Mailgun HTTP webhook signing key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            error={errors.fields.mailgun_signing_key}
            hint={
              provider.data?.mailgun_signing_key_set
                ? "Enter it again to keep it: generating a URL with this field empty removes the stored key."
                : "Optional: from Mailgun's Sending → Webhooks page. Leave empty to accept only Kiln's generic JSON and Postmark's records."
            }
            wrapperClassName="max-w-md"
          />
          <FormError message={errors.form} />
          <Button type="submit" variant="primary" busy={rotate.isPending && !confirming}>
            {provider.data?.configured ? "Generate a new inbound URL" : "Generate the inbound URL"}
          </Button>
        </form>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Replace the inbound URL?"
        message="The current inbound URL stops working at once: your provider's events are refused until you give it the new one."
        confirm_label="Generate a new URL"
        busy={rotate.isPending}
        onConfirm={() => rotate.mutate()}
        onClose={() => setConfirming(false)}
      />
    </Card>
  );
}
