// What both end-to-end scenarios (dashboard.test.mjs, flow.test.mjs) share: reading the
// environment ./run passes, launching Debian's Chromium, and steps that fail on any browser
// problem a step did not declare as expected (console error, page error, failed request, HTTP error
// answer), waiting for the page to be quiet before judging, with a screenshot of a failed step;
// and the accessibility checks of a screen (controls without a name, controls Tab never reaches).

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { chromium } from "playwright-core";

/** Roles of controls a person operates: each must have an accessible name. */
const kControlRoles = new Set([
  "button",
  "link",
  "textbox",
  "searchbox",
  "combobox",
  "checkbox",
  "radio",
  "switch",
  "menuitem",
  "menuitemcheckbox",
  "menuitemradio",
  "tab",
  "slider",
  "spinbutton",
  "listbox",
]);

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

  /**
   * Controls on the page that assistive technology cannot name, read from Chromium's own
   * accessibility tree (so labels, aria-label(ledby), titles and text count as the browser counts
   * them): one line per control, "role <tag id=… class=…> text…". Hidden controls are not in the tree.
   */
  b.unnamedControls = async () => {
    const cdp = await b.context.newCDPSession(b.page);
    try {
      await cdp.send("DOM.getDocument", { depth: -1 });
      const { nodes } = await cdp.send("Accessibility.getFullAXTree");
      const out = [];
      for (const node of nodes) {
        if (node.ignored) continue;
        const role = node.role?.value ?? "";
        if (!kControlRoles.has(role)) continue;
        if ((node.name?.value ?? "").trim() !== "") continue;
        let where = "";
        if (node.backendDOMNodeId !== undefined) {
          const { node: dom } = await cdp.send("DOM.describeNode", { backendNodeId: node.backendDOMNodeId });
          const attrs = dom.attributes ?? [];
          const attr = (n) => {
            const i = attrs.indexOf(n);
            return i >= 0 && i % 2 === 0 ? attrs[i + 1] : undefined;
          };
          where = `<${dom.nodeName.toLowerCase()}${attr("id") ? ` id=${attr("id")}` : ""}${attr("class") ? ` class="${attr("class").slice(0, 60)}"` : ""}${attr("type") ? ` type=${attr("type")}` : ""}>`;
        }
        out.push(`${role} ${where}`.trim());
      }
      return out;
    } finally {
      await cdp.detach();
    }
  };

  /**
   * Presses Tab through the whole page and returns the visible, enabled controls that focus never
   * reached (described like unnamedControls). Radios count as reached when one of their group was
   * (arrow keys move within a group).
   */
  b.unreachableControls = async () => {
    await b.page.evaluate(() => {
      const marked = document.querySelectorAll("[data-e2e-control]");
      for (const el of marked) el.removeAttribute("data-e2e-control");
      const selector =
        'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex], [role="button"], [role="link"], [role="checkbox"], [role="switch"], [role="tab"], [role="menuitem"], [role="slider"]';
      let n = 0;
      for (const el of document.querySelectorAll(selector)) {
        if (el.matches(":disabled") || el.closest("[inert]")) continue;
        if (el.getAttribute("tabindex") === "-1" && !el.matches('[role="tab"]')) continue;
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        if (style.visibility === "hidden" || style.display === "none" || (box.width === 0 && box.height === 0)) continue;
        el.setAttribute("data-e2e-control", String(n++));
      }
      document.body.setAttribute("tabindex", "-1");
      document.body.focus();
      document.body.removeAttribute("tabindex");
    });
    const total = await b.page.locator("[data-e2e-control]").count();
    const reached = new Set();
    const radio_groups = new Set();
    for (let i = 0; i < total * 2 + 10; i++) {
      await b.page.keyboard.press("Tab");
      const at = await b.page.evaluate(() => {
        const el = document.activeElement;
        if (el === null || el === document.body) return { id: null, group: null };
        const radio = el.matches('input[type="radio"]') ? el.getAttribute("name") : null;
        return { id: el.getAttribute("data-e2e-control"), group: radio };
      });
      if (at.id !== null) reached.add(at.id);
      if (at.group !== null) radio_groups.add(at.group);
      if (reached.size === total) break;
    }
    return b.page.evaluate(
      ({ reached, radio_groups }) => {
        const out = [];
        for (const el of document.querySelectorAll("[data-e2e-control]")) {
          const id = el.getAttribute("data-e2e-control");
          el.removeAttribute("data-e2e-control");
          if (reached.includes(id)) continue;
          if (el.matches('input[type="radio"]') && radio_groups.includes(el.getAttribute("name"))) continue;
          const cls = el.getAttribute("class") ?? "";
          out.push(`<${el.tagName.toLowerCase()}${el.id ? ` id=${el.id}` : ""}${cls ? ` class="${cls.slice(0, 60)}"` : ""}> ${(el.textContent ?? "").trim().slice(0, 40)}`);
        }
        return out;
      },
      { reached: [...reached], radio_groups: [...radio_groups] },
    );
  };

  /** The page's width in CSS pixels (wider than the viewport means sideways scrolling). */
  b.pageWidth = () => b.page.evaluate(() => document.documentElement.scrollWidth);

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
