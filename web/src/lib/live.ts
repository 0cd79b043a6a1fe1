// Live progress of a workspace over the WebSocket GET /api/v1/workspaces/{ws}/live (docs/api.md,
// "Live progress"): the frame types, a pure reducer that folds frames into the state the Overview
// shows (tested in live.test.ts), and the useLive hook that keeps one connection open, reconnects
// with backoff and says when what is shown may be stale.

import { useEffect, useReducer, useRef, useState } from "react";
import { kApiBase } from "../api/client";

export interface LiveToday {
  day_start: string;
  sent: number;
  quota: number;
  warmup_sent: number;
  warmup_target: number;
}

export interface LiveSender {
  id: number;
  email: string;
  status: string;
  health_score: number;
  sent_today: number;
  quota: number;
  warmup_today: number;
  warmup_target: number;
  /**
   * Where the sender's own calendar day began (midnight in its timezone, as an ISO time):
   * `sent_today` and `warmup_today` count from here, as its quota and warm-up ramp do.
   */
  day_start: string;
}

export interface LiveCampaign {
  id: number;
  name: string;
  sent: number;
  failed: number;
  bounced: number;
  replied: number;
  remaining: number;
  enrolled: number;
  rate_per_minute: number;
}

export type LiveEventType = "sent" | "replied" | "bounced" | "opened" | "clicked" | "unsubscribed";

export interface LiveActivity {
  id: number;
  type: LiveEventType;
  at: string;
  lead_email: string;
  campaign_id: number | null;
  campaign_name: string | null;
  machine: boolean;
}

export interface LiveStateFrame {
  type: "snapshot" | "update";
  workspace_id: number;
  at: string;
  today: LiveToday;
  senders: LiveSender[];
  campaigns: LiveCampaign[];
  activity: LiveActivity[];
}

export interface LiveHeartbeat {
  type: "heartbeat";
  workspace_id: number;
  at: string;
}

export type LiveFrame = LiveStateFrame | LiveHeartbeat;

/** One point of the speed chart: sends per minute over all running campaigns at `at_ms`. */
export interface SpeedPoint {
  at_ms: number;
  per_minute: number;
}

export type LiveConnection = "connecting" | "open" | "reconnecting";

export interface LiveState {
  connection: LiveConnection;
  /** False until the first snapshot: nothing to show yet. */
  ready: boolean;
  today: LiveToday | null;
  senders: LiveSender[];
  campaigns: LiveCampaign[];
  /** Newest first, unique ids, at most kActivityKept. */
  activity: LiveActivity[];
  /** Oldest first, at most kSpeedPoints. */
  speed: SpeedPoint[];
  /** When the last frame arrived (client clock, ms); 0 before any. */
  last_frame_ms: number;
}

export const kActivityKept = 50;
export const kSpeedPoints = 120;
/** Without a frame for this long (the server sends one at least every 15 s), the data is stale. */
export const kStaleAfterMs = 35_000;

export const kInitialLiveState: LiveState = {
  connection: "connecting",
  ready: false,
  today: null,
  senders: [],
  campaigns: [],
  activity: [],
  speed: [],
  last_frame_ms: 0,
};

export type LiveAction =
  | { type: "open" }
  | { type: "closed" }
  | { type: "frame"; frame: LiveFrame; now_ms: number }
  | { type: "reset" };

/** `incoming` (newest first) in front of `kept`, without ids already there, at most `limit`. */
export function mergeActivity(incoming: LiveActivity[], kept: LiveActivity[], limit = kActivityKept): LiveActivity[] {
  const seen = new Set<number>();
  const out: LiveActivity[] = [];
  for (const item of [...incoming, ...kept]) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
  }
  out.sort((a, b) => b.id - a.id);
  return out.slice(0, limit);
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case "reset":
      return kInitialLiveState;
    case "open":
      return { ...state, connection: "open" };
    case "closed":
      return { ...state, connection: "reconnecting" };
    case "frame": {
      const { frame, now_ms } = action;
      if (frame.type === "heartbeat") return { ...state, last_frame_ms: now_ms };
      const per_minute = frame.campaigns.reduce((sum, c) => sum + c.rate_per_minute, 0);
      const speed = [...state.speed, { at_ms: now_ms, per_minute }].slice(-kSpeedPoints);
      // A snapshot after a reconnect still keeps what was seen: ids de-duplicate the overlap.
      const activity = mergeActivity(frame.activity, state.activity);
      return {
        ...state,
        ready: true,
        today: frame.today,
        senders: frame.senders,
        campaigns: frame.campaigns,
        activity,
        speed,
        last_frame_ms: now_ms,
      };
    }
  }
}

/**
 * Says since when a sender's "today" counts run, in the viewer's clock (`time_zone`, default the
 * browser's): "since 00:00" when that day began today for the viewer too, else with the weekday,
 * "since Sat 14:00" (a sender in another timezone). "" when `day_start` is not a time.
 */
export function sinceLabel(day_start: string, now_ms: number, time_zone?: string): string {
  const start_ms = Date.parse(day_start);
  if (Number.isNaN(start_ms)) return "";
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: time_zone, year: "numeric", month: "2-digit", day: "2-digit" });
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: time_zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(start_ms);
  if (day.format(start_ms) === day.format(now_ms)) return `since ${time}`;
  const weekday = new Intl.DateTimeFormat("en-GB", { timeZone: time_zone, weekday: "short" }).format(start_ms);
  return `since ${weekday} ${time}`;
}

/** Whether what is shown may be out of date at `now_ms`. */
export function isStale(state: LiveState, now_ms: number): boolean {
  if (state.connection !== "open") return true;
  return state.last_frame_ms > 0 && now_ms - state.last_frame_ms > kStaleAfterMs;
}

/** Delay before reconnect attempt `attempt` (0-based): 1 s doubling up to 30 s, `jitter` in [0,1) adds up to 30%. */
export function reconnectDelayMs(attempt: number, jitter: number): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (1 + 0.3 * jitter));
}

/** The stream's URL for a page served from `location` (ws: for http:, wss: for https:). */
export function liveUrl(workspace_id: number, location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${kApiBase}/workspaces/${workspace_id}/live`;
}

/** Parses one text frame; undefined when it is not a frame of this protocol. */
export function parseFrame(text: string): LiveFrame | undefined {
  try {
    const v = JSON.parse(text) as { type?: unknown };
    if (v === null || typeof v !== "object") return undefined;
    if (v.type === "heartbeat" || v.type === "snapshot" || v.type === "update") return v as LiveFrame;
  } catch {
    // Not JSON: ignored like an unknown frame type.
  }
  return undefined;
}

export interface UseLiveOptions {
  /**
   * Called before reconnecting after a connection that never opened: a WebSocket hides the
   * handshake's status, so this is the place to check the session (an API call refreshes an expired
   * access token, or ends the session when it cannot).
   */
  onRefused?: () => Promise<unknown>;
}

export interface UseLive {
  state: LiveState;
  stale: boolean;
}

/** Keeps the workspace's live stream open while mounted. */
export function useLive(workspace_id: number, options: UseLiveOptions = {}): UseLive {
  const [state, dispatch] = useReducer(liveReducer, kInitialLiveState);
  const [now_ms, setNow] = useState(() => Date.now());
  const on_refused = useRef(options.onRefused);
  on_refused.current = options.onRefused;

  useEffect(() => {
    dispatch({ type: "reset" });
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;

    const connect = () => {
      if (stopped) return;
      let opened = false;
      const ws = new WebSocket(liveUrl(workspace_id, window.location));
      socket = ws;
      ws.onopen = () => {
        opened = true;
        attempt = 0;
        dispatch({ type: "open" });
      };
      ws.onmessage = (event: MessageEvent) => {
        if (typeof event.data !== "string") return;
        const frame = parseFrame(event.data);
        if (frame !== undefined) dispatch({ type: "frame", frame, now_ms: Date.now() });
      };
      ws.onclose = () => {
        if (stopped) return;
        dispatch({ type: "closed" });
        const delay = reconnectDelayMs(attempt++, Math.random());
        const probe = !opened && on_refused.current ? on_refused.current().catch(() => undefined) : Promise.resolve();
        void probe.then(() => {
          if (!stopped) timer = setTimeout(connect, delay);
        });
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (socket !== undefined) {
        const ws = socket;
        ws.onclose = null;
        ws.onmessage = null;
        // Closing a socket still connecting makes the browser log an error: close it once open.
        if (ws.readyState === WebSocket.CONNECTING) {
          ws.onopen = () => ws.close();
        } else {
          ws.close();
        }
      }
    };
  }, [workspace_id]);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(tick);
  }, []);

  return { state, stale: isStale(state, now_ms) };
}
