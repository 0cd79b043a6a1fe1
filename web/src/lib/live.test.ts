import { describe, expect, it } from "vitest";
import {
  isStale,
  kActivityKept,
  kInitialLiveState,
  kStaleAfterMs,
  liveReducer,
  liveUrl,
  mergeActivity,
  parseFrame,
  reconnectDelayMs,
  sinceLabel,
  type LiveActivity,
  type LiveCampaign,
  type LiveStateFrame,
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
    let s = liveReducer(kInitialLiveState, { type: "open" });
    expect(s.connection).toBe("open");
    expect(s.ready).toBe(false);
    s = liveReducer(s, { type: "frame", now_ms: 1000, frame: frame("snapshot", { campaigns: [campaign({ sent: 3, rate_per_minute: 1.5 })], activity: [activity(7), activity(5)] }) });
    expect(s.ready).toBe(true);
    expect(s.campaigns[0].sent).toBe(3);
    expect(s.activity.map((a) => a.id)).toEqual([7, 5]);
    expect(s.speed).toEqual([{ at_ms: 1000, per_minute: 1.5 }]);
    expect(s.last_frame_ms).toBe(1000);
  });

  it("replaces counters on an update and puts new events first without duplicates", () => {
    let s = liveReducer(kInitialLiveState, { type: "frame", now_ms: 1, frame: frame("snapshot", { activity: [activity(5)] }) });
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
    let s = kInitialLiveState;
    for (let i = 1; i <= 200; i++) {
      s = liveReducer(s, { type: "frame", now_ms: i, frame: frame("update", { activity: [activity(i)], campaigns: [campaign({ rate_per_minute: i })] }) });
    }
    expect(s.activity).toHaveLength(kActivityKept);
    expect(s.activity[0].id).toBe(200);
    expect(s.speed.length).toBeLessThanOrEqual(120);
    expect(s.speed[s.speed.length - 1]).toEqual({ at_ms: 200, per_minute: 200 });
  });

  it("sums the rate of every running campaign for the speed chart", () => {
    const s = liveReducer(kInitialLiveState, {
      type: "frame",
      now_ms: 5,
      frame: frame("update", { campaigns: [campaign({ id: 1, rate_per_minute: 1.2 }), campaign({ id: 2, rate_per_minute: 3 })] }),
    });
    expect(s.speed[0].per_minute).toBeCloseTo(4.2);
  });

  it("a heartbeat only refreshes the time of the last frame", () => {
    const before = liveReducer(kInitialLiveState, { type: "frame", now_ms: 1, frame: frame("snapshot", { activity: [activity(1)] }) });
    const after = liveReducer(before, { type: "frame", now_ms: 99, frame: { type: "heartbeat", workspace_id: 1, at: "" } });
    expect(after.last_frame_ms).toBe(99);
    expect(after.activity).toBe(before.activity);
    expect(after.speed).toBe(before.speed);
  });

  it("a closed connection is reconnecting and stale; reset starts over", () => {
    let s = liveReducer(kInitialLiveState, { type: "open" });
    s = liveReducer(s, { type: "frame", now_ms: 10, frame: frame("snapshot") });
    expect(isStale(s, 11)).toBe(false);
    expect(isStale(s, 10 + kStaleAfterMs + 1)).toBe(true);
    s = liveReducer(s, { type: "closed" });
    expect(s.connection).toBe("reconnecting");
    expect(isStale(s, 11)).toBe(true);
    expect(s.ready).toBe(true); // the last numbers stay on screen, marked stale
    expect(liveReducer(s, { type: "reset" })).toBe(kInitialLiveState);
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
