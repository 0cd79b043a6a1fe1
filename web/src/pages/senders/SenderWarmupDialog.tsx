// A sender's warm-up: its plan (start volume, daily increase, maximum, weekdays only, target reply
// rate, start and end dates) and its reputation (placement and health charts). Members edit the
// plan; errors the API names appear under the field. Placement by receiving provider (Gmail,
// Outlook, …) comes from the sender's placement answer; both chart modules load on first use.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState, type FormEvent } from "react";
import { queryKeys } from "../../api/endpoints";
import { useApi } from "../../api/context";
import { getSenderPlacement, placementKeys } from "../../api/placement";
import type { Sender } from "../../api/types";
import { warmupKeys, type SenderWithPlan, type WarmupPlanPatch } from "../../api/warmup";
import { formErrorsFrom, kNoErrors, type FormErrors } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { CheckboxField, FormError, TextField } from "../../ui/Field";
import { ErrorState } from "../../ui/Layout";
import { Loading } from "../../ui/Spinner";
import { useToast } from "../../ui/Toast";
import { dateInputToIso, isoToDateInput } from "../warmup/botForm";
import { LazyReputationCharts as ReputationCharts } from "../warmup/LazyReputationCharts";
import { useWarmupApi } from "../warmup/useWarmupApi";

const ProviderPlacement = lazy(() => import("../warmup/ProviderPlacement").then((m) => ({ default: m.ProviderPlacement })));

export function SenderWarmupDialog({ workspace_id, sender, can_edit, onClose }: { workspace_id: number; sender: Sender | null; can_edit: boolean; onClose: () => void }) {
  const warmup = useWarmupApi();
  const api = useApi();
  const full = useQuery({
    queryKey: sender ? warmupKeys.sender(workspace_id, sender.id) : ["none"],
    queryFn: () => warmup.sender(workspace_id, sender?.id ?? 0),
    enabled: sender !== null,
  });
  return (
    <Dialog open={sender !== null} wide title={sender ? `Warm-up of ${sender.name}` : "Warm-up"} onClose={onClose}
      description="The daily warm-up volume ramps from the start volume up to the maximum; the charts show where its warm-up mail lands.">
      {sender && (
        <div className="space-y-8">
          {full.isPending ? (
            <Loading label="Loading the plan…" />
          ) : full.isError ? (
            <ErrorState error={full.error} onRetry={() => void full.refetch()} />
          ) : (
            <PlanForm key={full.data.updated_at} workspace_id={workspace_id} sender={full.data} can_edit={can_edit} />
          )}
          <section aria-label="Reputation">
            <h2 className="mb-3 text-base font-semibold text-slate-900">Placement and health</h2>
            <ReputationCharts queryKey={(days) => warmupKeys.senderReputation(workspace_id, sender.id, days)}
              load={(days) => warmup.senderReputation(workspace_id, sender.id, days)} />
          </section>
          <section aria-label="Placement by provider">
            <Suspense fallback={<Loading label="Loading charts…" />}>
              <ProviderPlacement queryKey={(days) => placementKeys.sender(workspace_id, sender.id, days)}
                load={(days) => getSenderPlacement(api.client, workspace_id, sender.id, days)} />
            </Suspense>
          </section>
        </div>
      )}
    </Dialog>
  );
}

interface PlanForm {
  enabled: boolean;
  start_date: string;
  end_date: string;
  start_volume: string;
  daily_increase: string;
  max_volume: string;
  weekdays_only: boolean;
  reply_rate_percent: string;
}

const kPlanFields = ["warmup.enabled", "warmup.start_at", "warmup.end_at", "warmup.start_volume", "warmup.daily_increase",
  "warmup.max_volume", "warmup.weekdays_only", "warmup.reply_rate_percent", "warmup_end_at"];

function PlanForm({ workspace_id, sender, can_edit }: { workspace_id: number; sender: SenderWithPlan; can_edit: boolean }) {
  const warmup = useWarmupApi();
  const query_client = useQueryClient();
  const toast = useToast();
  const p = sender.warmup;
  const [form, setForm] = useState<PlanForm>({
    enabled: p.enabled,
    start_date: isoToDateInput(p.start_at),
    end_date: isoToDateInput(p.end_at),
    start_volume: String(p.start_volume),
    daily_increase: String(p.daily_increase),
    max_volume: String(p.max_volume),
    weekdays_only: p.weekdays_only,
    reply_rate_percent: String(p.reply_rate_percent),
  });
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const save = useMutation({
    mutationFn: (f: PlanForm) => {
      const patch: WarmupPlanPatch = {
        enabled: f.enabled,
        start_at: dateInputToIso(f.start_date),
        end_at: dateInputToIso(f.end_date),
        start_volume: Number(f.start_volume),
        daily_increase: Number(f.daily_increase),
        max_volume: Number(f.max_volume),
        weekdays_only: f.weekdays_only,
        reply_rate_percent: Number(f.reply_rate_percent),
      };
      return warmup.updateSenderPlan(workspace_id, sender.id, patch);
    },
    onSuccess: (saved) => {
      setErrors(kNoErrors);
      query_client.setQueryData(warmupKeys.sender(workspace_id, sender.id), saved);
      void query_client.invalidateQueries({ queryKey: queryKeys.senders(workspace_id) });
      toast.success(`Saved the warm-up plan of ${saved.name}.`);
    },
    onError: (e) => setErrors(formErrorsFrom(e, kPlanFields)),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    const whole = (v: string, min: number, max: number) => /^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max;
    if (!whole(form.start_volume, 1, 100000)) local["warmup.start_volume"] = "Enter a whole number of at least 1.";
    if (!whole(form.daily_increase, 0, 100000)) local["warmup.daily_increase"] = "Enter a whole number of at least 0.";
    if (!whole(form.max_volume, 1, 100000)) local["warmup.max_volume"] = "Enter a whole number of at least 1.";
    else if (whole(form.start_volume, 1, 100000) && Number(form.max_volume) < Number(form.start_volume)) local["warmup.max_volume"] = "The maximum cannot be below the start volume.";
    if (!whole(form.reply_rate_percent, 0, 100)) local["warmup.reply_rate_percent"] = "Enter a percentage from 0 to 100.";
    if (Object.keys(local).length > 0) {
      setErrors({ fields: local, form: "Some fields need attention." });
      return;
    }
    save.mutate(form);
  }
  const err = (f: string) => errors.fields[`warmup.${f}`] ?? (f === "end_at" ? errors.fields.warmup_end_at : undefined);
  const update = (patch: Partial<PlanForm>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <form onSubmit={submit} noValidate aria-label="Warm-up plan" className="space-y-4">
      <fieldset disabled={!can_edit} className="grid gap-4 sm:grid-cols-3">
        <legend className="mb-2 text-base font-semibold text-slate-900">Plan</legend>
        <CheckboxField className="sm:col-span-3" label="Warm this sender up" hint="Sends warm-up mail to warm-up inboxes and other senders every day."
          checked={form.enabled} error={err("enabled")} onChange={(e) => update({ enabled: e.target.checked })} />
        <TextField label="Start volume" hint="Warm-up emails on the first day." inputMode="numeric" value={form.start_volume}
          error={err("start_volume")} onChange={(e) => update({ start_volume: e.target.value })} />
        <TextField label="Daily increase" hint="More each day." inputMode="numeric" value={form.daily_increase}
          error={err("daily_increase")} onChange={(e) => update({ daily_increase: e.target.value })} />
        <TextField label="Maximum a day" inputMode="numeric" value={form.max_volume}
          error={err("max_volume")} onChange={(e) => update({ max_volume: e.target.value })} />
        <TextField label="Target reply rate (%)" inputMode="numeric" value={form.reply_rate_percent}
          error={err("reply_rate_percent")} onChange={(e) => update({ reply_rate_percent: e.target.value })} />
        <TextField label="Starts" type="date" hint="Default: the day the sender was added." value={form.start_date}
          error={err("start_at")} onChange={(e) => update({ start_date: e.target.value })} />
        <TextField label="Ends" type="date" hint="Optional." value={form.end_date}
          error={err("end_at")} onChange={(e) => update({ end_date: e.target.value })} />
        <CheckboxField className="sm:col-span-3" label="Weekdays only" checked={form.weekdays_only} error={err("weekdays_only")}
          onChange={(e) => update({ weekdays_only: e.target.checked })} />
      </fieldset>
      <FormError message={errors.form} />
      {can_edit && (
        <div className="flex justify-end">
          <Button type="submit" variant="primary" busy={save.isPending}>Save plan</Button>
        </div>
      )}
    </form>
  );
}
