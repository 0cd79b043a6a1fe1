// The engine sends a small two-step campaign through the mail stack's real Postfix (STARTTLS +
// AUTH as the stack's senders) and the messages arrive in Dovecot, follow-ups threaded.
// Needs `scripts/mailstack start` and `eval "$(scripts/mailstack env)"`.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kiln/auth/secret_box.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/worker.h"
#include "kiln/mail/dkim.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/mailstack.h"

namespace kiln::engine {
namespace {

constexpr std::string_view kFixtureSql = R"sql(
-- name: mail_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: mail_test.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, created_at, updated_at)
VALUES ($1, 'c', 'running', '{"days":[1,2,3,4,5,6,7],"start":"00:00","end":"23:59"}', 'UTC', $2,
        $2) RETURNING id;
-- name: mail_test.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, created_at,
                            updated_at)
VALUES ($1, $2, $3, $4, $5, $5) RETURNING id;
-- name: mail_test.variant
INSERT INTO step_variants (workspace_id, step_id, subject, body_html, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5);
-- name: mail_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     smtp_username, allow_self_signed, status, created_at, updated_at)
VALUES ($1, $2, 'Kiln Test', $3, $4, 'starttls', $2, 1, 'active', $5, $5) RETURNING id;
-- name: mail_test.sender_secret
UPDATE senders SET smtp_secret = $2 WHERE id = $1;
-- name: mail_test.pool
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, $4);
-- name: mail_test.contact
INSERT INTO contacts (workspace_id, email, first_name, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4) RETURNING id;
-- name: mail_test.enrol
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, next_at, status, created_at,
                               updated_at)
VALUES ($1, $2, $3, $4, 'pending', $4, $4);
)sql";

std::string Header(const std::string& data, const std::string& name) {
  const std::string key = "\n" + name + ": ";
  size_t p = data.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  size_t end = data.find_first_of("\r\n", p);
  return data.substr(p, end - p);
}

// A header with its folded continuation lines joined (DKIM-Signature spans several lines).
std::string UnfoldedHeader(const std::string& data, const std::string& name) {
  const std::string key = "\n" + name + ": ";
  size_t p = data.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  std::string out;
  for (;;) {
    size_t end = data.find('\n', p);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(p, end - p);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out += line;
    if (end + 1 >= data.size() || (data[end + 1] != ' ' && data[end + 1] != '\t')) break;
    p = end + 1;
  }
  return out;
}

TEST(EngineMailTest, CampaignArrivesInDovecotWithThreadedFollowUps) {
  auto stack = testing::Mailstack::FromEnv();
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  store::OpenOptions options;
  options.extra_sql_files.push_back({"queries/mail_test.sql", std::string(kFixtureSql)});
  auto db = testing::OpenFreshTestDatabase("sqlite", options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto box = auth::SecretBox::FromKey(std::string(32, 's'));
  ASSERT_TRUE(box.ok());

  testing::FakeClock clock;  // scheduling in virtual time; the mail itself is real
  const int64_t t0 = clock.NowMillis();
  const std::string token =
      "kiln-engine-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::vector<std::string> senders = {"sender1@kiln-a.test", "sender2@kiln-a.test"};
  const std::vector<std::string> leads = {"bot1@kiln-b.test", "bot2@kiln-b.test",
                                          "bot3@kiln-b.test"};
  int64_t ws = 0, campaign = 0;
  Status setup = (*db)->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("mail_test.workspace", {t0}));
    ws = w.Int("id");
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("mail_test.campaign", {ws, t0}));
    campaign = c.Int("id");
    for (int i = 0; i < 2; ++i) {
      KILN_ASSIGN_OR_RETURN(auto s,
                            tx.QueryRow("mail_test.step", {ws, campaign, i, i == 0 ? 0 : 60, t0}));
      KILN_RETURN_IF_ERROR(tx.Exec("mail_test.variant",
                                   {ws, s.Int("id"), i == 0 ? token + " for {{ first_name }}" : "",
                                    "<p>Hi {{ first_name }}, step " + std::to_string(i + 1) +
                                        " of " + token + ".</p>",
                                    t0})
                               .status());
    }
    for (const std::string& email : senders) {
      KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("mail_test.sender", {ws, email, stack->host,
                                                                     stack->starttls_port, t0}));
      KILN_ASSIGN_OR_RETURN(auto user, stack->User(email));
      KILN_ASSIGN_OR_RETURN(
          std::string sealed,
          box->Seal(user.password, "senders:" + std::to_string(s.Int("id")) + ":smtp_secret"));
      KILN_RETURN_IF_ERROR(
          tx.Exec("mail_test.sender_secret", {s.Int("id"), store::Blob{sealed}}).status());
      KILN_RETURN_IF_ERROR(tx.Exec("mail_test.pool", {campaign, s.Int("id"), ws, t0}).status());
    }
    for (const std::string& email : leads) {
      KILN_ASSIGN_OR_RETURN(auto c,
                            tx.QueryRow("mail_test.contact", {ws, email, email.substr(0, 4), t0}));
      KILN_RETURN_IF_ERROR(tx.Exec("mail_test.enrol", {ws, campaign, c.Int("id"), t0}).status());
    }
    return Status::Ok();
  });
  ASSERT_TRUE(setup.ok()) << setup.ToString();

  domain::TimeZoneDatabase zones;
  SchedulerOptions o;
  o.worker_id = "mail-test";
  o.pacing = {.min_gap_ms = 60'000, .jitter_percent = 20};
  o.public_url = "https://kiln.example.com";
  o.tracking_key = std::string(32, 't');
  // The senders' domain signs with its own key (main.cpp loads these from dkim_keys).
  auto key = mail::GenerateDkimKey(mail::DkimKeyType::kEd25519);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto signer = mail::DkimSigner::Create(key->private_key_pem, "kiln-a.test", "k1");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  o.dkim_by_domain = {{"kiln-a.test", &*signer}};
  SmtpDefaults smtp;
  smtp.helo_name = "client.kiln.test";
  Scheduler scheduler(**db, clock, zones, SmtpTransportFactory(*box, smtp), o);
  int sent = 0;
  for (int minute = 0; minute < 24 * 60 && sent < 6; ++minute) {
    auto stats = scheduler.RunOnce();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_TRUE(scheduler.campaign_errors().empty()) << scheduler.campaign_errors().front();
    ASSERT_EQ(stats->retried + stats->failed + stats->bounced, 0);
    sent += stats->sent;
    clock.Advance(Millis(60'000));
  }
  ASSERT_EQ(sent, 6);
  scheduler.CloseTransports();

  for (const std::string& lead : leads) {
    std::vector<std::string> got;
    for (int i = 0; i < 100 && got.size() < 2; ++i) {
      got.clear();
      for (const std::string& m : stack->ReadMessages(lead)) {
        if (m.find(token) != std::string::npos) got.push_back(m);
      }
      if (got.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(got.size(), 2u) << lead;
    // Oldest file first is not a promise of send order: find the first step by its headers.
    const std::string& first = Header(got[0], "In-Reply-To").empty() ? got[0] : got[1];
    const std::string& follow = &first == &got[0] ? got[1] : got[0];
    const std::string id = Header(first, "Message-ID");
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(Header(follow, "In-Reply-To"), id) << lead;
    EXPECT_NE(Header(follow, "References").find(id), std::string::npos) << lead;
    EXPECT_EQ(Header(follow, "Subject"), "Re: " + Header(first, "Subject")) << lead;
    EXPECT_EQ(Header(follow, "From"), Header(first, "From")) << lead;
    EXPECT_NE(first.find("List-Unsubscribe: <https://kiln.example.com/"), std::string::npos);
    EXPECT_NE(first.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
    for (const std::string* m : {&first, &follow}) {
      const std::string dkim = UnfoldedHeader(*m, "DKIM-Signature");
      EXPECT_NE(dkim.find("d=kiln-a.test"), std::string::npos) << lead << ": " << dkim;
      EXPECT_NE(dkim.find("s=k1"), std::string::npos) << lead << ": " << dkim;
      EXPECT_NE(dkim.find("list-unsubscribe-post"), std::string::npos)
          << "RFC 8058: the one-click header is signed: " << dkim;
    }
  }
}

}  // namespace
}  // namespace kiln::engine
