import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  isStale,
  kActivityKept,
  kInitialLiveData,
  kStaleAfterMs,
  liveConnection,
  liveReducer,
  liveUrl,
  mergeActivity,
  parseFrame,
  reconnectDelayMs,
  runLiveSocket,
  sinceLabel,
  type LiveActivity,
  type LiveCampaign,
  type LiveSocket,
  type LiveState,
  type LiveStateFrame,
  type SocketConnection,
} from "./live";

function activity(id: number, type: LiveActivity["type"] = "sent"): LiveActivity {
  return { id, type, at: "2026-11-22T03:00:00.000Z", lead_email: `lead${id}@x.test`, campaign_id: 1, campaign_name: "C", machine: false };
}

function campaign(over: Partial<LiveCampaign> = {}): LiveCampaign {
  return { id: 1, name: "C", sent: 0, failed: 0, bounced: 0, replied: 0, remaining: 10, enrolled: 10, rate_per_minute: 0, ...over };
}

function frame(type: "snapshot" | "update", over: Partial<LiveStateFrame> = {}): LiveStateFrame {
  return {
    type,
    workspace_id: 1,
    at: "2026-11-22T03:00:00.000Z",
    today: { day_start: "2026-11-22T00:00:00.000Z", sent: 0, quota: 30, warmup_sent: 0, warmup_target: 0 },
    senders: [],
    campaigns: [],
    activity: [],
    ...over,
  };
}

describe("liveReducer", () => {
  it("takes the snapshot whole and marks the state ready", () => {
    expect(kInitialLiveData.ready).toBe(false);
    const s = liveReducer(kInitialLiveData, { type: "frame", now_ms: 1000, frame: frame("snapshot", { campaigns: [campaign({ sent: 3, rate_per_minute: 1.5 })], activity: [activity(7), activity(5)] }) });
    expect(s.ready).toBe(true);
    expect(s.campaigns[0].sent).toBe(3);
    expect(s.activity.map((a) => a.id)).toEqual([7, 5]);
    expect(s.speed).toEqual([{ at_ms: 1000, per_minute: 1.5 }]);
    expect(s.last_frame_ms).toBe(1000);
  });

  it("replaces counters on an update and puts new events first without duplicates", () => {
    let s = liveReducer(kInitialLiveData, { type: "frame", now_ms: 1, frame: frame("snapshot", { activity: [activity(5)] }) });
    s = liveReducer(s, {
      type: "frame",
      now_ms: 2,
      frame: frame("update", { today: { day_start: "", sent: 4, quota: 30, warmup_sent: 1, warmup_target: 2 }, activity: [activity(9), activity(8), activity(5)] }),
    });
    expect(s.today?.sent).toBe(4);
    expect(s.activity.map((a) => a.id)).toEqual([9, 8, 5]);
    // A snapshot after a reconnect repeats events already seen: still once each.
    s = liveReducer(s, { type: "frame", now_ms: 3, frame: frame("snapshot", { activity: [activity(10), activity(9), activity(8)] }) });
    expect(s.activity.map((a) => a.id)).toEqual([10, 9, 8, 5]);
  });

  it("keeps a bounded feed and speed series", () => {
    let s = kInitialLiveData;
    for (let i = 1; i <= 200; i++) {
      s = liveReducer(s, { type: "frame", now_ms: i, frame: frame("update", { activity: [activity(i)], campaigns: [campaign({ rate_per_minute: i })] }) });
    }
    expect(s.activity).toHaveLength(kActivityKept);
    expect(s.activity[0].id).toBe(200);
    expect(s.speed.length).toBeLessThanOrEqual(120);
    expect(s.speed[s.speed.length - 1]).toEqual({ at_ms: 200, per_minute: 200 });
  });

  it("sums the rate of every running campaign for the speed chart", () => {
    const s = liveReducer(kInitialLiveData, {
      type: "frame",
      now_ms: 5,
      frame: frame("update", { campaigns: [campaign({ id: 1, rate_per_minute: 1.2 }), campaign({ id: 2, rate_per_minute: 3 })] }),
    });
    expect(s.speed[0].per_minute).toBeCloseTo(4.2);
  });

  it("a heartbeat only refreshes the time of the last frame", () => {
    const before = liveReducer(kInitialLiveData, { type: "frame", now_ms: 1, frame: frame("snapshot", { activity: [activity(1)] }) });
    const after = liveReducer(before, { type: "frame", now_ms: 99, frame: { type: "heartbeat", workspace_id: 1, at: "" } });
    expect(after.last_frame_ms).toBe(99);
    expect(after.activity).toBe(before.activity);
    expect(after.speed).toBe(before.speed);
  });

  it("reset starts over", () => {
    const s = liveReducer(kInitialLiveData, { type: "frame", now_ms: 10, frame: frame("snapshot") });
    expect(liveReducer(s, { type: "reset" })).toBe(kInitialLiveData);
  });
});

describe("isStale", () => {
  const data = liveReducer(kInitialLiveData, { type: "frame", now_ms: 10, frame: frame("snapshot") });
  const shown = (connection: SocketConnection): LiveState => ({ ...data, connection: liveConnection(connection) });

  it("is fresh while open with a recent frame, stale once frames stop", () => {
    expect(isStale(shown("open"), 11)).toBe(false);
    expect(isStale(shown("open"), 10 + kStaleAfterMs)).toBe(false);
    expect(isStale(shown("open"), 10 + kStaleAfterMs + 1)).toBe(true);
  });

  it("a closed connection is reconnecting and stale; the last numbers stay", () => {
    expect(shown("down").connection).toBe("reconnecting");
    expect(isStale(shown("down"), 11)).toBe(true);
    expect(isStale(shown("connecting"), 11)).toBe(true);
    expect(shown("down").ready).toBe(true);
  });
});

describe("mergeActivity", () => {
  it("orders by id, newest first, and limits", () => {
    expect(mergeActivity([activity(3), activity(1)], [activity(2), activity(1)], 2).map((a) => a.id)).toEqual([3, 2]);
  });
});

describe("reconnectDelayMs", () => {
  it("doubles from 1 s up to 30 s with at most 30% jitter", () => {
    expect(reconnectDelayMs(0, 0)).toBe(1000);
    expect(reconnectDelayMs(1, 0)).toBe(2000);
    expect(reconnectDelayMs(4, 0)).toBe(16000);
    expect(reconnectDelayMs(5, 0)).toBe(30000);
    expect(reconnectDelayMs(50, 0)).toBe(30000);
    expect(reconnectDelayMs(0, 0.999)).toBeLessThanOrEqual(1300);
  });
});

describe("liveUrl and parseFrame", () => {
  it("uses wss for https pages and the page's host", () => {
    expect(liveUrl(4, { protocol: "https:", host: "kiln.example.com" })).toBe("wss://kiln.example.com/api/v1/workspaces/4/live");
    expect(liveUrl(4, { protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/api/v1/workspaces/4/live");
  });
  it("accepts the protocol's frames only", () => {
    expect(parseFrame('{"type":"heartbeat","workspace_id":1,"at":""}')?.type).toBe("heartbeat");
    expect(parseFrame('{"type":"other"}')).toBeUndefined();
    expect(parseFrame("not json")).toBeUndefined();
    expect(parseFrame("null")).toBeUndefined();
  });
});

describe("sinceLabel", () => {
  const now = Date.parse("2026-11-22T09:30:00.000Z");

  it("gives the time alone when the sender's day began on the viewer's day", () => {
    expect(sinceLabel("2026-11-22T00:00:00.000Z", now, "UTC")).toBe("since 00:00");
    // A sender on UTC+1 began its day at 23:00 UTC; a viewer in Paris sees their own midnight.
    expect(sinceLabel("2026-11-21T23:00:00.000Z", now, "Europe/Paris")).toBe("since 00:00");
  });

  it("names the weekday when the sender's day began on another day for the viewer", () => {
    // A sender at UTC+14: its Sunday began at 10:00 UTC on Saturday.
    expect(sinceLabel("2026-11-21T10:00:00.000Z", now, "UTC")).toBe("since Sat 10:00");
    // Seen from Honolulu (UTC-10, now Sat 23:30): a UTC sender's day began at 14:00 that same day.
    expect(sinceLabel("2026-11-22T00:00:00.000Z", now, "Pacific/Honolulu")).toBe("since 14:00");
    expect(sinceLabel("2026-11-20T10:00:00.000Z", now, "Pacific/Honolulu")).toBe("since Fri 00:00");
  });

  it("is empty for what is not a time", () => {
    expect(sinceLabel("", now, "UTC")).toBe("");
    expect(sinceLabel("yesterday", now, "UTC")).toBe("");
  });
});

/** A WebSocket the test opens, feeds and closes by hand. */
class FakeSocket implements LiveSocket {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  closed_by_client = false;

  constructor(readonly url: string) {}

  serverOpens() {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  serverSends(data: unknown) {
    this.onmessage?.({ data } as MessageEvent);
  }
  serverCloses() {
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
  close() {
    this.closed_by_client = true;
    this.readyState = 3;
  }
}

describe("runLiveSocket", () => {
  const kUrl = "ws://127.0.0.1:8080/api/v1/workspaces/1/live";
  let sockets: FakeSocket[];
  let texts: string[];
  let states: SocketConnection[];
  let refused: number;
  const env = {
    open: (url: string) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    random: () => 0,
  };
  const handlers = {
    onText: (t: string) => texts.push(t),
    onConnection: (c: SocketConnection) => states.push(c),
    onRefused: () => {
      refused++;
      return Promise.resolve();
    },
  };

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    texts = [];
    states = [];
    refused = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens once, passes text frames on and ignores binary ones", () => {
    const stop = runLiveSocket(kUrl, handlers, env);
    expect(sockets).toHaveLength(1);
    expect(sockets[0].url).toBe(kUrl);
    sockets[0].serverOpens();
    sockets[0].serverSends('{"type":"heartbeat"}');
    sockets[0].serverSends(new ArrayBuffer(4));
    expect(states).toEqual(["open"]);
    expect(texts).toEqual(['{"type":"heartbeat"}']);
    stop();
    expect(sockets[0].closed_by_client).toBe(true);
  });

  it("reconnects after a close, waiting longer after each failed attempt and starting over once open", async () => {
    const stop = runLiveSocket(kUrl, handlers, env);
    sockets[0].serverOpens();
    sockets[0].serverCloses();
    expect(states).toEqual(["open", "down"]);
    // attempt 0: 1 s.
    await vi.advanceTimersByTimeAsync(999);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    // Never opened: 2 s, then 4 s; the state stays down meanwhile.
    sockets[1].serverCloses();
    await vi.advanceTimersByTimeAsync(1999);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    sockets[2].serverCloses();
    await vi.advanceTimersByTimeAsync(3999);
    expect(sockets).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(4);
    expect(states).toEqual(["open", "down", "down", "down"]);
    // Open again: the next close waits 1 s again.
    sockets[3].serverOpens();
    sockets[3].serverCloses();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(5);
    expect(states).toEqual(["open", "down", "down", "down", "open", "down"]);
    stop();
  });

  it("checks the session only after a connection that never opened", async () => {
    const stop = runLiveSocket(kUrl, handlers, env);
    sockets[0].serverCloses();
    await vi.advanceTimersByTimeAsync(0);
    expect(refused).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    sockets[1].serverOpens();
    sockets[1].serverCloses();
    await vi.advanceTimersByTimeAsync(1000);
    expect(refused).toBe(1);
    expect(sockets).toHaveLength(3);
    stop();
  });

  it("waits for the session check before reconnecting, and reconnects when it fails", async () => {
    let answer: (() => void) | undefined;
    const stop = runLiveSocket(kUrl, { ...handlers, onRefused: () => new Promise<void>((_, reject) => (answer = () => reject(new Error("401")))) }, env);
    sockets[0].serverCloses();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets).toHaveLength(1);
    answer?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(2);
    stop();
  });

  it("never reconnects after stop, nor reports anything", async () => {
    const stop = runLiveSocket(kUrl, handlers, env);
    sockets[0].serverOpens();
    sockets[0].serverCloses();
    stop(); // while the retry is pending
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
    expect(states).toEqual(["open", "down"]);
  });

  it("stopped during the session check, it does not reconnect", async () => {
    let answer: (() => void) | undefined;
    const stop = runLiveSocket(kUrl, { ...handlers, onRefused: () => new Promise<void>((resolve) => (answer = resolve)) }, env);
    sockets[0].serverCloses();
    stop();
    answer?.();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
  });

  it("a socket still connecting when stopped is closed once it opens, silently", () => {
    const stop = runLiveSocket(kUrl, handlers, env);
    stop();
    expect(sockets[0].closed_by_client).toBe(false);
    sockets[0].serverOpens();
    expect(sockets[0].closed_by_client).toBe(true);
    sockets[0].serverSends("late");
    expect(states).toEqual([]);
    expect(texts).toEqual([]);
  });
});
