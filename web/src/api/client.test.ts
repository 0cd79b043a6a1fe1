import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, errorFromResponse, parseRetryAfter, readCookie } from "./client";
import { KilnApi } from "./endpoints";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

const kUnauthenticated = { error: { code: "unauthenticated", message: "access token expired" } };

/** A scripted server: answers in order, records every call. */
function scripted(answers: Array<Response | ((call: Call) => Response) | Error>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const call: Call = {
      url,
      method: init.method ?? "GET",
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const next = answers.shift();
    if (next === undefined) throw new Error(`unexpected call ${call.method} ${url}`);
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next(call) : next;
  });
  return { fetch, calls };
}

describe("ApiClient refresh on 401", () => {
  it("refreshes once and retries the request with the new CSRF token", async () => {
    const server = scripted([
      json(401, kUnauthenticated),
      json(200, { csrf_token: "fresh", access_expires_at: "2026-01-01T00:00:00.000Z" }),
      json(200, { id: 7, name: "A" }),
    ]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    client.setCsrfToken("stale");

    const answer = await client.patch<{ id: number }>("/workspaces/1", { name: "A" });

    expect(answer).toEqual({ id: 7, name: "A" });
    expect(server.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "PATCH /api/v1/workspaces/1",
      "POST /api/v1/auth/refresh",
      "PATCH /api/v1/workspaces/1",
    ]);
    expect(server.calls[0].headers["X-CSRF-Token"]).toBe("stale");
    expect(server.calls[1].headers["X-CSRF-Token"]).toBe("stale");
    expect(server.calls[2].headers["X-CSRF-Token"]).toBe("fresh");
    expect(server.calls[2].body).toEqual({ name: "A" });
  });

  it("retries only once: a second 401 is returned to the caller", async () => {
    const server = scripted([
      json(401, kUnauthenticated),
      json(200, { csrf_token: "t2" }),
      json(401, kUnauthenticated),
    ]);
    const expired = vi.fn();
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "", onSessionExpired: expired });

    const error = await client.get("/me").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(server.calls).toHaveLength(3);
    expect(expired).not.toHaveBeenCalled();
  });

  it("reports the session as expired when the refresh is refused", async () => {
    const server = scripted([
      json(401, kUnauthenticated),
      json(401, { error: { code: "unauthenticated", message: "refresh token revoked" } }),
    ]);
    const expired = vi.fn();
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "", onSessionExpired: expired });
    client.setCsrfToken("t1");

    const error = (await client.get("/me").catch((e: unknown) => e)) as ApiError;

    expect(error.code).toBe("unauthenticated");
    expect(error.message).toBe("access token expired");
    expect(expired).toHaveBeenCalledTimes(1);
    expect(client.csrfToken()).toBeUndefined();
  });

  it("shares one refresh among requests that fail together", async () => {
    let refreshes = 0;
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url.endsWith("/auth/refresh")) {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, { csrf_token: "new" });
      }
      const headers = init.headers as Record<string, string>;
      if (init.method === "GET" && refreshes === 0) return json(401, kUnauthenticated);
      return json(200, { url, token: headers["X-CSRF-Token"] ?? null });
    });
    const client = new ApiClient({ fetch, readCookies: () => "" });

    const answers = await Promise.all([client.get("/a"), client.get("/b"), client.get("/c")]);

    expect(refreshes).toBe(1);
    expect(answers).toEqual([
      { url: "/api/v1/a", token: null },
      { url: "/api/v1/b", token: null },
      { url: "/api/v1/c", token: null },
    ]);
  });

  it("does not refresh for 401s that are not `unauthenticated` nor for /auth/ calls", async () => {
    const server = scripted([
      json(401, { error: { code: "unauthenticated", message: "wrong email or password" } }),
    ]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    const api = new KilnApi(client);

    const error = (await api.login("a@b.c", "nope").catch((e: unknown) => e)) as ApiError;

    expect(error.message).toBe("wrong email or password");
    expect(server.calls).toHaveLength(1);
  });

  it("surfaces a refresh that fails for another reason as that error, without expiring", async () => {
    const server = scripted([
      json(401, kUnauthenticated),
      json(503, { error: { code: "unavailable", message: "database is down" } }, { "Retry-After": "3" }),
    ]);
    const expired = vi.fn();
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "", onSessionExpired: expired });

    const error = (await client.get("/me").catch((e: unknown) => e)) as ApiError;

    expect(error.code).toBe("unavailable");
    expect(error.retryAfterSeconds).toBe(3);
    expect(expired).not.toHaveBeenCalled();
  });
});

describe("ApiClient CSRF token", () => {
  it("takes the token from the login answer", async () => {
    const server = scripted([
      json(200, { user: { id: 1 }, workspaces: [], csrf_token: "from-login", access_expires_at: "x" }),
      new Response(null, { status: 204 }),
    ]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "kiln_csrf=from-cookie" });
    const api = new KilnApi(client);

    await api.login("a@b.c", "pw");
    await client.delete("/workspaces/1/senders/2");

    expect(server.calls[1].headers["X-CSRF-Token"]).toBe("from-login");
  });

  it("falls back to the kiln_csrf cookie after a reload, and not on GET", async () => {
    const server = scripted([json(200, {}), json(200, {})]);
    const client = new ApiClient({
      fetch: server.fetch,
      readCookies: () => "theme=dark; kiln_csrf=abc%3D%3D; other=1",
    });

    await client.get("/me");
    await client.post("/workspaces", { name: "x" });

    expect(server.calls[0].headers["X-CSRF-Token"]).toBeUndefined();
    expect(server.calls[1].headers["X-CSRF-Token"]).toBe("abc==");
    expect(server.calls[1].headers["Content-Type"]).toBe("application/json");
  });

  it("forgets the in-memory token on logout even when the call fails", async () => {
    const server = scripted([new TypeError("Failed to fetch")]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    client.setCsrfToken("t");

    await expect(new KilnApi(client).logout()).rejects.toMatchObject({ code: "network" });
    expect(client.csrfToken()).toBeUndefined();
  });
});

describe("error mapping", () => {
  it("carries code, message and field from the API's error shape", async () => {
    const error = await errorFromResponse(
      json(
        400,
        { error: { code: "invalid_argument", message: "must be a valid email address", field: "email" } },
        { "X-Request-Id": "req-1" },
      ),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toBe("must be a valid email address");
    expect(error.field).toBe("email");
    expect(error.requestId).toBe("req-1");
  });

  it("reads Retry-After on 429", async () => {
    const error = await errorFromResponse(
      json(429, { error: { code: "rate_limited", message: "too many attempts" } }, { "Retry-After": "42" }),
    );
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBe(42);
    expect(error.field).toBeUndefined();
  });

  it("maps a body that is not the error shape by HTTP status", async () => {
    const html = new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" });
    const error = await errorFromResponse(html);
    expect(error.code).toBe("internal");
    expect(error.status).toBe(502);
    expect(error.message).toContain("502");

    const empty = await errorFromResponse(new Response(null, { status: 404 }));
    expect(empty.code).toBe("not_found");
  });

  it("turns a fetch rejection into a network error", async () => {
    const server = scripted([new TypeError("Failed to fetch")]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    const error = (await client.get("/me").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("network");
    expect(error.status).toBe(0);
  });

  it("rejects a 2xx answer that is not JSON", async () => {
    const server = scripted([new Response("not json", { status: 200 })]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    await expect(client.get("/me")).rejects.toMatchObject({ code: "bad_response" });
  });

  it("answers undefined for 204", async () => {
    const server = scripted([new Response(null, { status: 204 })]);
    const client = new ApiClient({ fetch: server.fetch, readCookies: () => "" });
    await expect(client.delete("/x")).resolves.toBeUndefined();
  });

  it("builds query strings without empty values", async () => {
    const server = scripted([json(200, { items: [], next_before: null })]);
    const api = new KilnApi(new ApiClient({ fetch: server.fetch, readCookies: () => "" }));
    await api.auditLog(3, { limit: 25 });
    expect(server.calls[0].url).toBe("/api/v1/workspaces/3/audit-log?limit=25");
  });
});

describe("helpers", () => {
  it("readCookie finds exact names only", () => {
    expect(readCookie("xkiln_csrf=1; kiln_csrf=2", "kiln_csrf")).toBe("2");
    expect(readCookie("kiln_csrf=", "kiln_csrf")).toBeUndefined();
    expect(readCookie("", "kiln_csrf")).toBeUndefined();
  });

  it("parseRetryAfter accepts seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("10", now)).toBe(10);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
