import { cx } from "../lib/cx";

/** The Kiln mark and word. Decorative text is hidden from screen readers where a heading says it. */
export function Logo({ large }: { large?: boolean }) {
  return (
    <span className="inline-flex items-center gap-2">
      <svg viewBox="0 0 32 32" aria-hidden="true" className={cx(large ? "h-10 w-10" : "h-7 w-7")}>
        <rect width="32" height="32" rx="7" className="fill-brand-600" />
        <path d="M16 6c3 4 7 7 7 12a7 7 0 0 1-14 0c0-3 2-5 3-7 1 2 2 3 4 3-1-3-1-5 0-8z" fill="#fff" />
      </svg>
      <span className={cx("font-semibold tracking-tight text-slate-900", large ? "text-2xl" : "text-lg")}>Kiln</span>
    </span>
  );
}
