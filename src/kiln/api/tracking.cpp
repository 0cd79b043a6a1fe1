#include "kiln/api/tracking.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <set>
#include <tuple>

#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::field;
using http::bhttp::status;
using http::bhttp::verb;

namespace {

// GIF89a, 1x1, one transparent colour: the smallest well-formed GIF (43 bytes).
constexpr std::array<unsigned char, 43> kPixel = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

constexpr std::string_view kNoStore = "no-store, no-cache, must-revalidate, max-age=0";

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    for (; j < needle.size(); ++j) {
      char a = hay[i + j];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (a != needle[j]) break;
    }
    if (j == needle.size()) return true;
  }
  return false;
}

http::Response Page(status code, std::string_view title, std::string_view body_html) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\"><title>";
  html += title;
  html += "</title></head><body><main><h1>";
  html += title;
  html += "</h1>";
  html += body_html;
  html += "</main></body></html>\n";
  http::Response res = http::Response::Text(code, std::move(html), "text/html; charset=utf-8");
  res.SetHeader(field::cache_control, kNoStore);
  res.SetHeader("Referrer-Policy", "no-referrer");
  res.SetHeader("X-Robots-Tag", "noindex");
  return res;
}

http::Response NotFoundPage() {
  return Page(status::not_found, "Link not found",
              "<p>This link is not valid. It may have been copied incompletely.</p>");
}

http::Response ErrorPage(const Status& st, const http::Request& req) {
  spdlog::error("request {}: tracking {}: {}", req.request_id, req.path, st.ToString());
  return Page(status::internal_server_error, "Something went wrong",
              "<p>Please try again in a moment.</p>");
}

struct MessageRow {
  int64_t id = 0, campaign_id = 0, contact_id = 0;
  std::optional<int64_t> sent_at;
  std::string email;
};

// The message a verified token names, or NotFound.
Result<MessageRow> LoadMessage(store::Tx& tx, const TrackingToken& t) {
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("tracking.message", {t.workspace_id, t.message_id}));
  if (!row) return Status::NotFound("unknown message");
  return MessageRow{row->Int("id"), row->Int("campaign_id"), row->Int("contact_id"),
                    row->OptInt("sent_at"), row->Text("email")};
}

std::string Detail(const http::Request& req, std::optional<std::string_view> url,
                   int64_t link_index) {
  json::object d;
  d["user_agent"] = std::string(req.Header(field::user_agent).substr(0, 512));
  d["ip"] = req.remote_ip;
  if (url) {
    d["url"] = std::string(*url);
    d["link_index"] = link_index;
  }
  return json::serialize(d);
}

// Verifies the token of `kind` in path parameter "token" (with an optional suffix to strip).
std::optional<TrackingToken> TokenFrom(const Api& api, const http::Request& req, TokenKind kind,
                                       std::string_view suffix = {}) {
  auto it = req.path_params.find("token");
  if (it == req.path_params.end()) return std::nullopt;
  std::string_view text = it->second;
  if (!suffix.empty()) {
    if (text.size() <= suffix.size() || text.substr(text.size() - suffix.size()) != suffix)
      return std::nullopt;
    text.remove_suffix(suffix.size());
  }
  auto t = VerifyToken(api.tracking_key(), text);
  if (!t.ok() || t->kind != kind) return std::nullopt;
  return std::move(t).value();
}

// Records an open or a click through the group committer (a HEAD request only checks the
// message). NotFound when the message does not exist.
Status RecordHit(const Api& api, HitCommitter& committer, const http::Request& req,
                 const TrackingToken& t) {
  if (req.method == verb::head) {
    return api.db().Read([&](store::Tx& tx) -> Status { return LoadMessage(tx, t).status(); });
  }
  std::optional<std::string_view> url;
  if (t.kind == TokenKind::kClick) url = t.url;
  Hit hit{.token = t,
          .at_ms = api.clock().NowMillis(),
          .user_agent = std::string(req.Header(field::user_agent)),
          .detail = Detail(req, url, t.link_index)};
  return committer.Record(hit);
}

// The answer to a hit whose group could not be committed: the client (or the mail proxy) may
// retry, and nothing was claimed to be recorded.
http::Response UnavailablePage(const Status& st, const http::Request& req) {
  spdlog::error("request {}: tracking {}: {}", req.request_id, req.path, st.ToString());
  http::Response res = Page(status::service_unavailable, "Please try again",
                            "<p>This link is busy. Please try again in a moment.</p>");
  res.SetHeader(field::retry_after, "1");
  return res;
}

// All effects of an unsubscribe, in one transaction; a second call changes nothing.
Status Unsubscribe(const Api& api, const http::Request& req, const TrackingToken& t) {
  return api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto msg, LoadMessage(tx, t));
    int64_t now = api.clock().NowMillis();
    KILN_ASSIGN_OR_RETURN(
        auto seen, tx.QueryOne("tracking.has_event", {t.workspace_id, msg.id, "unsubscribed"}));
    if (!seen) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("tracking.insert_event", {t.workspace_id, msg.id, msg.campaign_id, "unsubscribed",
                                            Detail(req, std::nullopt, 0), false, now})
              .status());
    }
    KILN_RETURN_IF_ERROR(
        tx.Exec("tracking.unsubscribe_contact", {t.workspace_id, msg.contact_id, now}).status());
    // Leads were validated when they came in; a stored address that no longer normalises is
    // still suppressed as stored (lowercased), never skipped.
    auto normalized = domain::NormalizeEmailAddress(msg.email);
    std::string address = domain::EmailKey(normalized.ok() ? *normalized : msg.email);
    KILN_RETURN_IF_ERROR(tx.Exec("tracking.suppress_unsubscribed",
                                 {t.workspace_id, address, std::to_string(msg.id), now})
                             .status());
    KILN_RETURN_IF_ERROR(
        tx.Exec("tracking.stop_enrolments", {t.workspace_id, msg.contact_id, now}).status());
    KILN_RETURN_IF_ERROR(
        tx.Exec("tracking.cancel_scheduled", {t.workspace_id, msg.contact_id, now}).status());
    return Status::Ok();
  });
}

http::Response UnsubscribePage(const Api& api, http::Request& req) {
  auto t = TokenFrom(api, req, TokenKind::kUnsubscribe);
  if (!t) return NotFoundPage();
  // Only shows the page: mail scanners fetch every link, so a GET must never unsubscribe.
  Status st = api.db().Read([&](store::Tx& tx) -> Status { return LoadMessage(tx, *t).status(); });
  if (st.code() == Status::Code::kNotFound) return NotFoundPage();
  if (!st.ok()) return ErrorPage(st, req);
  return Page(
      status::ok, "Unsubscribe",
      "<p>Press the button to stop receiving these emails.</p>"
      "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
      "<button type=\"submit\">Unsubscribe</button></form>");
}

http::Response UnsubscribePost(const Api& api, http::Request& req) {
  auto t = TokenFrom(api, req, TokenKind::kUnsubscribe);
  if (!t) return NotFoundPage();
  Status st = Unsubscribe(api, req, *t);
  if (st.code() == Status::Code::kNotFound) return NotFoundPage();
  if (!st.ok()) return ErrorPage(st, req);
  return Page(status::ok, "You are unsubscribed",
              "<p>You will not receive any more of these emails.</p>");
}

http::Response OpenPixel(const Api& api, HitCommitter& committer, http::Request& req) {
  auto t = TokenFrom(api, req, TokenKind::kOpen, ".gif");
  if (!t) return NotFoundPage();
  Status st = RecordHit(api, committer, req, *t);
  if (st.code() == Status::Code::kNotFound) return NotFoundPage();
  if (st.code() == Status::Code::kUnavailable) return UnavailablePage(st, req);
  if (!st.ok()) return ErrorPage(st, req);
  http::Response res;
  res.status = status::ok;
  res.body.assign(reinterpret_cast<const char*>(kPixel.data()), kPixel.size());
  res.SetHeader(field::content_type, "image/gif");
  res.SetHeader(field::cache_control, kNoStore);
  res.SetHeader(field::pragma, "no-cache");
  res.SetHeader(field::expires, "0");
  return res;
}

http::Response Click(const Api& api, HitCommitter& committer, http::Request& req) {
  auto t = TokenFrom(api, req, TokenKind::kClick);
  if (!t) return NotFoundPage();
  Status st = RecordHit(api, committer, req, *t);
  if (st.code() == Status::Code::kNotFound) return NotFoundPage();
  if (st.code() == Status::Code::kUnavailable) return UnavailablePage(st, req);
  if (!st.ok()) return ErrorPage(st, req);
  http::Response res;
  res.status = status::found;
  res.SetHeader(field::location, t->url);
  res.SetHeader(field::cache_control, kNoStore);
  res.SetHeader("Referrer-Policy", "no-referrer");
  return res;
}

// The sender or campaign a tracking-domain route names: its table's queries and not-found text.
struct DomainOwner {
  const char* get_query;
  const char* set_query;
  const char* not_found;
  const char* audit_action;
  const char* audit_kind;
};
constexpr DomainOwner kSenderDomain{"tracking.sender_domain", "tracking.set_sender_domain",
                                    "no such sender", "sender.tracking_domain_set", "sender"};
constexpr DomainOwner kCampaignDomain{"tracking.campaign_domain", "tracking.set_campaign_domain",
                                      "no such campaign", "campaign.tracking_domain_set",
                                      "campaign"};

// The host of a URL such as "https://kiln.example.com:8443/x" ("" when there is none).
std::string HostOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') {
    size_t close = url.find(']');
    return close == std::string_view::npos ? "" : std::string(url.substr(1, close - 1));
  }
  return std::string(url.substr(0, url.find(':')));
}

// The A and AAAA records of `name` (or `name` itself when it is an IP address), as text.
Status AddressesOf(dns::Resolver& resolver, const std::string& name,
                   std::vector<std::string>* out) {
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(name, ec);
  if (!ec) {
    out->push_back(ip.to_string());
    return Status::Ok();
  }
  for (bool v6 : {false, true}) {
    KILN_ASSIGN_OR_RETURN(auto answer, resolver.Address(name, v6));
    for (const auto& a : answer.records) out->push_back(a.to_string());
  }
  return Status::Ok();
}

json::object CheckJson(const TrackingDomainCheck& c) {
  json::array addresses, server;
  for (const auto& a : c.addresses) addresses.push_back(json::string(a));
  for (const auto& a : c.server_addresses) server.push_back(json::string(a));
  return {{"addresses", std::move(addresses)},
          {"server_addresses", std::move(server)},
          {"points_here", c.points_here},
          {"problem", c.problem}};
}

Result<json::value> GetDomain(const Api& api, Ctx& ctx, const DomainOwner& owner) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound(owner.not_found);
  std::string domain;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(owner.get_query, {ctx.ws, *id}, owner.not_found));
    domain = row.Text("tracking_domain");
    return Status::Ok();
  }));
  json::object out{{"id", *id}, {"tracking_domain", domain}};
  if (domain.empty()) {
    out["check"] = nullptr;
    return out;
  }
  auto resolver = dns::MakeResolver({.servers = api.config().GetString("dns_resolver")});
  if (!resolver.ok()) return resolver.status();
  out["check"] =
      CheckJson(CheckTrackingDomain(**resolver, domain, api.config().GetString("public_url")));
  return out;
}

// Every sender's and campaign's tracking domain in one answer, without DNS checks (those are per
// item: GetDomain). Fails only when the database does.
Result<json::value> ListDomains(const Api& api, Ctx& ctx) {
  json::array senders, campaigns;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    senders.clear();
    campaigns.clear();
    KILN_ASSIGN_OR_RETURN(auto srows, tx.Query("tracking_domains.senders", {ctx.ws}));
    for (const auto& r : srows) {
      senders.push_back(json::object{{"id", r.Int("id")},
                                     {"email", r.Text("email")},
                                     {"tracking_domain", r.Text("tracking_domain")}});
    }
    KILN_ASSIGN_OR_RETURN(auto crows, tx.Query("tracking_domains.campaigns", {ctx.ws}));
    for (const auto& r : crows) {
      campaigns.push_back(json::object{{"id", r.Int("id")},
                                       {"name", r.Text("name")},
                                       {"status", r.Text("status")},
                                       {"tracking_domain", r.Text("tracking_domain")}});
    }
    return Status::Ok();
  }));
  return json::object{{"senders", std::move(senders)}, {"campaigns", std::move(campaigns)}};
}

Result<json::value> PutDomain(const Api& api, Ctx& ctx, const DomainOwner& owner) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound(owner.not_found);
  JsonFields in(ctx.body);
  std::optional<std::string> value;
  KILN_RETURN_IF_ERROR(in.OptStr("tracking_domain", &value, {.max_len = 254, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (!ctx.body.contains("tracking_domain")) {
    return Status::InvalidArgument("is required", "tracking_domain");
  }
  KILN_ASSIGN_OR_RETURN(std::string domain,
                        NormalizeTrackingDomain(value.value_or(""), "tracking_domain"));
  const int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow(owner.get_query, {ctx.ws, *id}, owner.not_found).status());
    KILN_RETURN_IF_ERROR(tx.Exec(owner.set_query, {ctx.ws, *id, domain, now}).status());
    return WriteAudit(tx, ctx, ctx.ws, owner.audit_action, owner.audit_kind, std::to_string(*id),
                      {{"tracking_domain", domain}}, now);
  }));
  return json::object{{"id", *id}, {"tracking_domain", domain}};
}

}  // namespace

bool IsMachineUserAgent(std::string_view ua) {
  if (ua.empty()) return true;
  // Apple Mail Privacy Protection fetches with this exact, versionless WebKit string.
  if (ua == "Mozilla/5.0" || ua ==
                                 "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
                                 "AppleWebKit/605.1.15 (KHTML, like Gecko)") {
    return true;
  }
  static constexpr std::string_view kMarkers[] = {"googleimageproxy",
                                                  "ggpht.com",
                                                  "yahoomailproxy",
                                                  "bot",
                                                  "crawler",
                                                  "spider",
                                                  "preview",
                                                  "scanner",
                                                  "barracuda",
                                                  "mimecast",
                                                  "proofpoint",
                                                  "symantec",
                                                  "messagelabs",
                                                  "trendmicro",
                                                  "zscaler",
                                                  "forcepoint",
                                                  "cisco",
                                                  "ironport",
                                                  "headless",
                                                  "python-",
                                                  "curl/",
                                                  "wget/",
                                                  "go-http-client",
                                                  "java/",
                                                  "okhttp",
                                                  "libwww",
                                                  "httpclient",
                                                  "phantomjs",
                                                  "slurp",
                                                  "facebookexternalhit"};
  for (auto m : kMarkers) {
    if (ContainsNoCase(ua, m)) return true;
  }
  return false;
}

bool IsMachineHit(std::string_view user_agent, std::optional<int64_t> sent_at_ms, int64_t now_ms) {
  if (IsMachineUserAgent(user_agent)) return true;
  return sent_at_ms && now_ms >= *sent_at_ms && now_ms - *sent_at_ms < kScannerWindowMs;
}

HitCommitter::HitCommitter(store::Database& db, size_t max_group)
    : db_(db), max_group_(max_group == 0 ? 1 : max_group), thread_([this] { Loop(); }) {}

HitCommitter::~HitCommitter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

Status HitCommitter::Record(const Hit& hit) {
  Pending p{.hit = &hit};
  std::unique_lock lock(mu_);
  queue_.push_back(&p);
  if (queue_.size() == 1) work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return p.done; });
  return std::move(p.result);
}

uint64_t HitCommitter::groups_committed() const {
  std::lock_guard lock(mu_);
  return groups_;
}

uint64_t HitCommitter::hits_committed() const {
  std::lock_guard lock(mu_);
  return hits_;
}

void HitCommitter::Loop() {
  std::vector<Pending*> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      const size_t n = std::min(queue_.size(), max_group_);
      group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    Status st = WriteGroup(group);
    {
      std::lock_guard lock(mu_);
      uint64_t written = 0;
      for (Pending* p : group) {
        if (!st.ok()) {
          p->result = Status::Unavailable("tracking hits not recorded: " + st.ToString());
        } else if (p->result.ok()) {
          ++written;
        }
        p->done = true;
      }
      if (st.ok()) {
        ++groups_;
        hits_ += written;
      }
    }
    done_cv_.notify_all();
    group.clear();
  }
}

Status HitCommitter::WriteGroup(const std::vector<Pending*>& group) {
  return db_.Write([&](store::Tx& tx) -> Status {
    for (Pending* p : group) {
      const Hit& hit = *p->hit;
      const TrackingToken& t = hit.token;
      auto msg = LoadMessage(tx, t);
      if (msg.status().code() == Status::Code::kNotFound) {
        p->result = msg.status();
        continue;
      }
      KILN_RETURN_IF_ERROR(msg.status());
      p->result = Status::Ok();
      const bool click = t.kind == TokenKind::kClick;
      const bool machine = IsMachineHit(hit.user_agent, msg->sent_at, hit.at_ms);
      KILN_RETURN_IF_ERROR(tx.Exec("tracking.insert_event",
                                   {t.workspace_id, msg->id, msg->campaign_id,
                                    click ? "clicked" : "opened", hit.detail, machine, hit.at_ms})
                               .status());
      if (!machine) {
        KILN_RETURN_IF_ERROR(tx.Exec(click ? "tracking.mark_clicked" : "tracking.mark_opened",
                                     {t.workspace_id, msg->id, hit.at_ms})
                                 .status());
      }
    }
    return Status::Ok();
  });
}

Result<std::string> NormalizeTrackingDomain(std::string_view value, std::string_view field) {
  std::string d(value);
  if (!d.empty() && d.back() == '.') d.pop_back();
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (value.empty()) return d;
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(field) + ": '" + std::string(value) +
                                       "' is not a hostname (" + std::string(why) + ")",
                                   std::string(field));
  };
  if (d.size() > 253) return bad("longer than 253 characters");
  size_t labels = 0, start = 0;
  std::string_view last;
  while (start <= d.size()) {
    size_t dot = d.find('.', start);
    if (dot == std::string::npos) dot = d.size();
    std::string_view label = std::string_view(d).substr(start, dot - start);
    if (label.empty()) return bad("an empty label");
    if (label.size() > 63) return bad("a label longer than 63 characters");
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
        return bad("only letters, digits, '-' and '.' are allowed");
    }
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    ++labels;
    last = label;
    start = dot + 1;
  }
  if (labels < 2) return bad("it needs a dot, e.g. track.example.com");
  if (last.find_first_not_of("0123456789") == std::string_view::npos)
    return bad("an IP address is not a domain");
  return d;
}

TrackingDomainCheck CheckTrackingDomain(dns::Resolver& resolver, std::string_view domain,
                                        std::string_view public_url) {
  TrackingDomainCheck c;
  const std::string name(domain);
  if (Status st = AddressesOf(resolver, name, &c.addresses); !st.ok()) {
    c.problem = "cannot resolve " + name + ": " + st.message();
    return c;
  }
  if (c.addresses.empty()) {
    c.problem = name + " has no A or AAAA record: point it (CNAME or A) at this server";
    return c;
  }
  const std::string host = HostOf(public_url);
  if (host.empty()) {
    c.problem = "public_url is not set: cannot tell which addresses are this server's";
    return c;
  }
  if (Status st = AddressesOf(resolver, host, &c.server_addresses); !st.ok()) {
    c.problem = "cannot resolve public_url's host " + host + ": " + st.message();
    return c;
  }
  std::set<std::string> server(c.server_addresses.begin(), c.server_addresses.end());
  for (const auto& a : c.addresses) {
    if (server.count(a) != 0) {
      c.points_here = true;
      return c;
    }
  }
  c.problem =
      name + " points at " + c.addresses.front() + ", not at this server (" + host +
      (c.server_addresses.empty() ? " has no address" : " is " + c.server_addresses.front()) + ")";
  return c;
}

void RegisterTrackingRoutes(Api& api) {
  const Api* a = &api;
  // Owned by the routes (the router outlives every request they serve).
  auto committer = std::make_shared<HitCommitter>(api.db());
  auto doc = [](std::string summary, int code) {
    return http::RouteDoc{.summary = std::move(summary),
                          .tag = "tracking",
                          .success_status = code,
                          .authenticated = false};
  };
  api.router().Add(
      verb::get, "/u/{token}", [a](http::Request& r) { return UnsubscribePage(*a, r); },
      doc("Unsubscribe page of a sent email (confirm button posts to the same URL)", 200));
  api.router().Add(
      verb::post, "/u/{token}", [a](http::Request& r) { return UnsubscribePost(*a, r); },
      doc("Unsubscribe now (the page's button and RFC 8058 one-click)", 200));
  api.router().Add(
      verb::get, "/o/{token}",
      [a, committer](http::Request& r) { return OpenPixel(*a, *committer, r); },
      doc("Open pixel: /o/{token}.gif answers a 43-byte transparent GIF", 200));
  api.router().Add(
      verb::get, "/c/{token}",
      [a, committer](http::Request& r) { return Click(*a, *committer, r); },
      doc("Click: records it and redirects (302) to the link that was in the email", 302));

  constexpr char kDomainSchema[] =
      R"({"type":"object","properties":{"id":{"type":"integer"},"tracking_domain":{"type":"string"},"check":{"type":["object","null"],"properties":{"addresses":{"type":"array","items":{"type":"string"}},"server_addresses":{"type":"array","items":{"type":"string"}},"points_here":{"type":"boolean"},"problem":{"type":"string"}}}}})";
  constexpr char kDomainRequest[] =
      R"({"type":"object","required":["tracking_domain"],"additionalProperties":false,"properties":{"tracking_domain":{"type":["string","null"],"description":"hostname; null or empty clears it"}}})";
  api.Add(
      verb::get, "/api/v1/workspaces/{ws}/tracking-domains", {Access::kWorkspace, Role::kViewer},
      [a](Ctx& c) { return ListDomains(*a, c); },
      {.summary = "Every sender's and campaign's custom tracking domain (\"\" = not set), without "
                  "DNS checks",
       .tag = "senders",
       .response_schema =
           R"({"type":"object","properties":{"senders":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"email":{"type":"string"},"tracking_domain":{"type":"string"}}}},"campaigns":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"status":{"type":"string"},"tracking_domain":{"type":"string"}}}}}})"});
  for (const auto& [path, owner, tag] :
       {std::tuple{"/api/v1/workspaces/{ws}/senders/{id}/tracking-domain", &kSenderDomain,
                   "senders"},
        std::tuple{"/api/v1/workspaces/{ws}/campaigns/{id}/tracking-domain", &kCampaignDomain,
                   "campaigns"}}) {
    const DomainOwner* o = owner;
    api.Add(verb::get, path, {Access::kWorkspace, Role::kViewer},
            [a, o](Ctx& c) { return GetDomain(*a, c, *o); },
            {.summary = std::string("The ") + o->audit_kind +
                        "'s custom tracking domain and whether its DNS points at this server",
             .tag = tag,
             .response_schema = kDomainSchema,
             .blocking = true});
    api.Add(verb::put, path, {Access::kWorkspace, Role::kMember},
            [a, o](Ctx& c) { return PutDomain(*a, c, *o); },
            {.summary = std::string("Set the ") + o->audit_kind +
                        "'s custom tracking domain (the campaign's wins over the sender's; "
                        "null clears it)",
             .tag = tag,
             .request_schema = kDomainRequest,
             .response_schema = kDomainSchema,
             .blocking = true});
  }
}

}  // namespace kiln::api
