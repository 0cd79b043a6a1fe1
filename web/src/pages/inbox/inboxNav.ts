// Keyboard navigation through the inbox list: which conversation j/k or the arrow keys move to.
// Pure, unit-tested.

/**
 * The id to select after `key` in a list of `ids` where `current` is selected (undefined: none).
 * "j"/"ArrowDown" go to the next one, "k"/"ArrowUp" to the previous one; from no selection either
 * key selects the first. Answers undefined when the key is not a navigation key or the list is
 * empty; at either end the selection stays where it is.
 */
export function nextSelection(ids: readonly number[], current: number | undefined, key: string): number | undefined {
  if (ids.length === 0) return undefined;
  const down = key === "j" || key === "ArrowDown";
  const up = key === "k" || key === "ArrowUp";
  if (!down && !up) return undefined;
  const index = current === undefined ? -1 : ids.indexOf(current);
  if (index === -1) return ids[0];
  const next = down ? Math.min(ids.length - 1, index + 1) : Math.max(0, index - 1);
  return ids[next];
}

/** True when a key press happened in a place that types text, where j/k must not navigate. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

/** "Ann Lee" from a lead's names, else its address. */
export function leadName(lead: { email: string; first_name: string | null; last_name: string | null }): string {
  const name = [lead.first_name, lead.last_name].filter((p) => p && p.trim() !== "").join(" ");
  return name === "" ? lead.email : name;
}
