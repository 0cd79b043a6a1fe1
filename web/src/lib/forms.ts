// Turning a failed API call into what a form shows: a message next to the field the API named,
// or one message for the whole form.

import { isApiError } from "../api/client";
import { formatWait } from "./format";

export interface FormErrors {
  /** Message per form field name (the API's `field`, e.g. "email" or "smtp.host"). */
  fields: Record<string, string>;
  /** A message that belongs to no shown field. */
  form?: string;
}

export const kNoErrors: FormErrors = { fields: {} };

/** Human text for any error, for toasts and page-level error states. */
export function describeError(e: unknown): string {
  if (isApiError(e)) {
    if ((e.status === 429 || e.code === "rate_limited") && e.retryAfterSeconds !== undefined) {
      return `Too many requests. Try again in ${formatWait(e.retryAfterSeconds)}.`;
    }
    if (e.code === "permission_denied") return `You don't have permission to do this: ${e.message}`;
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}

/**
 * Maps an error onto a form. `shown_fields` are the field names the form displays; an error
 * naming another field goes to the form-level message with the field's name, so it is never lost.
 */
export function formErrorsFrom(e: unknown, shown_fields: readonly string[]): FormErrors {
  if (isApiError(e) && e.field !== undefined) {
    if (shown_fields.includes(e.field)) return { fields: { [e.field]: sentence(e.message) } };
    return { fields: {}, form: `${e.field}: ${e.message}` };
  }
  return { fields: {}, form: describeError(e) };
}

function sentence(message: string): string {
  return message.length === 0 ? message : message[0].toUpperCase() + message.slice(1);
}
