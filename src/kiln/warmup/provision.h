// Provisioning: "create a mailbox on a mail server the operator runs", so that a warm-up inbox can
// be added without the operator creating the account by hand. Kiln never signs up accounts at
// third-party providers; an adapter speaks to the operator's own server.
//
// FilesProvisioner is the adapter for a Postfix + Dovecot server whose users live in files (the
// layout of scripts/mailstack, and of many small self-hosted servers):
//   - Dovecot passwd-file:         "<address>:{PLAIN}<password>::::::"  (Dovecot re-reads it when
//                                  it changes)
//   - Postfix virtual mailbox map: "<address> <domain>/<local part>/"  (a texthash: map, read
//                                  when Postfix reloads)
//   - Postfix sender login map:    "<address> <address>"  (optional: the mailbox may send as
//   itself)
//   - a users file:                "<address> <password>"  (optional: the test stack's list)
// then `postfix -c <config dir> reload` (optional) so smtpd picks up the new maps. Only domains the
// server already serves (some address of the domain is in the mailbox map) are accepted. Lines are
// appended under an exclusive lock (flock) on the mailbox map, so concurrent provisioning from
// several Kiln processes on the same host does not interleave.
//
// Settings (kiln/base/settings.cpp): provision_adapter ("" = off, "files"),
// provision_dovecot_passwd, provision_postfix_vmailbox, provision_postfix_senders,
// provision_users_file, provision_postfix_config_dir.
//
// Thread-safety: a MailboxProvisioner may be used from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kiln/base/config.h"
#include "kiln/base/status.h"

namespace kiln::warmup {

class MailboxProvisioner {
 public:
  virtual ~MailboxProvisioner() = default;

  // The adapter's name, stored as bots.provisioned_by ("files").
  virtual std::string_view name() const = 0;

  // Creates mailbox `address` (already normalised: lowercase domain) with `password`, ready to
  // log in over IMAP and SMTP when this returns. Failure: InvalidArgument when the server does not
  // serve the address's domain; AlreadyExists when the mailbox exists; Unavailable naming the file
  // or command when the server's files cannot be written or its daemons not reloaded (a mailbox
  // written before a failed reload stays: retrying answers AlreadyExists, and reloading by hand
  // finishes the job).
  virtual Status CreateMailbox(const std::string& address, const std::string& password) = 0;
};

struct FilesProvisionerOptions {
  std::string dovecot_passwd;      // required
  std::string postfix_vmailbox;    // required
  std::string postfix_senders;     // optional
  std::string users_file;          // optional
  std::string postfix_config_dir;  // optional: `postfix -c DIR reload` after writing
};

class FilesProvisioner : public MailboxProvisioner {
 public:
  explicit FilesProvisioner(FilesProvisionerOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "files"; }
  Status CreateMailbox(const std::string& address, const std::string& password) override;

 private:
  FilesProvisionerOptions options_;
};

// The provisioner the settings describe. Failure: FailedPrecondition when provisioning is off
// (provision_adapter empty) or the adapter is unknown or lacks a required path, naming the setting.
Result<std::unique_ptr<MailboxProvisioner>> ProvisionerFromConfig(const Config& config);

}  // namespace kiln::warmup
