#include "kiln/engine/inbox_watcher.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <utility>

#include "kiln/domain/email_address.h"
#include "kiln/mail/classify.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/incoming.h"

namespace kiln::engine {

namespace json = boost::json;

namespace {

// One of our sent messages, as matching finds it.
struct OurMessage {
  int64_t id = 0;
  int64_t campaign_id = 0;
  int64_t contact_id = 0;
  std::string message_id_header;  // "<...>"
  std::string thread_root_header;
  std::string subject;
  std::string contact_email;
  int64_t sent_at = 0;
};

OurMessage OurMessageFrom(const store::Row& r) {
  OurMessage m;
  m.id = r.Int("id");
  m.campaign_id = r.Int("campaign_id");
  m.contact_id = r.Int("contact_id");
  m.message_id_header = r.Text("message_id_header");
  m.thread_root_header = r.Text("thread_root_header");
  m.subject = r.Text("subject");
  m.contact_email = r.Text("contact_email");
  m.sent_at = r.OptInt("sent_at").value_or(0);
  return m;
}

std::string Bracketed(std::string_view id) { return "<" + std::string(id) + ">"; }

// Our messages, looked up inside the transaction that records the incoming one. The classifier
// wants a lookup that cannot fail: a database error is kept and checked after classifying.
class TxLookup final : public mail::OurMessageLookup {
 public:
  TxLookup(store::Tx& tx, int64_t workspace_id, int64_t sender_id, int64_t sent_before)
      : tx_(tx), ws_(workspace_id), sender_id_(sender_id), sent_before_(sent_before) {}

  std::optional<mail::OurMessageRef> FindByMessageId(std::string_view message_id) const override {
    if (message_id.empty() || !error_.ok()) return std::nullopt;
    const std::string header = Bracketed(message_id);
    auto row = tx_.QueryOne("inbox.our_message_by_header", {ws_, header});
    if (!row.ok()) return Fail(row.status());
    if (!*row) {
      row = tx_.QueryOne("inbox.our_message_by_root", {ws_, header});
      if (!row.ok()) return Fail(row.status());
      if (!*row) return std::nullopt;
    }
    return Remember(OurMessageFrom(**row), std::string(message_id));
  }

  std::optional<mail::OurMessageRef> FindBySubjectAndCorrespondent(
      std::string_view normalized_subject, std::string_view correspondent) const override {
    auto rows = SentTo(correspondent);
    if (!rows) return std::nullopt;
    for (const OurMessage& m : *rows) {
      if (mail::NormalizeSubject(m.subject).subject == normalized_subject) {
        return Remember(m, mail::NormalizeMessageId(m.message_id_header));
      }
    }
    return std::nullopt;
  }

  // This sender's messages to `address` (lower-cased), newest first; nullopt on a database error.
  std::optional<std::vector<OurMessage>> SentTo(std::string_view address) const {
    if (address.empty() || !error_.ok()) return std::nullopt;
    auto rows = tx_.Query("inbox.our_messages_to",
                          {ws_, sender_id_, mail::AsciiLower(address), sent_before_});
    if (!rows.ok()) {
      error_ = rows.status();
      return std::nullopt;
    }
    std::vector<OurMessage> out;
    for (const store::Row& r : *rows) out.push_back(OurMessageFrom(r));
    return out;
  }

  const OurMessage* Get(const mail::OurMessageRef& ref) const {
    auto it = found_.find(ref.key);
    return it == found_.end() ? nullptr : &it->second;
  }
  const Status& error() const { return error_; }

 private:
  std::optional<mail::OurMessageRef> Fail(const Status& st) const {
    error_ = st;
    return std::nullopt;
  }
  mail::OurMessageRef Remember(OurMessage m, std::string message_id) const {
    std::string key = std::to_string(m.id);
    found_[key] = std::move(m);
    return {std::move(message_id), std::move(key)};
  }

  store::Tx& tx_;
  int64_t ws_;
  int64_t sender_id_;
  int64_t sent_before_;
  mutable Status error_;
  mutable std::map<std::string, OurMessage> found_;
};

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string Bounded(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// The ledger key of a message: its Message-ID, else the hash of its bytes.
std::string InboundKey(const mail::IncomingMessage& msg, std::string_view raw) {
  if (!msg.message_id.empty()) return Bracketed(msg.message_id);
  return "sha256:" + Sha256Hex(raw);
}

std::string HtmlBody(const mail::IncomingMessage& msg) {
  for (const mail::IncomingPart& p : msg.parts) {
    if (p.content_type == "text/html" && p.disposition != "attachment") return p.text;
  }
  return "";
}

// The address as suppression stores it (normalised and lower-cased; as given when it no longer
// normalises, so that it is suppressed rather than skipped).
std::string SuppressionKey(std::string_view address) {
  auto normalized = domain::NormalizeEmailAddress(address);
  return domain::EmailKey(normalized.ok() ? *normalized : std::string(address));
}

struct Incoming {
  const mail::FetchedMessage* fetched = nullptr;
  std::string folder;
  mail::IncomingMessage msg;
  std::string key;
  int64_t received_at = 0;
};

enum class Outcome { kIgnored, kDuplicate, kReply, kAutoReply, kBounce, kComplaint };

}  // namespace

InboxFactory ImapInboxFactory(const auth::SecretBox& box, const Clock& clock) {
  return [&box, &clock](const WatchedSender& s) -> Result<std::unique_ptr<mail::Inbox>> {
    mail::ImapConfig c;
    c.host = s.imap_host;
    c.port = static_cast<uint16_t>(s.imap_port);
    if (s.imap_security == "tls") {
      c.security = mail::ImapSecurity::kTls;
    } else if (s.imap_security == "starttls") {
      c.security = mail::ImapSecurity::kStartTls;
    } else if (s.imap_security == "none") {
      c.security = mail::ImapSecurity::kNone;
    } else {
      return Status::FailedPrecondition("sender " + s.email + " has an unknown imap_security '" +
                                        s.imap_security + "'");
    }
    c.username = s.imap_username.empty() ? s.email : s.imap_username;
    c.allow_self_signed = s.allow_self_signed;
    const bool oauth = !s.oauth_provider.empty();
    c.auth = oauth ? mail::ImapAuth::kXOAuth2 : mail::ImapAuth::kPassword;
    if (!s.imap_secret_sealed.empty()) {
      const std::string field = oauth ? "oauth_secret" : "imap_secret";
      auto secret = box.Open(s.imap_secret_sealed, "senders:" + std::to_string(s.id) + ":" + field);
      if (!secret.ok()) {
        return Status::FailedPrecondition(
            "cannot unseal the " + std::string(oauth ? "OAuth token" : "IMAP password") +
            " of sender " + s.email + ": " + secret.status().message());
      }
      c.secret = std::move(secret).value();
    }
    return std::unique_ptr<mail::Inbox>(std::make_unique<mail::ImapInbox>(std::move(c), clock));
  };
}

// One sender's poll in progress.
struct InboxWatcher::Poll {
  const WatchedSender& sender;
  mail::Inbox& inbox;
  bool lease_lost = false;
  Status db_error;  // the database failed: the poll stops and the tick fails
};

InboxWatcher::InboxWatcher(store::Database& db, const Clock& clock, InboxFactory inboxes,
                           InboxWatcherOptions options)
    : db_(db), clock_(clock), inboxes_(std::move(inboxes)), options_(std::move(options)) {}

InboxWatcher::~InboxWatcher() { ReleaseSenders(); }

void InboxWatcher::ReleaseSenders() {
  Status st = db_.Write([&](store::Tx& tx) -> Status {
    return tx.Exec("inbox.watch_release_all", {options_.worker_id}).status();
  });
  if (!st.ok()) spdlog::warn("inbox: releasing mailbox leases failed: {}", st.ToString());
}

Result<WatchStats> InboxWatcher::RunOnce() {
  mailbox_errors_.clear();
  WatchStats stats;
  const int64_t now = clock_.NowMillis();
  std::vector<WatchedSender> due;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto rows,
        tx.Query("inbox.senders_due", {now, options_.worker_id, options_.max_senders_per_tick}));
    for (const store::Row& r : rows) {
      WatchedSender s;
      s.id = r.Int("id");
      s.workspace_id = r.Int("workspace_id");
      s.email = r.Text("email");
      s.imap_host = r.Text("imap_host");
      s.imap_port = static_cast<int>(r.Int("imap_port"));
      s.imap_security = r.Text("imap_security");
      s.imap_username = r.Text("imap_username");
      s.oauth_provider = r.OptText("oauth_provider").value_or("");
      s.allow_self_signed = r.Bool("allow_self_signed");
      s.created_at = r.Int("created_at");
      // OAuth senders keep their access token in oauth_secret.
      const char* secret = s.oauth_provider.empty() ? "imap_secret" : "oauth_secret";
      if (!r.IsNull(secret)) s.imap_secret_sealed = r.Bytes(secret);
      due.push_back(std::move(s));
    }
    return Status::Ok();
  }));
  for (WatchedSender& s : due) {
    bool claimed = false;
    KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
      const int64_t t = clock_.NowMillis();
      KILN_RETURN_IF_ERROR(tx.Exec("inbox.watch_ensure", {s.id, s.workspace_id, t}).status());
      KILN_ASSIGN_OR_RETURN(
          int64_t n,
          tx.Exec("inbox.watch_claim", {s.id, options_.worker_id, t + options_.lease.count(), t}));
      claimed = n == 1;
      return Status::Ok();
    }));
    if (!claimed) continue;
    ++stats.senders_polled;
    KILN_RETURN_IF_ERROR(PollSender(s, stats));
  }
  return stats;
}

Status InboxWatcher::PollSender(const WatchedSender& sender, WatchStats& stats) {
  std::string problem;        // kept in inbox_watch.last_error
  std::string sender_reason;  // shown on the sender ("IMAP: ..."); empty: clear ours
  bool logged_in = false;
  Status db_error;
  auto inbox = inboxes_(sender);
  if (!inbox.ok()) {
    problem = inbox.status().message();
    sender_reason = std::string(kImapReasonPrefix) + problem;
  } else {
    Status st = (*inbox)->Connect();
    if (st.code() == Status::Code::kUnauthenticated) {
      problem = "login refused: " + st.message();
      sender_reason = std::string(kImapReasonPrefix) + problem;
    } else if (!st.ok()) {
      problem = "cannot connect: " + st.message();  // transient: the sender stays as it is
    } else {
      logged_in = true;
      Poll poll{sender, **inbox};
      std::vector<std::string> folders;
      auto inbox_folder = (*inbox)->FindFolder(mail::FolderRole::kInbox);
      folders.push_back(inbox_folder.ok() ? *inbox_folder : "INBOX");
      auto junk = (*inbox)->FindFolder(mail::FolderRole::kJunk);
      if (junk.ok() && *junk != folders.front()) folders.push_back(*junk);
      for (const std::string& folder : folders) {
        Status fs = PollFolder(poll, folder, stats);
        if (!poll.db_error.ok()) {
          db_error = poll.db_error;
          break;
        }
        if (!fs.ok()) {
          if (!problem.empty()) problem += "; ";
          problem += folder + ": " + fs.message();
        }
        if (poll.lease_lost || !(*inbox)->IsConnected()) break;
      }
      (*inbox)->Disconnect();
    }
  }
  if (!problem.empty()) {
    ++stats.mailbox_errors;
    mailbox_errors_.push_back(sender.email + ": " + std::string(kImapReasonPrefix) + problem);
  }
  const int64_t now = clock_.NowMillis();
  Status st = db_.Write([&](store::Tx& tx) -> Status {
    if (!sender_reason.empty()) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.sender_set_reason", {sender.id, Bounded(sender_reason, 500), now})
              .status());
    } else if (logged_in) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.sender_clear_reason", {sender.id, std::string(kImapReasonPrefix), now})
              .status());
    }
    return tx
        .Exec("inbox.watch_done", {sender.id, options_.worker_id, now,
                                   now + options_.poll_interval.count(), Bounded(problem, 1000)})
        .status();
  });
  if (!db_error.ok()) return db_error;
  return st;
}

namespace {

// Records the effects of one classified message. Runs inside the message's transaction; returns
// what it was (kIgnored: nothing to record; the caller then rolls nothing back, there is nothing).
class Recorder {
 public:
  Recorder(store::Tx& tx, const WatchedSender& sender, const Incoming& in,
           const InboxWatcherOptions& options, int64_t now)
      : tx_(tx), sender_(sender), in_(in), options_(options), now_(now) {}

  Result<Outcome> Record() {
    const mail::IncomingMessage& msg = in_.msg;
    if (mail::IsKilnWarmup(msg)) return Outcome::kIgnored;
    TxLookup lookup(tx_, sender_.workspace_id, sender_.id,
                    in_.received_at + options_.date_skew.count());
    mail::Classification c = mail::Classify(msg, lookup);
    KILN_RETURN_IF_ERROR(lookup.error());
    const OurMessage* ours = c.reply ? lookup.Get(c.reply->ours) : nullptr;
    switch (c.kind) {
      case mail::IncomingKind::kWarmup:
        return Outcome::kIgnored;
      case mail::IncomingKind::kComplaint:
        return RecordComplaint(*c.complaint, lookup);
      case mail::IncomingKind::kBounce:
        return RecordBounce(*c.bounce, ours, lookup);
      case mail::IncomingKind::kAutoReply:
      case mail::IncomingKind::kReply:
      case mail::IncomingKind::kOther: {
        std::string method = c.reply ? std::string(mail::ReplyMethodName(c.reply->method)) : "";
        if (!ours) {
          // From = a lead this sender has mailed (and before this message was written).
          auto sent = lookup.SentTo(msg.from.email);
          KILN_RETURN_IF_ERROR(lookup.error());
          if (!sent || sent->empty()) return Outcome::kIgnored;
          fallback_ = sent->front();
          ours = &fallback_;
          method = "from_address";
        }
        const bool automatic = c.kind == mail::IncomingKind::kAutoReply;
        std::vector<std::string> signals;
        if (automatic) signals = c.auto_reply->signals;
        return RecordReply(*ours, method, automatic, signals);
      }
    }
    return Outcome::kIgnored;
  }

  std::optional<int64_t> message_id() const { return message_id_; }
  std::optional<int64_t> conversation_id() const { return conversation_id_; }

 private:
  // The exactly-once gate. False: already recorded (by another worker or an earlier scan).
  Result<bool> Claim(std::string_view kind) {
    KILN_ASSIGN_OR_RETURN(int64_t n, tx_.Exec("inbox.inbound_claim",
                                              {sender_.workspace_id, sender_.id, in_.key,
                                               in_.folder, static_cast<int64_t>(in_.fetched->uid),
                                               kind, "recorded", "", in_.received_at, now_}));
    return n == 1;
  }

  Status Event(const OurMessage& m, std::string_view type, const json::object& detail) {
    return tx_
        .Exec("inbox.insert_event", {sender_.workspace_id, m.id, m.campaign_id, type,
                                     json::serialize(detail), false, now_})
        .status();
  }

  Status Link() {
    return tx_
        .Exec("inbox.inbound_link", {sender_.workspace_id, in_.key, message_id_, conversation_id_})
        .status();
  }

  Result<Outcome> RecordReply(const OurMessage& m, const std::string& method, bool automatic,
                              const std::vector<std::string>& signals) {
    KILN_ASSIGN_OR_RETURN(bool fresh, Claim(automatic ? "auto_reply" : "reply"));
    if (!fresh) return Outcome::kDuplicate;
    const mail::IncomingMessage& msg = in_.msg;
    const std::string root =
        m.thread_root_header.empty() ? m.message_id_header : m.thread_root_header;
    // An answer cannot precede what it answers: a Date header has whole seconds and the
    // sender's clock may be behind ours, so the thread keeps its order.
    const int64_t at = std::max(in_.received_at, m.sent_at);
    KILN_ASSIGN_OR_RETURN(
        auto conv,
        tx_.QueryRow("inbox.conversation_upsert",
                     {sender_.workspace_id, sender_.id, m.contact_id, m.campaign_id, root,
                      Bounded(m.subject.empty() ? msg.subject : m.subject, 1000), at, now_}));
    conversation_id_ = conv.Int("id");
    message_id_ = m.id;
    const std::string header = msg.message_id.empty() ? "" : Bracketed(msg.message_id);
    KILN_RETURN_IF_ERROR(
        tx_.Exec(
               "inbox.conversation_message_insert",
               {sender_.workspace_id, *conversation_id_, "in", header, Bounded(msg.from.email, 320),
                sender_.email, Bounded(msg.subject, 1000),
                Bounded(msg.text_body, options_.max_text_bytes),
                Bounded(HtmlBody(msg), options_.max_html_bytes), automatic ? "auto_reply" : "reply",
                static_cast<int64_t>(in_.fetched->uid), in_.folder, at})
            .status());
    KILN_RETURN_IF_ERROR(Link());
    json::object detail{{"method", method},
                        {"conversation_id", *conversation_id_},
                        {"from", msg.from.email},
                        {"folder", in_.folder}};
    if (automatic) {
      json::array sig;
      for (const std::string& s : signals) sig.emplace_back(s);
      detail["signals"] = std::move(sig);
    }
    KILN_RETURN_IF_ERROR(Event(m, automatic ? "auto_replied" : "replied", detail));
    KILN_ASSIGN_OR_RETURN(auto flags, tx_.QueryOne("inbox.campaign_flags", {m.campaign_id}));
    const bool stop =
        flags && (automatic ? flags->Bool("stop_on_auto_reply") : flags->Bool("stop_on_reply"));
    if (!automatic) {
      KILN_RETURN_IF_ERROR(
          tx_.Exec("inbox.message_mark_replied", {sender_.workspace_id, m.id, now_}).status());
      KILN_RETURN_IF_ERROR(
          tx_.Exec("inbox.contact_mark_replied", {sender_.workspace_id, m.contact_id, now_})
              .status());
    }
    if (stop) {
      const char* status = automatic ? "stopped" : "replied";
      const char* reason = automatic ? "auto_replied" : "replied";
      KILN_RETURN_IF_ERROR(tx_.Exec("inbox.stop_enrolment", {sender_.workspace_id, m.campaign_id,
                                                             m.contact_id, status, reason, now_})
                               .status());
      KILN_RETURN_IF_ERROR(tx_.Exec("inbox.cancel_campaign_messages",
                                    {sender_.workspace_id, m.campaign_id, m.contact_id,
                                     automatic ? "lead auto-replied" : "lead replied", now_})
                               .status());
    }
    return automatic ? Outcome::kAutoReply : Outcome::kReply;
  }

  Result<Outcome> RecordBounce(const mail::BounceInfo& bounce, const OurMessage* ours,
                               TxLookup& lookup) {
    if (!bounce.original_message_id.empty()) {
      auto ref = lookup.FindByMessageId(bounce.original_message_id);
      KILN_RETURN_IF_ERROR(lookup.error());
      if (ref) ours = lookup.Get(*ref);
    }
    if (!ours) {
      // The failed recipient among this sender's messages.
      for (const mail::BouncedRecipient& r : bounce.recipients) {
        auto sent = lookup.SentTo(r.recipient);
        KILN_RETURN_IF_ERROR(lookup.error());
        if (sent && !sent->empty()) {
          fallback_ = sent->front();
          ours = &fallback_;
          break;
        }
      }
    }
    if (!ours) return Outcome::kIgnored;
    const OurMessage& m = *ours;
    // The report's line about our lead (a DSN may list several recipients).
    const mail::BouncedRecipient* rcpt = &bounce.recipients.front();
    for (const mail::BouncedRecipient& r : bounce.recipients) {
      if (mail::AsciiLower(r.recipient) == mail::AsciiLower(m.contact_email)) rcpt = &r;
    }
    KILN_ASSIGN_OR_RETURN(bool fresh, Claim("bounce"));
    if (!fresh) return Outcome::kDuplicate;
    message_id_ = m.id;
    KILN_RETURN_IF_ERROR(Link());
    json::object detail{{"kind", rcpt->hard ? "hard" : "soft"},
                        {"reason", std::string(mail::BounceReasonName(rcpt->reason))},
                        {"status", rcpt->status},
                        {"diagnostic", rcpt->diagnostic},
                        {"recipient", rcpt->recipient},
                        {"action", rcpt->action},
                        {"format", bounce.format},
                        {"source", "dsn"}};
    KILN_RETURN_IF_ERROR(Event(m, "bounced", detail));
    if (!rcpt->hard) return Outcome::kBounce;
    std::string error = "bounced: " + std::string(mail::BounceReasonName(rcpt->reason));
    if (!rcpt->diagnostic.empty()) error += ": " + rcpt->diagnostic;
    KILN_RETURN_IF_ERROR(
        tx_.Exec("inbox.message_mark_bounced",
                 {sender_.workspace_id, m.id, now_,
                  rcpt->status.empty() ? std::optional<std::string>() : std::optional(rcpt->status),
                  Bounded(error, 1000)})
            .status());
    KILN_RETURN_IF_ERROR(
        tx_.Exec("inbox.suppress", {sender_.workspace_id, SuppressionKey(m.contact_email),
                                    "bounced", std::to_string(m.id), now_})
            .status());
    KILN_RETURN_IF_ERROR(StopLead(m.contact_id, "bounced", "bounced", "bounced", "lead bounced"));
    return Outcome::kBounce;
  }

  Result<Outcome> RecordComplaint(const mail::ComplaintInfo& complaint, TxLookup& lookup) {
    const OurMessage* ours = nullptr;
    if (!complaint.original_message_id.empty()) {
      auto ref = lookup.FindByMessageId(complaint.original_message_id);
      KILN_RETURN_IF_ERROR(lookup.error());
      if (ref) ours = lookup.Get(*ref);
    }
    if (!ours && !complaint.original_recipient.empty()) {
      auto sent = lookup.SentTo(complaint.original_recipient);
      KILN_RETURN_IF_ERROR(lookup.error());
      if (sent && !sent->empty()) {
        fallback_ = sent->front();
        ours = &fallback_;
      }
    }
    if (!ours) return Outcome::kIgnored;
    const OurMessage& m = *ours;
    KILN_ASSIGN_OR_RETURN(bool fresh, Claim("complaint"));
    if (!fresh) return Outcome::kDuplicate;
    message_id_ = m.id;
    KILN_RETURN_IF_ERROR(Link());
    KILN_RETURN_IF_ERROR(Event(m, "complained",
                               {{"feedback_type", complaint.feedback_type},
                                {"user_agent", complaint.user_agent},
                                {"reported_domain", complaint.reported_domain},
                                {"source_ip", complaint.source_ip}}));
    KILN_RETURN_IF_ERROR(
        tx_.Exec("inbox.suppress", {sender_.workspace_id, SuppressionKey(m.contact_email),
                                    "complained", std::to_string(m.id), now_})
            .status());
    KILN_RETURN_IF_ERROR(
        StopLead(m.contact_id, "unsubscribed", "unsubscribed", "complained", "lead complained"));
    return Outcome::kComplaint;
  }

  // The address can no longer be mailed: the lead's status, every running sequence, every
  // message waiting to go.
  Status StopLead(int64_t contact_id, std::string_view contact_status,
                  std::string_view enrolment_status, std::string_view reason,
                  std::string_view cancel_error) {
    KILN_RETURN_IF_ERROR(tx_.Exec("inbox.contact_set_status",
                                  {sender_.workspace_id, contact_id, contact_status, now_})
                             .status());
    KILN_RETURN_IF_ERROR(tx_.Exec("inbox.stop_all_enrolments", {sender_.workspace_id, contact_id,
                                                                enrolment_status, reason, now_})
                             .status());
    return tx_
        .Exec("inbox.cancel_contact_messages",
              {sender_.workspace_id, contact_id, cancel_error, now_})
        .status();
  }

  store::Tx& tx_;
  const WatchedSender& sender_;
  const Incoming& in_;
  const InboxWatcherOptions& options_;
  int64_t now_;
  OurMessage fallback_;
  std::optional<int64_t> message_id_;
  std::optional<int64_t> conversation_id_;
};

Status SaveScanState(store::Tx& tx, int64_t sender_id, std::string_view folder,
                     const mail::SyncState& state, int64_t now) {
  return tx
      .Exec("inbox.scan_state_put", {sender_id, folder, static_cast<int64_t>(state.uidvalidity),
                                     static_cast<int64_t>(state.last_uid), now})
      .status();
}

}  // namespace

Status InboxWatcher::PollFolder(Poll& poll, std::string_view folder, WatchStats& stats) {
  const WatchedSender& sender = poll.sender;
  mail::SyncState state;
  Status st = db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("inbox.scan_state_get", {sender.id, folder}));
    if (row) {
      state.uidvalidity = static_cast<uint32_t>(row->Int("uidvalidity"));
      state.last_uid = static_cast<uint32_t>(row->Int("last_uid"));
    }
    return Status::Ok();
  });
  // Database trouble ends the poll (kept in poll.db_error); a bad message never does.
  auto database_failed = [&poll](const Status& s) {
    poll.db_error = s;
    return Status::Ok();
  };
  if (!st.ok()) return database_failed(st);
  const int64_t history_before = sender.created_at - options_.date_skew.count();
  while (true) {
    auto batch = poll.inbox.FetchSince(folder, state, options_.fetch_batch);
    if (!batch.ok()) return batch.status();
    if (batch->uidvalidity_changed) {
      spdlog::info("inbox: {} {}: UIDVALIDITY changed ({} -> {}), reading the folder again",
                   sender.email, folder, state.uidvalidity, batch->uidvalidity);
    }
    mail::SyncState position{batch->uidvalidity, batch->uidvalidity_changed ? 0 : state.last_uid};
    // Ignored messages move the position without a transaction of their own; it is saved with the
    // next recorded message or once at the end of the batch.
    bool unsaved = batch->uidvalidity_changed;
    for (const mail::FetchedMessage& fetched : batch->messages) {
      ++stats.messages_seen;
      const mail::SyncState next{batch->uidvalidity, fetched.uid};
      const int64_t now = clock_.NowMillis();
      Incoming in;
      in.fetched = &fetched;
      in.folder = std::string(folder);
      std::string parse_error;
      if (fetched.too_large) {
        parse_error = "message of " + std::to_string(fetched.size) + " bytes is too large to read";
      } else {
        auto parsed = mail::ParseIncoming(fetched.raw);
        if (parsed.ok()) {
          in.msg = std::move(parsed).value();
        } else {
          parse_error = "cannot parse the message: " + parsed.status().message();
        }
      }
      in.key = !fetched.message_id.empty()
                   ? Bracketed(mail::NormalizeMessageId(fetched.message_id))
                   : (parse_error.empty() ? InboundKey(in.msg, fetched.raw)
                                          : "sha256:" + Sha256Hex(fetched.raw));
      in.received_at = now;
      if (in.msg.date) {
        int64_t d = ToUnixMillis(*in.msg.date);
        if (d <= now + 24 * 3600'000LL) in.received_at = d;
      }
      if (parse_error.empty() && in.msg.date && in.received_at < history_before) {
        ++stats.ignored;  // history: older than the sender's life in Kiln
        position = next;
        unsaved = true;
        continue;
      }
      Outcome outcome = Outcome::kIgnored;
      Status record_error;
      if (parse_error.empty()) {
        record_error = db_.Write([&](store::Tx& tx) -> Status {
          Recorder recorder(tx, sender, in, options_, now);
          KILN_ASSIGN_OR_RETURN(outcome, recorder.Record());
          if (outcome == Outcome::kIgnored) return Status::Ok();
          return SaveScanState(tx, sender.id, folder, next, now);
        });
        if (!record_error.ok() && record_error.code() == Status::Code::kUnavailable) {
          return database_failed(record_error);  // the database is down: retry from here later
        }
      }
      if (!parse_error.empty() || !record_error.ok()) {
        const std::string error = !parse_error.empty() ? parse_error : record_error.ToString();
        spdlog::warn("inbox: {} {} UID {}: {}", sender.email, folder, fetched.uid, error);
        ++stats.failed;
        Status failed = db_.Write([&](store::Tx& tx) -> Status {
          KILN_RETURN_IF_ERROR(
              tx.Exec("inbox.inbound_claim", {sender.workspace_id, sender.id, in.key, in.folder,
                                              static_cast<int64_t>(fetched.uid), "other", "failed",
                                              Bounded(error, 1000), in.received_at, now})
                  .status());
          return SaveScanState(tx, sender.id, folder, next, now);
        });
        if (!failed.ok()) return database_failed(failed);
        position = next;
        unsaved = false;
        continue;
      }
      switch (outcome) {
        case Outcome::kIgnored:
          ++stats.ignored;
          break;
        case Outcome::kDuplicate:
          ++stats.duplicates;
          break;
        case Outcome::kReply:
          ++stats.replies;
          break;
        case Outcome::kAutoReply:
          ++stats.auto_replies;
          break;
        case Outcome::kBounce:
          ++stats.bounces;
          break;
        case Outcome::kComplaint:
          ++stats.complaints;
          break;
      }
      position = next;
      unsaved = outcome == Outcome::kIgnored;
    }
    if (unsaved) {
      const int64_t now = clock_.NowMillis();
      st = db_.Write([&](store::Tx& tx) -> Status {
        return SaveScanState(tx, sender.id, folder, position, now);
      });
      if (!st.ok()) return database_failed(st);
    }
    state = position;
    if (!batch->more) return Status::Ok();
    const int64_t now = clock_.NowMillis();
    int64_t renewed = 0;
    st = db_.Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(renewed, tx.Exec("inbox.watch_renew", {sender.id, options_.worker_id,
                                                                   now + options_.lease.count()}));
      return Status::Ok();
    });
    if (!st.ok()) return database_failed(st);
    if (renewed == 0) {
      poll.lease_lost = true;  // another worker has the mailbox now
      return Status::Ok();
    }
  }
}

void RunInboxWatcher(InboxWatcher& watcher, Millis tick, WorkerStop& stop) {
  while (!stop.stopped()) {
    auto stats = watcher.RunOnce();
    if (!stats.ok()) {
      spdlog::error("inbox: tick failed: {}", stats.status().ToString());
    } else {
      for (const std::string& e : watcher.mailbox_errors()) spdlog::warn("inbox: {}", e);
      if (stats->replies + stats->auto_replies + stats->bounces + stats->complaints > 0) {
        spdlog::info("inbox: {} replies, {} auto-replies, {} bounces, {} complaints recorded",
                     stats->replies, stats->auto_replies, stats->bounces, stats->complaints);
      }
    }
    if (stop.WaitFor(tick)) break;
  }
  watcher.ReleaseSenders();
}

}  // namespace kiln::engine
