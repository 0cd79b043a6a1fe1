// A menu button (WAI-ARIA "menu button" pattern): Enter/Space/ArrowDown opens and focuses the
// first item, arrows move, Escape closes and returns focus to the button, a click outside closes.

import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { cx } from "../lib/cx";

export interface MenuItem {
  key: string;
  label: ReactNode;
  onSelect: () => void;
  danger?: boolean;
}

export interface MenuProps {
  /** Accessible name of the button, e.g. "Account menu". */
  label: string;
  button: ReactNode;
  header?: ReactNode;
  items: MenuItem[];
  align?: "left" | "right";
  /** Opens upwards (for a button at the bottom of the screen). */
  up?: boolean;
  buttonClassName?: string;
}

export function Menu({ label, button, header, items, align = "right", up, buttonClassName }: MenuProps) {
  const [open, setOpen] = useState(false);
  const menu_id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button_ref = useRef<HTMLButtonElement>(null);
  const item_refs = useRef<Array<HTMLButtonElement | null>>([]);

  useEffect(() => {
    if (!open) return;
    item_refs.current[0]?.focus();
    function onPointer(e: PointerEvent) {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    }
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  function close(refocus: boolean) {
    setOpen(false);
    if (refocus) button_ref.current?.focus();
  }

  function onMenuKey(e: KeyboardEvent) {
    const buttons = item_refs.current.filter((b): b is HTMLButtonElement => b !== null);
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      close(true);
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      buttons[(index + 1) % buttons.length]?.focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      buttons[(index - 1 + buttons.length) % buttons.length]?.focus();
    } else if (e.key === "Home") {
      e.preventDefault();
      buttons[0]?.focus();
    } else if (e.key === "End") {
      e.preventDefault();
      buttons[buttons.length - 1]?.focus();
    } else if (e.key === "Tab") {
      setOpen(false);
    }
  }

  return (
    <div ref={root} className="relative">
      <button
        ref={button_ref}
        type="button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menu_id : undefined}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
        className={buttonClassName}
      >
        {button}
      </button>
      {open && (
        <div
          id={menu_id}
          role="menu"
          aria-label={label}
          onKeyDown={onMenuKey}
          className={cx(
            "absolute z-40 w-60 rounded-md bg-white py-1 shadow-lg ring-1 ring-slate-200",
            align === "right" ? "right-0" : "left-0",
            up ? "bottom-full mb-2" : "top-full mt-2",
          )}
        >
          {header && <div className="border-b border-slate-100 px-3 py-2">{header}</div>}
          {items.map((item, i) => (
            <button
              key={item.key}
              ref={(el) => {
                item_refs.current[i] = el;
              }}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => {
                close(false);
                item.onSelect();
              }}
              className={cx(
                "block w-full px-3 py-2 text-left text-sm hover:bg-slate-100 focus:bg-slate-100 focus:outline-none",
                item.danger ? "text-red-700" : "text-slate-800",
              )}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
