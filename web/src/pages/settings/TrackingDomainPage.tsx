// Settings → Tracking domain: the workspace's senders and campaigns with their custom tracking
// domain (one GET for all of them) and, for each domain that is set, its DNS check; a dialog sets
// or clears one (hostname errors next to the field) and explains the check (what the domain
// resolves to against this server's addresses, the record to create). TrackingDomainField is the compact form of the same thing for the campaign page.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import {
  getTrackingDomain,
  listTrackingDomains,
  setTrackingDomain,
  trackingKeys,
  type TrackingDomainsOverview,
  type TrackingOwner,
} from "../../api/tracking";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { describeError, formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FormError, TextField } from "../../ui/Field";
import { Badge, Card, EmptyState, ErrorState, Table, Td, Th, type Tone } from "../../ui/Layout";
import { Loading, Spinner } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { cleanDomainInput, explainCheck, withDomain, type CheckState } from "./trackingLogic";

const kStateTone: Record<CheckState, Tone> = { unset: "neutral", ok: "green", problem: "amber" };

const kFallback: Record<TrackingOwner, string> = {
  senders: "its links use the campaign's tracking domain when it has one, else the server's public URL",
  campaigns: "its links use each sender's tracking domain, else the server's public URL",
};

interface Target {
  owner: TrackingOwner;
  id: number;
  name: string;
}

/** A row of the page: the target with its domain from the workspace's overview ("" = not set). */
interface ListedTarget extends Target {
  domain: string;
}

export function TrackingDomainPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const [editing, setEditing] = useState<Target | null>(null);
  // Every sender's and campaign's domain in one GET; only a set domain is checked (one GET each).
  const domains = useQuery({ queryKey: trackingKeys.all(workspace.id), queryFn: () => listTrackingDomains(api.client, workspace.id) });
  const campaigns = domains.data?.campaigns.filter((c) => c.status !== "archived") ?? [];
  return (
    <div className="space-y-6">
      <Card title="Tracking domain">
        <div className="space-y-2 px-4 py-3 text-sm text-slate-600">
          <p>
            Open pixels, tracked links and unsubscribe links point at the server's public URL unless a sender or a campaign has its
            own tracking domain (the campaign's wins). A domain of your own, such as <span className="font-mono text-xs">track.yourcompany.com</span>,
            keeps links on a name your recipients' mail filters associate with you.
          </p>
          <p>The domain needs a DNS record (CNAME or A) pointing at this server; Kiln checks it each time you look.</p>
        </div>
      </Card>
      <Card title="Senders">
        {domains.isPending ? (
          <Loading label="Loading senders…" />
        ) : domains.isError ? (
          <ErrorState error={domains.error} onRetry={() => void domains.refetch()} />
        ) : domains.data.senders.length === 0 ? (
          <EmptyState title="No senders yet">Add a sender first; its tracking domain is set here.</EmptyState>
        ) : (
          <TargetTable caption="Tracking domains of the senders" kind="Sender" onEdit={setEditing}
            targets={domains.data.senders.map((s) => ({ owner: "senders", id: s.id, name: s.email, domain: s.tracking_domain }))} />
        )}
      </Card>
      <Card title="Campaigns">
        {domains.isPending ? (
          <Loading label="Loading campaigns…" />
        ) : domains.isError ? (
          <ErrorState error={domains.error} onRetry={() => void domains.refetch()} />
        ) : campaigns.length === 0 ? (
          <EmptyState title="No campaigns">A campaign's tracking domain overrides its senders' domains.</EmptyState>
        ) : (
          <TargetTable caption="Tracking domains of the campaigns" kind="Campaign" onEdit={setEditing}
            targets={campaigns.map((c) => ({ owner: "campaigns", id: c.id, name: c.name, domain: c.tracking_domain }))} />
        )}
      </Card>
      <TrackingDomainDialog target={editing} onClose={() => setEditing(null)} />
    </div>
  );
}

function TargetTable({ caption, kind, targets, onEdit }: { caption: string; kind: string; targets: ListedTarget[]; onEdit: (t: Target) => void }) {
  return (
    <Table
      caption={caption}
      head={
        <tr>
          <Th>{kind}</Th>
          <Th>Tracking domain</Th>
          <Th>DNS</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </tr>
      }
    >
      {targets.map((t) => (
        <TargetRow key={`${t.owner}-${t.id}`} target={t} onEdit={() => onEdit(t)} />
      ))}
    </Table>
  );
}

function useTrackingDomain(owner: TrackingOwner, id: number) {
  const api = useApi();
  const workspace = useWorkspace();
  return useQuery({
    queryKey: trackingKeys.one(workspace.id, owner, id),
    queryFn: () => getTrackingDomain(api.client, workspace.id, owner, id),
  });
}

function TargetRow({ target, onEdit }: { target: ListedTarget; onEdit: () => void }) {
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  return (
    <tr data-testid="tracking-row">
      <Td className="min-w-40 font-medium break-words text-slate-900">{target.name}</Td>
      <Td className="min-w-36 font-mono text-xs break-all">
        {target.domain === "" ? <span className="font-sans text-slate-500">Default</span> : target.domain}
      </Td>
      <Td className="whitespace-nowrap">
        {target.domain === "" ? (
          <span className="text-slate-400">
            <span aria-hidden="true">—</span>
            <span className="sr-only">Nothing to check</span>
          </span>
        ) : (
          <DnsBadge target={target} />
        )}
      </Td>
      <Td className="text-right">
        <Button size="sm" onClick={onEdit} aria-label={`${can_edit ? "Set the tracking domain of" : "DNS check of"} ${target.name}`}>
          {can_edit ? (target.domain ? "Change" : "Set") : "Details"}
        </Button>
      </Td>
    </tr>
  );
}

/** The DNS state of a row whose domain is set (its own GET, which resolves the domain). */
function DnsBadge({ target }: { target: ListedTarget }) {
  const check = useTrackingDomain(target.owner, target.id);
  if (check.isPending) {
    return (
      <span className="inline-flex items-center gap-2 text-slate-500">
        <Spinner size="sm" /> Checking…
      </span>
    );
  }
  if (check.isError) return <span className="text-red-700">{describeError(check.error)}</span>;
  const explained = explainCheck(check.data.tracking_domain, check.data.check, window.location.hostname, kFallback[target.owner]);
  if (explained.state === "unset") return <span className="text-slate-500">Not set</span>;
  return <Badge tone={kStateTone[explained.state]}>{explained.summary}</Badge>;
}

/** A dialog to set, clear and check one sender's or campaign's tracking domain. */
export function TrackingDomainDialog({ target, onClose }: { target: Target | null; onClose: () => void }) {
  return (
    <Dialog open={target !== null} title={target ? `Tracking domain of ${target.name}` : "Tracking domain"} onClose={onClose} wide>
      {target && <TrackingDomainEditor key={`${target.owner}-${target.id}`} target={target} onClose={onClose} />}
    </Dialog>
  );
}

function TrackingDomainEditor({ target, onClose }: { target: Target; onClose: () => void }) {
  const api = useApi();
  const workspace = useWorkspace();
  const query_client = useQueryClient();
  const toast = useToast();
  const can_edit = roleAtLeast(workspace.role, "member");
  const domain = useTrackingDomain(target.owner, target.id);
  const [value, setValue] = useState<string | null>(null);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const shown_value = value ?? domain.data?.tracking_domain ?? "";
  const save = useMutation({
    mutationFn: (v: string) => setTrackingDomain(api.client, workspace.id, target.owner, target.id, v),
    onSuccess: (r) => {
      setValue(r.tracking_domain);
      void query_client.invalidateQueries({ queryKey: trackingKeys.one(workspace.id, target.owner, target.id) });
      // The page's rows show the new domain at once (and the overview is read again behind them).
      query_client.setQueryData<TrackingDomainsOverview>(trackingKeys.all(workspace.id), (old) => old && withDomain(old, target.owner, target.id, r.tracking_domain));
      void query_client.invalidateQueries({ queryKey: trackingKeys.all(workspace.id) });
      toast.success(r.tracking_domain ? `Tracking domain of ${target.name}: ${r.tracking_domain}.` : `Cleared the tracking domain of ${target.name}.`);
    },
    onError: (e) => setErrors(formErrorsFrom(e, ["tracking_domain"])),
  });
  function submit(e: FormEvent, clear = false) {
    e.preventDefault();
    setErrors(kNoErrors);
    const v = clear ? "" : cleanDomainInput(shown_value);
    setValue(v);
    save.mutate(v);
  }
  const saved = domain.data?.tracking_domain ?? "";
  const explained = domain.data ? explainCheck(saved, domain.data.check, window.location.hostname, kFallback[target.owner]) : undefined;

  return (
    <div className="space-y-5">
      {can_edit ? (
        <form onSubmit={(e) => submit(e)} noValidate className="space-y-3">
          <TextField
            label="Tracking domain"
            placeholder="track.yourcompany.com"
            autoComplete="off"
            spellCheck={false}
            value={shown_value}
            onChange={(e) => setValue(e.target.value)}
            error={errors.fields.tracking_domain}
            hint="A host name you control; leave empty to use the default."
            disabled={domain.isPending}
          />
          <FormError message={errors.form} />
          <div className="flex flex-wrap justify-end gap-2">
            {saved !== "" && (
              <Button onClick={(e) => submit(e, true)} disabled={save.isPending}>
                Clear
              </Button>
            )}
            <Button type="submit" variant="primary" busy={save.isPending}>
              Save
            </Button>
          </div>
        </form>
      ) : (
        <p className="text-sm text-slate-600">Members and above can change the tracking domain.</p>
      )}
      <section aria-labelledby={`check-${target.owner}-${target.id}`} className="rounded-md bg-slate-50 p-3 ring-1 ring-inset ring-slate-200">
        <div className="mb-2 flex items-center justify-between gap-2">
          <h3 id={`check-${target.owner}-${target.id}`} className="text-sm font-semibold text-slate-900">
            DNS check
          </h3>
          {saved !== "" && (
            <Button size="sm" variant="ghost" busy={domain.isFetching} onClick={() => void domain.refetch()}>
              Check again
            </Button>
          )}
        </div>
        {domain.isPending ? (
          <Loading label="Checking DNS…" />
        ) : domain.isError ? (
          <ErrorState error={domain.error} onRetry={() => void domain.refetch()} />
        ) : (
          explained && <CheckDetails domain={saved} explained={explained} check={domain.data.check} />
        )}
      </section>
      <div className="flex justify-end">
        <Button onClick={onClose}>Close</Button>
      </div>
    </div>
  );
}

function CheckDetails({
  domain,
  explained,
  check,
}: {
  domain: string;
  explained: ReturnType<typeof explainCheck>;
  check: { addresses: string[]; server_addresses: string[] } | null;
}) {
  return (
    <div className="space-y-3 text-sm text-slate-700" data-testid="tracking-check">
      <div className="flex flex-wrap items-center gap-2" role="status">
        <Badge tone={kStateTone[explained.state]}>{explained.summary}</Badge>
        <span>{explained.text}</span>
      </div>
      {check && (
        <dl className="grid gap-2 sm:grid-cols-2">
          <div>
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{domain} resolves to</dt>
            <dd className="font-mono text-xs">{check.addresses.length > 0 ? check.addresses.join(", ") : "nothing"}</dd>
          </div>
          <div>
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">This server's addresses</dt>
            <dd className="font-mono text-xs">{check.server_addresses.length > 0 ? check.server_addresses.join(", ") : "unknown"}</dd>
          </div>
        </dl>
      )}
      {explained.state === "problem" && explained.records.length > 0 && (
        <div>
          <p className="mb-1 font-medium text-slate-900">Create at your DNS provider</p>
          <div className="relative overflow-x-auto">
            <table className="min-w-full text-left font-mono text-xs">
              <caption className="sr-only">DNS records to create</caption>
              <thead className="text-slate-500">
                <tr>
                  <th scope="col" className="py-1 pr-4 font-medium">Type</th>
                  <th scope="col" className="py-1 pr-4 font-medium">Name</th>
                  <th scope="col" className="py-1 font-medium">Value</th>
                </tr>
              </thead>
              <tbody>
                {explained.records.map((r) => (
                  <tr key={`${r.type}-${r.value}`}>
                    <td className="py-1 pr-4">{r.type}</td>
                    <td className="py-1 pr-4 break-all">{r.name}</td>
                    <td className="py-1 break-all">{r.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * The campaign page's compact tracking-domain value (its label is the page's "Tracking domain"
 * term): the domain, its DNS state and a button opening the dialog to change and check it.
 */
export function TrackingDomainField({ campaign_id, campaign_name }: { campaign_id: number; campaign_name: string }) {
  const workspace = useWorkspace();
  const domain = useTrackingDomain("campaigns", campaign_id);
  const [open, setOpen] = useState(false);
  const can_edit = roleAtLeast(workspace.role, "member");
  const explained = domain.data ? explainCheck(domain.data.tracking_domain, domain.data.check, window.location.hostname, kFallback.campaigns) : undefined;
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="campaign-tracking-domain">
      {domain.isPending ? (
        <span className="inline-flex items-center gap-2 text-slate-500">
          <Spinner size="sm" /> Checking…
        </span>
      ) : domain.isError ? (
        <span className="text-red-700">{describeError(domain.error)}</span>
      ) : (
        <>
          <span className={domain.data.tracking_domain ? "font-mono text-xs" : "text-slate-500"}>
            {domain.data.tracking_domain || "the senders' domains, else the public URL"}
          </span>
          {explained && explained.state !== "unset" && <Badge tone={kStateTone[explained.state]}>{explained.summary}</Badge>}
        </>
      )}
      <Button size="sm" variant="ghost" onClick={() => setOpen(true)} aria-label={`${can_edit ? "Change" : "Show"} the tracking domain of ${campaign_name}`}>
        {can_edit ? "Change" : "Details"}
      </Button>
      <TrackingDomainDialog target={open ? { owner: "campaigns", id: campaign_id, name: campaign_name } : null} onClose={() => setOpen(false)} />
    </div>
  );
}
