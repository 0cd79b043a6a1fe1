// One campaign (/w/:ws/campaigns/:id): status and why it is paused, the counts of its audience
// and its progress, its sequence and settings (with its tracking domain), and the actions its
// status allows (edit for drafts and paused campaigns, pause/resume/complete/archive).

import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { campaignKeys, getCampaign, type Campaign } from "../../api/campaigns";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { leadKeys, listLists } from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize, formatDateTime } from "../../lib/format";
import { Button, buttonClass } from "../../ui/Button";
import { Badge, Card, ErrorState, PageHeader } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { LazyCampaignAnalytics } from "../analytics/LazyCampaignAnalytics";
import { TrackingDomainField } from "../settings/TrackingDomainPage";
import { campaignActions, kConditionLabels, kWeekdays, progressOf, splitDelay } from "./campaignForm";
import { kCampaignTone, ProgressBar, useCampaignAction, type CampaignAction } from "./CampaignsPage";

const kActionLabel: Record<CampaignAction, string> = {
  pause: "Pause",
  resume: "Resume",
  complete: "Mark completed",
  archive: "Archive",
};

export function CampaignPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const id = Number(useParams().id);
  const campaign = useQuery({
    queryKey: campaignKeys.one(workspace.id, id),
    queryFn: () => getCampaign(api.client, workspace.id, id),
    enabled: Number.isInteger(id) && id > 0,
    // Running campaigns move: refresh their counts while the page is open.
    refetchInterval: (q) => (q.state.data?.status === "running" ? 5000 : false),
  });
  if (!(Number.isInteger(id) && id > 0) || (isApiError(campaign.error) && campaign.error.status === 404)) return <CampaignNotFound />;
  if (campaign.isPending) return <Loading label="Loading the campaign…" />;
  if (campaign.isError) return <ErrorState error={campaign.error} onRetry={() => void campaign.refetch()} />;
  return <CampaignView campaign={campaign.data} />;
}

/** What a campaign address shows when the campaign does not exist in this workspace. */
export function CampaignNotFound() {
  const workspace = useWorkspace();
  return (
    <>
      <PageHeader title="Campaign not found" />
      <Card>
        <p className="px-4 py-6 text-sm text-slate-700">
          This campaign does not exist in {workspace.name}.{" "}
          <Link to={`/w/${workspace.id}/campaigns`} className="font-medium text-brand-700 hover:underline">
            See all campaigns
          </Link>
        </p>
      </Card>
    </>
  );
}

function CampaignView({ campaign: c }: { campaign: Campaign }) {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const action = useCampaignAction(workspace.id);
  const senders = useQuery({ queryKey: queryKeys.senders(workspace.id), queryFn: () => api.senders(workspace.id) });
  const lists = useQuery({ queryKey: leadKeys.lists(workspace.id), queryFn: () => listLists(api.client, workspace.id) });
  const editable = c.status === "draft" || c.status === "paused";
  const counts: Array<[string, number]> = [
    ["Audience", c.counts.audience],
    ["Mailable", c.counts.mailable],
    ["Enrolled", c.counts.enrolled],
    ["In progress", c.counts.in_progress],
    ["Sent", c.counts.sent],
    ["Replied", c.counts.replied],
    ["Bounced", c.counts.bounced],
    ["Unsubscribed", c.counts.unsubscribed],
  ];
  return (
    <>
      <PageHeader
        title={c.name}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <Badge tone={kCampaignTone[c.status]}>{capitalize(c.status)}</Badge>
            {c.paused_reason && <span className="text-amber-800">{c.paused_reason}</span>}
            {c.started_at && <span>Started {formatDateTime(c.started_at)}</span>}
          </span>
        }
        actions={
          can_edit && (
            <>
              {editable && (
                <Link to={`/w/${workspace.id}/campaigns/${c.id}/edit`} className={buttonClass(c.status === "draft" ? "primary" : "secondary")}>
                  {c.status === "draft" ? "Continue editing" : "Edit"}
                </Link>
              )}
              {campaignActions(c.status).map((a) => (
                <Button
                  key={a}
                  variant={a === "archive" ? "ghost" : "secondary"}
                  busy={action.isPending && action.variables?.action === a}
                  onClick={() => action.mutate({ id: c.id, name: c.name, action: a })}
                >
                  {kActionLabel[a]}
                </Button>
              ))}
            </>
          )
        }
      />
      <div className="space-y-6">
        <Card title="Progress">
          <div className="space-y-4 p-4">
            <ProgressBar label={`${c.name}: leads done`} value={c.counts.enrolled - c.counts.in_progress} max={c.counts.enrolled} fraction={progressOf(c.counts)} />
            <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
              {counts.map(([label, n]) => (
                <div key={label}>
                  <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
                  <dd className="text-2xl font-semibold tabular-nums text-slate-900">{n}</dd>
                </div>
              ))}
            </dl>
            {c.counts.unknown > 0 && (
              <p className="text-sm text-amber-800">
                {c.counts.unknown} messages were caught mid-send by a crash and may or may not have been delivered; Kiln does not resend them on its own.
              </p>
            )}
          </div>
        </Card>
        <Card title="Sequence">
          {c.steps.length === 0 ? (
            <p className="px-4 py-6 text-sm text-slate-600">No emails yet.</p>
          ) : (
            <ol className="divide-y divide-slate-100">
              {c.steps.map((s, i) => {
                const d = splitDelay(s.delay_minutes);
                return (
                  <li key={s.id ?? i} className="px-4 py-3 text-sm">
                    <p className="font-medium text-slate-900">
                      Step {i + 1} · {i === 0 ? "at launch" : `${d.days} d ${d.hours} h after step ${i}`}
                      {i > 0 && s.condition !== "always" ? ` · ${kConditionLabels[s.condition].toLowerCase()}` : ""}
                    </p>
                    <ul className="mt-1 space-y-0.5 text-slate-700">
                      {s.variants.map((v, j) => (
                        <li key={v.id ?? j}>
                          Variant {v.label} (weight {v.weight}{v.enabled ? "" : ", disabled"}): {v.subject || "(no subject)"}
                        </li>
                      ))}
                    </ul>
                  </li>
                );
              })}
            </ol>
          )}
        </Card>
        {c.status !== "draft" && <LazyCampaignAnalytics campaignId={c.id} />}
        <Card title="Settings">
          <dl className="grid gap-x-6 gap-y-2 p-4 text-sm sm:grid-cols-[12rem_1fr]">
            <dt className="font-medium text-slate-600">Lists</dt>
            <dd>{c.list_ids.map((id) => lists.data?.items.find((l) => l.id === id)?.name ?? `list ${id}`).join(", ") || "None"}</dd>
            <dt className="font-medium text-slate-600">Senders</dt>
            <dd>{c.sender_ids.map((id) => senders.data?.items.find((s) => s.id === id)?.email ?? `sender ${id}`).join(", ") || "None"}</dd>
            <dt className="font-medium text-slate-600">Schedule</dt>
            <dd>
              {kWeekdays.filter((d) => c.schedule.days.includes(d.day)).map((d) => d.short).join(", ")}, {c.schedule.start}–{c.schedule.end} ({c.timezone}, or the lead's own time zone)
            </dd>
            <dt className="font-medium text-slate-600">Daily limit</dt>
            <dd>{c.daily_limit === 0 ? "Senders' quotas only" : c.daily_limit}</dd>
            <dt className="font-medium text-slate-600">Tracking</dt>
            <dd>
              Opens {c.track_opens ? "on" : "off"}, clicks {c.track_clicks ? "on" : "off"}; warm-up mix {c.warmup_mix_percent}%
            </dd>
            <dt className="font-medium text-slate-600">Tracking domain</dt>
            <dd>
              <TrackingDomainField campaign_id={c.id} campaign_name={c.name} />
            </dd>
          </dl>
        </Card>
      </div>
    </>
  );
}
