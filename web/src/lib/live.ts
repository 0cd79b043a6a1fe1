// Live progress of a workspace over the WebSocket GET /api/v1/workspaces/{ws}/live (docs/api.md,
// "Live progress"): the frame types, a pure reducer that folds frames into the state the Overview
// shows, the one reconnecting connection loop every reader of the stream shares (runLiveSocket,
// and useLiveSocket around it: backoff, refused handshakes, stop on unmount), and the useLive hook
// the Overview uses, which also says when what is shown may be stale. Tested in live.test.ts.

import { useEffect, useMemo, useReducer, useRef, useState } from "react";
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

/** What the stream's frames have said so far (liveReducer's state). */
export interface LiveData {
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

/** What the Overview shows: the frames' data and the connection they come over. */
export interface LiveState extends LiveData {
  connection: LiveConnection;
}

export const kActivityKept = 50;
export const kSpeedPoints = 120;
/** Without a frame for this long (the server sends one at least every 15 s), the data is stale. */
export const kStaleAfterMs = 35_000;

export const kInitialLiveData: LiveData = {
  ready: false,
  today: null,
  senders: [],
  campaigns: [],
  activity: [],
  speed: [],
  last_frame_ms: 0,
};

export type LiveAction = { type: "frame"; frame: LiveFrame; now_ms: number } | { type: "reset" };

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

export function liveReducer(state: LiveData, action: LiveAction): LiveData {
  switch (action.type) {
    case "reset":
      return kInitialLiveData;
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


/** Where a connection loop stands: before its first open, open, or closed and waiting to retry. */
export type SocketConnection = "connecting" | "open" | "down";

/** The part of a browser WebSocket the loop uses (a test passes a fake). */
export interface LiveSocket {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  close(): void;
}

/** WebSocket.CONNECTING, without needing the browser's WebSocket in scope. */
const kSocketConnecting = 0;

export interface LiveSocketHandlers {
  /** Each text frame, as it arrives (binary frames are ignored). */
  onText: (text: string) => void;
  /** "open" on each open, "down" on each close; never called after stop. */
  onConnection: (connection: Exclude<SocketConnection, "connecting">) => void;
  /**
   * Called before reconnecting after a connection that never opened: a WebSocket hides the
   * handshake's status, so this is the place to check the session (an API call refreshes an
   * expired access token, or ends the session when it cannot). Its failure is ignored.
   */
  onRefused?: () => Promise<unknown>;
}

export interface LiveSocketEnv {
  open: (url: string) => LiveSocket;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
}

const kBrowserSocketEnv: LiveSocketEnv = { open: (url) => new WebSocket(url), random: Math.random };

/**
 * Opens `url` and keeps it open until the returned stop is called: after each close it waits
 * reconnectDelayMs(attempt) (the attempt count starts over once a connection opens), first asking
 * `onRefused` when the connection closed without ever opening. Stop cancels a pending retry and
 * closes the socket (one still connecting is closed once it opens: closing it earlier makes the
 * browser log an error); no handler is called after it.
 */
export function runLiveSocket(url: string, handlers: LiveSocketHandlers, env: LiveSocketEnv = kBrowserSocketEnv): () => void {
  let socket: LiveSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let stopped = false;

  const connect = () => {
    timer = undefined;
    if (stopped) return;
    let opened = false;
    const ws = env.open(url);
    socket = ws;
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      handlers.onConnection("open");
    };
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data === "string") handlers.onText(event.data);
    };
    ws.onclose = () => {
      if (stopped) return;
      handlers.onConnection("down");
      const delay = reconnectDelayMs(attempt++, env.random());
      const probe = !opened && handlers.onRefused ? handlers.onRefused().catch(() => undefined) : Promise.resolve();
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
      if (ws.readyState === kSocketConnecting) ws.onopen = () => ws.close();
      else ws.close();
    }
  };
}

/**
 * Keeps the workspace's live stream open while mounted and `enabled` (runLiveSocket), passing each
 * text frame to `onText` (the latest one given is called). Says where the connection stands:
 * "connecting" until the first open after (re)enabling, then "open" or "down"; "down" once
 * disabled. A change of workspace starts a new connection.
 */
export function useLiveSocket(
  workspace_id: number,
  onText: (text: string) => void,
  enabled = true,
  onRefused?: () => Promise<unknown>,
): SocketConnection {
  const [connection, setConnection] = useState<SocketConnection>("connecting");
  const on_text = useRef(onText);
  on_text.current = onText;
  const on_refused = useRef(onRefused);
  on_refused.current = onRefused;

  useEffect(() => {
    if (!enabled) return;
    setConnection("connecting");
    const stop = runLiveSocket(liveUrl(workspace_id, window.location), {
      onText: (text) => on_text.current(text),
      onConnection: setConnection,
      onRefused: () => on_refused.current?.() ?? Promise.resolve(),
    });
    return () => {
      stop();
      setConnection("down");
    };
  }, [workspace_id, enabled]);

  return connection;
}

export interface UseLiveOptions {
  /** Checks the session after a refused handshake (LiveSocketHandlers.onRefused). */
  onRefused?: () => Promise<unknown>;
}

export interface UseLive {
  state: LiveState;
  stale: boolean;
}

/** The Overview's connection state for a loop's: a closed stream is being reconnected. */
export function liveConnection(connection: SocketConnection): LiveConnection {
  return connection === "down" ? "reconnecting" : connection;
}

/** Keeps the workspace's live stream open while mounted and folds its frames (liveReducer). */
export function useLive(workspace_id: number, options: UseLiveOptions = {}): UseLive {
  const [data, dispatch] = useReducer(liveReducer, kInitialLiveData);
  const [now_ms, setNow] = useState(() => Date.now());

  useEffect(() => {
    dispatch({ type: "reset" });
  }, [workspace_id]);

  const connection = useLiveSocket(
    workspace_id,
    (text) => {
      const frame = parseFrame(text);
      if (frame !== undefined) dispatch({ type: "frame", frame, now_ms: Date.now() });
    },
    true,
    options.onRefused,
  );

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(tick);
  }, []);

  const state = useMemo<LiveState>(() => ({ ...data, connection: liveConnection(connection) }), [data, connection]);
  return { state, stale: isStale(state, now_ms) };
}
