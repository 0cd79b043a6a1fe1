// Modal dialogs on the native <dialog> element: the browser traps focus, closes on Escape and
// makes the rest of the page inert; we restore focus to the opener on close.

import { useEffect, useId, useRef, type ReactNode } from "react";
import { Button } from "./Button";

export interface DialogProps {
  open: boolean;
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  /** Wider layout for forms with two columns. */
  wide?: boolean;
}

export function Dialog({ open, title, description, onClose, children, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const title_id = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  useEffect(() => {
    if (open) return;
    const target = opener.current;
    opener.current = null;
    if (target instanceof HTMLElement && target.isConnected) target.focus();
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={title_id}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={
        "m-auto w-[calc(100%-2rem)] rounded-lg bg-white p-0 shadow-xl " + (wide ? "max-w-2xl" : "max-w-md")
      }
    >
      {open && (
        <div className="p-5">
          <div className="mb-4 flex items-start justify-between gap-4">
            <div>
              <h2 id={title_id} className="text-lg font-semibold text-slate-900">
                {title}
              </h2>
              {description && <div className="mt-1 text-sm text-slate-600">{description}</div>}
            </div>
            <Button variant="ghost" size="sm" onClick={onClose} aria-label="Close dialog">
              <span aria-hidden="true">✕</span>
            </Button>
          </div>
          {children}
        </div>
      )}
    </dialog>
  );
}

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  message: ReactNode;
  confirm_label: string;
  busy?: boolean;
  error?: string;
  onConfirm: () => void;
  onClose: () => void;
}

/** Asks before a destructive action; the confirm button is red and says what it does. */
export function ConfirmDialog({ open, title, message, confirm_label, busy, error, onConfirm, onClose }: ConfirmDialogProps) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <div className="space-y-4">
        <div className="text-sm text-slate-700">{message}</div>
        {error && (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} onClick={onConfirm}>
            {confirm_label}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
