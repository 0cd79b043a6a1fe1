// What both end-to-end scenarios (dashboard.test.mjs, flow.test.mjs) share: reading the
// environment ./run passes, launching Debian's Chromium, and steps that fail on any browser
// problem a step did not declare as expected (console error, page error, failed request, HTTP error
// answer), waiting for the page to be quiet before judging, with a screenshot of a failed step.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { chromium } from "playwright-core";

/** Default bound of every browser wait. */
export const kTimeoutMs = 10_000;

/** The environment variable `name`; throws naming it (and how to get it) when it is not set. */
export function env(name, hint = "run tests/e2e/run") {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: ${hint}`);
  return v;
}

/**
 * A browser for one scenario. `artifacts`: the screenshot folder; `prefix`: put before each
 * screenshot's name. Steps run in order; after a failed step the rest are skipped.
 */
export function createBrowser({ artifacts, prefix = "" }) {
  const b = {
    context: undefined,
    page: undefined,
    /** Problems seen since the step began; each step asserts there are none it did not expect. */
    problems: [],
    /** HTTP error answers the running step declared as expected: { url: RegExp, status }. */
    expected: [],
    failed: false,
    inflight: new Set(),
  };

  b.expectHttpError = (url, status) => {
    b.expected.push({ url, status });
  };

  const isExpected = (url, status) => b.expected.some((e) => e.url.test(url) && e.status === status);

  /** Resolves once no request has been in flight for `quiet_ms`; fails naming the stuck ones. */
  b.settle = async (quiet_ms = 300) => {
    const deadline = Date.now() + kTimeoutMs;
    let quiet_since = Date.now();
    while (Date.now() < deadline) {
      if (b.inflight.size > 0) quiet_since = Date.now();
      else if (Date.now() - quiet_since >= quiet_ms) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const stuck = [...b.inflight].map((r) => `${r.method()} ${r.url()}`);
    throw new Error(`requests still running after ${kTimeoutMs} ms: ${stuck.join(", ")}`);
  };

  function watch(p) {
    p.on("request", (req) => {
      // The live-progress WebSocket stays open; it is not a request to wait for.
      if (!req.url().endsWith("/live")) b.inflight.add(req);
    });
    p.on("requestfinished", (req) => b.inflight.delete(req));
    p.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const text = msg.text();
      // Chromium logs every HTTP error answer as a console error; those are judged (with their
      // URL, against the step's expectations) by the "response" handler below.
      if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) return;
      b.problems.push(`console error: ${text}`);
    });
    p.on("pageerror", (err) => b.problems.push(`page error: ${err.message}`));
    p.on("requestfailed", (req) => {
      b.inflight.delete(req);
      const reason = req.failure()?.errorText ?? "";
      // A reload or navigation cancels requests still in flight; that is not a failure.
      if (reason === "net::ERR_ABORTED") return;
      b.problems.push(`request failed: ${req.method()} ${req.url()}: ${reason}`);
    });
    p.on("response", (res) => {
      if (res.status() < 400) return;
      if (isExpected(res.url(), res.status())) return;
      b.problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    });
  }

  /** Starts Chromium (headless, a persistent profile in E2E_PROFILE_DIR) and watches its page. */
  b.launch = async () => {
    mkdirSync(artifacts, { recursive: true });
    b.context = await chromium.launchPersistentContext(env("E2E_PROFILE_DIR"), {
      executablePath: env("CHROMIUM"),
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 860 },
    });
    b.context.setDefaultTimeout(kTimeoutMs);
    b.page = b.context.pages()[0] ?? (await b.context.newPage());
    watch(b.page);
  };

  b.close = async () => {
    await b.context?.close();
  };

  b.shot = async (name) => {
    await b.page.screenshot({ path: path.join(artifacts, `${prefix}${name}.png`), fullPage: true });
  };

  /** A step of the scenario: skipped after an earlier failure; fails on any unexpected problem. */
  b.step = (name, body) => {
    it(name, async (t) => {
      if (b.failed) {
        t.skip("an earlier step failed");
        return;
      }
      b.problems = [];
      try {
        await body();
        // Let late responses and console messages of this step arrive before judging.
        await b.settle();
        assert.deepEqual(b.problems, [], "unexpected browser problems");
      } catch (e) {
        b.failed = true;
        await b.shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
        throw e;
      } finally {
        b.expected = [];
      }
    });
  };

  return b;
}
