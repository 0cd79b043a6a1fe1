import { describe, expect, it } from "vitest";
import type { Sender } from "../../api/types";
import { applyPreset, newSenderForm, senderFormFrom, senderInput, senderPatch, setEmail, validateSenderForm } from "./senderForm";

const kSender: Sender = {
  id: 4,
  name: "Ana",
  email: "ana@example.com",
  from_name: "Ana from Acme",
  daily_quota: 40,
  smtp: { host: "smtp.office365.com", port: 587, security: "starttls", username: "ana@example.com", has_password: true },
  imap: { host: "outlook.office365.com", port: 993, security: "tls", username: "ana@example.com", has_password: true },
  allow_self_signed: false,
  source_ip: "192.0.2.10",
  proxy_url: null,
  warmup_end_at: "2026-12-01T00:00:00.000Z",
  status: "active",
  status_reason: null,
  health_score: 92,
  created_at: "2026-11-01T00:00:00.000Z",
  updated_at: "2026-11-01T00:00:00.000Z",
};

describe("sender form", () => {
  it("applies the provider presets to both servers", () => {
    const gmail = newSenderForm();
    expect([gmail.smtp.host, gmail.smtp.port, gmail.smtp.security]).toEqual(["smtp.gmail.com", "587", "starttls"]);
    expect([gmail.imap.host, gmail.imap.port, gmail.imap.security]).toEqual(["imap.gmail.com", "993", "tls"]);
    const outlook = applyPreset(gmail, "outlook");
    expect([outlook.smtp.host, outlook.smtp.port, outlook.smtp.security]).toEqual(["smtp.office365.com", "587", "starttls"]);
    expect([outlook.imap.host, outlook.imap.port, outlook.imap.security]).toEqual(["outlook.office365.com", "993", "tls"]);
    const custom = applyPreset(outlook, "custom");
    expect(custom.smtp.host).toBe("smtp.office365.com");
    expect(custom.preset).toBe("custom");
  });

  it("copies the email into the usernames until they are edited", () => {
    let form = setEmail(newSenderForm(), "bob@example.com");
    expect(form.smtp.username).toBe("bob@example.com");
    expect(form.imap.username).toBe("bob@example.com");
    form = { ...form, usernames_edited: true, smtp: { ...form.smtp, username: "bob" } };
    form = setEmail(form, "robert@example.com");
    expect(form.smtp.username).toBe("bob");
  });

  it("validates required fields with API field names", () => {
    const errors = validateSenderForm(applyPreset(newSenderForm(), "custom"));
    expect(Object.keys(errors).sort()).toEqual(
      ["email", "imap.password", "imap.username", "name", "smtp.password", "smtp.username"].sort(),
    );
    expect(validateSenderForm({ ...newSenderForm(), daily_quota: "" }).daily_quota).toBeDefined();
    expect(validateSenderForm({ ...newSenderForm(), daily_quota: "0" }).daily_quota).toBeDefined();
    const bad_port = validateSenderForm({ ...newSenderForm(), smtp: { ...newSenderForm().smtp, port: "70000" } });
    expect(bad_port["smtp.port"]).toBeDefined();
  });

  it("builds a create body with numbers and without empty optionals", () => {
    let form = setEmail({ ...newSenderForm(), name: " Bob " }, "bob@example.com");
    form = { ...form, daily_quota: "30", smtp: { ...form.smtp, password: "s1" }, imap: { ...form.imap, password: "i1" } };
    expect(validateSenderForm(form)).toEqual({});
    expect(senderInput(form)).toEqual({
      name: "Bob",
      email: "bob@example.com",
      daily_quota: 30,
      allow_self_signed: false,
      smtp: { host: "smtp.gmail.com", port: 587, security: "starttls", username: "bob@example.com", password: "s1" },
      imap: { host: "imap.gmail.com", port: 993, security: "tls", username: "bob@example.com", password: "i1" },
    });
  });

  it("reads a sender back, detecting its preset and keeping passwords write-only", () => {
    const form = senderFormFrom(kSender);
    expect(form.preset).toBe("outlook");
    expect(form.smtp.changing_password).toBe(false);
    expect(form.smtp.password).toBe("");
    expect(form.warmup_end_date).toBe("2026-12-01");
    expect(validateSenderForm(form)).toEqual({});
  });

  it("patches only what changed, and a password only when replaced", () => {
    const original = senderFormFrom(kSender);
    expect(senderPatch(original, original)).toEqual({});

    const edited = {
      ...original,
      daily_quota: "50",
      source_ip: "",
      smtp: { ...original.smtp, changing_password: true, password: "new-secret" },
      imap: { ...original.imap, port: "143", security: "starttls" as const },
    };
    expect(senderPatch(original, edited)).toEqual({
      daily_quota: 50,
      source_ip: null,
      smtp: { password: "new-secret" },
      imap: { port: 143, security: "starttls" },
    });

    const opened_but_empty = { ...original, smtp: { ...original.smtp, changing_password: true } };
    expect(senderPatch(original, opened_but_empty)).toEqual({});
  });
});
