// KilnMailstackApiFixture: KilnApiFixture (the real `kiln serve` per test, on SQLite or
// PostgreSQL) together with the environment's throwaway Postfix + Dovecot (scripts/mailstack), and
// the sender input that makes one of the stack's users a sender. For API tests that verify, send
// through or import mailboxes of the stack. Not thread-safe (one test at a time, like gtest).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "api_test_util.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {

class KilnMailstackApiFixture : public KilnApiFixture {
 protected:
  // Starts nothing itself: fails the test when scripts/mailstack's environment is missing.
  void SetUp() override {
    KilnApiFixture::SetUp();
    auto ms = Mailstack::FromEnv();
    ASSERT_TRUE(ms.ok()) << ms.status().ToString();
    ms_ = *ms;
  }

  // The sender input for the stack's user `email`: SMTP and IMAP on 127.0.0.1 with STARTTLS (the
  // stack's self-signed certificate allowed), logging in as `email` with `password` (the user's
  // own when empty), on the stack's ports unless others are given.
  boost::json::object StackSenderInput(const std::string& email, const std::string& password = "",
                                       uint16_t smtp_port = 0, uint16_t imap_port = 0) const {
    const std::string pw = password.empty() ? ms_.User(email).value().password : password;
    auto endpoint = [&](uint16_t port) {
      return boost::json::object{{"host", "127.0.0.1"},
                                 {"port", port},
                                 {"security", "starttls"},
                                 {"username", email},
                                 {"password", pw}};
    };
    return boost::json::object{{"name", email},
                               {"email", email},
                               {"from_name", "Kiln Test"},
                               {"allow_self_signed", true},
                               {"smtp", endpoint(smtp_port ? smtp_port : ms_.smtp_port)},
                               {"imap", endpoint(imap_port ? imap_port : ms_.imap_port)}};
  }

  // Adds that sender (expects 201) and answers its URL ("/api/v1/workspaces/{ws}/senders/{id}").
  std::string AddStackSender(Session& s, const std::string& email, const std::string& password = "",
                             uint16_t smtp_port = 0, uint16_t imap_port = 0) {
    auto r =
        s.Post(s.Ws() + "/senders",
               boost::json::serialize(StackSenderInput(email, password, smtp_port, imap_port)));
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return s.Ws() + "/senders/0";
    return s.Ws() + "/senders/" + std::to_string(Json(r).at("id").as_int64());
  }

  Mailstack ms_;
};

}  // namespace kiln::testing
