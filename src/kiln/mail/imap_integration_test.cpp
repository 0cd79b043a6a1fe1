// ImapInbox against the real Dovecot + Postfix of scripts/mailstack (start it first:
// `scripts/mailstack start`). Mail is delivered over raw-socket SMTP to the stack's Postfix.
// The stack is shared with other tests, so every assertion is about messages this test sent
// (recognised by unique Message-IDs), never about a mailbox's total contents.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "kiln/mail/classify.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/imap_socket.h"
#include "kiln/mail/incoming.h"

namespace kiln::mail {
namespace {

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
uint16_t Port(const char* name, int fallback) {
  return static_cast<uint16_t>(std::stoi(Env(name, std::to_string(fallback).c_str())));
}

const std::string kHost = "127.0.0.1";
const uint16_t kImapPort = Port("KILN_MAILSTACK_IMAP_PORT", 1143);
const uint16_t kImapsPort = Port("KILN_MAILSTACK_IMAPS_PORT", 1993);
const uint16_t kSmtpPort = Port("KILN_MAILSTACK_SMTP_PORT", 2525);
const uint16_t kSmtpAcceptPort = Port("KILN_MAILSTACK_SMTP_ACCEPT_PORT", 2526);
const std::string kCaFile = Env("KILN_MAILSTACK_CA_FILE", "/tmp/kiln-mailstack/tls/cert.pem");

// A blocking TCP connection to 127.0.0.1:port; -1 when refused.
int Dial(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Reads one SMTP reply (all continuation lines); returns it, "" on EOF.
std::string ReadReply(int fd) {
  std::string reply;
  char c;
  std::string line;
  while (::recv(fd, &c, 1, 0) == 1) {
    line.push_back(c);
    if (c != '\n') continue;
    reply += line;
    const bool last = line.size() >= 4 && line[3] == ' ';
    line.clear();
    if (last) break;
  }
  return reply;
}

// base64("\0user\0password") for AUTH PLAIN.
std::string AuthPlain(const std::string& user, const std::string& password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = std::string(1, '\0') + user + std::string(1, '\0') + password;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kAlphabet[v & 63] : '=');
  }
  return out;
}

// Sends one message with a minimal SMTP dialogue (AUTH PLAIN when given); returns the first
// non-2xx/3xx reply, or the final reply to DATA.
std::string SmtpSend(uint16_t port, const std::string& from, const std::string& to,
                     const std::string& data, const std::string& auth_plain = "") {
  const int fd = Dial(port);
  if (fd < 0) return "connect failed";
  std::string reply = ReadReply(fd);
  auto cmd = [&](const std::string& line) {
    ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    reply = ReadReply(fd);
    return reply.size() >= 1 && (reply[0] == '2' || reply[0] == '3');
  };
  bool ok = cmd("EHLO kiln-test.local\r\n");
  if (ok && !auth_plain.empty()) ok = cmd("AUTH PLAIN " + auth_plain + "\r\n");
  ok = ok && cmd("MAIL FROM:<" + from + ">\r\n") && cmd("RCPT TO:<" + to + ">\r\n") &&
       cmd("DATA\r\n");
  if (ok) {
    std::string body = data;
    // Dot-stuffing is not needed: test bodies have no line starting with '.'.
    cmd(body + "\r\n.\r\n");
  }
  const std::string final_reply = reply;
  cmd("QUIT\r\n");
  ::close(fd);
  return final_reply;
}

std::string UniqueId(const std::string& tag) {
  static std::mt19937_64 rng(std::random_device{}());
  return "kiln-it-" + tag + "-" + std::to_string(rng()) + "@kiln-test.local";
}

std::string Message(const std::string& from, const std::string& to, const std::string& id,
                    const std::string& subject, const std::string& extra_headers = "") {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + id +
         ">\r\nDate: Mon, 3 Jun 2024 10:00:00 +0000\r\n" + extra_headers +
         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the "
         "integration test.\r\n";
}

ImapConfig Config(const std::string& user, ImapSecurity security = ImapSecurity::kNone) {
  ImapConfig c;
  c.host = kHost;
  c.port = security == ImapSecurity::kTls ? kImapsPort : kImapPort;
  c.security = security;
  c.username = user;
  c.secret = "secret-" + user.substr(0, user.find('@'));
  c.connect_timeout = std::chrono::milliseconds(5000);
  c.io_timeout = std::chrono::milliseconds(20000);
  return c;
}

class ImapIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int fd = Dial(kImapPort);
    if (fd < 0) {
      FAIL() << "the mail stack is not running (no IMAP on 127.0.0.1:" << kImapPort
             << "); start it with `scripts/mailstack start` and export `scripts/mailstack env`";
    }
    ::close(fd);
  }

  // Everything currently in `folder`, to start from; returns the state after it.
  SyncState Drain(ImapInbox& inbox, const std::string& folder) {
    SyncState state;
    for (;;) {
      auto r = inbox.FetchSince(folder, state, 1000);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return state;
      state.uidvalidity = r->uidvalidity;
      if (!r->messages.empty()) state.last_uid = r->messages.back().uid;
      if (!r->more) return state;
    }
  }

  // Polls `folder` after `state` until a message with Message-ID `id` shows up (10 s).
  std::optional<FetchedMessage> WaitFor(ImapInbox& inbox, const std::string& folder,
                                        const SyncState& state, const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      auto r = inbox.FetchSince(folder, state);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return std::nullopt;
      for (auto& m : r->messages) {
        if (m.message_id == id) return m;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::nullopt;
  }

  // Polls for a message whose raw text contains `needle`.
  std::optional<FetchedMessage> WaitForText(ImapInbox& inbox, const std::string& folder,
                                            const SyncState& state, const std::string& needle) {
    for (int i = 0; i < 150; ++i) {
      auto r = inbox.FetchSince(folder, state);
      if (!r.ok()) return std::nullopt;
      for (auto& m : r->messages) {
        if (m.raw.find(needle) != std::string::npos) return m;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::nullopt;
  }

  SystemClock clock_;
};

class NoMessages : public OurMessageLookup {
 public:
  std::optional<OurMessageRef> FindByMessageId(std::string_view) const override {
    return std::nullopt;
  }
  std::optional<OurMessageRef> FindBySubjectAndCorrespondent(std::string_view,
                                                             std::string_view) const override {
    return std::nullopt;
  }
};

TEST_F(ImapIntegrationTest, ConnectsAndFindsSpecialUseFolders) {
  ImapInbox inbox(Config("bot5@kiln-b.test"), clock_);
  ASSERT_TRUE(inbox.Connect().ok());
  EXPECT_TRUE(inbox.IsConnected());
  EXPECT_EQ(inbox.FindFolder(FolderRole::kInbox).value_or("?"), "INBOX");
  EXPECT_EQ(inbox.FindFolder(FolderRole::kJunk).value_or("?"), "Junk");
  EXPECT_EQ(inbox.FindFolder(FolderRole::kSent).value_or("?"), "Sent");
  EXPECT_EQ(inbox.FindFolder(FolderRole::kTrash).value_or("?"), "Trash");
  auto folders = inbox.ListFolders();
  ASSERT_TRUE(folders.ok());
  bool junk_special = false;
  for (const auto& f : *folders) junk_special |= f.name == "Junk" && f.role == FolderRole::kJunk;
  EXPECT_TRUE(junk_special) << "Junk should carry \\Junk (SPECIAL-USE)";
  auto caps = inbox.Capabilities();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "MOVE"), caps.end());
  inbox.Disconnect();
  EXPECT_FALSE(inbox.IsConnected());
}

TEST_F(ImapIntegrationTest, WrongPasswordIsUnauthenticated) {
  ImapConfig c = Config("bot5@kiln-b.test");
  c.secret = "wrong-password";
  ImapInbox inbox(c, clock_);
  Status s = inbox.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("bot5@kiln-b.test"), std::string::npos) << s.ToString();
  EXPECT_FALSE(inbox.IsConnected());
}

TEST_F(ImapIntegrationTest, ClosedPortIsUnavailable) {
  ImapConfig c = Config("bot5@kiln-b.test");
  c.port = 1;  // nothing listens there
  ImapInbox inbox(c, clock_);
  Status s = inbox.Connect();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
}

TEST_F(ImapIntegrationTest, SelfSignedCertificateRefusedUnlessAllowedOrTrusted) {
  ImapConfig c = Config("bot5@kiln-b.test", ImapSecurity::kTls);
  {
    ImapInbox inbox(c, clock_);
    Status s = inbox.Connect();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find("certificate"), std::string::npos) << s.ToString();
  }
  {
    ImapConfig allowed = c;
    allowed.allow_self_signed = true;
    ImapInbox inbox(allowed, clock_);
    Status s = inbox.Connect();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  {
    ImapConfig trusted = c;
    trusted.ca_file = kCaFile;
    ImapInbox inbox(trusted, clock_);
    Status s = inbox.Connect();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  {
    ImapConfig starttls = Config("bot5@kiln-b.test", ImapSecurity::kStartTls);
    ImapInbox refused(starttls, clock_);
    EXPECT_EQ(refused.Connect().code(), Status::Code::kUnavailable);
    starttls.ca_file = kCaFile;
    ImapInbox inbox(starttls, clock_);
    Status s = inbox.Connect();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(ImapIntegrationTest, CertificateForAnotherNameRefusedUnlessSelfSignedAllowed) {
  const std::string host = Env("KILN_MAILSTACK_WRONG_NAME_HOST", "");
  const std::string port = Env("KILN_MAILSTACK_WRONG_NAME_IMAPS_PORT", "");
  const std::string ca_file = Env("KILN_MAILSTACK_WRONG_NAME_CA_FILE", "");
  ASSERT_FALSE(host.empty() || port.empty() || ca_file.empty())
      << "KILN_MAILSTACK_WRONG_NAME_* not set: the running mail stack predates them; restart it "
         "(`scripts/mailstack stop; eval \"$(scripts/mailstack start)\"`)";
  ImapConfig c = Config("bot5@kiln-b.test", ImapSecurity::kTls);
  c.host = host;
  c.port = static_cast<uint16_t>(std::stoi(port));
  c.ca_file = ca_file;  // trusted: only the names are wrong
  {
    ImapInbox inbox(c, clock_);
    Status s = inbox.Connect();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
    EXPECT_NE(
        s.message().find("its names (DNS:wrong-name.kiln.test) do not match the host " + host),
        std::string::npos)
        << s.ToString();
    EXPECT_FALSE(inbox.IsConnected());
  }
  {
    ImapConfig lenient = c;
    lenient.ca_file.clear();
    lenient.allow_self_signed = true;
    ImapInbox inbox(lenient, clock_);
    Status s = inbox.Connect();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(ImapIntegrationTest, SocketsHaveTcpNoDelay) {
  NoDelaySocketFactory factory(std::chrono::milliseconds(2000));
  auto sock =
      factory.create(vmime::make_shared<ClockTimeoutHandler>(clock_, std::chrono::seconds(5)));
  sock->connect(kHost, kImapPort);
  const int fd = SocketDescriptor(*sock);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(HasTcpNoDelay(fd));
  sock->disconnect();
}

TEST_F(ImapIntegrationTest, FetchFlagsMoveAndRestartWithSavedState) {
  const std::string user = "bot6@kiln-b.test";
  ImapInbox inbox(Config(user), clock_);
  ASSERT_TRUE(inbox.Connect().ok());
  const SyncState start = Drain(inbox, "INBOX");
  ASSERT_NE(start.uidvalidity, 0u);

  const std::string id1 = UniqueId("a"), id2 = UniqueId("b");
  ASSERT_EQ(SmtpSend(kSmtpPort, "lead@outside.example", user,
                     Message("lead@outside.example", user, id1, "First"))
                .substr(0, 3),
            "250");
  ASSERT_EQ(SmtpSend(kSmtpPort, "lead@outside.example", user,
                     Message("lead@outside.example", user, id2, "Second"))
                .substr(0, 3),
            "250");
  auto m2 = WaitFor(inbox, "INBOX", start, id2);
  ASSERT_TRUE(m2.has_value());
  auto r = inbox.FetchSince("INBOX", start);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->uidvalidity, start.uidvalidity);
  EXPECT_FALSE(r->uidvalidity_changed);
  const FetchedMessage* first = nullptr;
  uint32_t prev = start.last_uid;
  for (const auto& m : r->messages) {
    EXPECT_GT(m.uid, prev);  // ascending, all new
    prev = m.uid;
    if (m.message_id == id1) first = &m;
  }
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(first->seen);  // fetching does not mark read
  EXPECT_EQ(first->size, first->raw.size());
  auto parsed = ParseIncoming(first->raw);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->subject, "First");
  EXPECT_EQ(parsed->message_id, id1);
  const uint32_t uid1 = first->uid;

  // Flags.
  ASSERT_TRUE(inbox.SetSeen("INBOX", uid1, true).ok());
  ASSERT_TRUE(inbox.SetFlagged("INBOX", uid1, true).ok());
  auto again = WaitFor(inbox, "INBOX", {start.uidvalidity, uid1 - 1}, id1);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->seen);
  EXPECT_TRUE(again->flagged);
  ASSERT_TRUE(inbox.SetSeen("INBOX", uid1, false).ok());
  again = WaitFor(inbox, "INBOX", {start.uidvalidity, uid1 - 1}, id1);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->seen);
  EXPECT_TRUE(again->flagged);

  // INBOX -> Junk (UID MOVE) -> INBOX (COPY + \Deleted + UID EXPUNGE).
  const SyncState junk_start = Drain(inbox, "Junk");
  Status moved = inbox.Move(uid1, "INBOX", "Junk");
  ASSERT_TRUE(moved.ok()) << moved.ToString();
  auto in_junk = WaitFor(inbox, "Junk", junk_start, id1);
  ASSERT_TRUE(in_junk.has_value());
  auto inbox_now = inbox.FetchSince("INBOX", {start.uidvalidity, uid1 - 1});
  ASSERT_TRUE(inbox_now.ok());
  for (const auto& m : inbox_now->messages) EXPECT_NE(m.message_id, id1) << "still in INBOX";
  const SyncState inbox_mark = Drain(inbox, "INBOX");
  inbox.set_use_move(false);
  moved = inbox.Move(in_junk->uid, "Junk", "INBOX");
  ASSERT_TRUE(moved.ok()) << moved.ToString();
  auto back = WaitFor(inbox, "INBOX", inbox_mark, id1);
  ASSERT_TRUE(back.has_value());
  EXPECT_GT(back->uid, uid1);  // a new UID in INBOX
  auto junk_now = inbox.FetchSince("Junk", junk_start);
  ASSERT_TRUE(junk_now.ok());
  for (const auto& m : junk_now->messages) EXPECT_NE(m.message_id, id1) << "still in Junk";
  inbox.set_use_move(true);
  EXPECT_EQ(inbox.Move(999999, "INBOX", "Junk").code(), Status::Code::kNotFound);
  EXPECT_EQ(inbox.Move(uid1, "INBOX", "NoSuchFolder").code(), Status::Code::kNotFound);

  // A restart with the saved state sees only newer mail.
  const SyncState saved = Drain(inbox, "INBOX");
  inbox.Disconnect();
  const std::string id3 = UniqueId("c");
  ASSERT_EQ(SmtpSend(kSmtpPort, "lead@outside.example", user,
                     Message("lead@outside.example", user, id3, "Third"))
                .substr(0, 3),
            "250");
  ImapInbox restarted(Config(user), clock_);
  ASSERT_TRUE(restarted.Connect().ok());
  ASSERT_TRUE(WaitFor(restarted, "INBOX", saved, id3).has_value());
  auto after = restarted.FetchSince("INBOX", saved);
  ASSERT_TRUE(after.ok());
  for (const auto& m : after->messages) {
    EXPECT_GT(m.uid, saved.last_uid);
    EXPECT_NE(m.message_id, id1);
    EXPECT_NE(m.message_id, id2);
  }
}

TEST_F(ImapIntegrationTest, UidValidityChangeRestartsWithMessageIdHints) {
  const std::string user = "bot4@kiln-b.test";
  ImapInbox inbox(Config(user), clock_);
  ASSERT_TRUE(inbox.Connect().ok());
  const std::string folder = "KilnTmp" + std::to_string(std::random_device{}() % 100000);
  ASSERT_TRUE(inbox.CreateFolder(folder).ok());
  EXPECT_EQ(inbox.CreateFolder(folder).code(), Status::Code::kAlreadyExists);

  // Put one message into the folder: deliver to INBOX, then move it.
  const SyncState start = Drain(inbox, "INBOX");
  const std::string id = UniqueId("v");
  ASSERT_EQ(
      SmtpSend(kSmtpPort, "x@outside.example", user, Message("x@outside.example", user, id, "V"))
          .substr(0, 3),
      "250");
  auto m = WaitFor(inbox, "INBOX", start, id);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(inbox.Move(m->uid, "INBOX", folder).ok());
  const SyncState old_state = Drain(inbox, folder);
  ASSERT_EQ(old_state.last_uid, 1u);

  // Recreate the folder (a new UIDVALIDITY) and put the same message back.
  ASSERT_TRUE(inbox.DeleteFolder(folder).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // UIDVALIDITY is time-based
  ASSERT_TRUE(inbox.CreateFolder(folder).ok());
  const SyncState start2 = Drain(inbox, "INBOX");
  const std::string id2 = UniqueId("w");
  ASSERT_EQ(
      SmtpSend(kSmtpPort, "x@outside.example", user, Message("x@outside.example", user, id2, "W"))
          .substr(0, 3),
      "250");
  auto m2 = WaitFor(inbox, "INBOX", start2, id2);
  ASSERT_TRUE(m2.has_value());
  ASSERT_TRUE(inbox.Move(m2->uid, "INBOX", folder).ok());

  auto r = inbox.FetchSince(folder, old_state);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->uidvalidity_changed);
  EXPECT_NE(r->uidvalidity, old_state.uidvalidity);
  ASSERT_EQ(r->messages.size(), 1u);  // UID 1 again: without the reset it would be skipped
  EXPECT_EQ(r->messages[0].uid, 1u);
  EXPECT_EQ(r->messages[0].message_id, id2);
  EXPECT_TRUE(inbox.DeleteFolder(folder).ok());
  EXPECT_EQ(inbox.FetchSince(folder, {}).status().code(), Status::Code::kNotFound);
}

TEST_F(ImapIntegrationTest, AppendToSent) {
  const std::string user = "bot3@kiln-b.test";
  ImapInbox inbox(Config(user), clock_);
  ASSERT_TRUE(inbox.Connect().ok());
  const SyncState start = Drain(inbox, "Sent");
  const std::string id = UniqueId("sent");
  Status appended = inbox.AppendToSent(Message(user, "lead@outside.example", id, "Our copy"));
  ASSERT_TRUE(appended.ok()) << appended.ToString();
  auto m = WaitFor(inbox, "Sent", start, id);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->seen);
  EXPECT_EQ(inbox.AppendToSent("").code(), Status::Code::kInvalidArgument);
}

// Real bounces produced by the stack's Postfix, read back over IMAP and classified.
TEST_F(ImapIntegrationTest, PostfixBouncesClassify) {
  const std::string user = "bot2@kiln-b.test";
  ImapInbox inbox(Config(user), clock_);
  ASSERT_TRUE(inbox.Connect().ok());
  NoMessages none;

  struct Case {
    std::string to;
    BounceReason reason;
    bool hard;
  };
  for (const Case& c :
       {Case{"nosuchuser@kiln-a.test", BounceReason::kUserUnknown, true},
        Case{"someone@no-such-domain.invalid", BounceReason::kDomainNotFound, true}}) {
    const SyncState start = Drain(inbox, "INBOX");
    const std::string id = UniqueId("bounce");
    const std::string reply =
        SmtpSend(kSmtpAcceptPort, user, c.to, Message(user, c.to, id, "Bounce me"),
                 AuthPlain(user, "secret-bot2"));
    ASSERT_EQ(reply.substr(0, 3), "250") << c.to << ": " << reply;
    auto dsn = WaitForText(inbox, "INBOX", start, id);
    ASSERT_TRUE(dsn.has_value()) << "no DSN for " << c.to;
    auto parsed = ParseIncoming(dsn->raw);
    ASSERT_TRUE(parsed.ok());
    Classification cl = Classify(*parsed, none);
    ASSERT_EQ(cl.kind, IncomingKind::kBounce) << dsn->raw.substr(0, 2000);
    ASSERT_FALSE(cl.bounce->recipients.empty());
    const BouncedRecipient& r = cl.bounce->recipients[0];
    EXPECT_EQ(r.recipient, c.to);
    EXPECT_EQ(BounceReasonName(r.reason), BounceReasonName(c.reason))
        << r.status << " " << r.diagnostic;
    EXPECT_EQ(r.hard, c.hard);
    EXPECT_EQ(cl.bounce->original_message_id, id);
  }

  // Oversize: Postfix refuses it in the SMTP dialogue (552 5.3.4); that reply classifies too.
  const std::string big(2200 * 1024, 'x');
  std::string body;
  for (size_t i = 0; i < big.size(); i += 76) body += big.substr(i, 76) + "\r\n";
  const std::string reply =
      SmtpSend(kSmtpPort, "lead@outside.example", user,
               Message("lead@outside.example", user, UniqueId("big"), "Big") + body);
  ASSERT_EQ(reply.substr(0, 3), "552") << reply;
  EXPECT_EQ(ClassifyBounceReason(FindEnhancedStatus(reply), reply), BounceReason::kMessageTooLarge)
      << reply;
}

}  // namespace
}  // namespace kiln::mail
