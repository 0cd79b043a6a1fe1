// The HTTP client every screen uses to talk to the Kiln JSON API (docs/api.md).
//
// What it does for callers:
// - sends cookies (credentials: "same-origin") and JSON bodies, parses JSON answers;
// - adds `X-CSRF-Token` to every state-changing request. The token is kept in memory from the
//   login/refresh answer; after a page reload it is read back from the `kiln_csrf` cookie;
// - on a 401 with code `unauthenticated`, calls `POST /auth/refresh` once (shared by all requests
//   that fail at the same moment) and retries the request once; if the refresh itself fails with
//   401, the session is over and `onSessionExpired` is called;
// - turns every failure into an `ApiError` carrying the API's `code`, `message` and `field`, plus
//   the HTTP status, `Retry-After` seconds and the request id.
//
// Thread-safety: JavaScript is single-threaded; one ApiClient instance is shared by the whole app.

export const kApiBase = "/api/v1";
export const kCsrfCookie = "kiln_csrf";
export const kCsrfHeader = "X-CSRF-Token";

/** Codes the API documents, plus two the client itself produces when no API answer exists. */
export type ApiErrorCode =
  | "invalid_argument"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "conflict"
  | "failed_precondition"
  | "too_large"
  | "rate_limited"
  | "internal"
  | "unavailable"
  /** The request never got an HTTP answer (server down, connection reset, offline). */
  | "network"
  /** The server answered, but not with the documented error shape (e.g. a proxy's HTML page). */
  | "bad_response";

/** A failed API call. `field` names the request field at fault, when the API names one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode | string;
  readonly field: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After` (429 and 503 answers). */
  readonly retryAfterSeconds: number | undefined;
  readonly requestId: string | undefined;
  /** Every problem, when the API checked many things at once (a launch, a CSV import); else []. */
  readonly problems: ApiProblem[];

  constructor(init: {
    status: number;
    code: ApiErrorCode | string;
    message: string;
    field?: string;
    retryAfterSeconds?: number;
    requestId?: string;
    problems?: ApiProblem[];
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.requestId = init.requestId;
    this.problems = init.problems ?? [];
  }
}

/** One entry of an error's `problems` list; CSV imports add the 1-based `row` and `column`. */
export interface ApiProblem {
  field?: string;
  message: string;
  row?: number;
  column?: string;
}

function parseProblems(value: unknown): ApiProblem[] {
  if (!Array.isArray(value)) return [];
  const problems: ApiProblem[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) continue;
    const p = item as { field?: unknown; message?: unknown; row?: unknown; column?: unknown };
    if (typeof p.message !== "string") continue;
    problems.push({
      message: p.message,
      field: typeof p.field === "string" ? p.field : undefined,
      row: typeof p.row === "number" ? p.row : undefined,
      column: typeof p.column === "string" ? p.column : undefined,
    });
  }
  return problems;
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Defaults to the global fetch. Tests pass their own. */
  fetch?: FetchLike;
  /** Returns document.cookie (or a test double). Used to recover the CSRF token after a reload. */
  readCookies?: () => string;
  /** Called once each time a refresh is refused: the user must sign in again. */
  onSessionExpired?: () => void;
  baseUrl?: string;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  /** JSON-serialisable body. */
  body?: unknown;
  /** A body sent as is (e.g. a CSV file) instead of `body`, with its Content-Type. */
  rawBody?: { data: Blob | string; contentType: string };
  /** Query parameters; undefined and null values are left out. */
  query?: Record<string, string | number | null | undefined>;
  signal?: AbortSignal;
}

/** The part of a login/refresh answer the client itself needs. */
interface SessionAnswer {
  csrf_token?: string;
}

const kStateChanging: ReadonlySet<HttpMethod> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Reads one cookie's value from a `document.cookie` string; undefined when absent or empty. */
export function readCookie(cookies: string, name: string): string | undefined {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    if (raw === "") return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** Parses `Retry-After` (seconds or an HTTP date) into whole seconds from `now_ms`. */
export function parseRetryAfter(value: string | null, now_ms: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date_ms = Date.parse(trimmed);
  if (Number.isNaN(date_ms)) return undefined;
  return Math.max(0, Math.ceil((date_ms - now_ms) / 1000));
}

/** Builds an ApiError from a non-2xx answer, whatever its body holds. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const retry_after = parseRetryAfter(response.headers.get("Retry-After"), Date.now());
  const request_id = response.headers.get("X-Request-Id") ?? undefined;
  let body: unknown = undefined;
  const text = await response.text().catch(() => "");
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  const err =
    typeof body === "object" && body !== null && "error" in body
      ? (body as { error: unknown }).error
      : undefined;
  if (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; message?: unknown; field?: unknown; problems?: unknown };
    if (typeof e.code === "string" && typeof e.message === "string") {
      return new ApiError({
        status: response.status,
        code: e.code,
        message: e.message,
        field: typeof e.field === "string" && e.field !== "" ? e.field : undefined,
        retryAfterSeconds: retry_after,
        requestId: request_id,
        problems: parseProblems(e.problems),
      });
    }
  }
  return new ApiError({
    status: response.status,
    code: fallbackCode(response.status),
    message: `The server answered ${response.status}${
      response.statusText ? ` ${response.statusText}` : ""
    } without an error description.`,
    retryAfterSeconds: retry_after,
    requestId: request_id,
  });
}

function fallbackCode(status: number): string {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "too_large";
    case 429:
      return "rate_limited";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_response";
  }
}

export class ApiClient {
  private readonly fetch_: FetchLike;
  private readonly readCookies_: () => string;
  private readonly base_: string;
  private onSessionExpired_: (() => void) | undefined;
  private csrf_token_: string | undefined;
  /** The refresh in flight, shared by every request that met a 401 meanwhile. */
  private refreshing_: Promise<boolean> | undefined;

  constructor(options: ApiClientOptions = {}) {
    this.fetch_ = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.readCookies_ =
      options.readCookies ?? (() => (typeof document === "undefined" ? "" : document.cookie));
    this.base_ = options.baseUrl ?? kApiBase;
    this.onSessionExpired_ = options.onSessionExpired;
  }

  setOnSessionExpired(callback: (() => void) | undefined): void {
    this.onSessionExpired_ = callback;
  }

  /** Remembers the CSRF token of a login/refresh answer. */
  setCsrfToken(token: string | undefined): void {
    this.csrf_token_ = token;
  }

  /** The token sent with state-changing requests: the remembered one, else the cookie's. */
  csrfToken(): string | undefined {
    return this.csrf_token_ ?? readCookie(this.readCookies_(), kCsrfCookie);
  }

  /** True when the browser holds what looks like a session (the JS-readable CSRF cookie). */
  hasSessionHint(): boolean {
    return this.csrfToken() !== undefined;
  }

  /** Forgets the in-memory token (after sign-out). */
  clearSession(): void {
    this.csrf_token_ = undefined;
  }

  /**
   * Sends one API request. Resolves with the parsed JSON answer (undefined for 204 / empty
   * bodies); rejects with ApiError for every failure, after at most one refresh-and-retry.
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 401 && !path.startsWith("/auth/")) {
      // Reading the error consumes the body, so no answer is left half-read.
      const error = await errorFromResponse(response);
      if (error.code !== "unauthenticated") throw error;
      const refreshed = await this.refresh();
      if (!refreshed) throw error;
      const retried = await this.send(method, path, options);
      return this.finish<T>(retried);
    }
    return this.finish<T>(response);
  }

  get<T>(path: string, options?: Omit<RequestOptions, "body">): Promise<T> {
    return this.request<T>("GET", path, options);
  }
  post<T>(path: string, body?: unknown, options?: Omit<RequestOptions, "body">): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }
  patch<T>(path: string, body: unknown, options?: Omit<RequestOptions, "body">): Promise<T> {
    return this.request<T>("PATCH", path, { ...options, body });
  }
  delete<T = void>(path: string, options?: Omit<RequestOptions, "body">): Promise<T> {
    return this.request<T>("DELETE", path, options);
  }

  /**
   * Asks for a new access token with the refresh cookie. Resolves true on success (and keeps
   * the new CSRF token), false when the session is over (onSessionExpired has been called).
   * Rejects with ApiError when the refresh could not be decided (network down, 5xx, 429).
   */
  refresh(): Promise<boolean> {
    if (this.refreshing_ === undefined) {
      this.refreshing_ = this.doRefresh().finally(() => {
        this.refreshing_ = undefined;
      });
    }
    return this.refreshing_;
  }

  private async doRefresh(): Promise<boolean> {
    const response = await this.send("POST", "/auth/refresh", {});
    if (response.ok) {
      const answer = (await this.parseBody(response)) as SessionAnswer | undefined;
      if (answer !== undefined && typeof answer.csrf_token === "string") {
        this.csrf_token_ = answer.csrf_token;
      } else {
        // The server set a new kiln_csrf cookie; read it from there on.
        this.csrf_token_ = undefined;
      }
      return true;
    }
    if (response.status === 401 || response.status === 403) {
      await response.text().catch(() => "");
      this.csrf_token_ = undefined;
      this.onSessionExpired_?.();
      return false;
    }
    throw await errorFromResponse(response);
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: Blob | string | undefined;
    if (options.rawBody !== undefined) {
      headers["Content-Type"] = options.rawBody.contentType;
      body = options.rawBody.data;
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    if (kStateChanging.has(method)) {
      const token = this.csrfToken();
      if (token !== undefined) headers[kCsrfHeader] = token;
    }
    try {
      return await this.fetch_(this.url(path, options.query), {
        method,
        headers,
        body,
        credentials: "same-origin",
        signal: options.signal,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError({
        status: 0,
        code: "network",
        message: "Could not reach the Kiln server. Check your connection and try again.",
      });
    }
  }

  private url(path: string, query: RequestOptions["query"]): string {
    let url = this.base_ + path;
    if (query !== undefined) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null) params.set(key, String(value));
      }
      const qs = params.toString();
      if (qs !== "") url += (url.includes("?") ? "&" : "?") + qs;
    }
    return url;
  }

  private async finish<T>(response: Response): Promise<T> {
    if (!response.ok) throw await errorFromResponse(response);
    return (await this.parseBody(response)) as T;
  }

  private async parseBody(response: Response): Promise<unknown> {
    if (response.status === 204) return undefined;
    const text = await response.text();
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError({
        status: response.status,
        code: "bad_response",
        message: "The server's answer was not valid JSON.",
        requestId: response.headers.get("X-Request-Id") ?? undefined,
      });
    }
  }
}
