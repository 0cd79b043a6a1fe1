// Checking a stored mailbox — a sender or a warm-up inbox — the way its owner would: open its
// sealed passwords, log in to its SMTP server (AUTH) and its IMAP server (LOGIN) with them, and
// summarise the outcome as a status. Shared by POST …/senders/{id}/verify and the bots' verify,
// resume and provision routes, so both kinds of mailbox are judged by one rule.
//
// The checks take seconds (each step bounded by kMailboxCheckTimeout): callers run them outside
// any transaction, on routes marked blocking (http::RouteDoc::blocking) so that the server runs
// them on its blocking pool, never on an I/O thread. Stateless functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/api/api.h"
#include "kiln/base/status.h"
#include "kiln/mail/sender_check.h"
#include "kiln/store/db.h"

namespace kiln::api {

inline constexpr std::chrono::milliseconds kMailboxCheckTimeout{10'000};

// The associated data a mailbox password is sealed with: "<table>:<id>:<field>" (e.g.
// "senders:7:smtp_secret"), so a sealed value moved to another row or field does not open.
std::string MailboxSecretAad(std::string_view table, int64_t id, std::string_view field);

// "tls", "starttls", else none: the security column of a senders or bots row.
mail::SmtpSecurity MailboxSecurity(const std::string& s);

// {ok, kind, message} of one protocol's check, as the API answers it.
boost::json::object DiagnosisJson(const mail::Diagnosis& d);

// The SMTP settings of row `r` (columns smtp_host/port/security/username, allow_self_signed) with
// the sealed smtp_secret of `table` row `id` opened, each step bounded by kMailboxCheckTimeout.
// Fails with failed_precondition naming smtp.password when the password is not set or cannot be
// opened with this server's key.
Result<mail::SmtpConfig> StoredSmtpConfig(const Api& api, const store::Row& r,
                                          std::string_view table, int64_t id);

struct MailboxCheck {
  mail::Diagnosis smtp;
  mail::Diagnosis imap;
  std::string status;  // "active" when both logins worked, else "failed"
  std::string reason;  // "" or "SMTP: …; IMAP: …", naming each failure
};

// Checks the mailbox of row `r` (columns smtp_host/port/security/username, imap_…,
// allow_self_signed, and the sealed smtp_secret / imap_secret of `table` row `id`). A failed login
// is an outcome, not an error. Fails with failed_precondition naming smtp.password or
// imap.password when a password is not set or cannot be opened with this server's key.
Result<MailboxCheck> CheckStoredMailbox(const Api& api, const store::Row& r, std::string_view table,
                                        int64_t id);

}  // namespace kiln::api
