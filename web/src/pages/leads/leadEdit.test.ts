import { describe, expect, it } from "vitest";
import type { Lead } from "../../api/leads";
import { customFieldId, customFieldsOf, editFormFromLead, editProblems, errorTarget, newCustomRow, patchFromForm } from "./leadEdit";

const kLead: Lead = {
  id: 5,
  email: "ada@lead.test",
  first_name: "Ada",
  last_name: "Lovelace",
  company: "Engines",
  title: "",
  timezone: "Europe/London",
  phone: "",
  website: "",
  custom_fields: { plan: "pro", "Seat count": "12" },
  status: "new",
  suppressed: false,
  created_at: "2026-11-22T06:00:00.000Z",
  updated_at: "2026-11-22T06:00:00.000Z",
};

describe("lead edit form", () => {
  it("sends nothing when nothing changed", () => {
    expect(patchFromForm(kLead, editFormFromLead(kLead))).toEqual({});
  });

  it("sends only the standard fields that changed, trimmed, and the status", () => {
    const form = editFormFromLead(kLead);
    form.values.first_name = "  Augusta ";
    form.values.company = "";
    form.values.last_name = "Lovelace ";
    form.status = "interested";
    expect(patchFromForm(kLead, form)).toEqual({ first_name: "Augusta", company: "", status: "interested" });
  });

  it("sends the custom fields whole after an add, a rename or a removal", () => {
    const renamed = editFormFromLead(kLead);
    renamed.custom[0].name = "tier";
    expect(patchFromForm(kLead, renamed)).toEqual({ custom_fields: { tier: "pro", "Seat count": "12" } });

    const removed = editFormFromLead(kLead);
    removed.custom = removed.custom.filter((r) => r.name !== "plan");
    expect(patchFromForm(kLead, removed)).toEqual({ custom_fields: { "Seat count": "12" } });

    const added = editFormFromLead(kLead);
    added.custom.push(newCustomRow(" source ", "webinar"), newCustomRow());
    expect(patchFromForm(kLead, added)).toEqual({ custom_fields: { plan: "pro", "Seat count": "12", source: "webinar" } });

    const all_gone = editFormFromLead(kLead);
    all_gone.custom = [];
    expect(patchFromForm(kLead, all_gone)).toEqual({ custom_fields: {} });
  });

  it("ignores blank rows and reorders nothing into a change", () => {
    const form = editFormFromLead(kLead);
    form.custom = [form.custom[1], newCustomRow(), form.custom[0]];
    expect(customFieldsOf(form.custom)).toEqual({ "Seat count": "12", plan: "pro" });
    expect(patchFromForm(kLead, form)).toEqual({});
  });

  it("finds problems the API would refuse, at the row they belong to", () => {
    const form = editFormFromLead(kLead);
    form.values.email = " ";
    const nameless = newCustomRow("", "x");
    const bad = newCustomRow("a.b", "1");
    const twin = newCustomRow("plan ", "basic");
    const long_value = newCustomRow("notes", "é".repeat(1001));
    form.custom.push(nameless, bad, twin, long_value, newCustomRow());
    expect(editProblems(form)).toEqual({
      email: "Enter the lead's email address.",
      [customFieldId(nameless, "name")]: "Give the field a name.",
      [customFieldId(bad, "name")]: "Use letters, digits, spaces, '_' and '-' only.",
      [customFieldId(twin, "name")]: 'Another field is already named "plan".',
      [customFieldId(long_value, "value")]: "A value has at most 2000 bytes.",
    });
    expect(editProblems(editFormFromLead(kLead))).toEqual({});
  });

  it("limits the number of custom fields", () => {
    const form = editFormFromLead(kLead);
    for (let i = 0; i < 99; i++) form.custom.push(newCustomRow(`f${i}`, "v"));
    expect(editProblems(form).custom_fields).toBe("A lead has at most 100 custom fields.");
  });

  it("shows an API error next to the control it names", () => {
    const form = editFormFromLead(kLead);
    const seat = form.custom[1];
    expect(errorTarget("email", "a lead with this email already exists in this workspace", form)).toBe("email");
    expect(errorTarget("timezone", "is not an IANA time zone", form)).toBe("timezone");
    expect(errorTarget("custom_fields.Seat count", "must not contain control characters", form)).toBe(customFieldId(seat, "value"));
    expect(errorTarget("custom_fields.Seat count", "field names may hold letters, digits, '_', '-' and spaces only", form)).toBe(customFieldId(seat, "name"));
    expect(errorTarget("custom_fields.gone", "must be a string", form)).toBe("custom_fields");
    expect(errorTarget("list_ids", "x", form)).toBeUndefined();
  });
});
