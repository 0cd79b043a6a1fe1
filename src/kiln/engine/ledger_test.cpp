// Ledger and DeliverMessage on every database backend: claim -> send -> record, exactly once,
// and the `unknown` rule for a claim whose worker vanished.
#include "kiln/engine/ledger.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "kiln/engine/delivery.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::engine {
namespace {

using ::kiln::testing::FakeClock;

// Rows a message needs to exist (test-only queries).
constexpr std::string_view kFixtureSql = R"sql(
-- name: engine_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: engine_test.campaign
INSERT INTO campaigns (workspace_id, name, status, created_at, updated_at)
VALUES ($1, 'c', 'running', $2, $2) RETURNING id;
-- name: engine_test.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)
RETURNING id;
-- name: engine_test.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4) RETURNING id;
-- name: engine_test.sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, created_at,
                     updated_at)
VALUES ($1, $2, '127.0.0.1', 25, 'none', $3, $3) RETURNING id;
-- name: engine_test.message_count
SELECT COUNT(*) AS n FROM messages WHERE campaign_id = $1;
)sql";

// A fake Transport: answers each Send with the next scripted result (accepted when the script is
// empty) and records what it was given.
class ScriptedFakeTransport final : public mail::Transport {
 public:
  std::deque<mail::SendResult> script;
  std::vector<std::string> sent_data;

  boost::asio::awaitable<mail::SendResult> Send(const mail::Envelope&,
                                                std::string_view data) override {
    sent_data.emplace_back(data);
    mail::SendResult r;
    if (!script.empty()) {
      r = script.front();
      script.pop_front();
    } else {
      r.cls = mail::SendResult::Class::kAccepted;
      r.code = 250;
      r.enhanced = "2.0.0";
      r.text = "Ok: queued as ABC";
    }
    co_return r;
  }
  boost::asio::awaitable<void> Close() override { co_return; }
};

mail::SendResult Scripted(mail::SendResult::Class cls, int code, std::string enhanced,
                          mail::SmtpFailure failure, std::string reason) {
  mail::SendResult r;
  r.cls = cls;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.failure = failure;
  r.reason = std::move(reason);
  r.text = r.reason;
  return r;
}

class LedgerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/engine_test.sql", std::string(kFixtureSql)});
    auto db = kiln::testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    const int64_t now = clock_.NowMillis();
    ASSERT_TRUE(
        db_->Write([&](store::Tx& tx) -> Status {
             KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("engine_test.workspace", {now}));
             key_.workspace_id = w.Int("id");
             KILN_ASSIGN_OR_RETURN(auto c,
                                   tx.QueryRow("engine_test.campaign", {key_.workspace_id, now}));
             key_.campaign_id = c.Int("id");
             KILN_ASSIGN_OR_RETURN(auto p, tx.QueryRow("engine_test.contact",
                                                       {key_.workspace_id, "lead@x.test", now}));
             key_.contact_id = p.Int("id");
             KILN_ASSIGN_OR_RETURN(
                 auto s,
                 tx.QueryRow("engine_test.step", {key_.workspace_id, key_.campaign_id, 0, now}));
             key_.step_id = s.Int("id");
             KILN_ASSIGN_OR_RETURN(
                 auto snd,
                 tx.QueryRow("engine_test.sender", {key_.workspace_id, "s@kiln-a.test", now}));
             sender_id_ = snd.Int("id");
             return Status::Ok();
           })
            .ok());
  }

  ClaimDetails Details() const {
    ClaimDetails d;
    d.sender_id = sender_id_;
    d.subject = "Hello";
    d.message_id_header = "<m1@kiln-a.test>";
    return d;
  }

  int64_t MessageCount() {
    int64_t n = -1;
    EXPECT_TRUE(db_->Read([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(
                         auto row, tx.QueryRow("engine_test.message_count", {key_.campaign_id}));
                     n = row.Int("n");
                     return Status::Ok();
                   })
                    .ok());
    return n;
  }

  Result<Delivery> Deliver(Ledger& ledger, int64_t id) {
    return DeliverMessage(ledger, id, Details(), envelope_, "Subject: Hello\r\n\r\nHi\r\n",
                          transport_, io_, backoff_, rng_, clock_);
  }

  FakeClock clock_;
  std::unique_ptr<store::Database> db_;
  MessageKey key_;
  int64_t sender_id_ = 0;
  ScriptedFakeTransport transport_;
  boost::asio::io_context io_;
  domain::BackoffPolicy backoff_{
      .base_delay_ms = 60'000, .max_delay_ms = 3'600'000, .jitter_percent = 0, .max_attempts = 3};
  domain::Rng rng_{42};
  mail::Envelope envelope_{"s@kiln-a.test", {"lead@x.test"}};
};

TEST_P(LedgerTest, ScheduleIsIdempotentPerCampaignContactStep) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto first = ledger.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, MessageStatus::kScheduled);
  auto again = ledger.Schedule(key_, std::nullopt, std::nullopt, clock_.NowMillis() + 5);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(MessageCount(), 1);
}

TEST_P(LedgerTest, OnlyOneWorkerWinsTheClaim) {
  Ledger w1(*db_, clock_, "w1", Millis(600'000));
  Ledger w2(*db_, clock_, "w2", Millis(600'000));
  auto m = w1.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  auto a = w1.Claim(m->id, Details());
  auto b = w2.Claim(m->id, Details());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a);
  EXPECT_FALSE(*b);
  auto rec = w1.Get(m->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, MessageStatus::kSending);
  EXPECT_EQ(rec->claimed_by, "w1");
  EXPECT_EQ(rec->lease_until, clock_.NowMillis() + 600'000);
  EXPECT_EQ(rec->attempts, 1);
  // The loser cannot settle the winner's claim.
  Status s = w2.RecordSent(m->id, {});
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("claimed by 'w1'"), std::string::npos) << s.message();
}

TEST_P(LedgerTest, DeliverSendsOnceAndRecordsTheResult) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto m = ledger.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  auto d = Deliver(ledger, m->id);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->outcome, DeliveryOutcome::kSent);
  auto again = Deliver(ledger, m->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, DeliveryOutcome::kNotClaimed);
  EXPECT_EQ(transport_.sent_data.size(), 1u);
  auto rec = ledger.Get(m->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, MessageStatus::kSent);
  EXPECT_EQ(rec->sent_at, clock_.NowMillis());
  EXPECT_FALSE(rec->lease_until.has_value());
}

TEST_P(LedgerTest, TransientFailureRetriesWithBackoffThenGivesUp) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto m = ledger.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  for (int i = 0; i < 3; ++i) {
    transport_.script.push_back(Scripted(mail::SendResult::Class::kTransient, 451, "4.3.0",
                                         mail::SmtpFailure::kRecipients, "451 try later"));
  }
  auto d1 = Deliver(ledger, m->id);
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  EXPECT_EQ(d1->outcome, DeliveryOutcome::kRetry);
  auto rec = ledger.Get(m->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, MessageStatus::kRetry);
  EXPECT_EQ(rec->next_attempt_at, clock_.NowMillis() + 60'000);  // no jitter: the base delay
  // Not due yet: no claim, no send.
  auto early = Deliver(ledger, m->id);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->outcome, DeliveryOutcome::kNotClaimed);
  EXPECT_EQ(transport_.sent_data.size(), 1u);

  clock_.Advance(Millis(60'000));
  auto d2 = Deliver(ledger, m->id);
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(ledger.Get(m->id)->next_attempt_at, clock_.NowMillis() + 120'000);  // doubled

  clock_.Advance(Millis(120'000));
  auto d3 = Deliver(ledger, m->id);
  ASSERT_TRUE(d3.ok());
  EXPECT_EQ(d3->outcome, DeliveryOutcome::kFailed);  // max_attempts = 3
  rec = ledger.Get(m->id);
  EXPECT_EQ(rec->status, MessageStatus::kFailed);
  EXPECT_NE(rec->error.find("gave up after 3 attempts"), std::string::npos) << rec->error;
  EXPECT_EQ(transport_.sent_data.size(), 3u);
}

TEST_P(LedgerTest, RefusedRecipientIsABounce) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto m = ledger.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  transport_.script.push_back(Scripted(mail::SendResult::Class::kPermanent, 550, "5.1.1",
                                       mail::SmtpFailure::kRecipients,
                                       "recipient <lead@x.test> rejected: 550 5.1.1 no such user"));
  auto d = Deliver(ledger, m->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outcome, DeliveryOutcome::kBounced);
  auto rec = ledger.Get(m->id);
  EXPECT_EQ(rec->status, MessageStatus::kBounced);
  EXPECT_NE(rec->error.find("5.1.1"), std::string::npos);
}

TEST_P(LedgerTest, SenderProblemKeepsTheMessageForLater) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto m = ledger.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  transport_.script.push_back(Scripted(mail::SendResult::Class::kSenderProblem, 535, "5.7.8",
                                       mail::SmtpFailure::kAuth, "authentication rejected"));
  auto d = Deliver(ledger, m->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outcome, DeliveryOutcome::kSenderProblem);
  EXPECT_EQ(ledger.Get(m->id)->status, MessageStatus::kRetry);
}

// The crash rule: a claim whose worker died is marked unknown after the lease and never resent.
TEST_P(LedgerTest, LapsedClaimBecomesUnknownAndIsNeverResent) {
  Ledger dead(*db_, clock_, "dead-worker", Millis(600'000));
  auto m = dead.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(*dead.Claim(m->id, Details()));  // ... and the process dies here.

  Ledger next(*db_, clock_, "w2", Millis(600'000));
  clock_.Advance(Millis(599'999));
  auto reaped = next.ReapLapsed();
  ASSERT_TRUE(reaped.ok()) << reaped.status().ToString();
  EXPECT_EQ(*reaped, 0);  // the lease still runs
  clock_.Advance(Millis(2));
  reaped = next.ReapLapsed();
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, 1);
  auto rec = next.Get(m->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, MessageStatus::kUnknown);
  EXPECT_NE(rec->error.find("dead-worker"), std::string::npos) << rec->error;
  EXPECT_EQ(*next.CountUnknown(key_.workspace_id, key_.campaign_id), 1);

  // Neither scheduling again nor delivering resends it.
  auto again = next.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, MessageStatus::kUnknown);
  auto d = Deliver(next, m->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outcome, DeliveryOutcome::kNotClaimed);
  EXPECT_TRUE(transport_.sent_data.empty());
  clock_.Advance(Millis(86'400'000));
  EXPECT_EQ(*next.ReapLapsed(), 0);
  EXPECT_EQ(next.Get(m->id)->status, MessageStatus::kUnknown);
}

// A slow worker whose claim was reaped still records the truth when the server accepted it.
TEST_P(LedgerTest, SlowWorkerSettlesItsReapedClaim) {
  Ledger slow(*db_, clock_, "slow", Millis(1'000));
  auto m = slow.Schedule(key_, std::nullopt, sender_id_, clock_.NowMillis());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(*slow.Claim(m->id, Details()));
  clock_.Advance(Millis(5'000));
  Ledger reaper(*db_, clock_, "reaper", Millis(1'000));
  EXPECT_EQ(*reaper.ReapLapsed(), 1);
  ASSERT_TRUE(slow.RecordSent(m->id, {.code = 250}).ok());
  EXPECT_EQ(slow.Get(m->id)->status, MessageStatus::kSent);
  EXPECT_EQ(*reaper.CountUnknown(key_.workspace_id, key_.campaign_id), 0);
}

// ScheduleAndClaim: one transaction creates and claims; the details see the stored message (its
// id); a second call finds it claimed and does not call for details again; a failing details
// function writes nothing.
TEST_P(LedgerTest, ScheduleAndClaimIsOneTransactionAndOnlyOneWins) {
  Ledger w1(*db_, clock_, "w1", Millis(600'000));
  Ledger w2(*db_, clock_, "w2", Millis(600'000));
  auto refused = w1.ScheduleAndClaim(key_, std::nullopt, sender_id_, clock_.NowMillis(),
                                     [](const MessageRecord&) -> Result<ClaimDetails> {
                                       return Status::InvalidArgument("no tracking key");
                                     });
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no tracking key"), std::string::npos);
  EXPECT_EQ(MessageCount(), 0);  // rolled back with the claim

  int64_t seen_id = 0;
  auto first = w1.ScheduleAndClaim(key_, std::nullopt, sender_id_, clock_.NowMillis(),
                                   [&](const MessageRecord& m) -> Result<ClaimDetails> {
                                     EXPECT_EQ(m.status, MessageStatus::kScheduled);
                                     seen_id = m.id;
                                     return Details();
                                   });
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->claimed);
  EXPECT_EQ(first->message.id, seen_id);
  EXPECT_EQ(first->message.status, MessageStatus::kSending);
  EXPECT_EQ(first->message.attempts, 1);
  auto stored = w1.Get(seen_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, MessageStatus::kSending);
  EXPECT_EQ(stored->claimed_by, "w1");
  EXPECT_EQ(stored->attempts, 1);
  EXPECT_EQ(stored->message_id_header, "<m1@kiln-a.test>");
  EXPECT_EQ(stored->lease_until, clock_.NowMillis() + 600'000);

  bool asked = false;
  auto second = w2.ScheduleAndClaim(key_, std::nullopt, sender_id_, clock_.NowMillis(),
                                    [&](const MessageRecord&) -> Result<ClaimDetails> {
                                      asked = true;
                                      return Details();
                                    });
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->claimed);
  EXPECT_FALSE(asked);
  EXPECT_EQ(second->message.claimed_by, "w1");
  EXPECT_EQ(MessageCount(), 1);
}

// The writes a caller adds to a record commit with it, or neither does (the claim stays, to be
// reaped as unknown, never resent).
TEST_P(LedgerTest, RecordAndTheCallersWritesCommitTogether) {
  Ledger ledger(*db_, clock_, "w1", Millis(600'000));
  auto claim = ledger.ScheduleAndClaim(key_, std::nullopt, sender_id_, clock_.NowMillis(),
                                       [&](const MessageRecord&) { return Details(); });
  ASSERT_TRUE(claim.ok() && claim->claimed);
  const int64_t id = claim->message.id;
  mail::SendResult accepted;
  accepted.cls = mail::SendResult::Class::kAccepted;
  accepted.code = 250;
  auto failed = RecordDelivery(ledger, id, 1, accepted, backoff_, rng_, clock_,
                               [](store::Tx&, const Delivery& d) -> Status {
                                 EXPECT_EQ(d.outcome, DeliveryOutcome::kSent);
                                 return Status::Internal("lead update failed");
                               });
  ASSERT_FALSE(failed.ok());
  auto still = ledger.Get(id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, MessageStatus::kSending);  // nothing of the record was kept

  int calls = 0;
  auto recorded =
      RecordDelivery(ledger, id, 1, accepted, backoff_, rng_, clock_,
                     [&](store::Tx& tx, const Delivery&) -> Status {
                       ++calls;
                       // Inside the record's transaction: the message is sent.
                       KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("engine.message_get", {id}));
                       EXPECT_EQ(row.Text("status"), "sent");
                       return Status::Ok();
                     });
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(recorded->outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ledger.Get(id)->status, MessageStatus::kSent);
}

INSTANTIATE_TEST_SUITE_P(Db, LedgerTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

}  // namespace
}  // namespace kiln::engine
