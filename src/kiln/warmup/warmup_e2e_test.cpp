// The warm-up network end to end (issue 5 §8), on the real mail stack (scripts/mailstack: Postfix +
// Dovecot on 127.0.0.1) in virtual time: 3 senders and 6 bots on two domains run a week of warm-up
// through the real components — the queue manager (engine::Scheduler) with the real SMTP transport
// and DbWarmupSource, the BotRunner over IMAP (finds, rescues, opens, flags, answers; the senders'
// side finds the answers, continues threads and hides them), and the ReputationJob — driven by a
// FakeClock, day by day. All mail goes through the stack's junk filter port
// (KILN_MAILSTACK_JUNK_FILTER_PORT), where Postfix itself files the mail to some recipients
// (KILN_MAILSTACK_JUNK_FILTER_RCPTS: one bot on each domain and sender3) into Junk.
//
// Then everything is checked from the mailboxes themselves (the Maildirs): every warm-up mail
// arrived once; what the filter put in Junk (Delivered-To: user+Junk@...) was moved out of Junk
// and recorded as a rescue (spam placement); answers thread (In-Reply-To, References) and quote
// the mail they answer; each sender's daily count is its ramp (start + increase a day, at most its
// maximum, nothing on weekends for the weekdays-only sender) on its own calendar; no bot exceeds
// its aging volume or limits on its calendar; and the reputation numbers (inbox vs spam placement,
// replies) equal the counts made here from the mailboxes.
// Needs `scripts/mailstack start` and `eval "$(scripts/mailstack env)"`; runs on SQLite and, with
// KILN_TEST_PG_URL, on PostgreSQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kiln/auth/secret_box.h"
#include "kiln/domain/civil_time.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/worker.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/incoming.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/mailstack.h"
#include "kiln/warmup/bot_runner.h"
#include "kiln/warmup/reputation.h"
#include "kiln/warmup/source.h"

namespace kiln::warmup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFixtureSql = R"sql(
-- name: e2e_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('warm-up e2e', $1, $1) RETURNING id;
-- name: e2e_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     smtp_username, imap_host, imap_port, imap_security, imap_username,
                     allow_self_signed, status, daily_quota, warmup_enabled, timezone,
                     warmup_start_at, warmup_end_at, warmup_start_volume, warmup_daily_increase,
                     warmup_daily_target, warmup_weekdays_only, warmup_reply_rate_percent,
                     created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'starttls', $2, $4, $6, 'starttls', $2, 1, 'active', 50, 1, $7,
        $8, $9, $10, $11, $12, $13, $14, $8, $8)
RETURNING id;
-- name: e2e_test.sender_secrets
UPDATE senders SET smtp_secret = $2, imap_secret = $3 WHERE id = $1;
-- name: e2e_test.bot
INSERT INTO bots (workspace_id, name, email, provider, smtp_host, smtp_port, smtp_security,
                  smtp_username, imap_host, imap_port, imap_security, imap_username,
                  allow_self_signed, timezone, aging_start_at, aging_end_at, aging_start_volume,
                  daily_send_limit, daily_receive_limit, important_rate_percent,
                  reply_delay_min_minutes, reply_delay_max_minutes, status, created_at, updated_at)
VALUES ($1, $2, $3, 'self_hosted', $4, $5, 'starttls', $3, $4, $6, 'starttls', $3, 1, $7, $8, $9,
        $10, $11, $12, 30, 10, 50, 'active', $8, $8)
RETURNING id;
-- name: e2e_test.bot_secrets
UPDATE bots SET smtp_secret = $2, imap_secret = $3 WHERE id = $1;
-- name: e2e_test.rows
SELECT id, sender_id, bot_id, peer_sender_id, direction, thread_id, parent_id, exchange,
       message_id_header, status, placement, sent_at, delivered_at, opened_at, flagged_at,
       rescued_at, replied_at, error
FROM warmup_messages ORDER BY id;
)sql";

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// Monday 21 September 2026, 00:00 UTC: the week runs Monday to Sunday (UTC).
constexpr int64_t kMonday = 1'789'948'800'000;
#ifdef KILN_SANITIZED
constexpr int kDays = 4;  // the sanitizers make IMAP and SMTP several times slower
#else
constexpr int kDays = 7;
#endif

struct SenderSpec {
  std::string email;
  std::string zone;
  int start = 2;
  int increase = 1;
  int max = 5;
  bool weekdays_only = false;
  int reply_rate = 60;
};

struct BotSpec {
  std::string email;
  std::string zone;
  int start_volume = 3;
  int send_limit = 8;
  int receive_limit = 6;
  int aging_days = 7;
};

const std::vector<SenderSpec>& Senders() {
  static const auto* specs = new std::vector<SenderSpec>{
      {.email = "sender1@kiln-a.test", .zone = "UTC"},
      {.email = "sender2@kiln-a.test", .zone = "UTC", .weekdays_only = true},
      {.email = "sender3@kiln-a.test", .zone = "Europe/Berlin", .max = 4, .reply_rate = 80},
  };
  return *specs;
}

const std::vector<BotSpec>& Bots() {
  static const auto* specs = new std::vector<BotSpec>{
      {.email = "bot1@kiln-a.test", .zone = "UTC"},
      {.email = "bot2@kiln-a.test", .zone = "America/New_York"},
      {.email = "bot3@kiln-a.test", .zone = "UTC"},
      {.email = "bot4@kiln-b.test", .zone = "Asia/Tokyo"},
      {.email = "bot5@kiln-b.test", .zone = "UTC", .start_volume = 2, .send_limit = 6},
      {.email = "bot6@kiln-b.test", .zone = "UTC"},
  };
  return *specs;
}

// One message as it sits in a mailbox (a Maildir file).
struct StoredMail {
  std::string owner;          // the mailbox's address
  std::string folder;         // "INBOX", "Junk", "Kiln Warmup", ...
  std::string flags;          // Maildir info flags: S seen, F flagged, ...
  std::string delivered_to;   // Dovecot's Delivered-To: the envelope recipient after the filter
  mail::IncomingMessage msg;  // parsed
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string StripBrackets(std::string s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') return s.substr(1, s.size() - 2);
  return s;
}

// Calls fn(entry) for each entry under `dir` (recursively when `recursive`), never throwing:
// Dovecot renames and moves files while we list them, and a vanished entry is simply skipped.
template <typename Iterator, typename Fn>
void ForEachEntry(const fs::path& dir, Fn fn) {
  std::error_code ec;
  Iterator it(dir, ec);
  for (; !ec && it != Iterator(); it.increment(ec)) fn(*it);
}

// Every message of `wanted` (Message-IDs without brackets) in the Maildirs of `owners`, every
// folder. Files that vanish while listed (Dovecot renames new/ -> cur/ when a session opens a
// folder) are looked for again a few times.
std::multimap<std::string, StoredMail> ReadMailboxes(const testing::Mailstack& stack,
                                                     const std::vector<std::string>& owners,
                                                     const std::set<std::string>& wanted) {
  std::multimap<std::string, StoredMail> out;
  for (int attempt = 0; attempt < 5; ++attempt) {
    out.clear();
    bool vanished = false;
    for (const std::string& owner : owners) {
      const fs::path root = stack.MaildirPath(owner);
      std::vector<std::pair<std::string, fs::path>> folders = {{"INBOX", root}};
      ForEachEntry<fs::directory_iterator>(root, [&](const fs::directory_entry& entry) {
        const std::string name = entry.path().filename().string();
        std::error_code ec;
        if (entry.is_directory(ec) && name.size() > 1 && name[0] == '.') {
          folders.emplace_back(name.substr(1), entry.path());
        }
      });
      for (const auto& [folder, dir] : folders) {
        for (const char* sub : {"new", "cur"}) {
          ForEachEntry<fs::directory_iterator>(dir / sub, [&](const fs::directory_entry& file) {
            std::ifstream in(file.path(), std::ios::binary);
            if (!in) {
              vanished = true;
              return;
            }
            std::stringstream buffer;
            buffer << in.rdbuf();
            auto parsed = mail::ParseIncoming(buffer.str());
            if (!parsed.ok() || wanted.count(parsed->message_id) == 0) return;
            StoredMail m;
            m.owner = owner;
            m.folder = folder;
            const std::string name = file.path().filename().string();
            if (size_t info = name.find(":2,"); info != std::string::npos) {
              m.flags = name.substr(info + 3);
            }
            m.delivered_to = Lower(
                StripBrackets(mail::FirstHeader(parsed->headers, "Delivered-To").value_or("")));
            m.msg = std::move(parsed).value();
            std::string id = m.msg.message_id;
            out.emplace(std::move(id), std::move(m));
          });
        }
      }
    }
    if (!vanished) break;
  }
  return out;
}

class WarmupE2eTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto stack = testing::Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(stack).value();
    const char* port = std::getenv("KILN_MAILSTACK_JUNK_FILTER_PORT");
    const char* rcpts = std::getenv("KILN_MAILSTACK_JUNK_FILTER_RCPTS");
    ASSERT_TRUE(port != nullptr && rcpts != nullptr && std::atoi(port) > 0)
        << "KILN_MAILSTACK_JUNK_FILTER_PORT/_RCPTS are not set: the running mail stack predates "
           "the junk filter; restart it (scripts/mailstack stop; scripts/mailstack start) and "
           "eval \"$(scripts/mailstack env)\"";
    filter_port_ = std::atoi(port);
    std::istringstream words(rcpts);
    for (std::string w; words >> w;) junk_rcpts_.insert(Lower(w));
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/e2e_test.sql", std::string(kFixtureSql)});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto box = auth::SecretBox::FromKey(std::string(32, 'e'));
    ASSERT_TRUE(box.ok());
    box_.emplace(std::move(box).value());
  }

  std::string Sealed(const std::string& plain, const std::string& aad) {
    auto s = box_->Seal(plain, aad);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : std::string();
  }

  void CreateWorld() {
    const int64_t t0 = kMonday;
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("e2e_test.workspace", {t0}));
      ws_ = w.Int("id");
      for (const SenderSpec& s : Senders()) {
        KILN_ASSIGN_OR_RETURN(auto user, stack_.User(s.email));
        KILN_ASSIGN_OR_RETURN(
            auto row,
            tx.QueryRow("e2e_test.sender",
                        {ws_, s.email, "Warm " + s.email.substr(0, s.email.find('@')), stack_.host,
                         int64_t{filter_port_}, int64_t{stack_.imap_port}, s.zone, t0,
                         t0 + 30 * kDay, int64_t{s.start}, int64_t{s.increase}, int64_t{s.max},
                         int64_t{s.weekdays_only ? 1 : 0}, int64_t{s.reply_rate}}));
        const int64_t id = row.Int("id");
        const std::string prefix = "senders:" + std::to_string(id) + ":";
        KILN_RETURN_IF_ERROR(
            tx.Exec("e2e_test.sender_secrets",
                    {id, store::Blob{Sealed(user.password, prefix + "smtp_secret")},
                     store::Blob{Sealed(user.password, prefix + "imap_secret")}})
                .status());
        sender_ids_.push_back(id);
        address_of_sender_[id] = s.email;
      }
      for (const BotSpec& b : Bots()) {
        KILN_ASSIGN_OR_RETURN(auto user, stack_.User(b.email));
        KILN_ASSIGN_OR_RETURN(
            auto row,
            tx.QueryRow("e2e_test.bot", {ws_, "Bot " + b.email, b.email, stack_.host,
                                         int64_t{filter_port_}, int64_t{stack_.imap_port}, b.zone,
                                         t0, t0 + b.aging_days * kDay, int64_t{b.start_volume},
                                         int64_t{b.send_limit}, int64_t{b.receive_limit}}));
        const int64_t id = row.Int("id");
        const std::string prefix = "bots:" + std::to_string(id) + ":";
        KILN_RETURN_IF_ERROR(
            tx.Exec("e2e_test.bot_secrets",
                    {id, store::Blob{Sealed(user.password, prefix + "smtp_secret")},
                     store::Blob{Sealed(user.password, prefix + "imap_secret")}})
                .status());
        bot_ids_.push_back(id);
        address_of_bot_[id] = b.email;
      }
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::vector<store::Row> WarmupRows() {
    std::vector<store::Row> rows;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(rows, tx.Query("e2e_test.rows"));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  }

  // The address a row's mail was sent to.
  std::string RecipientOf(const store::Row& r) {
    if (r.Text("direction") == "back") return address_of_sender_[r.Int("sender_id")];
    return address_of_bot_[r.Int("bot_id")];
  }

  // Waits (real time: Postfix delivers asynchronously) until every sent row's mail is in its
  // recipient's mailbox. Each Maildir file is parsed once (by its unique base name, which Dovecot
  // keeps when it renames or moves the file).
  void WaitForDelivery() {
    std::set<std::string> wanted;
    for (const store::Row& r : WarmupRows()) {
      if (r.Text("status") == "sent") wanted.insert(StripBrackets(r.Text("message_id_header")));
    }
    if (wanted.size() == delivered_.size()) return;  // nothing new was sent
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<std::string> owners;
    for (const auto& [id, a] : address_of_sender_) owners.push_back(a);
    for (const auto& [id, a] : address_of_bot_) owners.push_back(a);
    while (true) {
      for (const std::string& owner : owners) {
        ForEachEntry<fs::recursive_directory_iterator>(
            stack_.MaildirPath(owner), [&](const fs::directory_entry& entry) {
              std::error_code ec;
              const std::string name = entry.path().filename().string();
              const std::string parent = entry.path().parent_path().filename().string();
              if ((parent != "new" && parent != "cur") || !entry.is_regular_file(ec)) return;
              const std::string base = name.substr(0, name.find(':'));
              if (id_of_file_.count(base) != 0) return;
              std::ifstream in(entry.path(), std::ios::binary);
              if (!in) return;  // renamed meanwhile: seen at the next pass
              std::string head, line;
              while (std::getline(in, line) && line != "\r" && !line.empty()) head += line + "\n";
              const mail::HeaderMap headers = mail::ParseHeaderBlock(head);
              const auto ids =
                  mail::ParseMessageIdList(mail::FirstHeader(headers, "Message-ID").value_or(""));
              id_of_file_[base] = ids.empty() ? "" : ids[0];
              if (!ids.empty() && wanted.count(ids[0]) != 0) delivered_.insert(ids[0]);
            });
      }
      if (delivered_.size() >= wanted.size()) return;
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "only " << delivered_.size() << " of " << wanted.size()
           << " sent warm-up mails arrived in 60 s";
  }

  std::map<std::string, std::string> id_of_file_;  // Maildir base name -> Message-ID
  std::set<std::string> delivered_;                // sent warm-up mail seen in a mailbox
  testing::Mailstack stack_;
  int filter_port_ = 0;
  std::set<std::string> junk_rcpts_;
  std::unique_ptr<store::Database> db_;
  std::optional<auth::SecretBox> box_;
  SystemClock real_clock_;
  testing::FakeClock clock_;
  domain::TimeZoneDatabase zones_;
  int64_t ws_ = 0;
  std::vector<int64_t> sender_ids_, bot_ids_;
  std::map<int64_t, std::string> address_of_sender_, address_of_bot_;
};

TEST_P(WarmupE2eTest, AWeekOfWarmupOnTheMailStack) {
  ASSERT_NO_FATAL_FAILURE(CreateWorld());
  const auto started = std::chrono::steady_clock::now();

  engine::SchedulerOptions so;
  so.worker_id = "e2e-engine";
  so.pacing = {.min_gap_ms = 60'000, .jitter_percent = 20};
  so.lease = Millis(3 * kDay);  // virtual hours pass between ticks while the bots work
  so.seed = 5;
  WarmupSourceOptions wo;
  wo.seed = 11;
  wo.pairing.peer_share_percent = 0;  // bots only: every mail has a bot on one end
  DbWarmupSource source(*db_, zones_, wo);
  so.warmup = &source;
  engine::Scheduler scheduler(*db_, clock_, zones_, engine::SmtpTransportFactory(*box_, {}),
                              std::move(so));
  BotRunnerOptions bo;
  bo.worker_id = "e2e-bots";
  // Each mailbox every 6 virtual hours (an IMAP scan costs ~0.1 s of real time here).
  bo.scan_interval = Millis(6 * kHour);
  bo.missing_after = Millis(14 * kHour);  // two scans may pass before a mail is found
  bo.lease = Millis(3 * kDay);
  BotRunner runner(*db_, clock_, real_clock_, *box_, zones_, bo);
  ReputationJob reputation(*db_, clock_, zones_);

  BotRunStats totals;
  std::chrono::duration<double> bots_time{0}, engine_time{0};
  auto run_bots = [&] {
    const auto t = std::chrono::steady_clock::now();
    auto stats = runner.RunOnce();
    bots_time += std::chrono::steady_clock::now() - t;
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->mailboxes_failed, 0);
    totals.rescued += stats->rescued;
    totals.replies_sent += stats->replies_sent;
    totals.replies_failed += stats->replies_failed;
    totals.replies_deferred += stats->replies_deferred;
    totals.hidden += stats->hidden;
    totals.missing += stats->missing;
  };

  // The week, in steps of 15 virtual minutes: the queue manager sends what is due (it spreads
  // each sender's day evenly), Postfix delivers (waited for in real time), the bot runner scans
  // the mailboxes that are due and sends the bots' answers that are due; the reputation job runs
  // every 6 hours. Then, with no new sends, the answers in flight are delivered and found.
  const int64_t week_end = kMonday + kDays * kDay;
  constexpr int64_t kStep = 15 * 60'000;
  clock_.Set(kMonday);
  int64_t next_reputation = kMonday;
  int warmup_sent = 0;
  while (clock_.NowMillis() < week_end) {
    const auto t = std::chrono::steady_clock::now();
    auto stats = scheduler.RunOnce();
    engine_time += std::chrono::steady_clock::now() - t;
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_EQ(stats->warmup_failed, 0) << "at " << clock_.NowMillis();
    warmup_sent += stats->warmup_sent;
    ASSERT_NO_FATAL_FAILURE(WaitForDelivery());
    ASSERT_NO_FATAL_FAILURE(run_bots());
    if (clock_.NowMillis() >= next_reputation) {
      auto rep = reputation.RunOnce();
      ASSERT_TRUE(rep.ok()) << rep.status().ToString();
      next_reputation += 6 * kHour;
      std::printf(
          "virtual %.2f days: %d warm-up mails sent, %.1f s\n",
          static_cast<double>(clock_.NowMillis() - kMonday) / kDay, warmup_sent,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      std::fflush(stdout);
    }
    // The next tick: in a step, or earlier when a sender's next send is due sooner (the queue
    // manager paces each day to end by the sender's midnight; a coarse tick would miss that).
    int64_t next = clock_.NowMillis() + kStep;
    for (int64_t id : sender_ids_) {
      if (auto at = scheduler.SenderNextSendAt(id); at && *at > clock_.NowMillis()) {
        next = std::min(next, *at);
      }
    }
    clock_.Set(next);
  }
  for (int i = 0; i < 36; ++i) {  // 9 virtual hours: a scan, answers, their scan
    ASSERT_NO_FATAL_FAILURE(WaitForDelivery());
    ASSERT_NO_FATAL_FAILURE(run_bots());
    clock_.Advance(Millis(kStep));
  }
  ASSERT_NO_FATAL_FAILURE(WaitForDelivery());
  ASSERT_NO_FATAL_FAILURE(run_bots());
  ASSERT_NO_FATAL_FAILURE(WaitForDelivery());  // the answers that last turn sent
  auto rep = reputation.RunOnce();
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_GT(warmup_sent, 0);
  const int64_t end = week_end;  // the reputation window: exactly the week
  std::printf("warm-up e2e: %d virtual days in %.1f s (bot runner %.1f s, queue manager %.1f s)\n",
              kDays,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              bots_time.count(), engine_time.count());

  // --- What the mailboxes hold. ---
  const std::vector<store::Row> rows = WarmupRows();
  std::set<std::string> wanted;
  std::map<std::string, const store::Row*> row_of;  // Message-ID (no brackets) -> row
  for (const store::Row& r : rows) {
    EXPECT_NE(r.Text("status"), "failed") << r.Int("id") << ": " << r.Text("error");
    if (r.Text("status") != "sent") continue;
    const std::string id = StripBrackets(r.Text("message_id_header"));
    wanted.insert(id);
    row_of[id] = &r;
  }
  std::vector<std::string> owners;
  for (const auto& [id, a] : address_of_sender_) owners.push_back(a);
  for (const auto& [id, a] : address_of_bot_) owners.push_back(a);
  const std::multimap<std::string, StoredMail> stored = ReadMailboxes(stack_, owners, wanted);
  std::map<std::string, const StoredMail*> mail_of;
  for (const std::string& id : wanted) {
    ASSERT_EQ(stored.count(id), 1u) << id << " should be in exactly one mailbox";
    mail_of[id] = &stored.find(id)->second;
  }

  // Per sender / bot, counted from the mailboxes.
  struct Count {
    int64_t sent = 0, inbox = 0, spam = 0, replied = 0;
  };
  std::map<int64_t, Count> by_sender, by_bot;
  std::map<std::pair<int64_t, int64_t>, int> sender_day, bot_received_day, bot_sent_day;
  std::map<std::string, std::string> sender_of_address, bot_of_address;
  for (const auto& [id, a] : address_of_sender_) sender_of_address[a] = std::to_string(id);
  for (const auto& [id, a] : address_of_bot_) bot_of_address[a] = std::to_string(id);
  auto zone_of = [&](const std::string& name) {
    auto z = zones_.Get(name);
    EXPECT_TRUE(z.ok()) << name;
    return *z;
  };
  auto local_day = [&](const std::string& zone, const StoredMail& m) {
    EXPECT_TRUE(m.msg.date.has_value()) << m.msg.message_id;
    return domain::DaysFromCivil(domain::DayAt(*zone_of(zone), ToUnixMillis(*m.msg.date)));
  };
  std::map<int64_t, std::string> sender_zone, bot_zone;
  for (size_t i = 0; i < Senders().size(); ++i) sender_zone[sender_ids_[i]] = Senders()[i].zone;
  for (size_t i = 0; i < Bots().size(); ++i) bot_zone[bot_ids_[i]] = Bots()[i].zone;

  int junk_landings = 0, threaded_replies = 0, continuations = 0, hidden = 0, flagged = 0;
  for (const auto& [id, m] : mail_of) {
    const store::Row& r = *row_of[id];
    const bool out = r.Text("direction") == "out";
    const int64_t sender = r.Int("sender_id");
    const int64_t bot = r.Int("bot_id");
    const std::string rcpt = out ? address_of_bot_[bot] : address_of_sender_[sender];
    const std::string from = out ? address_of_sender_[sender] : address_of_bot_[bot];
    EXPECT_EQ(m->owner, rcpt) << id;
    EXPECT_EQ(Lower(m->msg.from.email), from) << id;
    EXPECT_TRUE(mail::ExtractWarmupToken(m->msg).has_value()) << id << " lost its tag";
    ASSERT_TRUE(m->msg.date.has_value()) << id;
    const bool in_week = ToUnixMillis(*m->msg.date) < week_end;
    // Everything sent in the week was found by the receiving side; answers sent while the last
    // scans ran may not be yet.
    const bool found = !r.IsNull("delivered_at");
    EXPECT_TRUE(found || !in_week) << id << " was never found in " << rcpt;
    // The filter: Delivered-To names user+Junk@domain exactly for the filtered recipients.
    const bool landed_in_junk = m->delivered_to.find("+junk@") != std::string::npos;
    EXPECT_EQ(landed_in_junk, junk_rcpts_.count(rcpt) == 1) << id << " to " << rcpt;
    if (found) {
      if (landed_in_junk) ++junk_landings;
      // Nothing of ours stays in Junk: it was rescued, and recorded so.
      EXPECT_NE(m->folder, "Junk") << id << " was not rescued from " << rcpt;
      EXPECT_EQ(r.Text("placement"), landed_in_junk ? "spam" : "inbox") << id;
      EXPECT_EQ(r.IsNull("rescued_at"), !landed_in_junk) << id;
      EXPECT_NE(m->flags.find('S'), std::string::npos) << id << " was not marked read";
      if (out) {
        EXPECT_EQ(m->folder, "INBOX") << id;
        if (m->flags.find('F') != std::string::npos) ++flagged;
      } else {
        EXPECT_EQ(m->folder, std::string(kHiddenWarmupFolder)) << id << " was not hidden";
        ++hidden;
      }
    }
    // Threading: an answer points at the mail it answers, which is in the other mailbox, and
    // quotes it.
    if (r.Int("exchange") > 1) {
      ASSERT_FALSE(m->msg.in_reply_to.empty()) << id;
      auto parent = mail_of.find(m->msg.in_reply_to);
      ASSERT_NE(parent, mail_of.end()) << id << " answers " << m->msg.in_reply_to;
      const StoredMail& p = *parent->second;
      EXPECT_EQ(p.owner, from) << id;
      EXPECT_EQ(Lower(p.msg.from.email), rcpt) << id;
      EXPECT_NE(std::find(m->msg.references.begin(), m->msg.references.end(), p.msg.message_id),
                m->msg.references.end())
          << id;
      const std::string root = p.msg.references.empty() ? p.msg.message_id : p.msg.references[0];
      ASSERT_FALSE(m->msg.references.empty()) << id;
      EXPECT_EQ(m->msg.references[0], root) << id;
      EXPECT_EQ(m->msg.subject.rfind("Re: ", 0), 0u) << m->msg.subject;
      std::string first_line = p.msg.text_body.substr(0, p.msg.text_body.find('\n'));
      while (!first_line.empty() && first_line.back() == '\r') first_line.pop_back();
      EXPECT_NE(m->msg.text_body.find("wrote:\n> " + first_line), std::string::npos)
          << id << " does not quote " << p.msg.message_id << ":\n"
          << m->msg.text_body;
      if (out) {
        ++continuations;
      } else {
        ++threaded_replies;
        // The answer's row is what its parent's "replied" counts.
        const store::Row* parent_row = row_of[p.msg.message_id];
        ASSERT_NE(parent_row, nullptr);
        EXPECT_FALSE(parent_row->IsNull("replied_at")) << p.msg.message_id;
      }
    } else {
      EXPECT_TRUE(m->msg.in_reply_to.empty()) << id;
    }
    if (out) {
      EXPECT_TRUE(in_week) << id;
      Count& c = by_sender[sender];
      ++c.sent;
      ++(landed_in_junk ? c.spam : c.inbox);
      ++sender_day[{sender, local_day(sender_zone[sender], *m)}];
      ++bot_received_day[{bot, local_day(bot_zone[bot], *m)}];
    } else if (in_week) {
      Count& c = by_bot[bot];
      ++c.sent;
      ++(landed_in_junk ? c.spam : c.inbox);
      ++bot_sent_day[{bot, local_day(bot_zone[bot], *m)}];
    } else {
      ++bot_sent_day[{bot, local_day(bot_zone[bot], *m)}];
    }
  }
  // Replies per mail, from the mailboxes: a mail is answered when an answer to it arrived.
  for (const auto& [id, m] : mail_of) {
    if (m->msg.in_reply_to.empty()) continue;
    auto parent = mail_of.find(m->msg.in_reply_to);
    if (parent == mail_of.end()) continue;
    const store::Row& pr = *row_of[parent->first];
    if (pr.Text("direction") == "out") {
      ++by_sender[pr.Int("sender_id")].replied;
    } else {
      ++by_bot[pr.Int("bot_id")].replied;
    }
  }
  EXPECT_GT(junk_landings, 0);
  EXPECT_GT(threaded_replies, 0);
  EXPECT_GT(continuations, 0);
  EXPECT_EQ(totals.missing, 0);
  EXPECT_EQ(totals.replies_failed, 0);
  EXPECT_EQ(totals.rescued, junk_landings) << "each landing in Junk is rescued once";
  EXPECT_EQ(totals.hidden, hidden);
  EXPECT_GT(flagged, 0);

  // Each sender's day is its ramp: start + increase per day (weekdays only: weekdays), at most
  // its maximum, on its own calendar.
  for (size_t i = 0; i < Senders().size(); ++i) {
    const SenderSpec& s = Senders()[i];
    const int64_t id = sender_ids_[i];
    const int64_t first = domain::DaysFromCivil(domain::DayAt(*zone_of(s.zone), kMonday));
    int counted_days = 0;
    for (int d = 0; d < kDays; ++d) {
      const int64_t day = first + d;
      const bool weekend = domain::WeekdayFromDays(day) == 0 || domain::WeekdayFromDays(day) == 6;
      int expected = std::min(s.start + counted_days * s.increase, s.max);
      if (s.weekdays_only && weekend) {
        expected = 0;
      } else {
        ++counted_days;
      }
      EXPECT_EQ(sender_day[std::pair(id, day)], expected) << s.email << " on day " << d;
    }
  }
  // No bot exceeds its aging volume (its sends) or its receive limit, on its own calendar.
  for (size_t i = 0; i < Bots().size(); ++i) {
    const BotSpec& b = Bots()[i];
    const int64_t id = bot_ids_[i];
    const int64_t first = domain::DaysFromCivil(domain::DayAt(*zone_of(b.zone), kMonday));
    for (int64_t day = first - 1; day <= first + kDays; ++day) {
      const int64_t n = day - first;
      const int volume = n < 0 ? 0
                         : n >= b.aging_days
                             ? b.send_limit
                             : static_cast<int>(b.start_volume +
                                                (b.send_limit - b.start_volume) * n / b.aging_days);
      EXPECT_LE(bot_sent_day[std::pair(id, day)], volume) << b.email << " day " << n;
      EXPECT_LE(bot_received_day[std::pair(id, day)], std::min(volume, b.receive_limit))
          << b.email << " day " << n;
    }
  }

  // Reputation over the 7 days, as the job stored it, equals the counts from the mailboxes.
  auto check_reputation = [&](SubjectKind kind, int64_t id, const Count& c) {
    std::optional<ReputationReport> report;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      // One day more of history than the week: a subject's calendar may split the week's first
      // or last day (Berlin, New York, Tokyo).
      KILN_ASSIGN_OR_RETURN(report, LoadReputation(tx, kind, ws_, id, end, kDays + 1));
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(report.has_value());
    const std::string who = std::string(SubjectKindName(kind)) + " " + std::to_string(id);
    const WindowReport* week = nullptr;
    for (const WindowReport& w : report->windows) {
      if (w.days == 7) week = &w;
    }
    ASSERT_NE(week, nullptr);
    EXPECT_EQ(week->activity.warmup_sent, c.sent) << who;
    EXPECT_EQ(week->activity.inbox, c.inbox) << who;
    EXPECT_EQ(week->activity.spam, c.spam) << who;
    EXPECT_EQ(week->activity.other_folder, 0) << who;
    EXPECT_EQ(week->activity.missing, 0) << who;
    EXPECT_EQ(week->activity.warmup_replies, c.replied) << who;
    Rates rates = RatesOf(week->activity);
    if (c.sent > 0) {
      ASSERT_TRUE(rates.inbox.has_value() && rates.reply.has_value()) << who;
      EXPECT_DOUBLE_EQ(*rates.inbox, static_cast<double>(c.inbox) / c.sent) << who;
      EXPECT_DOUBLE_EQ(*rates.reply, static_cast<double>(c.replied) / c.sent) << who;
    }
    if (kind == SubjectKind::kSender) {
      // The history rows add up to the same numbers, and the stored health score is the
      // formula's over them (all of a sender's mail is in the week; a bot's answers may follow).
      int64_t daily_sent = 0, daily_spam = 0;
      for (const DailyReport& d : report->daily) {
        daily_sent += d.activity.warmup_sent;
        daily_spam += d.activity.spam;
      }
      EXPECT_EQ(daily_sent, c.sent) << who;
      EXPECT_EQ(daily_spam, c.spam) << who;
      Activity a;
      a.warmup_sent = c.sent;
      a.inbox = c.inbox;
      a.spam = c.spam;
      a.warmup_replies = c.replied;
      EXPECT_EQ(report->health_score, HealthOf(a).score) << who;
    }
    std::printf("%s: sent %lld, inbox %lld, spam %lld, replied %lld, score %d\n", who.c_str(),
                static_cast<long long>(c.sent), static_cast<long long>(c.inbox),
                static_cast<long long>(c.spam), static_cast<long long>(c.replied),
                report->health_score);
  };
  for (int64_t id : sender_ids_) check_reputation(SubjectKind::kSender, id, by_sender[id]);
  for (int64_t id : bot_ids_) check_reputation(SubjectKind::kBot, id, by_bot[id]);
}

INSTANTIATE_TEST_SUITE_P(Db, WarmupE2eTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::warmup
