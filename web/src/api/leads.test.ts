import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError } from "./client";
import { uploadImport, type ImportJob } from "./leads";

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Answer = { status: number; body: string };

/** A stand-in for the browser's XMLHttpRequest: answers scripted responses, records requests. */
function installXhr(answers: Answer[]) {
  const sent: Sent[] = [];
  class FakeXhr {
    status = 0;
    responseText = "";
    withCredentials = false;
    upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    private request: Sent = { method: "", url: "", headers: {}, body: undefined };
    open(method: string, url: string) {
      this.request = { method, url, headers: {}, body: undefined };
    }
    setRequestHeader(name: string, value: string) {
      this.request.headers[name] = value;
    }
    getAllResponseHeaders() {
      return "content-type: application/json\r\n";
    }
    abort() {
      this.onabort?.();
    }
    send(body: Blob) {
      this.request.body = body;
      sent.push(this.request);
      const answer = answers.shift();
      queueMicrotask(() => {
        if (answer === undefined) {
          this.onerror?.();
          return;
        }
        this.upload.onprogress?.({ loaded: body.size / 2, total: body.size, lengthComputable: true });
        this.upload.onprogress?.({ loaded: body.size, total: body.size, lengthComputable: true });
        this.status = answer.status;
        this.responseText = answer.body;
        this.onload?.();
      });
    }
  }
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
  return sent;
}

const kJob = { id: 3, file_name: "a b.csv", status: "pending" } as ImportJob;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("uploadImport", () => {
  it("sends the file with the CSRF token, reports progress and returns the pending import", async () => {
    const sent = installXhr([{ status: 201, body: JSON.stringify(kJob) }]);
    const client = new ApiClient({ fetch: vi.fn(), readCookies: () => "" });
    client.setCsrfToken("tok");
    const file = new File(["email\na@x.test\n"], "a b.csv", { type: "text/csv" });
    const progress: number[] = [];
    const job = await uploadImport(client, 7, file, (loaded) => progress.push(loaded));
    expect(job).toEqual(kJob);
    expect(sent).toHaveLength(1);
    expect(sent[0].method).toBe("POST");
    expect(sent[0].url).toBe("/api/v1/workspaces/7/imports?file_name=a%20b.csv");
    expect(sent[0].headers["X-CSRF-Token"]).toBe("tok");
    expect(sent[0].body).toBe(file);
    expect(progress).toEqual([file.size / 2, file.size]);
  });

  it("refreshes the session once on 401 unauthenticated and sends the file again", async () => {
    const sent = installXhr([
      { status: 401, body: JSON.stringify({ error: { code: "unauthenticated", message: "expired" } }) },
      { status: 201, body: JSON.stringify(kJob) },
    ]);
    const fetch = vi.fn(async () => new Response(JSON.stringify({ csrf_token: "fresh" }), { status: 200 }));
    const client = new ApiClient({ fetch, readCookies: () => "" });
    client.setCsrfToken("stale");
    const job = await uploadImport(client, 7, new File(["x"], "f.csv"), () => {});
    expect(job.id).toBe(3);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(sent.map((s) => s.headers["X-CSRF-Token"])).toEqual(["stale", "fresh"]);
  });

  it("rejects with the API's error (status, code and message)", async () => {
    installXhr([{ status: 413, body: JSON.stringify({ error: { code: "too_large", message: "the file is larger than 2 GB" } }) }]);
    const client = new ApiClient({ fetch: vi.fn(), readCookies: () => "" });
    const e = await uploadImport(client, 7, new File(["x"], "f.csv"), () => {}).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(413);
    expect((e as ApiError).code).toBe("too_large");
    expect((e as ApiError).message).toBe("the file is larger than 2 GB");
  });

  it("turns a connection failure into a network error", async () => {
    installXhr([]);
    const client = new ApiClient({ fetch: vi.fn(), readCookies: () => "" });
    const e = await uploadImport(client, 7, new File(["x"], "f.csv"), () => {}).catch((err: unknown) => err);
    expect((e as ApiError).code).toBe("network");
  });
});
