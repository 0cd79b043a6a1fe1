// Inbox: one mailbox read over IMAP — folder discovery, incremental fetch, flags, moves, and
// appending Kiln's sent copies. The engine (inbox watcher, warm-up bots) owns this interface;
// ImapInbox (imap_inbox.h) implements it with vmime.
//
// Threading: every call blocks on the network. An Inbox is NOT thread-safe: use one Inbox per
// thread; a worker pool owns a set of them and hands each to one worker at a time.
//
// Incremental sync and the "none processed twice, none skipped across restarts" rule:
// FetchSince(folder, state) returns the messages with UID > state.last_uid in ascending UID order,
// together with the folder's current UIDVALIDITY. The caller processes them IN ORDER and, after
// each message is fully processed (its effects committed), persists
//     SyncState{result.uidvalidity, message.uid}
// in the same transaction as those effects where it can. Saving last_uid only after processing
// means a crash re-reads at most the message in flight (never skips one); saving it with the
// effects means none is processed twice. When the server's UIDVALIDITY differs from the saved one
// (the folder was recreated or renumbered), UIDs are meaningless: FetchSince starts again from
// UID 1 and sets `uidvalidity_changed`; each message carries its Message-ID so that the caller
// can skip the ones it had already processed under the old UIDVALIDITY (dedupe by Message-ID).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::mail {

enum class ImapSecurity { kTls, kStartTls, kNone };
enum class ImapAuth { kPassword, kXOAuth2 };

struct ImapConfig {
  std::string host;
  uint16_t port = 993;
  ImapSecurity security = ImapSecurity::kTls;
  std::string username;
  std::string secret;  // the password, or the OAuth 2.0 access token for kXOAuth2
  ImapAuth auth = ImapAuth::kPassword;
  // Encrypt without authenticating the server: accept a certificate that does not chain to a
  // trusted root (self-signed, private CA) or whose names do not match `host`. Expired
  // certificates are still refused. Off by default: then the chain must be trusted (system
  // store or ca_file) and the names must match `host`.
  bool allow_self_signed = false;
  std::string ca_file;  // extra trusted CA certificates (PEM), besides the system store
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds io_timeout{60000};  // no byte from the server for this long: fail
  size_t max_message_bytes = 40u << 20;         // larger messages are listed but not downloaded
};

// What a folder is for, from RFC 6154 SPECIAL-USE or, failing that, its name.
enum class FolderRole { kInbox, kJunk, kSent, kTrash, kDrafts, kArchive };

std::string_view FolderRoleName(FolderRole role);

struct FolderInfo {
  std::string name;                // full name with '/' between levels, e.g. "[Gmail]/Spam"
  std::optional<FolderRole> role;  // from SPECIAL-USE only
  bool selectable = true;
};

struct SyncState {
  uint32_t uidvalidity = 0;  // 0: never synced
  uint32_t last_uid = 0;     // the highest UID already processed
};

struct FetchedMessage {
  uint32_t uid = 0;
  std::string message_id;  // without angle brackets; the dedupe hint after a UIDVALIDITY change
  size_t size = 0;         // RFC822.SIZE
  bool seen = false;
  bool flagged = false;
  // The full message; empty when `size` exceeds ImapConfig::max_message_bytes (too_large set).
  std::string raw;
  bool too_large = false;
};

struct FetchResult {
  uint32_t uidvalidity = 0;              // the folder's current UIDVALIDITY: save it with each UID
  bool uidvalidity_changed = false;      // the saved UIDVALIDITY was stale: UIDs restarted from 1
  std::vector<FetchedMessage> messages;  // ascending UID, all > the effective last_uid
  bool more = false;                     // max_messages was reached; call again after processing
};

class Inbox {
 public:
  virtual ~Inbox() = default;

  // Connects and authenticates. Failure: Unauthenticated (bad credentials, named in the message),
  // Unavailable (cannot connect / TLS handshake failed / certificate refused: the message says
  // which), DeadlineExceeded (timeout). Calling it while connected reconnects.
  virtual Status Connect() = 0;
  // Logs out and closes the connection; safe to call when not connected.
  virtual void Disconnect() = 0;
  virtual bool IsConnected() const = 0;

  // Every folder of the account. Failure: Unavailable / FailedPrecondition (not connected).
  virtual Result<std::vector<FolderInfo>> ListFolders() = 0;
  // The folder that plays `role`: by SPECIAL-USE first, then by the usual names (Inbox: "INBOX";
  // Junk: "Junk", "Spam", "[Gmail]/Spam", "Junk E-mail", "Junk Email", "Bulk Mail"; Sent: "Sent",
  // "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail"; Trash: "Trash",
  // "Deleted Items", "Deleted Messages", "[Gmail]/Trash", "Bin"; Drafts: "Drafts",
  // "[Gmail]/Drafts"; Archive: "Archive", "Archives", "[Gmail]/All Mail"), case-insensitively.
  // Failure: NotFound when no folder matches.
  virtual Result<std::string> FindFolder(FolderRole role) = 0;

  // New messages of `folder` after `state` (see the header comment), at most `max_messages`.
  // Does not set \Seen. Failure: NotFound (no such folder), Unavailable, DeadlineExceeded.
  virtual Result<FetchResult> FetchSince(std::string_view folder, const SyncState& state,
                                         size_t max_messages = 500) = 0;

  // Adds or removes \Seen / \Flagged on message `uid` of `folder`. Failure: NotFound (folder),
  // Unavailable. Setting a flag on a UID that no longer exists succeeds (IMAP ignores it).
  virtual Status SetSeen(std::string_view folder, uint32_t uid, bool seen) = 0;
  virtual Status SetFlagged(std::string_view folder, uint32_t uid, bool flagged) = 0;

  // Moves message `uid` from `from` to `to`: UID MOVE (RFC 6851) when the server has MOVE, else
  // UID COPY + \Deleted + UID EXPUNGE (RFC 4315 UIDPLUS); without UIDPLUS the copy is made and
  // the original is only flagged \Deleted, because a plain EXPUNGE could remove other messages
  // that a user had flagged. Failure: NotFound (a folder or the message), Unavailable.
  virtual Status Move(uint32_t uid, std::string_view from, std::string_view to) = 0;

  // Appends `raw` (a complete RFC 5322 message, CRLF line ends) to the Sent folder (FindFolder
  // kSent) with \Seen. Failure: NotFound (no Sent folder), InvalidArgument (empty), Unavailable.
  virtual Status AppendToSent(std::string_view raw) = 0;
};

}  // namespace kiln::mail
