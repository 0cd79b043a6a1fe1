// Leads (contacts) and lead lists: create, read, change, delete, search with keyset pages, bulk
// insert with per-row results, list membership. Addresses are validated and normalised; a lead is
// unique per workspace by address, case-insensitively. A suppressed address may be stored (it is
// flagged `suppressed: true`); the engine never mails it.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr size_t kMaxCustomFields = 100;
constexpr size_t kMaxCustomKey = 64;
constexpr size_t kMaxCustomValue = 2000;
constexpr size_t kMaxBulkRows = 1000;
constexpr size_t kMaxListAdd = 10000;
constexpr size_t kMaxListIdsPerLead = 100;

constexpr std::string_view kStatuses[] = {"new",        "contacted",      "replied",
                                          "interested", "not_interested", "meeting_booked",
                                          "bounced",    "unsubscribed"};

bool IsLeadStatus(std::string_view s) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), s) != std::end(kStatuses);
}

struct ContactInput {
  std::optional<std::string> email, first_name, last_name, company, title, timezone, phone, website,
      status;
  std::optional<std::string> custom_fields;  // serialised JSON object, validated
  std::vector<int64_t> list_ids;
};

Status ReadCustomFields(const json::object& obj, std::string* out) {
  if (obj.size() > kMaxCustomFields) {
    return Status::InvalidArgument(
        "must have at most " + std::to_string(kMaxCustomFields) + " fields", "custom_fields");
  }
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    std::string name = "custom_fields." + std::string(key);
    if (key.empty() || key.size() > kMaxCustomKey) {
      return Status::InvalidArgument(
          "field names must be 1 to " + std::to_string(kMaxCustomKey) + " characters", name);
    }
    for (char c : key) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == ' ' || c == '-';
      if (!ok)
        return Status::InvalidArgument(
            "field names may hold letters, digits, '_', '-' and spaces only", name);
    }
    if (!kv.value().is_string()) return Status::InvalidArgument("must be a string", name);
    std::string_view v = kv.value().as_string();
    if (v.size() > kMaxCustomValue) {
      return Status::InvalidArgument(
          "must be at most " + std::to_string(kMaxCustomValue) + " bytes", name);
    }
    for (unsigned char c : v) {
      if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) {
        return Status::InvalidArgument("must not contain control characters", name);
      }
    }
  }
  *out = json::serialize(obj);
  return Status::Ok();
}

// Reads a lead. `create`: email is required. `allow_lists`: list_ids may be given (creation).
Status ReadContact(const json::object& body, bool create, bool allow_lists, ContactInput* c) {
  JsonFields in(body);
  std::optional<std::string> email;
  StrRule email_rule{.min_len = 1, .max_len = 254};
  KILN_RETURN_IF_ERROR(create ? in.Str("email", &email.emplace(), email_rule)
                              : in.OptStr("email", &email, email_rule));
  if (email) {
    auto norm = domain::NormalizeEmailAddress(*email);
    if (!norm.ok()) return norm.status().WithField("email");
    c->email = *norm;
  }
  StrRule text{.max_len = 200, .nullable = true};
  KILN_RETURN_IF_ERROR(in.OptStr("first_name", &c->first_name, text));
  KILN_RETURN_IF_ERROR(in.OptStr("last_name", &c->last_name, text));
  KILN_RETURN_IF_ERROR(in.OptStr("company", &c->company, text));
  KILN_RETURN_IF_ERROR(in.OptStr("title", &c->title, text));
  KILN_RETURN_IF_ERROR(in.OptStr("timezone", &c->timezone, {.max_len = 64, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("phone", &c->phone, {.max_len = 50, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("website", &c->website, {.max_len = 500, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("status", &c->status, {.min_len = 1, .max_len = 20}));
  const json::object* custom = nullptr;
  KILN_RETURN_IF_ERROR(in.OptObj("custom_fields", &custom));
  const json::array* lists = nullptr;
  if (allow_lists) KILN_RETURN_IF_ERROR(in.OptArr("list_ids", &lists, kMaxListIdsPerLead));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (c->timezone && !c->timezone->empty())
    KILN_RETURN_IF_ERROR(CheckTimezoneShape(*c->timezone, "timezone"));
  if (c->status && !IsLeadStatus(*c->status)) {
    return Status::InvalidArgument(
        "must be one of new, contacted, replied, interested, not_interested, meeting_booked, "
        "bounced, unsubscribed",
        "status");
  }
  if (custom) KILN_RETURN_IF_ERROR(ReadCustomFields(*custom, &c->custom_fields.emplace()));
  if (lists) {
    KILN_ASSIGN_OR_RETURN(c->list_ids, ReadIdArray(*lists, "list_ids"));
  }
  return Status::Ok();
}

json::object ContactJson(const store::Row& r) {
  boost::system::error_code ec;
  json::value custom = json::parse(r.Text("custom_fields"), ec);
  if (ec || !custom.is_object()) custom = json::object{};
  return {{"id", r.Int("id")},
          {"email", r.Text("email")},
          {"first_name", r.Text("first_name")},
          {"last_name", r.Text("last_name")},
          {"company", r.Text("company")},
          {"title", r.Text("title")},
          {"timezone", r.Text("timezone")},
          {"phone", r.Text("phone")},
          {"website", r.Text("website")},
          {"custom_fields", std::move(custom)},
          {"status", r.Text("status")},
          {"suppressed", r.Int("suppressed") != 0},
          {"created_at", TimeOrNull(r, "created_at")},
          {"updated_at", TimeOrNull(r, "updated_at")}};
}

// The lead with its list ids (single-lead answers).
Result<json::object> LoadContact(store::Tx& tx, int64_t ws, int64_t id) {
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("contacts.get", {ws, id}, "no such lead"));
  json::object out = ContactJson(row);
  KILN_ASSIGN_OR_RETURN(auto lists, tx.Query("contacts.list_ids", {ws, id}));
  json::array ids;
  for (const auto& l : lists) ids.push_back(l.Int("list_id"));
  out["list_ids"] = std::move(ids);
  return out;
}

// Fails InvalidArgument naming list_ids[i] when a list is not one of this workspace.
// `known` caches lookups across the rows of one bulk call.
Status CheckLists(store::Tx& tx, int64_t ws, const std::vector<int64_t>& ids,
                  std::map<int64_t, bool>* known) {
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = known->find(ids[i]);
    if (it == known->end()) {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("lists.exists", {ws, ids[i]}));
      it = known->emplace(ids[i], row.has_value()).first;
    }
    if (!it->second) {
      return Status::InvalidArgument("no such list in this workspace",
                                     "list_ids[" + std::to_string(i) + "]");
    }
  }
  return Status::Ok();
}

// Inserts one validated lead and its list memberships. Returns the new id, or nullopt when the
// address is already a lead of the workspace (then nothing was written).
Result<std::optional<int64_t>> InsertContact(store::Tx& tx, int64_t ws, const ContactInput& c,
                                             const std::vector<int64_t>& extra_lists, int64_t now) {
  KILN_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("contacts.insert",
                            {ws, *c.email, c.first_name.value_or(""), c.last_name.value_or(""),
                             c.company.value_or(""), c.title.value_or(""), c.timezone.value_or(""),
                             c.phone.value_or(""), c.website.value_or(""),
                             c.custom_fields.value_or("{}"), c.status.value_or("new"), now}));
  if (!row) return std::optional<int64_t>();
  int64_t id = row->Int("id");
  for (const auto* lists : {&c.list_ids, &extra_lists}) {
    for (int64_t list_id : *lists) {
      KILN_RETURN_IF_ERROR(tx.Exec("lists.add_contact", {ws, list_id, id, now}).status());
    }
  }
  return std::optional<int64_t>(id);
}

Status DuplicateEmail(store::Tx& tx, int64_t ws, const std::string& email) {
  KILN_ASSIGN_OR_RETURN(auto existing, tx.QueryOne("contacts.id_by_email", {ws, email}));
  std::string which = existing ? " (lead " + std::to_string(existing->Int("id")) + ")" : "";
  return Status::AlreadyExists("a lead with this email already exists in this workspace" + which,
                               "email");
}

Result<json::value> CreateContact(Api& api, Ctx& ctx) {
  ContactInput in;
  KILN_RETURN_IF_ERROR(ReadContact(ctx.body, true, true, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    std::map<int64_t, bool> known;
    KILN_RETURN_IF_ERROR(CheckLists(tx, ctx.ws, in.list_ids, &known));
    KILN_ASSIGN_OR_RETURN(auto id, InsertContact(tx, ctx.ws, in, {}, now));
    if (!id) return DuplicateEmail(tx, ctx.ws, *in.email);
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "contact.created", "contact",
                                    std::to_string(*id), {{"email", *in.email}}, now));
    KILN_ASSIGN_OR_RETURN(out, LoadContact(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

// Up to 1,000 leads in one transaction. Each row is created whole (lead and list memberships) or
// not at all: invalid rows and duplicates are reported and skipped, the others are created.
Result<json::value> BulkCreateContacts(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  const json::array* rows = nullptr;
  const json::array* lists = nullptr;
  KILN_RETURN_IF_ERROR(in.Arr("contacts", &rows, kMaxBulkRows));
  KILN_RETURN_IF_ERROR(in.OptArr("list_ids", &lists, kMaxListIdsPerLead));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (rows->empty()) return Status::InvalidArgument("must hold at least one lead", "contacts");
  std::vector<int64_t> common_lists;
  if (lists) {
    KILN_ASSIGN_OR_RETURN(common_lists, ReadIdArray(*lists, "list_ids"));
  }
  // Validation needs no database: do it before the transaction.
  std::vector<ContactInput> inputs(rows->size());
  std::vector<Status> invalid(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    if (!(*rows)[i].is_object()) {
      invalid[i] = Status::InvalidArgument("must be an object");
      continue;
    }
    invalid[i] = ReadContact((*rows)[i].as_object(), true, true, &inputs[i]);
  }
  int64_t now = api.clock().NowMillis();
  json::array results;
  int64_t created = 0, duplicates = 0, invalid_count = 0;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    results.clear();
    created = duplicates = invalid_count = 0;
    std::map<int64_t, bool> known;
    KILN_RETURN_IF_ERROR(CheckLists(tx, ctx.ws, common_lists, &known));
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto index = static_cast<int64_t>(i);
      Status st = invalid[i];
      if (st.ok()) {
        Status lists_ok = CheckLists(tx, ctx.ws, inputs[i].list_ids, &known);
        if (lists_ok.code() != Status::Code::kInvalidArgument) KILN_RETURN_IF_ERROR(lists_ok);
        st = lists_ok;
      }
      if (!st.ok()) {
        ++invalid_count;
        results.push_back({{"index", index},
                           {"result", "invalid"},
                           {"field", st.field()},
                           {"message", st.message()}});
        continue;
      }
      KILN_ASSIGN_OR_RETURN(auto id, InsertContact(tx, ctx.ws, inputs[i], common_lists, now));
      if (id) {
        ++created;
        results.push_back({{"index", index}, {"result", "created"}, {"id", *id}});
        continue;
      }
      ++duplicates;
      KILN_ASSIGN_OR_RETURN(auto existing,
                            tx.QueryOne("contacts.id_by_email", {ctx.ws, *inputs[i].email}));
      results.push_back(
          {{"index", index},
           {"result", "duplicate"},
           {"field", "email"},
           {"message", "a lead with this email already exists in this workspace"},
           {"id", existing ? json::value(existing->Int("id")) : json::value(nullptr)}});
    }
    return WriteAudit(
        tx, ctx, ctx.ws, "contacts.bulk_created", "contact", "",
        {{"created", created}, {"duplicates", duplicates}, {"invalid", invalid_count}}, now);
  }));
  return json::object{{"created", created},
                      {"duplicates", duplicates},
                      {"invalid", invalid_count},
                      {"results", std::move(results)}};
}

Result<json::value> ListContacts(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "a lead id"));
  std::string status;
  const auto& q = ctx.req.query;
  if (auto it = q.find("status"); it != q.end()) {
    if (!IsLeadStatus(it->second)) return Status::InvalidArgument("is not a lead status", "status");
    status = it->second;
  }
  KILN_ASSIGN_OR_RETURN(const int64_t list_id, ReadIdFilter(ctx.req, "list_id", "a list id"));
  KILN_ASSIGN_OR_RETURN(const std::string pattern, ReadSearchPattern(ctx.req));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    if (list_id != 0) {
      KILN_ASSIGN_OR_RETURN(auto l, tx.QueryOne("lists.exists", {ctx.ws, list_id}));
      if (!l) return Status::NotFound("no such list");
    }
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("contacts.list", {ctx.ws, page.before, status,
                                                                list_id, pattern, page.limit + 1}));
    out = PagedItems(rows, page, [](const store::Row& r) { return json::value(ContactJson(r)); });
    return Status::Ok();
  }));
  return out;
}

Result<json::value> GetContact(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such lead");
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(out, LoadContact(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> UpdateContact(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such lead");
  ContactInput in;
  KILN_RETURN_IF_ERROR(ReadContact(ctx.body, false, false, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  Status st = api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("contacts.get", {ctx.ws, *id}, "no such lead"));
    auto pick = [&](const std::optional<std::string>& v, const char* col) {
      return v ? *v : cur.Text(col);
    };
    if (in.email && domain::EmailKey(*in.email) != domain::EmailKey(cur.Text("email"))) {
      KILN_ASSIGN_OR_RETURN(auto other, tx.QueryOne("contacts.id_by_email", {ctx.ws, *in.email}));
      if (other) return DuplicateEmail(tx, ctx.ws, *in.email);
    }
    KILN_RETURN_IF_ERROR(
        tx.Exec("contacts.update",
                {ctx.ws, *id, pick(in.email, "email"), pick(in.first_name, "first_name"),
                 pick(in.last_name, "last_name"), pick(in.company, "company"),
                 pick(in.title, "title"), pick(in.timezone, "timezone"), pick(in.phone, "phone"),
                 pick(in.website, "website"), pick(in.custom_fields, "custom_fields"),
                 pick(in.status, "status"), now})
            .status());
    json::array fields;
    for (const auto& kv : ctx.body) fields.push_back(json::string(kv.key()));
    json::object details{{"fields", fields}};
    if (in.status && *in.status != cur.Text("status")) {
      details["status"] = json::object{{"from", cur.Text("status")}, {"to", *in.status}};
    }
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "contact.updated", "contact",
                                    std::to_string(*id), details, now));
    KILN_ASSIGN_OR_RETURN(out, LoadContact(tx, ctx.ws, *id));
    return Status::Ok();
  });
  if (st.code() == Status::Code::kAlreadyExists) {
    // Another request took the address between the check and the update.
    return Status::AlreadyExists("a lead with this email already exists in this workspace",
                                 "email");
  }
  KILN_RETURN_IF_ERROR(st);
  return out;
}

Result<json::value> DeleteContact(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such lead");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("contacts.get", {ctx.ws, *id}, "no such lead"));
    KILN_RETURN_IF_ERROR(tx.Exec("contacts.delete", {ctx.ws, *id}).status());
    return WriteAudit(tx, ctx, ctx.ws, "contact.deleted", "contact", std::to_string(*id),
                      {{"email", cur.Text("email")}}, now);
  }));
  return json::value(nullptr);
}

// Lists -------------------------------------------------------------------------------------------

json::object ListJson(const store::Row& r) {
  return {{"id", r.Int("id")},
          {"name", r.Text("name")},
          {"description", r.Text("description")},
          {"contact_count", r.Int("contact_count")},
          {"created_at", TimeOrNull(r, "created_at")},
          {"updated_at", TimeOrNull(r, "updated_at")}};
}

Result<json::value> CreateList(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string name;
  std::optional<std::string> description;
  KILN_RETURN_IF_ERROR(in.Str("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(in.OptStr("description", &description,
                                 {.max_len = 2000, .multiline = true, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto row, tx.QueryRow("lists.insert", {ctx.ws, name, description.value_or(""), now}));
    int64_t id = row.Int("id");
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "list.created", "list", std::to_string(id),
                                    {{"name", name}}, now));
    KILN_ASSIGN_OR_RETURN(auto l, tx.QueryRow("lists.get", {ctx.ws, id}));
    out = ListJson(l);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> ListLists(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    items.clear();
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("lists.list", {ctx.ws}));
    for (const auto& r : rows) items.push_back(ListJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> GetList(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such list");
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto l, tx.QueryRow("lists.get", {ctx.ws, *id}, "no such list"));
    out = ListJson(l);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> UpdateList(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such list");
  JsonFields in(ctx.body);
  std::optional<std::string> name, description;
  KILN_RETURN_IF_ERROR(in.OptStr("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(in.OptStr("description", &description,
                                 {.max_len = 2000, .multiline = true, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("lists.get", {ctx.ws, *id}, "no such list"));
    std::string new_name = name.value_or(cur.Text("name"));
    KILN_RETURN_IF_ERROR(
        tx.Exec("lists.update",
                {ctx.ws, *id, new_name, description.value_or(cur.Text("description")), now})
            .status());
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "list.updated", "list", std::to_string(*id),
                                    {{"from", cur.Text("name")}, {"name", new_name}}, now));
    KILN_ASSIGN_OR_RETURN(auto l, tx.QueryRow("lists.get", {ctx.ws, *id}));
    out = ListJson(l);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> DeleteList(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such list");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("lists.get", {ctx.ws, *id}, "no such list"));
    KILN_RETURN_IF_ERROR(tx.Exec("lists.delete", {ctx.ws, *id}).status());
    return WriteAudit(tx, ctx, ctx.ws, "list.deleted", "list", std::to_string(*id),
                      {{"name", cur.Text("name")}, {"contact_count", cur.Int("contact_count")}},
                      now);
  }));
  return json::value(nullptr);
}

// Adds leads to a list. Every id must be a lead of this workspace; otherwise the whole call is
// 404 and nothing is written (the transaction rolls back).
Result<json::value> AddListContacts(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such list");
  JsonFields in(ctx.body);
  const json::array* arr = nullptr;
  KILN_RETURN_IF_ERROR(in.Arr("contact_ids", &arr, kMaxListAdd));
  KILN_RETURN_IF_ERROR(in.Finish());
  KILN_ASSIGN_OR_RETURN(auto ids, ReadIdArray(*arr, "contact_ids"));
  int64_t now = api.clock().NowMillis();
  int64_t added = 0, already = 0;
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    added = already = 0;
    KILN_RETURN_IF_ERROR(tx.QueryRow("lists.get", {ctx.ws, *id}, "no such list").status());
    for (size_t i = 0; i < ids.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("lists.add_contact", {ctx.ws, *id, ids[i], now}));
      if (n == 1) {
        ++added;
        continue;
      }
      // Not added: already a member, or not a lead of this workspace.
      KILN_ASSIGN_OR_RETURN(auto lead, tx.QueryOne("contacts.exists", {ctx.ws, ids[i]}));
      if (!lead) {
        return Status::NotFound("no such lead: contact_ids[" + std::to_string(i) +
                                "] = " + std::to_string(ids[i]) + "; nothing was added");
      }
      ++already;
    }
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "list.contacts_added", "list",
                                    std::to_string(*id),
                                    {{"added", added}, {"already_members", already}}, now));
    KILN_ASSIGN_OR_RETURN(auto l, tx.QueryRow("lists.get", {ctx.ws, *id}));
    out = ListJson(l);
    return Status::Ok();
  }));
  return json::object{{"added", added}, {"already_members", already}, {"list", std::move(out)}};
}

Result<json::value> RemoveListContact(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such list");
  auto contact_id = ParseId(ctx.req.path_params["contact_id"]);
  if (!contact_id.ok()) return Status::NotFound("no such lead in this list");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("lists.exists", {ctx.ws, *id}, "no such list").status());
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("lists.remove_contact", {ctx.ws, *id, *contact_id}));
    if (n != 1) return Status::NotFound("no such lead in this list");
    return WriteAudit(tx, ctx, ctx.ws, "list.contact_removed", "list", std::to_string(*id),
                      {{"contact_id", *contact_id}}, now);
  }));
  return json::value(nullptr);
}

constexpr char kContactProps[] =
    R"("email":{"type":"string","format":"email"},"first_name":{"type":["string","null"],"maxLength":200},"last_name":{"type":["string","null"],"maxLength":200},"company":{"type":["string","null"],"maxLength":200},"title":{"type":["string","null"],"maxLength":200},"timezone":{"type":["string","null"],"description":"IANA name, e.g. Europe/Paris"},"phone":{"type":["string","null"],"maxLength":50},"website":{"type":["string","null"],"maxLength":500},"custom_fields":{"type":"object","maxProperties":100,"additionalProperties":{"type":"string","maxLength":2000}},"status":{"type":"string","enum":["new","contacted","replied","interested","not_interested","meeting_booked","bounced","unsubscribed"]})";

std::string ContactInputSchema(bool create) {
  std::string s = R"({"type":"object","additionalProperties":false,)";
  if (create) s += R"("required":["email"],)";
  s += R"("properties":{)" + std::string(kContactProps);
  if (create) s += R"(,"list_ids":{"type":"array","items":{"type":"integer"},"maxItems":100})";
  return s + "}}";
}

constexpr char kContactSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"email":{"type":"string"},"first_name":{"type":"string"},"last_name":{"type":"string"},"company":{"type":"string"},"title":{"type":"string"},"timezone":{"type":"string"},"phone":{"type":"string"},"website":{"type":"string"},"custom_fields":{"type":"object"},"status":{"type":"string"},"suppressed":{"type":"boolean"},"list_ids":{"type":"array","items":{"type":"integer"},"description":"single-lead answers only"},"created_at":{"type":"string"},"updated_at":{"type":"string"}}})";
constexpr char kListSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"description":{"type":"string"},"contact_count":{"type":"integer"},"created_at":{"type":"string"},"updated_at":{"type":"string"}}})";

}  // namespace

void RegisterContactRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  const std::string contacts = "/api/v1/workspaces/{ws}/contacts";
  api.Add(verb::get, contacts, {Access::kWorkspace, Role::kViewer}, bind(ListContacts),
          {.summary = "Leads, newest first; ?q= (email, name, company), status=, list_id=, "
                      "limit=1..500, before=<id>",
           .tag = "contacts",
           .response_schema = PagedSchema(kContactSchema)});
  api.Add(verb::post, contacts, {Access::kWorkspace, Role::kMember}, bind(CreateContact),
          {.summary = "Add a lead (optionally to lists); a duplicate address answers 409",
           .tag = "contacts",
           .request_schema = ContactInputSchema(true),
           .response_schema = kContactSchema,
           .success_status = 201});
  api.Add(
      verb::post, contacts + "/bulk", {Access::kWorkspace, Role::kMember}, bind(BulkCreateContacts),
      {.summary = "Add up to 1,000 leads in one transaction; answers a result per row",
       .tag = "contacts",
       .request_schema =
           R"({"type":"object","required":["contacts"],"additionalProperties":false,"properties":{"contacts":{"type":"array","minItems":1,"maxItems":1000,"items":)" +
           ContactInputSchema(true) +
           R"(},"list_ids":{"type":"array","items":{"type":"integer"}}}})",
       .response_schema =
           R"({"type":"object","properties":{"created":{"type":"integer"},"duplicates":{"type":"integer"},"invalid":{"type":"integer"},"results":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"result":{"type":"string","enum":["created","duplicate","invalid"]},"id":{"type":["integer","null"]},"field":{"type":"string"},"message":{"type":"string"}}}}}})"});
  api.Add(verb::get, contacts + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetContact),
          {.summary = "One lead with its list ids",
           .tag = "contacts",
           .response_schema = kContactSchema});
  api.Add(verb::patch, contacts + "/{id}", {Access::kWorkspace, Role::kMember}, bind(UpdateContact),
          {.summary =
               "Change a lead; fields left out keep their value (custom_fields is replaced whole)",
           .tag = "contacts",
           .request_schema = ContactInputSchema(false),
           .response_schema = kContactSchema});
  api.Add(verb::delete_, contacts + "/{id}", {Access::kWorkspace, Role::kMember},
          bind(DeleteContact),
          {.summary = "Delete a lead (and its place in lists and campaigns)",
           .tag = "contacts",
           .success_status = 204});

  const std::string lists = "/api/v1/workspaces/{ws}/lists";
  constexpr char kListInput[] =
      R"({"type":"object","additionalProperties":false,"properties":{"name":{"type":"string","minLength":1,"maxLength":200},"description":{"type":["string","null"],"maxLength":2000}}})";
  api.Add(verb::get, lists, {Access::kWorkspace, Role::kViewer}, bind(ListLists),
          {.summary = "Lead lists with member counts",
           .tag = "lists",
           .response_schema = R"({"type":"object","properties":{"items":{"type":"array","items":)" +
                              std::string(kListSchema) + "}}}"});
  api.Add(
      verb::post, lists, {Access::kWorkspace, Role::kMember}, bind(CreateList),
      {.summary = "Create a lead list",
       .tag = "lists",
       .request_schema =
           R"({"type":"object","required":["name"],"additionalProperties":false,"properties":{"name":{"type":"string","minLength":1,"maxLength":200},"description":{"type":["string","null"],"maxLength":2000}}})",
       .response_schema = kListSchema,
       .success_status = 201});
  api.Add(verb::get, lists + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetList),
          {.summary = "One lead list", .tag = "lists", .response_schema = kListSchema});
  api.Add(verb::patch, lists + "/{id}", {Access::kWorkspace, Role::kMember}, bind(UpdateList),
          {.summary = "Rename a lead list or change its description",
           .tag = "lists",
           .request_schema = kListInput,
           .response_schema = kListSchema});
  api.Add(
      verb::delete_, lists + "/{id}", {Access::kWorkspace, Role::kMember}, bind(DeleteList),
      {.summary = "Delete a lead list (its leads stay)", .tag = "lists", .success_status = 204});
  api.Add(
      verb::post, lists + "/{id}/contacts", {Access::kWorkspace, Role::kMember},
      bind(AddListContacts),
      {.summary = "Add up to 10,000 leads to a list; an id that is not a lead of the workspace "
                  "fails the whole call",
       .tag = "lists",
       .request_schema =
           R"({"type":"object","required":["contact_ids"],"additionalProperties":false,"properties":{"contact_ids":{"type":"array","maxItems":10000,"items":{"type":"integer","minimum":1}}}})",
       .response_schema =
           R"({"type":"object","properties":{"added":{"type":"integer"},"already_members":{"type":"integer"},"list":)" +
           std::string(kListSchema) + "}}"});
  api.Add(verb::delete_, lists + "/{id}/contacts/{contact_id}", {Access::kWorkspace, Role::kMember},
          bind(RemoveListContact),
          {.summary = "Remove a lead from a list", .tag = "lists", .success_status = 204});
}

}  // namespace kiln::api
