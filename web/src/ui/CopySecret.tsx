// Shows a secret the API reveals only once (an API key, an initial password) with a copy button.

import { useId, useRef, useState } from "react";
import { Button } from "./Button";

export function CopySecret({ label, value }: { label: string; value: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");

  async function copy() {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(value);
      } else {
        input.current?.select();
        if (!document.execCommand("copy")) throw new Error("copy refused");
      }
      setState("copied");
    } catch {
      input.current?.select();
      setState("failed");
    }
  }

  return (
    <div>
      <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-700">
        {label}
      </label>
      <div className="flex gap-2">
        <input
          ref={input}
          id={id}
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          className="block w-full rounded-md border-0 bg-slate-50 px-3 py-2 font-mono text-sm text-slate-900 ring-1 ring-inset ring-slate-300"
        />
        <Button onClick={copy} variant="secondary">
          Copy
        </Button>
      </div>
      <p role="status" className="mt-1 h-5 text-xs text-slate-600">
        {state === "copied" && "Copied to the clipboard."}
        {state === "failed" && "Could not copy automatically: the text is selected, press Ctrl+C (⌘C)."}
      </p>
    </div>
  );
}
