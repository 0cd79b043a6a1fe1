// Module tests of kiln_webhooks: signatures, the retry schedule, URL parsing and the SSRF guard,
// inbound parsing (generic and Mailgun), and the dispatcher against a real database (SQLite and
// PostgreSQL) and a real receiver on 127.0.0.1, in virtual time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kiln/auth/crypto.h"
#include "kiln/auth/secret_box.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/webhooks/backoff.h"
#include "kiln/webhooks/dispatcher.h"
#include "kiln/webhooks/http_post.h"
#include "kiln/webhooks/inbound.h"
#include "kiln/webhooks/signature.h"
#include "kiln/webhooks/target.h"
#include "kiln/webhooks/test_receiver.h"

namespace kiln::webhooks {
namespace {

namespace json = boost::json;
namespace ip = boost::asio::ip;

TEST(SignatureTest, VerifiesAndRejectsTamperingAndReplays) {
  const std::string secret = NewSigningSecret();
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
  EXPECT_EQ(secret.size(), 6u + 43u);
  const std::string body = R"({"id":"evt_1","type":"opened"})";
  const std::string header = SignatureHeader(secret, 1'700'000'000, body);
  EXPECT_EQ(header.rfind("t=1700000000,v1=", 0), 0u);
  // The documented recipe, computed independently.
  EXPECT_EQ(header,
            "t=1700000000,v1=" + auth::HexEncode(auth::HmacSha256(secret, "1700000000." + body)));
  EXPECT_TRUE(VerifySignature(secret, header, body, 1'700'000'010).ok());
  EXPECT_EQ(VerifySignature(secret, header, body + " ", 1'700'000'010).code(),
            Status::Code::kUnauthenticated);
  EXPECT_EQ(VerifySignature("whsec_other", header, body, 1'700'000'010).code(),
            Status::Code::kUnauthenticated);
  Status stale = VerifySignature(secret, header, body, 1'700'000'000 + 301);
  EXPECT_EQ(stale.code(), Status::Code::kUnauthenticated);
  EXPECT_NE(stale.message().find("replay"), std::string::npos) << stale.message();
  EXPECT_FALSE(VerifySignature(secret, "v1=abc", body, 1'700'000'000).ok());
  EXPECT_FALSE(VerifySignature(secret, "t=x,v1=abc", body, 1'700'000'000).ok());
  EXPECT_FALSE(VerifySignature(secret, "t=-9223372036854775807,v1=abc", body, 1'700'000'000).ok());
  EXPECT_FALSE(VerifySignature(secret, "t=9223372036854775807,v1=abc", body, 1'700'000'000).ok());
  // Rotation: any v1 may match.
  std::string two = "t=1700000000,v1=00," + header.substr(header.find("v1="));
  EXPECT_TRUE(VerifySignature(secret, two, body, 1'700'000'000).ok());
}

TEST(BackoffTest, ScheduleGrowsWithJitterAndEnds) {
  int64_t prev_max = 0;
  for (int64_t n = 1; n <= 6; ++n) {
    auto b = RetryDelayBounds(n, 1000);
    ASSERT_TRUE(b) << n;
    const int64_t base = kRetryScheduleMinutes[static_cast<size_t>(n - 1)] * 60'000;
    EXPECT_EQ(b->min_ms, base * 80 / 100) << n;
    EXPECT_EQ(b->max_ms, base * 120 / 100) << n;
    EXPECT_GT(b->min_ms, prev_max) << "attempt " << n << " may come before attempt " << n - 1;
    prev_max = b->max_ms;
    EXPECT_EQ(*RetryDelayMs(n, 1000, 0.5), base);
  }
  EXPECT_FALSE(RetryDelayMs(7, 1000, 0.5));
  EXPECT_FALSE(RetryDelayMs(0, 1000, 0.5));
  // The whole schedule spans about a day.
  int64_t total = 0;
  for (int64_t m : kRetryScheduleMinutes) total += m;
  EXPECT_GT(total, 20 * 60);
  EXPECT_LE(total, 24 * 60);
  // Scaled for tests: 2 per mille of a minute is 120 ms.
  EXPECT_EQ(*RetryDelayMs(1, 2, 0.5), 120);
}

TEST(TargetTest, ParsesUrls) {
  auto u = ParseTargetUrl("https://Hooks.Example.com/kiln?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/kiln?x=1");
  auto v6 = ParseTargetUrl("http://[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->target, "/");
  for (const char* bad :
       {"ftp://example.com/", "example.com/hook", "https://user:pw@example.com/", "https:///nohost",
        "https://example.com/#frag", "http://exa mple.com/", "https://example.com:0/",
        // Found by fuzz/fuzz_webhook_target: Boost.URL took ":81/x" and ";.0.1:8080/hook" for
        // paths, and the request line would have carried them as its target.
        "http://example.com:80:81/x", "http://1270...0:1;.0.1:8080/hook",
        // Also found by the fuzzer: a percent-encoded name that decodes to what Boost.URL reads
        // back as an IPv4 address and a path.
        "http://1%2e7.0.0.0/", "http://exa%6dple.com/"}) {
    auto r = ParseTargetUrl(bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "url") << bad;
  }
}

TEST(TargetTest, RefusesInternalAddressesUnlessAllowed) {
  struct Case {
    const char* addr;
    bool refused_by_default;
    bool refused_always;
  };
  for (const Case& c : {Case{"127.0.0.1", true, false},
                        Case{"127.9.9.9", true, false},
                        Case{"10.1.2.3", true, false},
                        Case{"172.16.0.1", true, false},
                        Case{"172.31.255.255", true, false},
                        Case{"192.168.1.1", true, false},
                        Case{"100.64.0.1", true, false},
                        Case{"0.0.0.0", true, false},
                        Case{"224.0.0.1", true, false},
                        Case{"255.255.255.255", true, false},
                        Case{"169.254.169.254", true, true},
                        Case{"169.254.0.1", true, true},
                        Case{"::1", true, false},
                        Case{"fc00::1", true, false},
                        Case{"fd00:ec2::254", true, true},
                        Case{"fe80::1", true, true},
                        Case{"::ffff:127.0.0.1", true, false},
                        Case{"::ffff:169.254.169.254", true, true},
                        Case{"::", true, false},
                        Case{"93.184.216.34", false, false},
                        Case{"172.32.0.1", false, false},
                        Case{"2606:2800:220:1::1", false, false}}) {
    ip::address a = ip::make_address(c.addr);
    Status def = CheckAddress(a, false);
    Status allowed = CheckAddress(a, true);
    EXPECT_EQ(!def.ok(), c.refused_by_default) << c.addr << ": " << def.ToString();
    EXPECT_EQ(!allowed.ok(), c.refused_always) << c.addr << ": " << allowed.ToString();
    if (!def.ok()) {
      EXPECT_EQ(def.code(), Status::Code::kPermissionDenied);
      EXPECT_NE(def.message().find(c.addr), std::string::npos) << def.message();
    }
  }
  auto u = ParseTargetUrl("http://127.0.0.1:9/hook");
  ASSERT_TRUE(u.ok());
  auto r = ResolveTarget(*u, false);
  EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(r.status().message().find("loopback"), std::string::npos) << r.status().message();
  auto ok = ResolveTarget(*u, true);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].port(), 9);
  // "localhost" resolves to loopback: refused by name as well as by literal.
  auto named = ParseTargetUrl("http://localhost:9/hook");
  ASSERT_TRUE(named.ok());
  EXPECT_FALSE(ResolveTarget(*named, false).ok());
}

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(InboundTest, GenericEventsNameTheFieldAtFault) {
  auto ok = ParseGenericEvents(Obj(
      R"({"events":[{"type":"bounce","message_id":"abc@x","bounce_type":"hard","reason":"550 no such user","timestamp":1700000000},
                    {"type":"complaint","email":"A@Example.com","id":"c-1","timestamp":"2026-11-22T06:00:00Z"},
                    {"type":"delivered","message_id":"<m@x>"},{"type":"unsubscribe","email":"b@example.com"}]})"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 4u);
  EXPECT_EQ((*ok)[0].message_id, "<abc@x>");
  EXPECT_EQ((*ok)[0].bounce_type, "hard");
  EXPECT_EQ((*ok)[0].timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ((*ok)[0].id.rfind("sha256:", 0), 0u);
  EXPECT_EQ((*ok)[1].id, "c-1");
  EXPECT_EQ((*ok)[2].message_id, "<m@x>");
  struct Bad {
    const char* body;
    const char* field;
  };
  for (
      const Bad& b :
      {Bad{R"({})", "events"}, Bad{R"({"events":{}})", "events"}, Bad{R"({"events":[]})", "events"},
       Bad{R"({"evts":[]})", "evts"},
       Bad{R"({"events":[{"type":"bounce","email":"a@b.co","bounce_type":"hard"},{},{"type":"x"}]})",
           "events[1].type"},
       Bad{R"({"events":[{"type":"bounce","email":"a@b.co","bounce_type":"hard"},{"type":"complaint","email":"a@b.co"},{"type":"spam","email":"a@b.co"}]})",
           "events[2].type"},
       Bad{R"({"events":[{"type":"bounce","email":"a@b.co"}]})", "events[0].bounce_type"},
       Bad{R"({"events":[{"type":"complaint"}]})", "events[0].message_id"},
       Bad{R"({"events":[{"type":"complaint","email":"not-an-address"}]})", "events[0].email"},
       Bad{R"({"events":[{"type":"complaint","email":"a@b.co","extra":1}]})", "events[0].extra"},
       Bad{R"({"events":[{"type":"complaint","email":"a@b.co","timestamp":true}]})",
           "events[0].timestamp"},
       Bad{R"({"events":[1]})", "events[0]"}}) {
    auto r = ParseGenericEvents(Obj(b.body));
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << b.body;
    EXPECT_EQ(r.status().field(), b.field) << b.body << ": " << r.status().ToString();
  }
}

// Postmark's webhook records as Postmark sends them (its documented examples).
constexpr char kPostmarkBounce[] = R"({
  "RecordType": "Bounce",
  "MessageStream": "outbound",
  "ID": 4323372036854775807,
  "Type": "HardBounce",
  "TypeCode": 1,
  "Name": "Hard bounce",
  "Tag": "Test",
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "Metadata": {"a_key": "a_value", "b_key": "b_value"},
  "ServerID": 23,
  "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  "Details": "Test bounce details",
  "Email": "john@example.com",
  "From": "sender@example.com",
  "BouncedAt": "2019-11-05T16:33:54.9070259Z",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": true,
  "Subject": "Test subject",
  "Content": "Return-Path: <>\r\nReceived: by sc-ord-mail2.example.com ..."
})";
constexpr char kPostmarkComplaint[] = R"({
  "RecordType": "SpamComplaint",
  "MessageStream": "outbound",
  "ID": 42,
  "Type": "SpamComplaint",
  "TypeCode": 100001,
  "Name": "Spam complaint",
  "Tag": "Test",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "Metadata": {"a_key": "a_value"},
  "ServerID": 1234,
  "Description": "",
  "Details": "Test spam complaint details",
  "Email": "john@example.com",
  "From": "sender@example.com",
  "BouncedAt": "2019-11-05T16:33:54.9070259Z",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": false,
  "Subject": "Test subject",
  "Content": "<Abuse report dump>"
})";
constexpr char kPostmarkDelivery[] = R"({
  "RecordType": "Delivery",
  "ServerID": 23,
  "MessageStream": "outbound",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "Recipient": "john@example.com",
  "Tag": "welcome-email",
  "DeliveredAt": "2019-11-05T16:33:54.9070259Z",
  "Details": "Test delivery webhook details",
  "Metadata": {"a_key": "a_value"}
})";
constexpr char kPostmarkOpen[] = R"({
  "RecordType": "Open",
  "MessageStream": "outbound",
  "Metadata": {"a_key": "a_value"},
  "FirstOpen": true,
  "Recipient": "john@example.com",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "ReceivedAt": "2019-11-05T16:33:54.9070259Z",
  "Platform": "WebMail",
  "ReadSeconds": 5,
  "Tag": "welcome-email",
  "UserAgent": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36",
  "OS": {"Name": "OS X 10.7 Lion", "Family": "OS X 10", "Company": "Apple Computer, Inc."},
  "Client": {"Name": "Chrome 35.0.1916.153", "Family": "Chrome", "Company": "Google"},
  "Geo": {"IP": "188.2.95.4", "City": "Novi Sad", "Country": "Serbia", "CountryISOCode": "RS"}
})";
constexpr char kPostmarkUnsubscribe[] = R"({
  "RecordType": "SubscriptionChange",
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "ServerID": 123456,
  "MessageStream": "outbound",
  "ChangedAt": "2020-02-01T10:53:34.416071Z",
  "Recipient": "bounced-address@wildbit.com",
  "Origin": "Recipient",
  "SuppressSending": true,
  "SuppressionReason": "ManualSuppression",
  "Tag": "my-tag",
  "Metadata": {"example": "value"}
})";

TEST(InboundTest, PostmarkRecords) {
  auto bounce_body = Obj(kPostmarkBounce);
  ASSERT_TRUE(IsPostmarkPayload(bounce_body));
  EXPECT_FALSE(IsMailgunPayload(bounce_body));
  EXPECT_FALSE(IsPostmarkPayload(Obj(R"({"events":[]})")));
  auto bounce = ParsePostmarkEvent(bounce_body);
  ASSERT_TRUE(bounce.ok()) << bounce.status().ToString();
  EXPECT_EQ(bounce->provider, "postmark");
  EXPECT_EQ(bounce->type, "bounce");
  EXPECT_EQ(bounce->bounce_type, "hard");
  EXPECT_EQ(bounce->id, "bounce:4323372036854775807");
  EXPECT_EQ(bounce->email, "john@example.com");
  EXPECT_EQ(bounce->message_id, "") << "Postmark's MessageID is not our Message-ID header";
  EXPECT_EQ(bounce->timestamp_ms, 1'572'971'634'907);  // 2019-11-05T16:33:54.907Z
  EXPECT_NE(bounce->reason.find("HardBounce"), std::string::npos) << bounce->reason;
  EXPECT_NE(bounce->reason.find("Test bounce details"), std::string::npos) << bounce->reason;

  auto complaint = ParsePostmarkEvent(Obj(kPostmarkComplaint));
  ASSERT_TRUE(complaint.ok()) << complaint.status().ToString();
  EXPECT_EQ(complaint->type, "complaint");
  EXPECT_EQ(complaint->id, "bounce:42");
  EXPECT_EQ(complaint->bounce_type, "");

  auto delivered = ParsePostmarkEvent(Obj(kPostmarkDelivery));
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(delivered->type, "delivered");
  EXPECT_EQ(delivered->id, "delivery:00000000-0000-0000-0000-000000000000:john@example.com");

  auto open = ParsePostmarkEvent(Obj(kPostmarkOpen));
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(open->type, "") << "opens are Kiln's own tracking's to count";
  EXPECT_EQ(open->id.rfind("sha256:", 0), 0u);

  auto unsub = ParsePostmarkEvent(Obj(kPostmarkUnsubscribe));
  ASSERT_TRUE(unsub.ok()) << unsub.status().ToString();
  EXPECT_EQ(unsub->type, "unsubscribe");
  EXPECT_EQ(unsub->email, "bounced-address@wildbit.com");
  EXPECT_EQ(unsub->timestamp_ms, 1'580'554'414'416);

  // Bounce types: hard, soft, or nothing Kiln acts on.
  struct Kind {
    const char* type;
    const char* event;
    const char* bounce;
  };
  for (const Kind& k :
       {Kind{"HardBounce", "bounce", "hard"}, Kind{"BadEmailAddress", "bounce", "hard"},
        Kind{"SoftBounce", "bounce", "soft"}, Kind{"Transient", "bounce", "soft"},
        Kind{"DnsError", "bounce", "soft"}, Kind{"Blocked", "bounce", "soft"},
        Kind{"SpamComplaint", "complaint", ""}, Kind{"Unsubscribe", "unsubscribe", ""},
        Kind{"AutoResponder", "", ""}, Kind{"ManuallyDeactivated", "", ""}}) {
    json::object b = bounce_body;
    b["Type"] = k.type;
    auto e = ParsePostmarkEvent(b);
    ASSERT_TRUE(e.ok()) << k.type << ": " << e.status().ToString();
    EXPECT_EQ(e->type, k.event) << k.type;
    EXPECT_EQ(e->bounce_type, k.bounce) << k.type;
  }
  // A subscription change that is not the recipient's own unsubscribe is ignored.
  json::object reactivated = Obj(kPostmarkUnsubscribe);
  reactivated["SuppressSending"] = false;
  EXPECT_EQ(ParsePostmarkEvent(reactivated)->type, "");
  json::object hard_suppressed = Obj(kPostmarkUnsubscribe);
  hard_suppressed["SuppressionReason"] = "HardBounce";
  EXPECT_EQ(ParsePostmarkEvent(hard_suppressed)->type, "");

  // Malformed records name the field.
  struct Bad {
    std::string record_type, key;
    json::value value;
    const char* field;
  };
  for (const Bad& b :
       {Bad{"Bounce", "Email", nullptr, "Email"}, Bad{"Bounce", "Email", "not-an-address", "Email"},
        Bad{"Bounce", "ID", nullptr, "ID"}, Bad{"Bounce", "ID", -1, "ID"},
        Bad{"Bounce", "ID", "12a", "ID"}, Bad{"Bounce", "Type", nullptr, "Type"},
        Bad{"Bounce", "Type", 1, "Type"}, Bad{"Bounce", "BouncedAt", "yesterday", "BouncedAt"},
        Bad{"Delivery", "Recipient", nullptr, "Recipient"},
        Bad{"Delivery", "MessageID", nullptr, "MessageID"},
        Bad{"SubscriptionChange", "SuppressSending", "yes", "SuppressSending"},
        Bad{"", "RecordType", "", "RecordType"}}) {
    json::object body = Obj(b.record_type == "Delivery"             ? kPostmarkDelivery
                            : b.record_type == "SubscriptionChange" ? kPostmarkUnsubscribe
                                                                    : kPostmarkBounce);
    if (b.value.is_null()) {
      body.erase(b.key);
    } else {
      body[b.key] = b.value;
    }
    auto e = ParsePostmarkEvent(body);
    EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument)
        << b.key << ": " << json::serialize(b.value);
    EXPECT_EQ(e.status().field(), b.field) << e.status().ToString();
  }
}

std::string MailgunBody(const std::string& key, int64_t ts, const std::string& event,
                        const std::string& severity, const std::string& id) {
  const std::string token = "f3f2a0e4c9b1d8a7e6f5";
  std::string sig = auth::HexEncode(auth::HmacSha256(key, std::to_string(ts) + token));
  json::object data{{"event", event},
                    {"id", id},
                    {"timestamp", static_cast<double>(ts) + 0.25},
                    {"recipient", "lead@example.com"},
                    {"reason", "bounce"},
                    {"message", {{"headers", {{"message-id", "20261122.abc@kiln.test"}}}}},
                    {"delivery-status", {{"code", 550}, {"description", "No such mailbox"}}}};
  if (!severity.empty()) data["severity"] = severity;
  return json::serialize(json::object{
      {"signature", {{"timestamp", std::to_string(ts)}, {"token", token}, {"signature", sig}}},
      {"event-data", data}});
}

TEST(InboundTest, MailgunSignatureAndEvents) {
  const std::string key = "key-mailgun-signing-0123456789";
  const int64_t now = 1'763'791'200'000;  // ms
  const int64_t ts = now / 1000 - 30;
  auto body = Obj(MailgunBody(key, ts, "failed", "permanent", "mg-1"));
  ASSERT_TRUE(IsMailgunPayload(body));
  auto e = ParseMailgunEvent(body, key, now);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, "bounce");
  EXPECT_EQ(e->bounce_type, "hard");
  EXPECT_EQ(e->id, "mg-1");
  EXPECT_EQ(e->message_id, "<20261122.abc@kiln.test>");
  EXPECT_EQ(e->email, "lead@example.com");
  EXPECT_NE(e->reason.find("No such mailbox"), std::string::npos);
  auto soft = ParseMailgunEvent(Obj(MailgunBody(key, ts, "failed", "temporary", "mg-2")), key, now);
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(soft->bounce_type, "soft");
  EXPECT_EQ(ParseMailgunEvent(Obj(MailgunBody(key, ts, "complained", "", "mg-3")), key, now)->type,
            "complaint");
  EXPECT_EQ(
      ParseMailgunEvent(Obj(MailgunBody(key, ts, "unsubscribed", "", "mg-4")), key, now)->type,
      "unsubscribe");
  EXPECT_EQ(ParseMailgunEvent(Obj(MailgunBody(key, ts, "delivered", "", "mg-5")), key, now)->type,
            "delivered");
  EXPECT_EQ(ParseMailgunEvent(Obj(MailgunBody(key, ts, "opened", "", "mg-6")), key, now)->type, "");
  // Forged (another key), stale, or missing severity.
  EXPECT_EQ(ParseMailgunEvent(body, "key-someone-else", now).status().code(),
            Status::Code::kUnauthenticated);
  EXPECT_EQ(ParseMailgunEvent(body, key, now + 2 * 86'400'000).status().code(),
            Status::Code::kUnauthenticated);
  // Absurd timestamps are refused, not overflowed.
  EXPECT_EQ(ParseMailgunEvent(Obj(MailgunBody(key, INT64_MIN + 1, "failed", "permanent", "mg-8")),
                              key, now)
                .status()
                .code(),
            Status::Code::kUnauthenticated);
  auto no_sev = ParseMailgunEvent(Obj(MailgunBody(key, ts, "failed", "", "mg-7")), key, now);
  EXPECT_EQ(no_sev.status().field(), "event-data.severity");
}

// An HTTPS receiver on 127.0.0.1 with a self-signed certificate (made with the openssl CLI) that
// names `san`; it answers 204 to each request, one connection at a time, until destroyed.
class TlsReceiver {
 public:
  explicit TlsReceiver(const std::string& san) {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln-wh-tls-" + std::to_string(::getpid()) + "-" + auth::RandomToken(6));
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kiln-test"
        " -addext subjectAltName=" +
        san + " -keyout " + (dir_ / "key.pem").string() + " -out " + ca_file() + " >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
    if (!ok_) return;
    ctx_.use_certificate_chain_file(ca_file());
    ctx_.use_private_key_file((dir_ / "key.pem").string(), boost::asio::ssl::context::pem);
    acceptor_.open(ip::tcp::v4());
    acceptor_.bind({ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsReceiver() {
    stopping_ = true;
    if (thread_.joinable()) {
      boost::system::error_code ec;
      ip::tcp::socket poke(io_);
      poke.connect({ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)}, ec);
      thread_.join();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  std::string ca_file() const { return (dir_ / "cert.pem").string(); }
  int served() const { return served_.load(); }

 private:
  void Serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::system::error_code ec;
      ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      boost::beast::ssl_stream<ip::tcp::socket> stream(std::move(socket), ctx_);
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused our certificate
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) continue;
      http::response<http::string_body> res{http::status::no_content, 11};
      res.keep_alive(false);
      http::write(stream, res, ec);
      ++served_;
      stream.shutdown(ec);
    }
  }

  std::filesystem::path dir_;
  bool ok_ = false;
  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  ip::tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

Result<PostResult> PostTo(const std::string& url_text, const std::string& ca_file) {
  auto url = ParseTargetUrl(url_text);
  if (!url.ok()) return url.status();
  auto endpoints = ResolveTarget(*url, true);
  if (!endpoints.ok()) return endpoints.status();
  PostOptions o;
  o.timeout = std::chrono::milliseconds(10'000);
  o.ca_file = ca_file;
  return PostJson(*url, *endpoints, {{"Kiln-Event-Id", "evt_1"}}, R"({"id":"evt_1"})", o);
}

TEST(HttpPostTest, HttpsVerifiesTheCertificateAndTheHostName) {
  TlsReceiver good("IP:127.0.0.1,DNS:localhost");
  ASSERT_TRUE(good.ok()) << "openssl could not make a test certificate";
  const std::string url = "https://127.0.0.1:" + std::to_string(good.port()) + "/hook";
  // Not trusted: a self-signed certificate fails verification.
  auto untrusted = PostTo(url, "");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(untrusted.status().message().find("TLS handshake"), std::string::npos)
      << untrusted.status().message();
  // Trusted and naming the address: delivered.
  auto trusted = PostTo(url, good.ca_file());
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  EXPECT_EQ(trusted->status, 204);
  auto by_name = PostTo("https://localhost:" + std::to_string(good.port()) + "/", good.ca_file());
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(good.served(), 2);

  // Trusted, but the certificate names another host: refused.
  TlsReceiver wrong("DNS:wrong-name.kiln.test");
  ASSERT_TRUE(wrong.ok());
  auto mismatch =
      PostTo("https://127.0.0.1:" + std::to_string(wrong.port()) + "/hook", wrong.ca_file());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("TLS handshake"), std::string::npos)
      << mismatch.status().message();
  EXPECT_EQ(wrong.served(), 0);
}

TEST(HttpPostTest, ConnectionRefusedAndTimeoutAreNamed) {
  // A port nobody listens on.
  boost::asio::io_context io;
  ip::tcp::acceptor a(io, {ip::make_address("127.0.0.1"), 0});
  const int closed_port = a.local_endpoint().port();
  a.close();
  auto refused = PostTo("http://127.0.0.1:" + std::to_string(closed_port) + "/", "");
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("connect to"), std::string::npos)
      << refused.status().message();
  // A listener that never answers: the timeout ends the attempt.
  ip::tcp::acceptor silent(io, {ip::make_address("127.0.0.1"), 0});
  auto url =
      ParseTargetUrl("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
  ASSERT_TRUE(url.ok());
  auto endpoints = ResolveTarget(*url, true);
  ASSERT_TRUE(endpoints.ok());
  PostOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto timed_out = PostJson(*url, *endpoints, {}, "{}", o);
  EXPECT_EQ(timed_out.status().code(), Status::Code::kDeadlineExceeded)
      << timed_out.status().ToString();
}

// The dispatcher against a real database and receiver, in virtual time.
constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: wt.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('W', $1, $1) RETURNING id;
-- name: wt.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)
RETURNING id;
-- name: wt.campaign
INSERT INTO campaigns (workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
RETURNING id;
-- name: wt.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, 0, $3, $3) RETURNING id;
-- name: wt.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, message_id_header, status,
                      scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'sent', $6, $6, $6, $6) RETURNING id;
-- name: wt.event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id;
-- name: wt.delivery
SELECT status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, event_id
FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id;
-- name: wt.webhook
SELECT is_enabled, disabled_reason, failure_count FROM webhooks WHERE id = $1;
-- name: wt.cursor
SELECT last_event_id FROM webhook_cursor WHERE name = 'events';
-- name: wt.lease
UPDATE webhook_deliveries SET lease_owner = 'someone-else', lease_until = $2 WHERE webhook_id = $1;
)";

class DispatcherTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions opt;
    opt.extra_sql_files = {{"queries/webhooks_test.sql", kTestQueries}};
    auto db = kiln::testing::OpenFreshTestDatabase(GetParam(), opt);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto box = auth::SecretBox::FromKey(std::string(32, 'k'));
    ASSERT_TRUE(box.ok());
    box_ = std::make_unique<auth::SecretBox>(std::move(box).value());
    clock_.Set(1'763'791'200'000);
    const int64_t now = clock_.NowMillis();
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("wt.workspace", {now}));
      ws_ = w.Int("id");
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("wt.contact", {ws_, "lead@example.com", now}));
      KILN_ASSIGN_OR_RETURN(auto cp, tx.QueryRow("wt.campaign", {ws_, "Launch", now}));
      campaign_ = cp.Int("id");
      KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("wt.step", {ws_, campaign_, now}));
      KILN_ASSIGN_OR_RETURN(
          auto m, tx.QueryRow("wt.message",
                              {ws_, campaign_, c.Int("id"), s.Int("id"), "<m1@kiln.test>", now}));
      message_ = m.Int("id");
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  DispatcherOptions Options(bool allow_private = true) {
    DispatcherOptions o;
    o.worker_id = "test-worker";
    o.allow_private_targets = allow_private;
    o.timeout = std::chrono::milliseconds(5000);
    o.settle = std::chrono::milliseconds(2000);
    o.disable_after = std::chrono::hours(72);
    o.seed = 7;
    return o;
  }

  int64_t Subscribe(const std::string& url, const std::string& types, std::string* secret) {
    int64_t id = 0;
    *secret = NewSigningSecret();
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto r, tx.QueryRow("webhooks.insert", {ws_, url, "test", types, 1, clock_.NowMillis()}));
      id = r.Int("id");
      KILN_ASSIGN_OR_RETURN(auto sealed, box_->Seal(*secret, SecretAad(id)));
      return tx.Exec("webhooks.set_secret", {ws_, id, store::Blob{sealed}}).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }

  int64_t AddEvent(const std::string& type, const std::string& detail, int64_t at) {
    int64_t id = 0;
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r,
                            tx.QueryRow("wt.event", {ws_, message_, campaign_, type, detail, at}));
      id = r.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }

  std::vector<store::Row> Deliveries(int64_t webhook) {
    std::vector<store::Row> rows;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(rows, tx.Query("wt.delivery", {webhook}));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  }
  store::Row Webhook(int64_t id) {
    std::optional<store::Row> row;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("wt.webhook", {id}));
      row = std::move(r);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *row;
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::SecretBox> box_;
  kiln::testing::FakeClock clock_;
  int64_t ws_ = 0, campaign_ = 0, message_ = 0;
};

TEST_P(DispatcherTest, SignedDeliveryRetriedOnScheduleUntilDelivered) {
  testing::TestReceiver receiver({500, 503});
  std::string secret;
  const int64_t hook = Subscribe(receiver.Url(), R"(["clicked"])", &secret);
  const int64_t t0 = clock_.NowMillis();
  AddEvent("opened", "{}", t0);  // a type this subscription did not ask for
  const int64_t click =
      AddEvent("clicked", R"({"url":"https://example.com/p","ip":"192.0.2.1"})", t0);
  Dispatcher d(*db_, clock_, *box_, Options());
  // Not settled yet: nothing happens, and the watermark stays before both events.
  auto s0 = d.RunOnce();
  ASSERT_TRUE(s0.ok()) << s0.status().ToString();
  EXPECT_EQ(s0->events, 0);
  EXPECT_TRUE(Deliveries(hook).empty());

  clock_.Advance(std::chrono::milliseconds(2500));
  auto s1 = d.RunOnce();
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_EQ(s1->events, 2);
  EXPECT_EQ(s1->created, 1);
  EXPECT_EQ(s1->attempted, 1);
  EXPECT_EQ(s1->failed, 1);
  ASSERT_TRUE(receiver.WaitFor(1));
  auto rows = Deliveries(hook);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text("status"), "pending");
  EXPECT_EQ(rows[0].Int("attempts"), 1);
  EXPECT_EQ(rows[0].Int("last_status_code"), 500);
  EXPECT_NE(rows[0].Text("last_error").find("HTTP 500"), std::string::npos);
  const int64_t wait1 = rows[0].Int("next_attempt_at") - rows[0].Int("last_attempt_at");
  EXPECT_GE(wait1, 48'000);
  EXPECT_LE(wait1, 72'000);

  // The signed request: Kiln-Signature over the exact body, Kiln-Event-Id, the payload shape.
  auto hit = receiver.hits()[0];
  EXPECT_EQ(hit.target, "/hook");
  EXPECT_EQ(hit.event_id, "evt_" + std::to_string(click));
  EXPECT_EQ(hit.content_type, "application/json");
  EXPECT_TRUE(VerifySignature(secret, hit.signature, hit.body, clock_.NowMillis() / 1000).ok())
      << hit.signature;
  auto v = json::parse(hit.body).as_object();
  EXPECT_EQ(v.at("id").as_string(), "evt_" + std::to_string(click));
  EXPECT_EQ(v.at("type").as_string(), "clicked");
  EXPECT_EQ(v.at("workspace_id").as_int64(), ws_);
  const auto& data = v.at("data").as_object();
  EXPECT_EQ(data.at("url").as_string(), "https://example.com/p");
  EXPECT_EQ(data.at("lead_email").as_string(), "lead@example.com");
  EXPECT_EQ(data.at("message_id").as_string(), "<m1@kiln.test>");
  EXPECT_EQ(data.at("campaign_name").as_string(), "Launch");
  EXPECT_FALSE(data.at("detail").as_object().contains("ip"));

  // Not due before its time.
  clock_.Advance(std::chrono::milliseconds(wait1 - 1));
  auto s2 = d.RunOnce();
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->attempted, 0);
  clock_.Advance(std::chrono::milliseconds(1));
  auto s3 = d.RunOnce();
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->attempted, 1);
  rows = Deliveries(hook);
  const int64_t wait2 = rows[0].Int("next_attempt_at") - rows[0].Int("last_attempt_at");
  EXPECT_GE(wait2, 240'000);
  EXPECT_LE(wait2, 360'000);
  EXPECT_EQ(rows[0].Int("attempts"), 2);

  // Another worker holds the lease: this one does not send it, even when due.
  clock_.Advance(std::chrono::milliseconds(wait2));
  Status leased = db_->Write([&](store::Tx& tx) {
    return tx.Exec("wt.lease", {hook, clock_.NowMillis() + 1000}).status();
  });
  ASSERT_TRUE(leased.ok());
  EXPECT_EQ(d.RunOnce()->attempted, 0);
  // Its lease lapses (it died): the delivery is sent again, at least once.
  clock_.Advance(std::chrono::milliseconds(1001));
  auto s4 = d.RunOnce();
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->delivered, 1);
  rows = Deliveries(hook);
  EXPECT_EQ(rows[0].Text("status"), "delivered");
  EXPECT_EQ(rows[0].Int("attempts"), 3);
  EXPECT_EQ(rows[0].Int("last_status_code"), 200);
  ASSERT_EQ(receiver.hits().size(), 3u);
  // The same event id and body on every attempt.
  for (const auto& h : receiver.hits()) {
    EXPECT_EQ(h.event_id, hit.event_id);
    EXPECT_EQ(h.body, hit.body);
  }
  EXPECT_EQ(Webhook(hook).Int("failure_count"), 0);
}

TEST_P(DispatcherTest, RefusedAddressFailsAtDeliveryAndFailingHookIsDisabled) {
  testing::TestReceiver receiver;
  std::string secret;
  // Stored while private targets were allowed; the dispatcher now refuses loopback.
  const int64_t hook = Subscribe(receiver.Url(), "[]", &secret);
  AddEvent("opened", "{}", clock_.NowMillis());
  DispatcherOptions o = Options(false);
  o.disable_after = std::chrono::hours(20);
  Dispatcher d(*db_, clock_, *box_, o);
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(d.RunOnce().ok());
  auto rows = Deliveries(hook);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].IsNull("last_status_code"));
  EXPECT_NE(rows[0].Text("last_error").find("loopback"), std::string::npos)
      << rows[0].Text("last_error");
  // Every retry fails the same way; after 20 hours of failures the subscription is disabled.
  for (int i = 0; i < 10 && Webhook(hook).Int("is_enabled") == 1; ++i) {
    clock_.Advance(std::chrono::hours(15));
    ASSERT_TRUE(d.RunOnce().ok());
  }
  auto w = Webhook(hook);
  EXPECT_EQ(w.Int("is_enabled"), 0);
  EXPECT_NE(w.Text("disabled_reason").find("disabled automatically"), std::string::npos)
      << w.Text("disabled_reason");
  EXPECT_TRUE(receiver.hits().empty());
  // A disabled subscription gets no new deliveries.
  AddEvent("clicked", "{}", clock_.NowMillis());
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(Deliveries(hook).size(), 1u);
}

TEST_P(DispatcherTest, FailsForGoodAfterTheLastAttemptAndPingIsOneAttempt) {
  testing::TestReceiver receiver({500, 500, 500, 500, 500, 500, 500, 500, 200});
  std::string secret;
  const int64_t hook = Subscribe(receiver.Url(), "[]", &secret);
  AddEvent("replied", "{}", clock_.NowMillis());
  DispatcherOptions o = Options();
  o.disable_after = std::chrono::hours(1000);
  Dispatcher d(*db_, clock_, *box_, o);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(std::chrono::hours(15));
    ASSERT_TRUE(d.RunOnce().ok());
  }
  auto rows = Deliveries(hook);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text("status"), "failed");
  EXPECT_EQ(rows[0].Int("attempts"), 7);
  EXPECT_TRUE(rows[0].IsNull("next_attempt_at"));
  EXPECT_EQ(receiver.hits().size(), 7u);
  // A ping: one attempt, answered with the receiver's status.
  auto ping = d.SendPing(ws_, hook);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_FALSE(ping->delivered);
  EXPECT_EQ(ping->status_code, 500);
  EXPECT_EQ(ping->status, "failed");
  auto ping2 = d.SendPing(ws_, hook);
  ASSERT_TRUE(ping2.ok());
  EXPECT_TRUE(ping2->delivered);
  EXPECT_EQ(receiver.hits().back().event_id, "ping_" + std::to_string(ping2->delivery_id));
  EXPECT_EQ(d.SendPing(ws_, hook + 100).status().code(), Status::Code::kNotFound);
}

// A receiver that hangs holds up only its own subscription: the other one gets its delivery while
// the first is held (before the change the tick sent them one after the other and the second
// waited), and each subscription's own deliveries still go one at a time, in order.
TEST_P(DispatcherTest, HeldReceiverDelaysOnlyItsOwnSubscription) {
  testing::TestReceiver slow, fast;
  slow.Hold();
  std::string secret;
  const int64_t slow_hook = Subscribe(slow.Url(), "[]", &secret);
  const int64_t fast_hook = Subscribe(fast.Url(), "[]", &secret);
  const int64_t t0 = clock_.NowMillis();
  const int64_t first = AddEvent("opened", "{}", t0);
  const int64_t second = AddEvent("clicked", "{}", t0);
  clock_.Advance(std::chrono::milliseconds(2500));
  Dispatcher d(*db_, clock_, *box_, Options());
  Result<TickStats> stats = Status::Internal("the tick did not run");
  std::thread tick([&] { stats = d.RunOnce(); });
  // The slow receiver has the first delivery of its subscription and answers nothing; meanwhile
  // the fast one gets both of its deliveries.
  EXPECT_TRUE(slow.WaitFor(1));
  EXPECT_TRUE(fast.WaitFor(2)) << "the second subscription waited for the held receiver";
  EXPECT_EQ(slow.hits().size(), 1u) << "a subscription's next delivery went before the held one";
  slow.Release();
  tick.join();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->attempted, 4);
  EXPECT_EQ(stats->delivered, 4);
  for (auto* r : {&slow, &fast}) {
    auto hits = r->hits();
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].event_id, "evt_" + std::to_string(first));
    EXPECT_EQ(hits[1].event_id, "evt_" + std::to_string(second));
  }
  for (int64_t hook : {slow_hook, fast_hook}) {
    for (const auto& row : Deliveries(hook)) EXPECT_EQ(row.Text("status"), "delivered");
  }
}

// Shutting a receiver down while a delivery to it is held: the tick ends (no thread left behind),
// the attempt is recorded as failed and retried later, the other subscription's delivery is
// delivered; nothing leaks (ASan build).
TEST_P(DispatcherTest, ReceiverGoneWhileHeldEndsTheTickCleanly) {
  auto slow = std::make_unique<testing::TestReceiver>();
  testing::TestReceiver fast;
  slow->Hold();
  std::string secret;
  const int64_t slow_hook = Subscribe(slow->Url(), "[]", &secret);
  const int64_t fast_hook = Subscribe(fast.Url(), "[]", &secret);
  AddEvent("opened", "{}", clock_.NowMillis());
  clock_.Advance(std::chrono::milliseconds(2500));
  DispatcherOptions o = Options();
  o.max_concurrent = 2;
  Dispatcher d(*db_, clock_, *box_, o);
  Result<TickStats> stats = Status::Internal("the tick did not run");
  std::thread tick([&] { stats = d.RunOnce(); });
  EXPECT_TRUE(slow->WaitFor(1));
  EXPECT_TRUE(fast.WaitFor(1));
  slow.reset();  // closes the held connection unanswered
  tick.join();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->attempted, 2);
  EXPECT_EQ(stats->delivered, 1);
  EXPECT_EQ(stats->failed, 1);
  auto rows = Deliveries(slow_hook);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text("status"), "pending");
  EXPECT_EQ(rows[0].Int("attempts"), 1);
  EXPECT_FALSE(rows[0].Text("last_error").empty());
  EXPECT_FALSE(rows[0].IsNull("next_attempt_at"));
  rows = Deliveries(fast_hook);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text("status"), "delivered");
}

INSTANTIATE_TEST_SUITE_P(Db, DispatcherTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

}  // namespace
}  // namespace kiln::webhooks
