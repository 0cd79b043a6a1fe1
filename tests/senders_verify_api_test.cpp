// POST /workspaces/{ws}/senders/{id}/verify over the API against the real `kiln` binary and the
// real mail stack (scripts/mailstack): a sender with the stack's credentials becomes active; a
// wrong password makes it failed with both protocols' reasons, and fixing it makes it active
// again (audited); unknown ids and other workspaces' senders answer 404.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "api_mailstack_fixture.h"
#include "api_test_util.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

class SendersVerifyApiTest : public KilnMailstackApiFixture {
 protected:
  std::string SenderBody(const std::string& email, const std::string& password) {
    return json::serialize(StackSenderInput(email, password));
  }

  std::string Password(const std::string& email) { return ms_.User(email).value().password; }
};

TEST_P(SendersVerifyApiTest, ActiveWhenBothLoginsPassFailedWithReasonsOtherwise) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string senders = s.Ws() + "/senders";

  auto r = s.Post(senders, SenderBody("sender1@kiln-a.test", Password("sender1@kiln-a.test")));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r).at("status").as_string(), "unverified");
  const std::string one = senders + "/" + std::to_string(Json(r).at("id").as_int64());

  r = s.Action(one + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r).as_object();
  EXPECT_TRUE(v.at("smtp").at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("smtp").at("kind").as_string(), "ok");
  EXPECT_TRUE(v.at("imap").at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("sender").at("status").as_string(), "active");
  EXPECT_EQ(v.at("sender").at("status_reason").as_string(), "");
  EXPECT_EQ(r.body.find("secret-sender1"), std::string::npos) << "passwords are never answered";
  EXPECT_EQ(Json(s.Get(one)).at("status").as_string(), "active");

  // A wrong password: failed, naming each protocol's refusal.
  r = s.Post(senders, SenderBody("sender2@kiln-a.test", "not-the-password"));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string two = senders + "/" + std::to_string(Json(r).at("id").as_int64());
  r = s.Action(two + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  v = Json(r).as_object();
  EXPECT_FALSE(v.at("smtp").at("ok").as_bool());
  EXPECT_EQ(v.at("smtp").at("kind").as_string(), "auth");
  EXPECT_EQ(v.at("imap").at("kind").as_string(), "auth");
  EXPECT_EQ(v.at("sender").at("status").as_string(), "failed");
  std::string reason(v.at("sender").at("status_reason").as_string());
  EXPECT_NE(reason.find("SMTP: "), std::string::npos) << reason;
  EXPECT_NE(reason.find("IMAP: "), std::string::npos) << reason;
  EXPECT_NE(reason.find("rejected"), std::string::npos) << reason;

  // Fixing the passwords and verifying again makes it active.
  const std::string good = Password("sender2@kiln-a.test");
  r = s.Patch(two, json::serialize(json::object{{"smtp", {{"password", good}}},
                                                {"imap", {{"password", good}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  r = s.Action(two + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("sender").at("status").as_string(), "active") << r.body;

  // The check is audited with its outcome.
  r = s.Get(s.Ws() + "/audit-log?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  int verified = 0;
  const json::value log = Json(r);
  for (const auto& e : log.at("items").as_array()) {
    if (e.at("action").as_string() == "sender.verified") ++verified;
  }
  EXPECT_EQ(verified, 3) << r.body;
}

TEST_P(SendersVerifyApiTest, UnknownSenderAndOtherWorkspacesAreNotFound) {
  StartKiln();
  Session a = NewOwner("owner@kiln-a.test");
  Session b = NewOwner("owner@kiln-b.test");
  auto r = a.Post(a.Ws() + "/senders",
                  SenderBody("sender3@kiln-a.test", Password("sender3@kiln-a.test")));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = std::to_string(Json(r).at("id").as_int64());

  r = a.Action(a.Ws() + "/senders/999999/verify");
  EXPECT_EQ(r.status, 404) << r.body;
  r = a.Action(a.Ws() + "/senders/not-a-number/verify");
  EXPECT_EQ(r.status, 404) << r.body;
  // Workspace b cannot reach workspace a's sender, neither under its own id nor a's.
  r = b.Action(b.Ws() + "/senders/" + id + "/verify");
  EXPECT_EQ(r.status, 404) << r.body;
  r = b.Action(a.Ws() + "/senders/" + id + "/verify");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(Json(a.Get(a.Ws() + "/senders/" + id)).at("status").as_string(), "unverified");
}

INSTANTIATE_TEST_SUITE_P(Backends, SendersVerifyApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace
}  // namespace kiln::testing
