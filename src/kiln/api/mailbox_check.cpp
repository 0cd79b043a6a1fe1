#include "kiln/api/mailbox_check.h"

namespace kiln::api {

std::string MailboxSecretAad(std::string_view table, int64_t id, std::string_view field) {
  return std::string(table) + ":" + std::to_string(id) + ":" + std::string(field);
}

mail::SmtpSecurity MailboxSecurity(const std::string& s) {
  if (s == "tls") return mail::SmtpSecurity::kTls;
  if (s == "starttls") return mail::SmtpSecurity::kStartTls;
  return mail::SmtpSecurity::kNone;
}

boost::json::object DiagnosisJson(const mail::Diagnosis& d) {
  return {{"ok", d.ok()},
          {"kind", std::string(mail::DiagnosisKindName(d.kind))},
          {"message", d.ok() ? std::string("ok") : d.message}};
}

namespace {

// The plain text of the sealed password in column `field` ("smtp_secret") of `table` row `id`;
// `what` ("smtp") names it in failures.
Result<std::string> UnsealPassword(const Api& api, const store::Row& r, std::string_view table,
                                   int64_t id, const char* field, const char* what) {
  if (r.IsNull(field)) {
    return Status::FailedPrecondition(std::string("the ") + what + " password is not set",
                                      std::string(what) + ".password");
  }
  auto plain = api.secrets().Open(r.Bytes(field), MailboxSecretAad(table, id, field));
  if (!plain.ok()) {
    return Status::FailedPrecondition(std::string("the stored ") + what +
                                          " password cannot be unsealed with this server's "
                                          "secret key; set it again",
                                      std::string(what) + ".password");
  }
  return plain;
}

}  // namespace

Result<mail::SmtpConfig> StoredSmtpConfig(const Api& api, const store::Row& r,
                                          std::string_view table, int64_t id) {
  KILN_ASSIGN_OR_RETURN(std::string password,
                        UnsealPassword(api, r, table, id, "smtp_secret", "smtp"));
  mail::SmtpConfig smtp;
  smtp.host = r.Text("smtp_host");
  smtp.port = static_cast<uint16_t>(r.Int("smtp_port"));
  smtp.security = MailboxSecurity(r.Text("smtp_security"));
  smtp.username = r.Text("smtp_username");
  smtp.secret = std::move(password);
  smtp.allow_self_signed = r.Bool("allow_self_signed");
  smtp.timeouts.connect = smtp.timeouts.greeting = smtp.timeouts.command = kMailboxCheckTimeout;
  return smtp;
}

Result<MailboxCheck> CheckStoredMailbox(const Api& api, const store::Row& r, std::string_view table,
                                        int64_t id) {
  KILN_ASSIGN_OR_RETURN(mail::SmtpConfig smtp, StoredSmtpConfig(api, r, table, id));
  KILN_ASSIGN_OR_RETURN(std::string imap_password,
                        UnsealPassword(api, r, table, id, "imap_secret", "imap"));

  mail::ImapCheckConfig imap;
  imap.host = r.Text("imap_host");
  imap.port = static_cast<uint16_t>(r.Int("imap_port"));
  imap.security = MailboxSecurity(r.Text("imap_security"));
  imap.username = r.Text("imap_username");
  imap.password = imap_password;
  imap.allow_self_signed = r.Bool("allow_self_signed");
  imap.timeout = kMailboxCheckTimeout;

  MailboxCheck out{.smtp = mail::TestSmtpConnection(smtp),
                   .imap = mail::TestImapConnection(imap),
                   .status = "",
                   .reason = ""};
  if (!out.smtp.ok()) out.reason = "SMTP: " + out.smtp.message;
  if (!out.imap.ok()) {
    out.reason += (out.reason.empty() ? "" : "; ") + std::string("IMAP: ") + out.imap.message;
  }
  out.status = out.reason.empty() ? "active" : "failed";
  return out;
}

}  // namespace kiln::api
