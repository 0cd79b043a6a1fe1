// The campaign wizard (/w/:ws/campaigns/:id/edit?step=…), for drafts and paused campaigns:
// Audience → Content → Schedule → Senders → Review & launch. Every step can be saved as a draft
// (PATCH with the whole form); moving between steps saves too. Field errors from the API and
// from the launch check are shown next to the control they name, and the launch's problems are
// listed all at once, each linked to the step that fixes it.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useBlocker, useNavigate, useParams, useSearchParams } from "react-router";
import {
  campaignKeys,
  getCampaign,
  launchCampaign,
  resumeCampaign,
  updateCampaign,
  type Campaign,
} from "../../api/campaigns";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { queryKeys } from "../../api/endpoints";
import { createListOfAllLeads, leadKeys, listLeads, listLists } from "../../api/leads";
import { roleAtLeast } from "../../api/types";
import { useWorkspace } from "../../layout/workspace";
import { capitalize } from "../../lib/format";
import { describeError } from "../../lib/forms";
import { cx } from "../../lib/cx";
import { Button, buttonClass } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, TextField } from "../../ui/Field";
import { Badge, Card, ErrorState, PageHeader } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { kStatusTone as kSenderTone, Health } from "../senders/SendersPage";
import {
  formFromCampaign,
  formProblems,
  inputFromForm,
  isWizardStep,
  kConditionLabels,
  kWeekdays,
  kWizardSteps,
  reorderBlockedReason,
  stepOfField,
  type CampaignForm,
  type WizardStep,
} from "./campaignForm";
import { CampaignNotFound } from "./CampaignPage";
import { kCampaignTone } from "./CampaignsPage";
import { ContentStep } from "./ContentStep";

export function CampaignEditorPage() {
  const api = useApi();
  const workspace = useWorkspace();
  const id = Number(useParams().id);
  const campaign = useQuery({
    queryKey: campaignKeys.one(workspace.id, id),
    queryFn: () => getCampaign(api.client, workspace.id, id),
    enabled: Number.isInteger(id) && id > 0,
  });
  if (!(Number.isInteger(id) && id > 0) || (isApiError(campaign.error) && campaign.error.status === 404)) return <CampaignNotFound />;
  if (campaign.isPending) return <Loading label="Loading the campaign…" />;
  if (campaign.isError) return <ErrorState error={campaign.error} onRetry={() => void campaign.refetch()} />;
  const c = campaign.data;
  if (c.status !== "draft" && c.status !== "paused") {
    return (
      <>
        <PageHeader title={`Edit ${c.name}`} />
        <Card>
          <p className="px-4 py-6 text-sm text-slate-700">
            This campaign is {c.status}: {c.status === "running" ? "pause it to edit it." : "it can no longer be changed."}{" "}
            <Link to={`/w/${workspace.id}/campaigns/${c.id}`} className="font-medium text-brand-700 hover:underline">
              Back to the campaign
            </Link>
          </p>
        </Card>
      </>
    );
  }
  return <Wizard key={c.id} campaign={c} />;
}

function Wizard({ campaign }: { campaign: Campaign }) {
  const api = useApi();
  const workspace = useWorkspace();
  const can_edit = roleAtLeast(workspace.role, "member");
  const query_client = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const [params, setParams] = useSearchParams();
  const step_param = params.get("step");
  const step: WizardStep = isWizardStep(step_param) ? step_param : "audience";
  const [form, setFormState] = useState<CampaignForm>(() => formFromCampaign(campaign));
  const [saved, setSaved] = useState<Campaign>(campaign);
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [form_error, setFormError] = useState<string | undefined>();
  const [problems, setProblems] = useState<Array<{ field?: string; message: string }>>([]);
  const [saving, setSaving] = useState(false);

  // Leaving the wizard (another page, or closing the tab) with unsaved changes asks first;
  // moving between its steps saves, so only a change of page counts.
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  function setForm(update: (f: CampaignForm) => CampaignForm) {
    setFormState(update);
    setDirty(true);
  }

  function goTo(next: WizardStep) {
    setParams({ step: next }, { replace: false });
    window.scrollTo({ top: 0 });
  }

  /** PATCHes the whole form; resolves with the campaign id, or shows the errors and rejects. */
  async function save(): Promise<number> {
    const local = formProblems(form);
    const first = Object.keys(local)[0];
    if (first !== undefined) {
      setErrors(local);
      setFormError("Some fields need a fix before saving.");
      goTo(stepOfField(first));
      throw new Error(local[first]);
    }
    setSaving(true);
    try {
      const c = await updateCampaign(api.client, workspace.id, campaign.id, inputFromForm(form, saved.status));
      query_client.setQueryData(campaignKeys.one(workspace.id, campaign.id), c);
      void query_client.invalidateQueries({ queryKey: campaignKeys.all(workspace.id) });
      setSaved(c);
      setDirty(false);
      setErrors({});
      setFormError(undefined);
      return c.id;
    } catch (e) {
      if (isApiError(e) && e.field !== undefined) {
        setErrors({ [e.field]: sentence(e.message) });
        setFormError(`Not saved: ${e.field}: ${e.message}`);
        goTo(stepOfField(e.field));
      } else {
        setFormError(`Not saved: ${describeError(e)}`);
      }
      throw e;
    } finally {
      setSaving(false);
    }
  }

  const launch = useMutation({
    mutationFn: async () => {
      await save();
      return saved.status === "paused"
        ? resumeCampaign(api.client, workspace.id, campaign.id)
        : launchCampaign(api.client, workspace.id, campaign.id);
    },
    onMutate: () => setProblems([]),
    onSuccess: (c) => {
      void query_client.invalidateQueries({ queryKey: campaignKeys.all(workspace.id) });
      const summary = "launch" in c ? c.launch : "resume" in c ? c.resume : undefined;
      toast.success(`${c.name} is running${summary ? `: ${summary.enrolled} leads enrolled` : ""}.`);
      navigate(`/w/${workspace.id}/campaigns/${c.id}`);
    },
    onError: (e) => {
      if (!isApiError(e)) return;
      if (e.problems.length > 0) {
        setProblems(e.problems);
        const by_field: Record<string, string> = {};
        for (const p of e.problems) if (p.field && !(p.field in by_field)) by_field[p.field] = sentence(p.message);
        setErrors(by_field);
      } else {
        setProblems([{ field: e.field, message: describeError(e) }]);
      }
    },
  });

  const index = kWizardSteps.findIndex((s) => s.id === step);
  const steps_editable = can_edit && (saved.status === "draft" || saved.status === "paused");

  return (
    <>
      <PageHeader
        title={saved.status === "draft" ? `New campaign: ${saved.name}` : `Edit ${saved.name}`}
        description={
          <span className="inline-flex items-center gap-2">
            <Badge tone={kCampaignTone[saved.status]}>{capitalize(saved.status)}</Badge>
            {dirty ? "Unsaved changes" : "All changes saved"}
          </span>
        }
        actions={
          <>
            <Link to={`/w/${workspace.id}/campaigns/${campaign.id}`} className={buttonClass("ghost")}>
              Close
            </Link>
            {can_edit && (
              <Button
                busy={saving && !launch.isPending}
                onClick={() =>
                  save().then(
                    () => toast.success("Draft saved."),
                    () => undefined,
                  )
                }
              >
                Save draft
              </Button>
            )}
          </>
        }
      />
      <nav aria-label="Campaign wizard" className="mb-6">
        <ol className="flex flex-wrap gap-2">
          {kWizardSteps.map((s, i) => (
            <li key={s.id}>
              <button
                type="button"
                aria-current={s.id === step ? "step" : undefined}
                onClick={() => goTo(s.id)}
                className={cx(
                  "rounded-full px-3 py-1.5 text-sm font-medium ring-1 ring-inset",
                  s.id === step ? "bg-brand-600 text-white ring-brand-600" : "bg-white text-slate-700 ring-slate-300 hover:bg-slate-50",
                )}
              >
                <span aria-hidden="true">{i + 1}. </span>
                {s.label}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      <div className="mb-4">
        <FormError message={form_error} />
      </div>

      <h2 className="mb-4 text-lg font-semibold text-slate-900">{kWizardSteps[index].label}</h2>
      {step === "audience" && <AudienceStep ws={workspace.id} form={form} setForm={setForm} errors={errors} audience={saved.counts.audience} mailable={saved.counts.mailable} can_edit={can_edit} />}
      {step === "content" && (
        <ContentStepWithKeys
          ws={workspace.id}
          form={form}
          setForm={setForm}
          errors={errors}
          editable={steps_editable}
          reorder_blocked={reorderBlockedReason(saved.status)}
          save={save}
          showFieldError={(field, message) => setErrors({ [field]: message })}
        />
      )}
      {step === "schedule" && <ScheduleStep form={form} setForm={setForm} errors={errors} />}
      {step === "senders" && <SendersStep ws={workspace.id} form={form} setForm={setForm} errors={errors} />}
      {step === "review" && (
        <ReviewStep
          ws={workspace.id}
          form={form}
          saved={saved}
          problems={problems}
          launching={launch.isPending}
          can_edit={can_edit}
          onLaunch={() => launch.mutate()}
          onGoTo={goTo}
        />
      )}

      <Dialog
        open={blocker.state === "blocked"}
        title="Leave without saving?"
        description="This campaign has changes that are not saved yet."
        onClose={() => blocker.reset?.()}
      >
        <div className="flex flex-wrap justify-end gap-2">
          <Button onClick={() => blocker.reset?.()}>Stay</Button>
          <Button variant="danger" onClick={() => blocker.proceed?.()}>
            Leave without saving
          </Button>
          {can_edit && (
            <Button
              variant="primary"
              busy={saving}
              onClick={() =>
                save().then(
                  () => blocker.proceed?.(),
                  () => blocker.reset?.(),
                )
              }
            >
              Save and leave
            </Button>
          )}
        </div>
      </Dialog>
      <div className="mt-6 flex flex-wrap justify-between gap-2 border-t border-slate-200 pt-4">
        <Button disabled={index === 0} onClick={() => goTo(kWizardSteps[index - 1].id)}>
          Back
        </Button>
        {index < kWizardSteps.length - 1 && (
          <Button
            variant="primary"
            busy={saving}
            onClick={() => {
              if (!can_edit) {
                goTo(kWizardSteps[index + 1].id);
                return;
              }
              save().then(
                () => goTo(kWizardSteps[index + 1].id),
                () => undefined,
              );
            }}
          >
            Next: {kWizardSteps[index + 1].label}
          </Button>
        )}
      </div>
    </>
  );
}

function sentence(message: string): string {
  return message.length === 0 ? message : message[0].toUpperCase() + message.slice(1);
}

interface StepProps {
  form: CampaignForm;
  setForm: (update: (f: CampaignForm) => CampaignForm) => void;
  errors: Record<string, string>;
}

/** Errors the API named by an indexed field (sender_ids[2]) shown on the list as a whole too. */
function errorsUnder(errors: Record<string, string>, prefix: string): string[] {
  return Object.entries(errors)
    .filter(([k]) => k === prefix || k.startsWith(prefix + "["))
    .map(([, v]) => v);
}

function AudienceStep({ ws, form, setForm, errors, audience, mailable, can_edit }: StepProps & { ws: number; audience: number; mailable: number; can_edit: boolean }) {
  const api = useApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const lists = useQuery({ queryKey: leadKeys.lists(ws), queryFn: () => listLists(api.client, ws) });
  const all = useMutation({
    mutationFn: () => createListOfAllLeads(api.client, ws, `All leads ${new Date().toISOString().slice(0, 10)}`),
    onSuccess: (list) => {
      void query_client.invalidateQueries({ queryKey: leadKeys.lists(ws) });
      setForm((f) => ({ ...f, list_ids: [...f.list_ids, list.id] }));
      toast.success(`Made the list “${list.name}” with ${list.contact_count} leads and picked it.`);
    },
  });
  const list_errors = errorsUnder(errors, "list_ids");
  return (
    <div className="space-y-4">
      <Card>
        <div className="space-y-4 p-4">
          <TextField
            label="Campaign name"
            value={form.name}
            maxLength={200}
            onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
            error={errors["name"]}
          />
          <fieldset>
            <legend className="mb-2 text-sm font-medium text-slate-700">Lead lists to send to</legend>
            {lists.isPending ? (
              <Loading label="Loading lists…" />
            ) : lists.isError ? (
              <ErrorState error={lists.error} onRetry={() => void lists.refetch()} />
            ) : lists.data.items.length === 0 ? (
              <p className="text-sm text-slate-600">
                No lists yet.{" "}
                <Link to={`/w/${ws}/lists`} className="font-medium text-brand-700 hover:underline">
                  Create a list
                </Link>{" "}
                or{" "}
                <Link to={`/w/${ws}/leads/import`} className="font-medium text-brand-700 hover:underline">
                  import leads
                </Link>
                .
              </p>
            ) : (
              <ul className="space-y-2">
                {lists.data.items.map((l) => (
                  <li key={l.id}>
                    <CheckboxField
                      label={`${l.name} (${l.contact_count} leads)`}
                      hint={l.description || undefined}
                      checked={form.list_ids.includes(l.id)}
                      onChange={(e) =>
                        setForm((f) => ({
                          ...f,
                          list_ids: e.target.checked ? [...f.list_ids, l.id] : f.list_ids.filter((x) => x !== l.id),
                        }))
                      }
                    />
                  </li>
                ))}
              </ul>
            )}
            {list_errors.map((m, i) => (
              <p key={i} className="mt-2 text-sm text-red-700">
                {m}
              </p>
            ))}
          </fieldset>
          {can_edit && (
            <div className="flex flex-wrap items-center gap-3">
              <Button size="sm" busy={all.isPending} onClick={() => all.mutate()}>
                Send to all leads
              </Button>
              <span className="text-xs text-slate-500">Makes a list of every lead you have now and picks it.</span>
            </div>
          )}
          {all.isError && <FormError message={describeError(all.error)} />}
          <p className="text-sm text-slate-600">
            Saved audience: <strong>{audience}</strong> leads, {mailable} of them mailable (suppressed, bounced and unsubscribed leads are skipped).
          </p>
        </div>
      </Card>
    </div>
  );
}

/** The Content step with the custom field keys found on the workspace's leads. */
function ContentStepWithKeys({ ws, form, setForm, errors, editable, reorder_blocked, save, showFieldError }: StepProps & {
  ws: number;
  editable: boolean;
  reorder_blocked: string | null;
  save: () => Promise<number>;
  showFieldError: (field: string, message: string) => void;
}) {
  const api = useApi();
  const sample = useQuery({
    queryKey: [...leadKeys.leads(ws), "custom-keys"],
    queryFn: () => listLeads(api.client, ws, { limit: 200 }),
  });
  const custom_keys = useMemo(() => {
    const keys = new Set<string>();
    for (const lead of sample.data?.items ?? []) for (const k of Object.keys(lead.custom_fields ?? {})) keys.add(k);
    return [...keys];
  }, [sample.data]);
  return (
    <ContentStep
      ws={ws}
      form={form}
      setForm={setForm}
      errors={errors}
      custom_keys={custom_keys}
      editable={editable}
      reorder_blocked={reorder_blocked}
      save={save}
      showFieldError={showFieldError}
    />
  );
}

function timezones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

function ScheduleStep({ form, setForm, errors }: StepProps) {
  const zones = useMemo(timezones, []);
  return (
    <Card>
      <div className="space-y-4 p-4">
        <fieldset>
          <legend className="mb-2 text-sm font-medium text-slate-700">Sending days</legend>
          <div className="flex flex-wrap gap-4">
            {kWeekdays.map((d) => (
              <CheckboxField
                key={d.day}
                label={d.long}
                checked={form.days.includes(d.day)}
                onChange={(e) =>
                  setForm((f) => ({
                    ...f,
                    days: e.target.checked ? [...f.days, d.day].sort((a, b) => a - b) : f.days.filter((x) => x !== d.day),
                  }))
                }
              />
            ))}
          </div>
          {(errors["schedule.days"] || errors["schedule"]) && (
            <p className="mt-2 text-sm text-red-700">{errors["schedule.days"] ?? errors["schedule"]}</p>
          )}
        </fieldset>
        <div className="grid gap-3 sm:grid-cols-3">
          <TextField label="Window starts" type="time" value={form.start} onChange={(e) => setForm((f) => ({ ...f, start: e.target.value }))} error={errors["schedule.start"]} />
          <TextField label="Window ends" type="time" value={form.end} onChange={(e) => setForm((f) => ({ ...f, end: e.target.value }))} error={errors["schedule.end"]} />
          <TextField
            label="Time zone"
            list="kiln-timezones"
            value={form.timezone}
            onChange={(e) => setForm((f) => ({ ...f, timezone: e.target.value }))}
            error={errors["timezone"]}
            hint="IANA name, e.g. Europe/Paris"
          />
          <datalist id="kiln-timezones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </div>
        <p className="rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-700 ring-1 ring-inset ring-slate-200">
          Each lead with a known time zone gets the window in their own time zone; the time zone above applies to leads without one.
        </p>
      </div>
    </Card>
  );
}

function SendersStep({ ws, form, setForm, errors }: StepProps & { ws: number }) {
  const api = useApi();
  const senders = useQuery({ queryKey: queryKeys.senders(ws), queryFn: () => api.senders(ws) });
  const sender_errors = errorsUnder(errors, "sender_ids");
  return (
    <div className="space-y-4">
      <Card title="Send from">
        <fieldset className="p-4">
          <legend className="sr-only">Senders of this campaign</legend>
          {senders.isPending ? (
            <Loading label="Loading senders…" />
          ) : senders.isError ? (
            <ErrorState error={senders.error} onRetry={() => void senders.refetch()} />
          ) : senders.data.items.length === 0 ? (
            <p className="text-sm text-slate-600">
              No senders yet.{" "}
              <Link to={`/w/${ws}/senders`} className="font-medium text-brand-700 hover:underline">
                Add a sender
              </Link>
              .
            </p>
          ) : (
            <ul className="divide-y divide-slate-100">
              {senders.data.items.map((s) => (
                <li key={s.id} className="flex flex-wrap items-center justify-between gap-3 py-2">
                  <CheckboxField
                    label={`${s.name} <${s.email}>`}
                    hint={`Daily quota ${s.daily_quota}${s.status_reason ? ` · ${s.status_reason}` : ""}`}
                    checked={form.sender_ids.includes(s.id)}
                    onChange={(e) =>
                      setForm((f) => ({
                        ...f,
                        sender_ids: e.target.checked ? [...f.sender_ids, s.id] : f.sender_ids.filter((x) => x !== s.id),
                      }))
                    }
                  />
                  <div className="flex items-center gap-3">
                    <Badge tone={kSenderTone[s.status] ?? "neutral"}>{capitalize(s.status)}</Badge>
                    <Health score={s.health_score} />
                  </div>
                </li>
              ))}
            </ul>
          )}
          {sender_errors.map((m, i) => (
            <p key={i} className="mt-2 text-sm text-red-700">
              {m}
            </p>
          ))}
        </fieldset>
      </Card>
      <Card title="Sending options">
        <div className="grid gap-4 p-4 sm:grid-cols-2">
          <TextField
            label="Daily campaign limit"
            inputMode="numeric"
            value={form.daily_limit}
            onChange={(e) => setForm((f) => ({ ...f, daily_limit: e.target.value }))}
            error={errors["daily_limit"]}
            hint="Emails per day for this campaign; 0 leaves it to the senders' quotas."
          />
          <TextField
            label="Warm-up mix (%)"
            inputMode="numeric"
            value={form.warmup_mix_percent}
            onChange={(e) => setForm((f) => ({ ...f, warmup_mix_percent: e.target.value }))}
            error={errors["warmup_mix_percent"]}
            hint="Share of each sender's day kept for warm-up mail."
          />
          <CheckboxField label="Track opens" checked={form.track_opens} onChange={(e) => setForm((f) => ({ ...f, track_opens: e.target.checked }))} error={errors["track_opens"]} />
          <CheckboxField label="Track clicks" checked={form.track_clicks} onChange={(e) => setForm((f) => ({ ...f, track_clicks: e.target.checked }))} error={errors["track_clicks"]} />
          <CheckboxField
            label="Stop for a lead on an auto-reply"
            checked={form.stop_on_auto_reply}
            onChange={(e) => setForm((f) => ({ ...f, stop_on_auto_reply: e.target.checked }))}
          />
        </div>
      </Card>
    </div>
  );
}

function ReviewStep({ ws, form, saved, problems, launching, can_edit, onLaunch, onGoTo }: {
  ws: number;
  form: CampaignForm;
  saved: Campaign;
  problems: Array<{ field?: string; message: string }>;
  launching: boolean;
  can_edit: boolean;
  onLaunch: () => void;
  onGoTo: (step: WizardStep) => void;
}) {
  const api = useApi();
  const senders = useQuery({ queryKey: queryKeys.senders(ws), queryFn: () => api.senders(ws) });
  const lists = useQuery({ queryKey: leadKeys.lists(ws), queryFn: () => listLists(api.client, ws) });
  const list_names = form.list_ids.map((id) => lists.data?.items.find((l) => l.id === id)?.name ?? `list ${id}`);
  const sender_names = form.sender_ids.map((id) => senders.data?.items.find((s) => s.id === id)?.email ?? `sender ${id}`);
  const days = kWeekdays.filter((d) => form.days.includes(d.day)).map((d) => d.short).join(", ");
  const label = saved.status === "paused" ? "Resume campaign" : "Launch campaign";
  return (
    <div className="space-y-4">
      {problems.length > 0 && (
        <section role="alert" aria-labelledby="launch-problems" className="rounded-lg bg-red-50 p-4 ring-1 ring-inset ring-red-200">
          <h3 id="launch-problems" className="text-sm font-semibold text-red-900">
            The campaign cannot {saved.status === "paused" ? "resume" : "launch"} yet: {problems.length} {problems.length === 1 ? "problem" : "problems"}
          </h3>
          <ul className="mt-2 space-y-2" data-testid="launch-problems">
            {problems.map((p, i) => {
              const target = stepOfField(p.field);
              const step_label = kWizardSteps.find((s) => s.id === target)?.label ?? "";
              return (
                <li key={i} className="flex flex-wrap items-start justify-between gap-2 text-sm text-red-900">
                  <span>{sentence(p.message)}</span>
                  {target !== "review" ? (
                    <button type="button" className="shrink-0 font-medium text-brand-700 underline" onClick={() => onGoTo(target)}>
                      Fix in {step_label}
                    </button>
                  ) : p.field === "public_url" ? (
                    <span className="shrink-0 text-xs text-red-800">A server setting: ask your administrator (--public-url or KILN_PUBLIC_URL)</span>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </section>
      )}
      <Card>
        <dl className="grid gap-x-6 gap-y-3 p-4 text-sm sm:grid-cols-[12rem_1fr]">
          <dt className="font-medium text-slate-600">Name</dt>
          <dd className="text-slate-900">{form.name}</dd>
          <dt className="font-medium text-slate-600">Audience</dt>
          <dd className="text-slate-900">
            {list_names.length ? list_names.join(", ") : "No lists"} · {saved.counts.audience} leads, {saved.counts.mailable} mailable
          </dd>
          <dt className="font-medium text-slate-600">Sequence</dt>
          <dd className="text-slate-900">
            {form.steps.length === 0 ? (
              "No emails"
            ) : (
              <ol className="list-decimal space-y-1 pl-5">
                {form.steps.map((s, i) => (
                  <li key={s.key}>
                    {i === 0 ? "At launch" : `${s.delay_days} d ${s.delay_hours} h later`}
                    {i > 0 && s.condition !== "always" ? ` · ${kConditionLabels[s.condition].toLowerCase()}` : ""} · {s.variants.length}{" "}
                    {s.variants.length === 1 ? "variant" : "variants"}: {s.variants.map((v) => `“${v.subject || "(no subject)"}”`).join(", ")}
                  </li>
                ))}
              </ol>
            )}
          </dd>
          <dt className="font-medium text-slate-600">Schedule</dt>
          <dd className="text-slate-900">
            {days || "No days"}, {form.start}–{form.end} ({form.timezone || "UTC"}, or each lead's own time zone)
          </dd>
          <dt className="font-medium text-slate-600">Senders</dt>
          <dd className="text-slate-900">{sender_names.length ? sender_names.join(", ") : "None"}</dd>
          <dt className="font-medium text-slate-600">Options</dt>
          <dd className="text-slate-900">
            Daily limit {form.daily_limit === "0" ? "none (senders' quotas)" : form.daily_limit} · warm-up mix {form.warmup_mix_percent}% · opens{" "}
            {form.track_opens ? "tracked" : "not tracked"} · clicks {form.track_clicks ? "tracked" : "not tracked"}
          </dd>
        </dl>
      </Card>
      {can_edit && (
        <Button variant="primary" busy={launching} onClick={onLaunch}>
          {label}
        </Button>
      )}
    </div>
  );
}
