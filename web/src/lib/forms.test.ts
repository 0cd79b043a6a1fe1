import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { describeError, formErrorsFrom } from "./forms";

describe("formErrorsFrom", () => {
  it("puts an error the API ties to a shown field under that field", () => {
    const e = new ApiError({ status: 400, code: "invalid_argument", message: "must be a host name or an IP address", field: "smtp.host" });
    expect(formErrorsFrom(e, ["smtp.host", "name"])).toEqual({ fields: { "smtp.host": "Must be a host name or an IP address" } });
  });

  it("keeps an error for a field the form does not show, naming the field", () => {
    const e = new ApiError({ status: 400, code: "invalid_argument", message: "is not allowed", field: "extra" });
    expect(formErrorsFrom(e, ["name"])).toEqual({ fields: {}, form: "extra: is not allowed" });
  });

  it("uses the form-level message for errors without a field", () => {
    const e = new ApiError({ status: 409, code: "conflict", message: "this person is already a member" });
    expect(formErrorsFrom(e, ["email"])).toEqual({ fields: {}, form: "this person is already a member" });
  });
});

describe("describeError", () => {
  it("says when to retry a rate-limited request", () => {
    const e = new ApiError({ status: 429, code: "rate_limited", message: "slow down", retryAfterSeconds: 90 });
    expect(describeError(e)).toBe("Too many requests. Try again in 2 minutes.");
  });

  it("explains a permission refusal", () => {
    const e = new ApiError({ status: 403, code: "permission_denied", message: "needs admin" });
    expect(describeError(e)).toBe("You don't have permission to do this: needs admin");
  });
});
