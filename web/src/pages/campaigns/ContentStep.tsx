// The wizard's Content step: the sequence of emails. Each step waits some days and hours after
// the previous one and may send only on a condition; each has A/B/n variants with weights, a
// subject and a body. A variables picker inserts template variables where the cursor is, and
// the preview renders a chosen step and variant for a chosen lead through the API. Steps and
// variants move up and down with labelled buttons (a draft only: see reorderBlockedReason); focus
// stays on the moved item's button and a live region says where it went.

import { useQuery } from "@tanstack/react-query";
import { useId, useRef, useState, type ReactNode } from "react";
import { flushSync } from "react-dom";
import { previewCampaign, type Preview, type StepCondition } from "../../api/campaigns";
import { isApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { leadKeys, listLeads } from "../../api/leads";
import { describeError } from "../../lib/forms";
import { Button } from "../../ui/Button";
import { CheckboxField, FormError, SelectField, TextField } from "../../ui/Field";
import { Card } from "../../ui/Layout";
import {
  emptyStep,
  emptyVariant,
  insertAt,
  kConditionLabels,
  moveStep,
  moveVariant,
  positionIn,
  templateVariables,
  variantLabel,
  type CampaignForm,
  type StepForm,
  type VariantForm,
} from "./campaignForm";

const kMaxSteps = 50;
const kMaxVariants = 10;

interface ContentProps {
  ws: number;
  form: CampaignForm;
  setForm: (update: (f: CampaignForm) => CampaignForm) => void;
  errors: Record<string, string>;
  /** Custom field keys seen on the workspace's leads. */
  custom_keys: string[];
  editable: boolean;
  /** Why steps and variants cannot be reordered now (shown, buttons disabled); null: they can. */
  reorder_blocked: string | null;
  /** Saves the form; resolves with the campaign id when saved, rejects (and shows errors) otherwise. */
  save: () => Promise<number>;
  /** Shows an error next to the control of an API field (a template the preview could not parse). */
  showFieldError: (field: string, message: string) => void;
}

export function ContentStep({ ws, form, setForm, errors, custom_keys, editable, reorder_blocked, save, showFieldError }: ContentProps) {
  const [announcement, setAnnouncement] = useState("");
  function updateStep(i: number, change: (s: StepForm) => StepForm) {
    setForm((f) => ({ ...f, steps: f.steps.map((s, k) => (k === i ? change(s) : s)) }));
  }
  function onMoveStep(from: number, to: number) {
    const key = form.steps[from]?.key;
    if (key === undefined) return;
    flushSync(() => {
      setForm((f) => moveStep(f, from, to));
      setAnnouncement(`Step ${from + 1} moved to position ${to + 1} of ${form.steps.length}.`);
    });
    refocusMove(key, to < from ? "up" : "down");
  }
  function onMoveVariant(step: number, from: number, to: number) {
    const v = form.steps[step]?.variants[from];
    if (v === undefined) return;
    flushSync(() => {
      setForm((f) => moveVariant(f, step, from, to));
      setAnnouncement(`Variant ${v.label || variantLabel(from)} of step ${step + 1} moved to position ${to + 1} of ${form.steps[step].variants.length}.`);
    });
    refocusMove(v.key, to < from ? "up" : "down");
  }
  const can_move = editable && reorder_blocked === null;
  return (
    <div className="space-y-4">
      {!editable && (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
          The campaign is running: pause it to edit its emails.
        </p>
      )}
      {editable && reorder_blocked !== null && form.steps.length > 0 && (
        <p id="reorder-blocked" className="rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-700 ring-1 ring-inset ring-slate-200">
          {reorder_blocked}
        </p>
      )}
      <p className="sr-only" role="status" aria-live="polite">
        {announcement}
      </p>
      {form.steps.length === 0 && (
        <Card>
          <p className="px-4 py-6 text-sm text-slate-600">No emails yet. Add the first step of the sequence.</p>
        </Card>
      )}
      {form.steps.map((step, i) => (
        <StepEditor
          key={step.key}
          index={i}
          count={form.steps.length}
          step={step}
          errors={errors}
          editable={editable}
          can_move={can_move}
          custom_keys={custom_keys}
          onMove={(to) => onMoveStep(i, to)}
          onMoveVariant={(from, to) => onMoveVariant(i, from, to)}
          onChange={(change) => updateStep(i, change)}
          onRemove={() => setForm((f) => ({ ...f, steps: f.steps.filter((_, k) => k !== i) }))}
        />
      ))}
      {errors["steps"] && <FormError message={errors["steps"]} />}
      {editable && form.steps.length < kMaxSteps && (
        <Button onClick={() => setForm((f) => ({ ...f, steps: [...f.steps, emptyStep(f.steps.length === 0)] }))}>
          Add step
        </Button>
      )}
      <PreviewPanel ws={ws} form={form} save={save} showFieldError={showFieldError} />
    </div>
  );
}

/** The id of an item's move button, to give focus back to it after the item moved. */
function moveButtonId(key: string, direction: "up" | "down"): string {
  return `move-${key}-${direction}`;
}

/**
 * Focuses the moved item's button for the same direction, or the other one when the item reached
 * the end (a disabled button cannot hold focus). Called once React has rendered the move.
 */
function refocusMove(key: string, direction: "up" | "down") {
  const same = document.getElementById(moveButtonId(key, direction)) as HTMLButtonElement | null;
  const other = document.getElementById(moveButtonId(key, direction === "up" ? "down" : "up")) as HTMLButtonElement | null;
  const target = same && !same.disabled ? same : other;
  target?.focus();
}

/**
 * "Move up" / "Move down" for one item; disabled at the ends and while reordering is blocked. At
 * phone width only the arrows show (the accessible names stay whole).
 */
function MoveButtons({ item_key, name, index, count, can_move, onMove }: {
  item_key: string;
  name: string;
  index: number;
  count: number;
  can_move: boolean;
  onMove: (to: number) => void;
}) {
  if (count < 2) return null;
  const blocked = can_move ? undefined : "reorder-blocked";
  return (
    <div role="group" aria-label={`Order of ${name}`} className="flex gap-1">
      <Button id={moveButtonId(item_key, "up")} size="sm" variant="ghost" disabled={!can_move || index === 0}
        aria-label={`Move ${name} up`} aria-describedby={blocked} onClick={() => onMove(index - 1)}>
        <span aria-hidden="true">↑</span>
        <span className="hidden sm:inline">Up</span>
      </Button>
      <Button id={moveButtonId(item_key, "down")} size="sm" variant="ghost" disabled={!can_move || index === count - 1}
        aria-label={`Move ${name} down`} aria-describedby={blocked} onClick={() => onMove(index + 1)}>
        <span aria-hidden="true">↓</span>
        <span className="hidden sm:inline">Down</span>
      </Button>
    </div>
  );
}

function StepEditor({ index, count, step, errors, editable, can_move, custom_keys, onMove, onMoveVariant, onChange, onRemove }: {
  index: number;
  count: number;
  step: StepForm;
  errors: Record<string, string>;
  editable: boolean;
  can_move: boolean;
  custom_keys: string[];
  onMove: (to: number) => void;
  onMoveVariant: (from: number, to: number) => void;
  onChange: (change: (s: StepForm) => StepForm) => void;
  onRemove: () => void;
}) {
  const prefix = `steps[${index}]`;
  const first = index === 0;
  function updateVariant(j: number, change: (v: VariantForm) => VariantForm) {
    onChange((s) => ({ ...s, variants: s.variants.map((v, k) => (k === j ? change(v) : v)) }));
  }
  return (
    <Card
      title={`Step ${index + 1}`}
      actions={editable && (
        <div className="flex flex-wrap items-center justify-end gap-1">
          <MoveButtons item_key={step.key} name={`step ${index + 1}`} index={index} count={count} can_move={can_move} onMove={onMove} />
          <Button size="sm" variant="ghost" className="text-red-700" onClick={onRemove} aria-label={`Remove step ${index + 1}`}>
            Remove step
          </Button>
        </div>
      )}
    >
      <fieldset className="space-y-4 p-4" disabled={!editable}>
        <legend className="sr-only">Step {index + 1}</legend>
        <div className="grid gap-3 sm:grid-cols-3">
          <TextField
            label={<Named prefix={`Step ${index + 1}`}>{first ? "Days after launch" : "Wait days"}</Named>}
            inputMode="numeric"
            value={step.delay_days}
            onChange={(e) => onChange((s) => ({ ...s, delay_days: e.target.value }))}
            error={errors[`${prefix}.delay_minutes`]}
          />
          <TextField
            label={<Named prefix={`Step ${index + 1}`}>Hours</Named>}
            inputMode="numeric"
            value={step.delay_hours}
            onChange={(e) => onChange((s) => ({ ...s, delay_hours: e.target.value }))}
          />
          <SelectField
            label={<Named prefix={`Step ${index + 1}`}>Send</Named>}
            value={first ? "always" : step.condition}
            disabled={first}
            hint={first ? "The first email goes to every lead." : undefined}
            onChange={(e) => onChange((s) => ({ ...s, condition: e.target.value as StepCondition }))}
            error={errors[`${prefix}.condition`]}
            options={Object.entries(kConditionLabels).map(([value, label]) => ({ value, label }))}
          />
        </div>
        {errors[`${prefix}.variants`] && <FormError message={errors[`${prefix}.variants`]} />}
        <div className="space-y-4">
          {step.variants.map((v, j) => (
            <VariantEditor
              key={v.key}
              step_index={index}
              index={j}
              count={step.variants.length}
              can_move={can_move}
              onMove={(to) => onMoveVariant(j, to)}
              variant={v}
              errors={errors}
              custom_keys={custom_keys}
              can_remove={step.variants.length > 1}
              onChange={(change) => updateVariant(j, change)}
              onRemove={() => onChange((s) => ({ ...s, variants: s.variants.filter((_, k) => k !== j) }))}
            />
          ))}
        </div>
        {editable && step.variants.length < kMaxVariants && (
          <Button
            size="sm"
            onClick={() => onChange((s) => ({ ...s, variants: [...s.variants, emptyVariant(s.variants.length)] }))}
          >
            Add variant to step {index + 1}
          </Button>
        )}
      </fieldset>
    </Card>
  );
}

type TextPart = "subject" | "body_text" | "body_html";

/** A short visible label whose accessible name also says which step/variant it belongs to. */
function Named({ prefix, children }: { prefix: string; children: ReactNode }) {
  return (
    <>
      <span className="sr-only">{prefix}: </span>
      {children}
    </>
  );
}

function VariantEditor({ step_index, index, count, can_move, onMove, variant, errors, custom_keys, can_remove, onChange, onRemove }: {
  step_index: number;
  index: number;
  count: number;
  can_move: boolean;
  onMove: (to: number) => void;
  variant: VariantForm;
  errors: Record<string, string>;
  custom_keys: string[];
  can_remove: boolean;
  onChange: (change: (v: VariantForm) => VariantForm) => void;
  onRemove: () => void;
}) {
  const prefix = `steps[${step_index}].variants[${index}]`;
  const name = `Step ${step_index + 1} variant ${variant.label || variantLabel(index)}`;
  const refs = useRef<Record<TextPart, HTMLInputElement | HTMLTextAreaElement | null>>({ subject: null, body_text: null, body_html: null });
  const last_focused = useRef<TextPart>("body_text");
  const picker_id = useId();
  const [html_open, setHtmlOpen] = useState(variant.body_html !== "");

  function insert(snippet: string) {
    const part = last_focused.current;
    const el = refs.current[part];
    const text = variant[part];
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const next = insertAt(text, start, end, snippet);
    // Render the new value now, then put the cursor after the inserted variable: done in the same
    // event, so a key pressed right after lands there and not where a later frame would move it.
    flushSync(() => onChange((v) => ({ ...v, [part]: next.text })));
    const target = refs.current[part];
    if (target) {
      target.focus();
      target.setSelectionRange(next.cursor, next.cursor);
    }
  }

  const track = (part: TextPart) => ({
    ref: (el: HTMLInputElement | HTMLTextAreaElement | null) => {
      refs.current[part] = el;
    },
    onFocus: () => {
      last_focused.current = part;
    },
  });

  return (
    <div className="rounded-md p-3 ring-1 ring-slate-200" role="group" aria-label={name}>
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <TextField
          label={<Named prefix={name}>Label</Named>}
          wrapperClassName="w-28"
          value={variant.label}
          maxLength={50}
          onChange={(e) => onChange((v) => ({ ...v, label: e.target.value }))}
          error={errors[`${prefix}.label`]}
        />
        <TextField
          label={<Named prefix={name}>Weight</Named>}
          wrapperClassName="w-28"
          inputMode="numeric"
          value={variant.weight}
          onChange={(e) => onChange((v) => ({ ...v, weight: e.target.value }))}
          error={errors[`${prefix}.weight`]}
        />
        <CheckboxField
          label={<Named prefix={name}>Enabled</Named>}
          checked={variant.enabled}
          onChange={(e) => onChange((v) => ({ ...v, enabled: e.target.checked }))}
          className="pb-2"
        />
        <div className="ml-auto flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor={picker_id} className="mb-1 block text-sm font-medium text-slate-700">
              <Named prefix={name}>Insert variable</Named>
            </label>
            <select
              id={picker_id}
              value=""
              onChange={(e) => {
                if (e.target.value) insert(e.target.value);
              }}
              className="block rounded-md border-0 bg-white px-3 py-2 text-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-600 focus:outline-none"
            >
              <option value="">Choose…</option>
              {templateVariables(custom_keys).map((t) => (
                <option key={t.label} value={t.snippet}>
                  {t.label}
                </option>
              ))}
            </select>
          </div>
          <MoveButtons item_key={variant.key} name={name} index={index} count={count} can_move={can_move} onMove={onMove} />
          {can_remove && (
            <Button size="sm" variant="ghost" className="text-red-700" onClick={onRemove} aria-label={`Remove ${name}`}>
              Remove
            </Button>
          )}
        </div>
      </div>
      <div className="space-y-3">
        <TextField
          label={<Named prefix={name}>Subject</Named>}
          value={variant.subject}
          maxLength={998}
          onChange={(e) => onChange((v) => ({ ...v, subject: e.target.value }))}
          error={errors[`${prefix}.subject`]}
          {...track("subject")}
        />
        <TextArea
          label={<Named prefix={name}>Body</Named>}
          hint="Plain text. Spintax {Hi|Hello} picks one per lead; {{ unsubscribe_url }} links to the opt-out page."
          value={variant.body_text}
          onChange={(text) => onChange((v) => ({ ...v, body_text: text }))}
          error={errors[`${prefix}.body_text`] ?? (variant.body_html === "" ? errors[`${prefix}.body_html`] : undefined)}
          rows={6}
          {...track("body_text")}
        />
        <div>
          <button
            type="button"
            className="text-sm font-medium text-brand-700 hover:underline"
            aria-expanded={html_open}
            onClick={() => setHtmlOpen((o) => !o)}
          >
            {html_open ? "Hide the HTML version" : "Add an HTML version (optional)"}
          </button>
          {html_open && (
            <TextArea
              label={<Named prefix={name}>HTML body</Named>}
              hint="Sent alongside the text; lead values are HTML-escaped. Opens are tracked only in HTML."
              value={variant.body_html}
              onChange={(text) => onChange((v) => ({ ...v, body_html: text }))}
              error={errors[`${prefix}.body_html`]}
              rows={6}
              mono
              wrapperClassName="mt-2"
              {...track("body_html")}
            />
          )}
        </div>
      </div>
    </div>
  );
}

/** A labelled textarea with hint and error, like ui/Field's controls. */
function TextArea({ label, hint, error, value, onChange, rows, mono, wrapperClassName, ref, onFocus }: {
  label: ReactNode;
  hint?: string;
  error?: string;
  value: string;
  onChange: (text: string) => void;
  rows: number;
  mono?: boolean;
  wrapperClassName?: string;
  ref?: (el: HTMLTextAreaElement | null) => void;
  onFocus?: () => void;
}) {
  const id = useId();
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className={wrapperClassName}>
      <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-700">
        {label}
      </label>
      <textarea
        id={id}
        ref={ref}
        rows={rows}
        value={value}
        onFocus={onFocus}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        className={
          "block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset focus:ring-2 focus:ring-brand-600 focus:outline-none " +
          (error ? "ring-red-500 " : "ring-slate-300 ") +
          (mono ? "font-mono" : "")
        }
      />
      {hint && !error && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

const kPartLabel: Record<string, string> = { subject: "subject", body_html: "HTML body", body_text: "body" };

/** Saves the campaign, then renders one step/variant for one lead of the audience. */
function PreviewPanel({ ws, form, save, showFieldError }: {
  ws: number;
  form: CampaignForm;
  save: () => Promise<number>;
  showFieldError: (field: string, message: string) => void;
}) {
  const api = useApi();
  const list_id = form.list_ids[0];
  const leads = useQuery({
    queryKey: [...leadKeys.leads(ws), "preview", list_id ?? 0],
    queryFn: () => listLeads(api.client, ws, { list_id, limit: 50 }),
  });
  const [lead_id, setLeadId] = useState("");
  const [step_index, setStepIndex] = useState("0");
  const [variant_index, setVariantIndex] = useState("0");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const step = form.steps[Number(step_index)] ?? form.steps[0];
  const chosen_lead = lead_id || String(leads.data?.items[0]?.id ?? "");

  async function run() {
    setError(undefined);
    setPreview(null);
    if (!chosen_lead) {
      setError("Add leads to the audience to preview the email for one of them.");
      return;
    }
    setBusy(true);
    let id: number;
    try {
      id = await save();
    } catch {
      // save() shows its own errors next to the fields and at the top of the wizard.
      setBusy(false);
      return;
    }
    try {
      const answer = await previewCampaign(api.client, ws, id, {
        step_index: Number(step_index),
        variant_index: Number(variant_index),
        contact_id: Number(chosen_lead),
      });
      setPreview(answer);
    } catch (e) {
      if (isApiError(e)) {
        const where = positionIn(e.message);
        const text = `${describeError(e)}${where ? ` (line ${where.line}, column ${where.column})` : ""}`;
        setError(text);
        if (e.field !== undefined) showFieldError(e.field, text);
      } else {
        setError(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  }

  if (form.steps.length === 0) return null;
  return (
    <Card title="Preview">
      <div className="space-y-4 p-4">
        <div className="grid gap-3 sm:grid-cols-3">
          <SelectField
            label="Preview for lead"
            value={chosen_lead}
            onChange={(e) => setLeadId(e.target.value)}
            disabled={leads.isPending}
            options={
              leads.data && leads.data.items.length > 0
                ? leads.data.items.map((l) => ({
                    value: String(l.id),
                    label: [l.first_name, l.last_name].filter(Boolean).join(" ") ? `${[l.first_name, l.last_name].filter(Boolean).join(" ")} <${l.email}>` : l.email,
                  }))
                : [{ value: "", label: leads.isPending ? "Loading leads…" : "No leads in the audience" }]
            }
          />
          <SelectField
            label="Preview step"
            value={step_index}
            onChange={(e) => {
              setStepIndex(e.target.value);
              setVariantIndex("0");
            }}
            options={form.steps.map((_, i) => ({ value: String(i), label: `Step ${i + 1}` }))}
          />
          <SelectField
            label="Preview variant"
            value={variant_index}
            onChange={(e) => setVariantIndex(e.target.value)}
            options={(step?.variants ?? []).map((v, j) => ({ value: String(j), label: `Variant ${v.label || variantLabel(j)}` }))}
          />
        </div>
        <Button variant="secondary" busy={busy} onClick={() => void run()}>
          Save and preview
        </Button>
        <FormError message={error} />
        {preview && (
          <div className="space-y-3" aria-live="polite">
            {preview.missing.length > 0 && (
              <div role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
                <p className="font-medium">Missing variables for this lead</p>
                <ul className="mt-1 list-disc pl-5">
                  {preview.missing.map((m, k) => (
                    <li key={k}>
                      <code>{m.variable}</code> {m.empty ? "is empty" : "does not exist"} in the {kPartLabel[m.part] ?? m.part} at line {m.line}, column {m.column}: add a default, e.g.{" "}
                      <code>{`{{ ${m.variable} | default: "…" }}`}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            <div className="rounded-md ring-1 ring-slate-200" data-testid="campaign-preview">
              <p className="border-b border-slate-200 px-3 py-2 text-sm">
                <span className="text-slate-500">Subject: </span>
                <span className="font-medium text-slate-900">{preview.subject}</span>
              </p>
              {preview.body_text && <pre className="whitespace-pre-wrap px-3 py-2 font-sans text-sm text-slate-800">{preview.body_text}</pre>}
              {preview.body_html && (
                <iframe title="HTML preview" sandbox="" srcDoc={preview.body_html} className="h-64 w-full border-t border-slate-200" />
              )}
            </div>
          </div>
        )}
      </div>
    </Card>
  );
}
