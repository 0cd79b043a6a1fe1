// ImapInbox: the Inbox (inbox.h) over IMAP, implemented with vmime 0.9.
//
// vmime throws; every public method catches at this edge and returns a Status:
//   bad credentials -> Unauthenticated; refused certificate, TLS failure, refused or dropped
//   connection -> Unavailable (the message names host:port and the cause); a server silent for
//   ImapConfig::io_timeout -> DeadlineExceeded; unknown folder -> NotFound; anything else ->
//   Internal with vmime's description. After a network-level failure the inbox is disconnected.
// Sockets come from NoDelaySocketFactory (TCP_NODELAY, connect timeout) and I/O timeouts are
// measured with the injected Clock.
// Note that vmime opens one extra IMAP connection per open folder; ImapInbox keeps at most one
// folder open (the last one used), so an account uses at most two connections.
//
// XOAUTH2: Kiln's own SASL mechanism, registered with vmime (Debian's vmime 0.9.2 has none, and
// upstream's resends the credentials after an error) sends
//   AUTHENTICATE XOAUTH2 base64("user=" user "\x01auth=Bearer " token "\x01\x01")
// with `username` and `secret` (the access token): on the command line when the server has
// SASL-IR, else after its "+" continuation. A rejected token's JSON error challenge is answered
// with an empty line; Connect() then returns Unauthenticated "OAuth access token rejected: <the
// server's NO> (error <its JSON>)". A server without AUTH=XOAUTH2 is refused (Unauthenticated)
// without sending the token or trying a password. Obtaining and refreshing the token is the
// caller's job (the OAuth flow lives with the sender's credentials).
//
// Thread-safety: none. One ImapInbox per thread (see inbox.h); the Clock must outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/mail/inbox.h"

namespace kiln::mail {

class ImapInbox final : public Inbox {
 public:
  ImapInbox(ImapConfig config, const Clock& clock);
  ~ImapInbox() override;
  ImapInbox(const ImapInbox&) = delete;
  ImapInbox& operator=(const ImapInbox&) = delete;

  Status Connect() override;
  void Disconnect() override;
  bool IsConnected() const override;
  Result<std::vector<FolderInfo>> ListFolders() override;
  Result<std::string> FindFolder(FolderRole role) override;
  Result<FetchResult> FetchSince(std::string_view folder, const SyncState& state,
                                 size_t max_messages = 500) override;
  Status SetSeen(std::string_view folder, uint32_t uid, bool seen) override;
  Status SetFlagged(std::string_view folder, uint32_t uid, bool flagged) override;
  Status Move(uint32_t uid, std::string_view from, std::string_view to) override;
  Status AppendToSent(std::string_view raw) override;

  // Creates / deletes a folder ('/' between levels). Used by provisioning and by tests that
  // recreate a folder to change its UIDVALIDITY. Failure: AlreadyExists / NotFound / Unavailable.
  Status CreateFolder(std::string_view name);
  Status DeleteFolder(std::string_view name);

  // The server's capabilities (upper-case) as announced after login; empty when not connected.
  std::vector<std::string> Capabilities();

  // Use UID MOVE when the server offers it (the default). Turning it off forces the
  // COPY + \Deleted + UID EXPUNGE path, e.g. to test it against a server that has MOVE.
  void set_use_move(bool use_move) { use_move_ = use_move; }

 private:
  struct State;
  ImapConfig config_;
  const Clock& clock_;
  bool use_move_ = true;
  std::unique_ptr<State> state_;
};

// Folder names tried for `role` when no folder carries the SPECIAL-USE attribute, in order.
const std::vector<std::string>& FolderNameFallbacks(FolderRole role);

}  // namespace kiln::mail
