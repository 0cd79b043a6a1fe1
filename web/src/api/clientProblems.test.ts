import { describe, expect, it } from "vitest";
import { ApiClient, errorFromResponse } from "./client";

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("ApiError.problems", () => {
  it("carries every problem of a many-checks answer, with CSV rows and columns", async () => {
    const e = await errorFromResponse(
      answer(400, {
        error: {
          code: "invalid_argument",
          message: "2 problems",
          problems: [
            { row: 2, column: "email", field: "row 2, email", message: "must be a valid email address" },
            { field: "steps", message: "the campaign has no steps" },
            { message: 42 },
            "junk",
          ],
        },
      }),
    );
    expect(e.problems).toEqual([
      { row: 2, column: "email", field: "row 2, email", message: "must be a valid email address" },
      { field: "steps", message: "the campaign has no steps", row: undefined, column: undefined },
    ]);
  });

  it("is empty when the answer lists none", async () => {
    const e = await errorFromResponse(answer(404, { error: { code: "not_found", message: "no such bot" } }));
    expect(e.problems).toEqual([]);
  });

  it("sends a raw body with its own Content-Type", async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const client = new ApiClient({
      fetch: async (url, init) => {
        calls.push({ url, init });
        return answer(201, { created: 1, ids: [7] });
      },
      readCookies: () => "kiln_csrf=tok",
    });
    const out = await client.request("POST", "/workspaces/1/bots/import", { rawBody: { data: "email\na@x.test\n", contentType: "text/csv" } });
    expect(out).toEqual({ created: 1, ids: [7] });
    expect(calls[0].url).toBe("/api/v1/workspaces/1/bots/import");
    expect(calls[0].init.body).toBe("email\na@x.test\n");
    expect((calls[0].init.headers as Record<string, string>)["Content-Type"]).toBe("text/csv");
    expect((calls[0].init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
  });
});
