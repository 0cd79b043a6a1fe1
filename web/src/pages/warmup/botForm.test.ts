import { describe, expect, it } from "vitest";
import {
  agingToday,
  applyBotProvider,
  domainOf,
  botInput,
  dateInputToIso,
  describeImportProblems,
  isoToDateInput,
  newBotForm,
  setBotEmail,
  validateBotForm,
} from "./botForm";

describe("bot form", () => {
  it("starts on Gmail's servers and switches presets", () => {
    const form = newBotForm();
    expect(form.smtp.host).toBe("smtp.gmail.com");
    const outlook = applyBotProvider(form, "outlook");
    expect(outlook.smtp).toMatchObject({ host: "smtp.office365.com", port: "587", security: "starttls" });
    // Self-hosted keeps what was there, to be typed over.
    expect(applyBotProvider(outlook, "self_hosted").smtp.host).toBe("smtp.office365.com");
  });

  it("carries the address into usernames that follow it, not into edited ones", () => {
    let form = setBotEmail(newBotForm(), "a@x.test");
    expect(form.smtp.username).toBe("a@x.test");
    form = { ...form, imap: { ...form.imap, username: "login-a" } };
    form = setBotEmail(form, "b@x.test");
    expect(form.smtp.username).toBe("b@x.test");
    expect(form.imap.username).toBe("login-a");
  });

  it("names every field it can check", () => {
    const errors = validateBotForm({ ...newBotForm(), daily_send_limit: "0", reply_rate_percent: "101" });
    expect(Object.keys(errors).sort()).toEqual(
      ["daily_send_limit", "email", "imap.password", "reply_rate_percent", "smtp.password"].sort(),
    );
  });

  it("builds the create input", () => {
    let form = setBotEmail(applyBotProvider(newBotForm(), "self_hosted"), "bot@x.test");
    form = {
      ...form,
      smtp: { ...form.smtp, host: " 127.0.0.1 ", port: "2525", security: "none", password: "p1", username: "" },
      imap: { ...form.imap, host: "127.0.0.1", port: "1143", security: "none", password: "p2" },
    };
    expect(validateBotForm(form)).toEqual({});
    expect(botInput(form)).toEqual({
      email: "bot@x.test",
      provider: "self_hosted",
      smtp: { host: "127.0.0.1", port: 2525, security: "none", password: "p1" },
      imap: { host: "127.0.0.1", port: 1143, security: "none", password: "p2", username: "bot@x.test" },
      allow_self_signed: false,
      daily_send_limit: 20,
      daily_receive_limit: 40,
      reply_rate_percent: 30,
    });
  });
});

describe("import problems", () => {
  it("lists problems by row with their column", () => {
    expect(
      describeImportProblems([
        { row: 4, column: "smtp_port", field: "row 4, smtp_port", message: "must be 1..65535" },
        { row: 2, column: "email", field: "row 2, email", message: "is already a bot" },
        { field: "csv", message: "the file is empty" },
      ]),
    ).toEqual(["csv: the file is empty", "Row 2, email: is already a bot", "Row 4, smtp_port: must be 1..65535"]);
  });
});

describe("dates", () => {
  it("round-trips a date input", () => {
    expect(dateInputToIso("2026-12-01")).toBe("2026-12-01T00:00:00.000Z");
    expect(dateInputToIso("")).toBeNull();
    expect(isoToDateInput("2026-12-01T00:00:00.000Z")).toBe("2026-12-01");
    expect(isoToDateInput(null)).toBe("");
  });
});

describe("aging", () => {
  const bot = { aging_start_at: "2026-11-01T00:00:00.000Z", aging_end_at: "2026-11-11T00:00:00.000Z", aging_start_volume: 2, daily_send_limit: 22 };
  it("ramps linearly between the dates", () => {
    expect(agingToday(bot, Date.parse("2026-10-01T00:00:00Z"))).toEqual({ progress: 0, volume: 2 });
    expect(agingToday(bot, Date.parse("2026-11-06T00:00:00Z"))).toEqual({ progress: 0.5, volume: 12 });
    expect(agingToday(bot, Date.parse("2026-12-01T00:00:00Z"))).toEqual({ progress: 1, volume: 22 });
  });
  it("is at the limit without dates", () => {
    expect(agingToday({ ...bot, aging_end_at: null }, 0)).toEqual({ progress: 1, volume: 22 });
  });
  it("takes the domain of an address", () => {
    expect(domainOf("bot4@kiln-b.test")).toBe("kiln-b.test");
    expect(domainOf("nothing")).toBe("");
  });
});
