// POST /workspaces/{ws}/senders/{id}/pause and .../resume against the real `kiln` binary and the
// real mail stack (scripts/mailstack): a paused sender stays paused through a verification, resume
// lifts the pause and verifies the logins again (active with the stack's password, failed naming
// the SMTP failure with a wrong one), a sender that is not paused cannot be resumed (409 naming
// status), and both are audited. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "api_mailstack_fixture.h"
#include "api_test_util.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

class SenderPauseApiTest : public KilnMailstackApiFixture {};

std::string Status(const json::value& sender) {
  return std::string(sender.at("status").as_string());
}

TEST_P(SenderPauseApiTest, PausedStaysPausedUntilResumedWhichVerifiesAgain) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string sender = AddStackSender(s, "sender1@kiln-a.test");
  auto r = s.Post(sender + "/verify", "");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Status(Json(r).at("sender")), "active") << r.body;

  r = s.Post(sender + "/pause", R"({"reason":"too many bounces last week"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Status(Json(r)), "paused") << r.body;
  EXPECT_EQ(Json(r).at("status_reason").as_string(), "too many bounces last week") << r.body;

  // A verification does not undo the pause.
  r = s.Post(sender + "/verify", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Status(Json(r).at("sender")), "paused") << r.body;

  r = s.Post(sender + "/resume", "");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_TRUE(v.at("smtp").at("ok").as_bool()) << r.body;
  EXPECT_TRUE(v.at("imap").at("ok").as_bool()) << r.body;
  EXPECT_EQ(Status(v.at("sender")), "active") << r.body;
  EXPECT_EQ(v.at("sender").at("status_reason").as_string(), "") << r.body;

  // Only a paused sender can be resumed.
  r = s.Post(sender + "/resume", "");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(ErrField(r), "status") << r.body;

  // Without a reason the pause says it was done by hand.
  r = s.Post(sender + "/pause", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("status_reason").as_string(), "paused by hand") << r.body;

  r = s.Get(s.Ws() + "/audit-log?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  int paused = 0, resumed = 0;
  const json::value log = Json(r);
  for (const auto& e : log.at("items").as_array()) {
    if (e.at("action").as_string() == "sender.paused") ++paused;
    if (e.at("action").as_string() == "sender.resumed") ++resumed;
  }
  EXPECT_EQ(paused, 2) << r.body;
  EXPECT_EQ(resumed, 1) << r.body;
}

TEST_P(SenderPauseApiTest, ResumeWithAWrongPasswordLeavesTheSenderFailed) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string sender = AddStackSender(s, "sender2@kiln-a.test", "not-the-password");
  auto r = s.Post(sender + "/pause", "{}");
  ASSERT_EQ(r.status, 200) << r.body;

  r = s.Post(sender + "/resume", "");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_FALSE(v.at("smtp").at("ok").as_bool()) << r.body;
  EXPECT_EQ(Status(v.at("sender")), "failed") << r.body;
  EXPECT_NE(std::string(v.at("sender").at("status_reason").as_string()).find("SMTP"),
            std::string::npos)
      << r.body;
}

TEST_P(SenderPauseApiTest, BadInputAndUnknownSendersAreRefused) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string sender = AddStackSender(s, "sender1@kiln-a.test");

  auto r = s.Post(sender + "/pause", R"({"reason":7})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "reason") << r.body;
  r = s.Post(sender + "/pause", "{\"reason\":\"" + std::string(501, 'x') + "\"}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "reason") << r.body;
  r = s.Post(sender + "/pause", R"({"why":"x"})");
  EXPECT_EQ(r.status, 400) << r.body;

  r = s.Post(s.Ws() + "/senders/999999/pause", "{}");
  EXPECT_EQ(r.status, 404) << r.body;
  r = s.Post(s.Ws() + "/senders/999999/resume", "");
  EXPECT_EQ(r.status, 404) << r.body;
  r = s.Get(sender);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Status(Json(r)), "unverified") << r.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, SenderPauseApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace
}  // namespace kiln::testing
