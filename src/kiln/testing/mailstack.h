// Mailstack: what tests need to know about the throwaway Postfix + Dovecot of scripts/mailstack
// (ports, users, Maildir paths), read from the KILN_MAILSTACK_* environment that
// `scripts/mailstack env` prints (scripts/test exports it before ctest). Tests only.
// Immutable after FromEnv(): safe to share across threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::testing {

struct MailstackUser {
  std::string address;   // "sender1@kiln-a.test"
  std::string password;  // "secret-sender1"
};

class Mailstack {
 public:
  // Success: every KILN_MAILSTACK_* variable is set and the users file is readable.
  // Failure: FailedPrecondition naming the missing variable or file, with how to start the stack.
  static Result<Mailstack> FromEnv();

  std::string host = "127.0.0.1";
  uint16_t smtp_port = 0;         // AUTH, STARTTLS offered, unknown users refused at RCPT
  uint16_t smtp_accept_port = 0;  // unknown users/domains accepted, then a DSN to the sender
  uint16_t smtp_idle_port = 0;    // closes connections idle for 2 s
  uint16_t starttls_port = 0;     // STARTTLS required
  uint16_t smtps_port = 0;        // implicit TLS
  uint16_t imap_port = 0;
  uint16_t imaps_port = 0;
  size_t size_limit = 0;
  // Added to the stack later than the fields above; 0 / empty when the running stack predates
  // them (use Require() in tests that need them).
  uint16_t small_port = 0;      // small.test's "remote" MX (message_size_limit small_size_limit)
  size_t small_size_limit = 0;  // mail to small.test above this bounces with a 5.3.4 DSN
  uint16_t wrong_name_smtps_port = 0;  // SMTPS with a certificate for wrong-name.kiln.test only
  uint16_t wrong_name_imaps_port = 0;  // IMAPS on wrong_name_host with that certificate
  std::string wrong_name_host;         // 127.0.0.2
  std::string wrong_name_ca_file;      // that (self-signed) certificate
  std::string dir;
  std::string ca_file;  // the stack's self-signed certificate
  std::string mail_dir;
  std::vector<MailstackUser> users;

  // Success: the running stack has the small.test relay and the wrong-name TLS listeners.
  // Failure: FailedPrecondition saying to restart a stack started by an older scripts/mailstack.
  Status Require(std::string_view what) const;

  // Success: the user with that address. Failure: NotFound.
  Result<MailstackUser> User(std::string_view address) const;
  // The Maildir folder of `address`: ".../kiln-a.test/sender1" for INBOX, ".../.Junk" for Junk.
  std::string MaildirPath(std::string_view address, std::string_view folder = "INBOX") const;
  // Full contents of every message in that folder (new/ and cur/), oldest file name first.
  std::vector<std::string> ReadMessages(std::string_view address,
                                        std::string_view folder = "INBOX") const;
  // Polls until a message in that folder contains `needle`; returns it. Failure:
  // DeadlineExceeded after `timeout`. (Tests only: real time, real sleeps.)
  Result<std::string> WaitForMessage(std::string_view address, std::string_view needle,
                                     std::chrono::milliseconds timeout,
                                     std::string_view folder = "INBOX") const;
};

}  // namespace kiln::testing
