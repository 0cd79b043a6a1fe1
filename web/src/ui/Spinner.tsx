import { cx } from "../lib/cx";

/** A decorative spinner; pair it with visible text or aria-busy on the owner. */
export function Spinner({ size = "md", className }: { size?: "sm" | "md"; className?: string }) {
  return (
    <span
      aria-hidden="true"
      className={cx(
        "inline-block animate-spin rounded-full border-2 border-current border-r-transparent",
        size === "sm" ? "h-3.5 w-3.5" : "h-5 w-5",
        className,
      )}
    />
  );
}

/** A loading state for a region: visible text plus a live region so it is announced. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" className="flex items-center gap-3 px-4 py-8 text-sm text-slate-500">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}
