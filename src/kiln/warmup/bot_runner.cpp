#include "kiln/warmup/bot_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/warmup/content.h"

namespace kiln::warmup {
namespace {

constexpr std::string_view kInboxFolder = "INBOX";

// Salts of the per-message draws: each decision has its own stream, so that changing one rate
// does not change the others' outcomes.
enum Salt : uint64_t { kFlagSalt = 1, kReplySalt = 2, kDelaySalt = 3, kContentSalt = 4 };

int DrawPercent(int64_t row_id, Salt salt) {
  domain::Rng rng(domain::SeedOf(static_cast<uint64_t>(row_id), salt));
  return static_cast<int>(rng.Uniform(100));
}

int64_t DrawDelayMs(int64_t row_id, int min_minutes, int max_minutes) {
  domain::Rng rng(domain::SeedOf(static_cast<uint64_t>(row_id), kDelaySalt));
  return rng.UniformInRange(int64_t{min_minutes} * 60'000, int64_t{max_minutes} * 60'000);
}

std::string Bracketed(std::string_view id) { return "<" + std::string(id) + ">"; }

std::string DomainOf(std::string_view email) {
  size_t at = email.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(email.substr(at + 1));
}

std::string DisplayForm(const mail::Address& a) {
  if (a.name.empty()) return a.email;
  return a.name + " <" + a.email + ">";
}

Result<mail::ImapSecurity> ParseImapSecurity(std::string_view s, std::string_view who) {
  if (s == "tls") return mail::ImapSecurity::kTls;
  if (s == "starttls") return mail::ImapSecurity::kStartTls;
  if (s == "none") return mail::ImapSecurity::kNone;
  return Status::FailedPrecondition(std::string(who) + " has an unknown imap_security '" +
                                    std::string(s) + "'");
}

Result<mail::SmtpSecurity> ParseSmtpSecurity(std::string_view s, std::string_view who) {
  if (s == "tls") return mail::SmtpSecurity::kTls;
  if (s == "starttls") return mail::SmtpSecurity::kStartTls;
  if (s == "none") return mail::SmtpSecurity::kNone;
  return Status::FailedPrecondition(std::string(who) + " has an unknown smtp_security '" +
                                    std::string(s) + "'");
}

// Opens a sealed password column; an empty column is no password.
Result<std::string> OpenSecret(const auth::SecretBox& box, const store::Row& row,
                               std::string_view column, std::string_view table,
                               std::string_view who) {
  std::string sealed = row.IsNull(column) ? std::string() : row.Bytes(column);
  if (sealed.empty()) return std::string();
  std::string aad =
      std::string(table) + ":" + std::to_string(row.Int("id")) + ":" + std::string(column);
  auto plain = box.Open(sealed, aad);
  if (!plain.ok()) {
    return Status::FailedPrecondition("cannot unseal the " + std::string(column) + " of " +
                                      std::string(who) + ": " + plain.status().message());
  }
  return std::move(plain).value();
}

enum class OwnerKind { kBot, kSender };

std::string_view OwnerKindName(OwnerKind k) { return k == OwnerKind::kBot ? "bot" : "sender"; }

std::string TaskKey(OwnerKind kind, int64_t id) {
  return "warmup_scan:" + std::string(OwnerKindName(kind)) + ":" + std::to_string(id);
}

// One mailbox being scanned: its row and what the scan needs from it.
struct Mailbox {
  OwnerKind kind = OwnerKind::kBot;
  int64_t id = 0;
  std::string email;
  std::string display_name;  // for greetings in replies written from this mailbox
  std::string who;           // "bot 3 (bot1@kiln-b.test)", for messages
  store::Row row;
};

// A warmup_messages row as the receiving side reads it.
struct WarmupRow {
  int64_t id = 0;
  int64_t workspace_id = 0;
  int64_t sender_id = 0;
  std::optional<int64_t> bot_id;
  std::optional<int64_t> peer_sender_id;
  std::string direction;
  std::optional<int64_t> thread_id;
  int64_t exchange = 1;
  std::string token;
  std::string placement;
  bool delivered = false;
  bool opened = false;
  bool flagged = false;
  bool rescued = false;

  static WarmupRow From(const store::Row& r) {
    WarmupRow w;
    w.id = r.Int("id");
    w.workspace_id = r.Int("workspace_id");
    w.sender_id = r.Int("sender_id");
    w.bot_id = r.OptInt("bot_id");
    w.peer_sender_id = r.OptInt("peer_sender_id");
    w.direction = r.Text("direction");
    w.thread_id = r.OptInt("thread_id");
    w.exchange = r.Int("exchange");
    w.token = r.Text("token");
    w.placement = r.Text("placement");
    w.delivered = !r.IsNull("delivered_at");
    w.opened = !r.IsNull("opened_at");
    w.flagged = !r.IsNull("flagged_at");
    w.rescued = !r.IsNull("rescued_at");
    return w;
  }
};

// What this mailbox is to a matched row.
enum class Role {
  kNone,
  kCounterpart,  // the row's recipient as the warmed sender's counterpart (bot or peer)
  kOwner,        // the warmed sender receiving an answer
};

Role RoleOf(const Mailbox& box, const WarmupRow& w) {
  if (box.kind == OwnerKind::kBot) {
    return w.direction == "out" && w.bot_id == box.id ? Role::kCounterpart : Role::kNone;
  }
  if (w.direction == "out" && w.peer_sender_id == box.id) return Role::kCounterpart;
  if (w.direction == "back" && w.sender_id == box.id) return Role::kOwner;
  return Role::kNone;
}

// A reply decided while processing a message, written with the message's final records.
struct PlannedReply {
  std::string direction;
  int64_t scheduled_at = 0;
  std::string message_id_header;
  WarmupContent content;
};

}  // namespace

struct BotRunner::Impl {
  store::Database& db;
  const Clock& clock;
  const Clock& io_clock;
  const auth::SecretBox& secrets;
  domain::TimeZoneDatabase& zones;
  const BotRunnerOptions& options;
  std::map<int64_t, int> reply_rate_cache;  // warmed sender id -> warmup_reply_rate_percent
  std::string current_key;                  // the lease held while a mailbox is worked on

  Impl(store::Database& db_in, const Clock& clock_in, const Clock& io_clock_in,
       const auth::SecretBox& secrets_in, domain::TimeZoneDatabase& zones_in,
       const BotRunnerOptions& options_in)
      : db(db_in),
        clock(clock_in),
        io_clock(io_clock_in),
        secrets(secrets_in),
        zones(zones_in),
        options(options_in) {}

  // --- leases -------------------------------------------------------------------------------

  Result<bool> Claim(const std::string& key, int64_t workspace_id, OwnerKind kind, int64_t id) {
    bool held = false;
    KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
      const int64_t now = clock.NowMillis();
      std::string payload = "{\"owner_kind\":\"" + std::string(OwnerKindName(kind)) +
                            "\",\"owner_id\":" + std::to_string(id) + "}";
      KILN_RETURN_IF_ERROR(
          tx.Exec("botrun.task_ensure", {key, workspace_id, payload, now}).status());
      KILN_ASSIGN_OR_RETURN(
          int64_t n,
          tx.Exec("botrun.task_claim", {key, options.worker_id, now + options.lease.count(), now}));
      held = n == 1;
      return Status::Ok();
    }));
    return held;
  }

  // Extends the lease of the mailbox being scanned (a large first scan may outlast one lease).
  // Failure: Conflict when another worker took it meanwhile (the scan stops; its records so far
  // stand, and the other worker carries on from the saved position).
  Status Renew() {
    int64_t held = 0;
    KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
      const int64_t now = clock.NowMillis();
      KILN_ASSIGN_OR_RETURN(held, tx.Exec("botrun.task_renew", {current_key, options.worker_id,
                                                                now + options.lease.count(), now}));
      return Status::Ok();
    }));
    if (held == 1) return Status::Ok();
    return Status::Conflict("lost the lease " + current_key + " to another worker");
  }

  Status Release(const std::string& key, const Status& outcome) {
    return db.Write([&](store::Tx& tx) -> Status {
      const int64_t now = clock.NowMillis();
      return tx
          .Exec("botrun.task_release", {key, options.worker_id, now + options.scan_interval.count(),
                                        now, outcome.ok() ? std::string() : outcome.ToString()})
          .status();
    });
  }

  // --- mailboxes ----------------------------------------------------------------------------

  Result<std::optional<Mailbox>> LoadMailbox(OwnerKind kind, int64_t id) {
    std::optional<Mailbox> out;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row, tx.QueryOne(kind == OwnerKind::kBot ? "botrun.bot" : "botrun.sender", {id}));
      if (!row || row->Text("status") != "active") return Status::Ok();
      Mailbox box{.kind = kind, .id = id, .email = row->Text("email"), .row = *row};
      box.display_name = kind == OwnerKind::kBot ? row->Text("name") : row->Text("from_name");
      if (box.display_name.empty() && kind == OwnerKind::kSender)
        box.display_name = row->Text("name");
      box.who =
          std::string(OwnerKindName(kind)) + " " + std::to_string(id) + " (" + box.email + ")";
      out = std::move(box);
      return Status::Ok();
    }));
    return out;
  }

  Result<mail::ImapConfig> ImapConfigOf(const Mailbox& box) {
    const store::Row& r = box.row;
    mail::ImapConfig c;
    c.host = r.Text("imap_host");
    c.port = static_cast<uint16_t>(r.Int("imap_port"));
    KILN_ASSIGN_OR_RETURN(c.security, ParseImapSecurity(r.Text("imap_security"), box.who));
    c.username = r.Text("imap_username").empty() ? box.email : r.Text("imap_username");
    const std::string_view table = box.kind == OwnerKind::kBot ? "bots" : "senders";
    KILN_ASSIGN_OR_RETURN(c.secret, OpenSecret(secrets, r, "imap_secret", table, box.who));
    if (c.secret.empty()) {
      return Status::FailedPrecondition(
          box.who + " has no IMAP password" +
          (r.IsNull("oauth_provider") ? std::string()
                                      : " (its OAuth access token is not available to warm-up)"));
    }
    c.allow_self_signed = r.Bool("allow_self_signed");
    c.connect_timeout = options.imap_connect_timeout;
    c.io_timeout = options.imap_io_timeout;
    c.max_message_bytes = options.max_message_bytes;
    return c;
  }

  Result<mail::SmtpConfig> SmtpConfigOf(const Mailbox& box) {
    const store::Row& r = box.row;
    mail::SmtpConfig c;
    c.host = r.Text("smtp_host");
    c.port = static_cast<uint16_t>(r.Int("smtp_port"));
    KILN_ASSIGN_OR_RETURN(c.security, ParseSmtpSecurity(r.Text("smtp_security"), box.who));
    c.username = r.Text("smtp_username").empty() ? box.email : r.Text("smtp_username");
    KILN_ASSIGN_OR_RETURN(c.secret, OpenSecret(secrets, r, "smtp_secret", "bots", box.who));
    c.allow_self_signed = r.Bool("allow_self_signed");
    c.helo_name = options.helo_name;
    c.timeouts = options.smtp_timeouts;
    return c;
  }

  Status MarkBotFailed(const Mailbox& box, const std::string& reason) {
    spdlog::warn("warm-up: {} marked failed: {}", box.who, reason);
    return db.Write([&](store::Tx& tx) -> Status {
      return tx.Exec("botrun.bot_failed", {box.id, reason, clock.NowMillis()}).status();
    });
  }

  // The whole turn of one mailbox, its lease held.
  Status RunMailbox(OwnerKind kind, int64_t id, BotRunStats& stats) {
    KILN_ASSIGN_OR_RETURN(auto loaded, LoadMailbox(kind, id));
    if (!loaded) return Status::Ok();  // paused or removed since it was listed
    const Mailbox& box = *loaded;
    auto imap = ImapConfigOf(box);
    if (!imap.ok()) {
      if (kind == OwnerKind::kBot)
        KILN_RETURN_IF_ERROR(MarkBotFailed(box, imap.status().message()));
      return imap.status();
    }
    mail::ImapInbox inbox(std::move(imap).value(), io_clock);
    if (Status st = inbox.Connect(); !st.ok()) {
      if (kind == OwnerKind::kBot && st.code() == Status::Code::kUnauthenticated) {
        KILN_RETURN_IF_ERROR(MarkBotFailed(box, "IMAP login refused: " + st.message()));
      }
      return st.WithContext(box.who);
    }
    Status scanned = ScanMailbox(inbox, box, stats);
    inbox.Disconnect();
    KILN_RETURN_IF_ERROR(scanned.WithContext(box.who));
    if (kind == OwnerKind::kBot) {
      KILN_RETURN_IF_ERROR(SendDueReplies(box, stats).WithContext(box.who));
    }
    return db.Write([&](store::Tx& tx) -> Status {
      return tx
          .Exec(kind == OwnerKind::kBot ? "botrun.bot_checked" : "botrun.sender_checked",
                {id, clock.NowMillis()})
          .status();
    });
  }

  // --- scanning -----------------------------------------------------------------------------

  Status ScanMailbox(mail::ImapInbox& inbox, const Mailbox& box, BotRunStats& stats) {
    std::vector<std::pair<std::string, bool>> folders;  // name, is junk
    auto junk = inbox.FindFolder(mail::FolderRole::kJunk);
    if (junk.ok()) {
      folders.emplace_back(*junk, true);
    } else if (junk.status().code() != Status::Code::kNotFound) {
      return junk.status();
    }
    // Junk first: what is rescued from it is then seen in INBOX in the same turn, already done.
    folders.emplace_back(std::string(kInboxFolder), false);
    bool hidden_folder_ready = false;
    for (const auto& [folder, is_junk] : folders) {
      KILN_RETURN_IF_ERROR(
          ScanFolder(inbox, box, folder, is_junk, &hidden_folder_ready, stats).WithContext(folder));
    }
    return Status::Ok();
  }

  Result<mail::SyncState> LoadScanState(const Mailbox& box, const std::string& folder) {
    mail::SyncState state;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row,
          tx.QueryOne("botrun.scan_state", {std::string(OwnerKindName(box.kind)), box.id, folder}));
      if (row) {
        state.uidvalidity = static_cast<uint32_t>(row->Int("uidvalidity"));
        state.last_uid = static_cast<uint32_t>(row->Int("last_uid"));
      }
      return Status::Ok();
    }));
    return state;
  }

  Status PutScanState(store::Tx& tx, const Mailbox& box, const std::string& folder,
                      const mail::SyncState& state) {
    return tx
        .Exec("botrun.scan_state_put",
              {std::string(OwnerKindName(box.kind)), box.id, folder, int64_t{state.uidvalidity},
               int64_t{state.last_uid}, clock.NowMillis()})
        .status();
  }

  Status ScanFolder(mail::ImapInbox& inbox, const Mailbox& box, const std::string& folder,
                    bool is_junk, bool* hidden_folder_ready, BotRunStats& stats) {
    KILN_ASSIGN_OR_RETURN(mail::SyncState state, LoadScanState(box, folder));
    while (true) {
      KILN_ASSIGN_OR_RETURN(mail::FetchResult fetched,
                            inbox.FetchSince(folder, state, options.fetch_batch));
      if (fetched.uidvalidity_changed) {
        spdlog::info("warm-up: {} folder {} has a new UIDVALIDITY ({} -> {}): rescanning", box.who,
                     folder, state.uidvalidity, fetched.uidvalidity);
        state.last_uid = 0;
      }
      const bool position_moved = fetched.uidvalidity != state.uidvalidity;
      state.uidvalidity = fetched.uidvalidity;
      // Messages that are not ours leave no record: their position is saved with the next
      // record, or at the end of the batch (a crash only re-reads them).
      bool unsaved = position_moved;
      for (const mail::FetchedMessage& m : fetched.messages) {
        mail::SyncState after{fetched.uidvalidity, m.uid};
        KILN_ASSIGN_OR_RETURN(bool recorded, ProcessMessage(inbox, box, folder, is_junk, m, after,
                                                            hidden_folder_ready, stats));
        state = after;
        unsaved = !recorded;
      }
      if (unsaved) {
        KILN_RETURN_IF_ERROR(
            db.Write([&](store::Tx& tx) { return PutScanState(tx, box, folder, state); }));
      }
      if (!fetched.more) return Status::Ok();
      KILN_RETURN_IF_ERROR(Renew());
    }
  }

  Result<int> ReplyRateOf(int64_t sender_id) {
    auto it = reply_rate_cache.find(sender_id);
    if (it != reply_rate_cache.end()) return it->second;
    int rate = 0;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("botrun.sender", {sender_id}));
      rate = row ? static_cast<int>(row->Int("warmup_reply_rate_percent")) : 0;
      return Status::Ok();
    }));
    reply_rate_cache[sender_id] = rate;
    return rate;
  }

  // The answer `box` writes to `original` (row `w`), or nullopt when the thread ends here or the
  // draw says no. The row's id seeds every choice.
  Result<std::optional<PlannedReply>> PlanReply(const Mailbox& box, Role role, const WarmupRow& w,
                                                const mail::IncomingMessage& original,
                                                int64_t now) {
    if (w.exchange >= ThreadTargetExchanges(w.token)) return std::optional<PlannedReply>();
    int min_minutes = options.peer_reply_delay_min_minutes;
    int max_minutes = options.peer_reply_delay_max_minutes;
    if (role == Role::kCounterpart) {
      KILN_ASSIGN_OR_RETURN(int rate, ReplyRateOf(w.sender_id));
      if (DrawPercent(w.id, kReplySalt) >= rate) return std::optional<PlannedReply>();
      if (box.kind == OwnerKind::kBot) {
        min_minutes = static_cast<int>(box.row.Int("reply_delay_min_minutes"));
        max_minutes = static_cast<int>(box.row.Int("reply_delay_max_minutes"));
      }
    }
    PlannedReply reply;
    reply.direction = role == Role::kCounterpart ? "back" : "out";
    reply.scheduled_at = now + DrawDelayMs(w.id, min_minutes, max_minutes);
    reply.message_id_header = Bracketed(mail::GenerateMessageId(DomainOf(box.email)));
    Original quoted{.subject = original.subject,
                    .text_body = original.text_body,
                    .from = DisplayForm(original.from),
                    .date = original.date.value_or(FromUnixMillis(now))};
    reply.content = ReplyContent(domain::SeedOf(static_cast<uint64_t>(w.id), kContentSalt),
                                 {.from_name = box.display_name, .to_name = original.from.name},
                                 w.token, quoted);
    return std::optional<PlannedReply>(std::move(reply));
  }

  Status EnsureHiddenFolder(mail::ImapInbox& inbox, bool* ready) {
    if (*ready) return Status::Ok();
    Status created = inbox.CreateFolder(kHiddenWarmupFolder);
    if (!created.ok() && created.code() != Status::Code::kAlreadyExists) {
      return created.WithContext("creating folder \"" + std::string(kHiddenWarmupFolder) + "\"");
    }
    *ready = true;
    return Status::Ok();
  }

  // Handles one fetched message. Returns whether its scan position was saved with its records.
  Result<bool> ProcessMessage(mail::ImapInbox& inbox, const Mailbox& box, const std::string& folder,
                              bool is_junk, const mail::FetchedMessage& m,
                              const mail::SyncState& after, bool* hidden_folder_ready,
                              BotRunStats& stats) {
    if (m.too_large || m.raw.empty()) return false;
    auto parsed = mail::ParseIncoming(m.raw);
    if (!parsed.ok()) return false;
    std::optional<std::string> token = mail::ExtractWarmupToken(*parsed);
    if (!token || parsed->message_id.empty()) return false;

    std::optional<WarmupRow> found;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row, tx.QueryOne("botrun.message_by_header", {Bracketed(parsed->message_id)}));
      if (row) found = WarmupRow::From(*row);
      return Status::Ok();
    }));
    if (!found || found->token != *token) return false;
    WarmupRow& w = *found;
    const Role role = RoleOf(box, w);
    if (role == Role::kNone) return false;
    ++stats.found;

    // 1. Delivery, before any change in the mailbox: the placement is where it was found.
    const std::string placement =
        is_junk ? "spam" : (folder == kInboxFolder ? "inbox" : "other_folder");
    if (!w.delivered) {
      KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
        return tx.Exec("botrun.mark_delivered", {w.id, clock.NowMillis(), placement}).status();
      }));
      w.delivered = true;
      w.placement = placement;
      ++stats.delivered;
    }

    // 2. The mailbox's actions (flags first: they travel with a moved message).
    const bool want_flag = role == Role::kCounterpart && box.kind == OwnerKind::kBot &&
                           DrawPercent(w.id, kFlagSalt) < box.row.Int("important_rate_percent");
    if (!m.seen) KILN_RETURN_IF_ERROR(inbox.SetSeen(folder, m.uid, true));
    if (want_flag && !m.flagged) KILN_RETURN_IF_ERROR(inbox.SetFlagged(folder, m.uid, true));

    const int64_t now = clock.NowMillis();
    std::optional<PlannedReply> reply;
    KILN_ASSIGN_OR_RETURN(bool answered, HasReply(w.id));
    if (!answered) {
      KILN_ASSIGN_OR_RETURN(reply, PlanReply(box, role, w, *parsed, now));
    }

    bool moved_out_of_junk = false;
    bool hidden = false;
    // A sender's mailbox has an owner who reads it: warm-up mail leaves their sight, whether
    // it answers the sender's own mail or comes from a peer.
    if (box.kind == OwnerKind::kSender && options.hide_from_owner) {
      KILN_RETURN_IF_ERROR(EnsureHiddenFolder(inbox, hidden_folder_ready));
      KILN_RETURN_IF_ERROR(inbox.Move(m.uid, folder, kHiddenWarmupFolder));
      hidden = true;
      moved_out_of_junk = is_junk;
    } else if (is_junk) {
      KILN_RETURN_IF_ERROR(inbox.Move(m.uid, folder, kInboxFolder));
      moved_out_of_junk = true;
    }
    // Found out of Junk while recorded as spam: a move whose record a crash prevented.
    const bool rescued = !w.rescued && w.placement == "spam" && (moved_out_of_junk || !is_junk);

    // 3. The records, with the scan position.
    KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(int64_t opened, tx.Exec("botrun.mark_opened", {w.id, now}));
      stats.opened += static_cast<int>(opened);
      if (want_flag) {
        KILN_ASSIGN_OR_RETURN(int64_t flagged, tx.Exec("botrun.mark_flagged", {w.id, now}));
        stats.flagged += static_cast<int>(flagged);
      }
      if (rescued) {
        KILN_ASSIGN_OR_RETURN(int64_t n, tx.Exec("botrun.mark_rescued", {w.id, now}));
        stats.rescued += static_cast<int>(n);
      }
      if (reply) {
        KILN_ASSIGN_OR_RETURN(
            auto inserted,
            tx.Query("botrun.reply_insert",
                     {w.workspace_id, w.sender_id, w.bot_id, w.peer_sender_id, reply->direction,
                      w.thread_id.value_or(w.id), w.id, w.exchange + 1, w.token,
                      reply->message_id_header, reply->content.subject, reply->scheduled_at, now}));
        for (const store::Row& row : inserted) {
          KILN_RETURN_IF_ERROR(
              tx.Exec("warmup.set_bodies",
                      {row.Int("id"), reply->content.text_body, reply->content.html_body})
                  .status());
        }
        stats.replies_scheduled += static_cast<int>(inserted.size());
      }
      return PutScanState(tx, box, folder, after);
    }));
    if (hidden) ++stats.hidden;
    return true;
  }

  Result<bool> HasReply(int64_t id) {
    bool has = false;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("botrun.reply_of", {id}));
      has = !rows.empty();
      return Status::Ok();
    }));
    return has;
  }

  // --- the bot's replies --------------------------------------------------------------------

  // The bot's sending limit today and the bounds of its day.
  Result<std::pair<int, domain::DayBounds>> BotDay(const Mailbox& box, int64_t now) {
    const store::Row& r = box.row;
    // An unknown zone (the API checks only a name's shape) counts as UTC, as the sending side
    // (source.h) and the reputation job count that bot's day: failing here would leave its
    // answers unsent for good.
    auto zone = zones.Get(r.Text("timezone"));
    if (!zone.ok()) {
      spdlog::warn("warm-up: {}: {}; its day runs on UTC", box.who, zone.status().message());
      zone = zones.Get("UTC");
      if (!zone.ok()) return zone.status().WithContext(box.who + ": time zone");
    }
    const domain::CivilDate today = domain::DayAt(**zone, now);
    const domain::DayBounds bounds = domain::DayBoundsOf(**zone, today);
    const int max_volume = static_cast<int>(r.Int("daily_send_limit"));
    if (max_volume <= 0) return std::pair{0, bounds};
    domain::BotAging aging;
    aging.start_date = domain::DayAt(**zone, r.Int("aging_start_at"));
    aging.aging_end_date =
        r.IsNull("aging_end_at") ? aging.start_date : domain::DayAt(**zone, r.Int("aging_end_at"));
    aging.aging_end_date = std::max(aging.aging_end_date, aging.start_date);
    aging.max_volume = max_volume;
    aging.start_volume = std::clamp(static_cast<int>(r.Int("aging_start_volume")), 1, max_volume);
    return std::pair{domain::BotDailyVolume(aging, today), bounds};
  }

  Status SendDueReplies(const Mailbox& box, BotRunStats& stats) {
    const int64_t start = clock.NowMillis();
    KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
      return tx
          .Exec("botrun.replies_lapsed",
                {box.id, start, "caught mid-send by a crash or a lost lease; not resent"})
          .status();
    }));
    std::vector<store::Row> due;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          due, tx.Query("botrun.replies_due",
                        {box.id, start, static_cast<int64_t>(options.replies_per_turn)}));
      return Status::Ok();
    }));
    if (due.empty()) return Status::Ok();
    auto smtp_config = SmtpConfigOf(box);
    if (!smtp_config.ok()) {  // the bot's settings are unusable until someone fixes them
      KILN_RETURN_IF_ERROR(MarkBotFailed(box, smtp_config.status().message()));
      return smtp_config.status();
    }
    const mail::SmtpConfig& smtp = *smtp_config;
    std::optional<mail::BlockingSmtpClient> client;
    Status outcome;
    for (const store::Row& r : due) {
      const int64_t now = clock.NowMillis();
      KILN_ASSIGN_OR_RETURN(auto day, BotDay(box, now));
      const int limit = day.first;
      const domain::DayBounds bounds = day.second;
      const int64_t id = r.Int("id");
      bool claimed = false, over_limit = false;
      KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
        claimed = over_limit = false;
        KILN_ASSIGN_OR_RETURN(auto count, tx.QueryRow("botrun.bot_sends_between",
                                                      {box.id, bounds.start_ms, bounds.end_ms}));
        if (count.Int("n") >= limit) {
          over_limit = true;
          return tx.Exec("botrun.reply_defer", {id, bounds.end_ms, now}).status();
        }
        KILN_ASSIGN_OR_RETURN(int64_t n, tx.Exec("botrun.reply_claim", {id, now}));
        claimed = n == 1;
        return Status::Ok();
      }));
      if (over_limit) {
        ++stats.replies_deferred;
        continue;
      }
      if (!claimed) continue;

      mail::OutgoingMessage msg;
      msg.from = {box.display_name, box.email};
      msg.to = {{r.Text("to_name"), r.Text("to_email")}};
      msg.subject = r.Text("subject");
      msg.text_body = r.Text("text_body");
      msg.html_body = r.Text("html_body");
      msg.message_id = mail::NormalizeMessageId(r.Text("message_id_header"));
      msg.date = FromUnixMillis(now);
      msg.in_reply_to = mail::NormalizeMessageId(r.Text("parent_header"));
      KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(
            auto refs, tx.Query("botrun.thread_headers", {r.Text("token"), r.Int("exchange")}));
        for (const store::Row& ref : refs) {
          msg.references.push_back(mail::NormalizeMessageId(ref.Text("message_id_header")));
        }
        return Status::Ok();
      }));
      msg.extra_headers.emplace_back(std::string(mail::kWarmupHeader), r.Text("token"));

      mail::SendResult result;
      auto data = mail::ComposeMessage(msg);
      if (!data.ok()) {
        result.cls = mail::SendResult::Class::kPermanent;
        result.reason = "cannot compose the reply: " + data.status().ToString();
      } else {
        if (!client) client.emplace(smtp);
        result = client->Send(mail::DefaultEnvelope(msg), *data);
      }
      const int64_t done = clock.NowMillis();
      KILN_RETURN_IF_ERROR(db.Write([&](store::Tx& tx) -> Status {
        if (result.ok()) {
          KILN_RETURN_IF_ERROR(
              tx.Exec("botrun.reply_sent", {id, done, result.code, result.text}).status());
          return tx.Exec("botrun.parent_replied", {r.Int("parent_id"), done}).status();
        }
        return tx.Exec("botrun.reply_failed", {id, done, result.code, result.text, result.reason})
            .status();
      }));
      if (result.ok()) {
        ++stats.replies_sent;
        continue;
      }
      ++stats.replies_failed;
      spdlog::warn("warm-up: {} reply {} failed: {}", box.who, id, result.reason);
      if (result.cls == mail::SendResult::Class::kSenderProblem) {
        outcome = MarkBotFailed(box, "SMTP: " + result.reason);
        if (outcome.ok()) outcome = Status::FailedPrecondition("SMTP: " + result.reason);
        break;
      }
    }
    if (client) client->Close();
    return outcome;
  }

  // --- the pass -----------------------------------------------------------------------------

  struct Listed {
    OwnerKind kind;
    int64_t id;
    int64_t workspace_id;
  };

  Result<std::vector<Listed>> ListMailboxes() {
    std::vector<Listed> out;
    KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto bots, tx.Query("botrun.active_bots"));
      for (const auto& r : bots)
        out.push_back({OwnerKind::kBot, r.Int("id"), r.Int("workspace_id")});
      KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("botrun.warmup_senders"));
      for (const auto& r : senders) {
        out.push_back({OwnerKind::kSender, r.Int("id"), r.Int("workspace_id")});
      }
      return Status::Ok();
    }));
    return out;
  }
};

BotRunner::BotRunner(store::Database& db, const Clock& clock, const Clock& io_clock,
                     const auth::SecretBox& secrets, domain::TimeZoneDatabase& zones,
                     BotRunnerOptions options)
    : options_(std::move(options)) {
  impl_ = std::make_unique<Impl>(db, clock, io_clock, secrets, zones, options_);
}

BotRunner::~BotRunner() = default;

Result<BotRunStats> BotRunner::RunOnce() {
  BotRunStats stats;
  impl_->reply_rate_cache.clear();
  KILN_RETURN_IF_ERROR(impl_->db.Write([&](store::Tx& tx) -> Status {
    const int64_t now = impl_->clock.NowMillis();
    KILN_ASSIGN_OR_RETURN(
        int64_t n, tx.Exec("botrun.mark_missing", {now, now - options_.missing_after.count()}));
    stats.missing = static_cast<int>(n);
    return Status::Ok();
  }));
  KILN_ASSIGN_OR_RETURN(auto mailboxes, impl_->ListMailboxes());
  for (const auto& [kind, id, workspace_id] : mailboxes) {
    const std::string key = TaskKey(kind, id);
    KILN_ASSIGN_OR_RETURN(bool held, impl_->Claim(key, workspace_id, kind, id));
    if (!held) continue;
    impl_->current_key = key;
    Status st = impl_->RunMailbox(kind, id, stats);
    ++stats.mailboxes_scanned;
    if (!st.ok()) {
      ++stats.mailboxes_failed;
      spdlog::warn("warm-up: scan of {} {} failed: {}", OwnerKindName(kind), id, st.ToString());
    }
    KILN_RETURN_IF_ERROR(impl_->Release(key, st));
  }
  return stats;
}

Status BotRunner::ReleaseLeases() {
  return impl_->db.Write([&](store::Tx& tx) -> Status {
    return tx.Exec("botrun.task_release_all", {options_.worker_id, impl_->clock.NowMillis()})
        .status();
  });
}

void RunBotRunner(BotRunner& runner, Millis tick, const std::function<bool(Millis)>& wait_or_stop) {
  while (true) {
    auto stats = runner.RunOnce();
    if (!stats.ok()) {
      spdlog::error("warm-up: bot runner pass failed: {}", stats.status().ToString());
    } else if (stats->found + stats->replies_sent + stats->missing > 0) {
      spdlog::info(
          "warm-up: {} mailbox(es) scanned, {} warm-up message(s) found ({} delivered, {} "
          "rescued, {} hidden), {} repl(ies) scheduled, {} sent, {} failed, {} deferred, {} "
          "missing",
          stats->mailboxes_scanned, stats->found, stats->delivered, stats->rescued, stats->hidden,
          stats->replies_scheduled, stats->replies_sent, stats->replies_failed,
          stats->replies_deferred, stats->missing);
    }
    if (wait_or_stop(tick)) break;
  }
  if (Status st = runner.ReleaseLeases(); !st.ok()) {
    spdlog::warn("warm-up: releasing the mailbox leases failed: {}", st.ToString());
  }
}

}  // namespace kiln::warmup
