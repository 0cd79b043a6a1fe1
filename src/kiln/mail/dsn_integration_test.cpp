// A real oversize bounce, end to end: Kiln's SmtpClient submits a message to the mail stack's
// Postfix for small.test, whose "remote" MX (a second smtpd of the stack, see scripts/mailstack)
// announces a smaller SIZE; Postfix's smtp client bounces the message with an RFC 3464 DSN
// (5.3.4) into the sender's INBOX; Kiln's ImapInbox fetches it and Classify() reads it.
// Needs the running mail stack and its `env` exported (scripts/test does both). Every assertion
// is about the message this test sent (a unique Message-ID), never a mailbox's whole contents.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "kiln/base/clock.h"
#include "kiln/mail/classify.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/testing/mailstack.h"

namespace kiln::mail {
namespace {

using kiln::testing::Mailstack;
using std::chrono::milliseconds;

// The store's view of what we sent: knows exactly one Message-ID.
class OneSentMessage : public OurMessageLookup {
 public:
  explicit OneSentMessage(std::string id) : id_(std::move(id)) {}
  std::optional<OurMessageRef> FindByMessageId(std::string_view message_id) const override {
    if (message_id != id_) return std::nullopt;
    return OurMessageRef{id_, "message-1"};
  }
  std::optional<OurMessageRef> FindBySubjectAndCorrespondent(std::string_view,
                                                             std::string_view) const override {
    return std::nullopt;
  }

 private:
  std::string id_;
};

std::string UniqueId(const std::string& tag) {
  static std::mt19937_64 rng(std::random_device{}());
  return "kiln-dsn-" + tag + "-" + std::to_string(rng()) + "@kiln-a.test";
}

// A plain-text message of about `size` bytes with Message-ID <id>.
std::string Message(const std::string& from, const std::string& to, const std::string& id,
                    size_t size) {
  std::string m = "From: <" + from + ">\r\nTo: <" + to +
                  ">\r\nSubject: Our brochure\r\nMessage-ID: <" + id +
                  ">\r\nDate: Mon, 3 Jun 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
                  "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  while (m.size() < size) m += std::string(76, 'b') + "\r\n";
  return m;
}

class DsnIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = *stack;
    Status extras = stack_.Require("the oversize DSN test");
    ASSERT_TRUE(extras.ok()) << extras.ToString();
  }

  SmtpConfig Smtp(const std::string& user) const {
    SmtpConfig c;
    c.host = stack_.host;
    c.port = stack_.smtp_port;
    c.security = SmtpSecurity::kNone;
    c.username = user;
    c.secret = stack_.User(user).ok() ? stack_.User(user)->password : "";
    c.helo_name = "client.kiln.test";
    return c;
  }

  ImapConfig Imap(const std::string& user) const {
    ImapConfig c;
    c.host = stack_.host;
    c.port = stack_.imap_port;
    c.security = ImapSecurity::kNone;
    c.username = user;
    c.secret = stack_.User(user).ok() ? stack_.User(user)->password : "";
    c.connect_timeout = milliseconds(5000);
    c.io_timeout = milliseconds(20000);
    return c;
  }

  // Everything in INBOX now: the state to fetch after.
  static SyncState Drain(ImapInbox& inbox) {
    SyncState state;
    for (;;) {
      auto r = inbox.FetchSince("INBOX", state, 1000);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return state;
      state.uidvalidity = r->uidvalidity;
      if (!r->messages.empty()) state.last_uid = r->messages.back().uid;
      if (!r->more) return state;
    }
  }

  // Polls INBOX after `state` for a message from the mail system that quotes `id` (20 s).
  static std::optional<FetchedMessage> WaitForReport(ImapInbox& inbox, const SyncState& state,
                                                     const std::string& id) {
    for (int i = 0; i < 200; ++i) {
      auto r = inbox.FetchSince("INBOX", state);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return std::nullopt;
      for (FetchedMessage& m : r->messages) {
        if (m.raw.find(id) != std::string::npos && m.raw.find("MAILER-DAEMON") != std::string::npos)
          return std::move(m);
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return std::nullopt;
  }

  Mailstack stack_;
  SystemClock clock_;  // ImapInbox's timeouts; the test waits in real time on real servers
};

TEST_F(DsnIntegrationTest, OversizeMessageBouncesWithAnRfc3464ReportThatClassifies) {
  const std::string sender = "sender2@kiln-a.test";
  const std::string lead = "lead1@small.test";
  ImapInbox inbox(Imap(sender), clock_);
  Status connected = inbox.Connect();
  ASSERT_TRUE(connected.ok()) << connected.ToString();
  const SyncState start = Drain(inbox);

  // Bigger than small.test's limit, well under the submission limit: accepted now, bounced later.
  ASSERT_LT(stack_.small_size_limit + 100'000, stack_.size_limit);
  const std::string id = UniqueId("oversize");
  BlockingSmtpClient smtp(Smtp(sender));
  SendResult sent = smtp.Send(Envelope{sender, {lead}},
                              Message(sender, lead, id, stack_.small_size_limit + 60'000));
  ASSERT_EQ(sent.cls, SendResult::Class::kAccepted) << sent.reason;
  EXPECT_EQ(sent.code, 250);
  smtp.Close();

  std::optional<FetchedMessage> report = WaitForReport(inbox, start, id);
  ASSERT_TRUE(report.has_value()) << "no DSN for <" << id << "> in " << sender << "'s INBOX";
  auto parsed = ParseIncoming(report->raw);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->has_null_return_path);
  EXPECT_EQ(parsed->report_type, "delivery-status");

  OneSentMessage ours(id);
  Classification cl = Classify(*parsed, ours);
  ASSERT_EQ(cl.kind, IncomingKind::kBounce) << report->raw.substr(0, 3000);
  ASSERT_TRUE(cl.bounce.has_value());
  EXPECT_EQ(cl.bounce->format, "rfc3464");
  EXPECT_EQ(cl.bounce->original_message_id, id);
  ASSERT_EQ(cl.bounce->recipients.size(), 1u);
  const BouncedRecipient& r = cl.bounce->recipients[0];
  EXPECT_EQ(r.recipient, lead);
  EXPECT_EQ(r.status, "5.3.4");
  EXPECT_EQ(r.action, "failed");
  EXPECT_EQ(BounceReasonName(r.reason), "message_too_large") << r.diagnostic;
  EXPECT_TRUE(r.permanent);
  // The address is fine, the message was too big: never a suppression.
  EXPECT_FALSE(r.hard);
  EXPECT_NE(r.diagnostic.find("exceeds size limit " + std::to_string(stack_.small_size_limit)),
            std::string::npos)
      << r.diagnostic;
  // The engine finds the bounced message by the reported Message-ID.
  EXPECT_TRUE(ours.FindByMessageId(cl.bounce->original_message_id).has_value());
}

TEST_F(DsnIntegrationTest, SmallMessageToTheSameDomainIsRelayedAndDelivered) {
  // The counterpart of the oversize test: the relay path is real (smtp client -> second smtpd ->
  // LMTP), so a message under the limit arrives, through mx.small.test.
  const std::string sender = "sender2@kiln-a.test";
  const std::string lead = "lead2@small.test";
  const std::string id = UniqueId("small");
  BlockingSmtpClient smtp(Smtp(sender));
  SendResult sent = smtp.Send(Envelope{sender, {lead}}, Message(sender, lead, id, 4000));
  ASSERT_EQ(sent.cls, SendResult::Class::kAccepted) << sent.reason;
  auto delivered = stack_.WaitForMessage(lead, id, milliseconds(15000));
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_NE(delivered->find("by mx.small.test (Postfix)"), std::string::npos)
      << delivered->substr(0, 1500);
}

}  // namespace
}  // namespace kiln::mail
