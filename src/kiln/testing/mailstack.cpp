#include "kiln/testing/mailstack.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace kiln::testing {
namespace {

Result<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return Status::FailedPrecondition(
        std::string(name) +
        " is not set: start the mail stack with `eval \"$(scripts/mailstack start)\"`");
  }
  return std::string(value);
}

Result<uint16_t> EnvPort(const char* name) {
  KILN_ASSIGN_OR_RETURN(std::string text, Env(name));
  int port = std::atoi(text.c_str());
  if (port <= 0 || port > 65535) {
    return Status::FailedPrecondition(std::string(name) + "=" + text + " is not a port");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<Mailstack> Mailstack::FromEnv() {
  Mailstack m;
  KILN_ASSIGN_OR_RETURN(m.host, Env("KILN_MAILSTACK_HOST"));
  KILN_ASSIGN_OR_RETURN(m.smtp_port, EnvPort("KILN_MAILSTACK_SMTP_PORT"));
  KILN_ASSIGN_OR_RETURN(m.smtp_accept_port, EnvPort("KILN_MAILSTACK_SMTP_ACCEPT_PORT"));
  KILN_ASSIGN_OR_RETURN(m.smtp_idle_port, EnvPort("KILN_MAILSTACK_SMTP_IDLE_PORT"));
  KILN_ASSIGN_OR_RETURN(m.starttls_port, EnvPort("KILN_MAILSTACK_STARTTLS_PORT"));
  KILN_ASSIGN_OR_RETURN(m.smtps_port, EnvPort("KILN_MAILSTACK_SMTPS_PORT"));
  KILN_ASSIGN_OR_RETURN(m.imap_port, EnvPort("KILN_MAILSTACK_IMAP_PORT"));
  KILN_ASSIGN_OR_RETURN(m.imaps_port, EnvPort("KILN_MAILSTACK_IMAPS_PORT"));
  KILN_ASSIGN_OR_RETURN(std::string size, Env("KILN_MAILSTACK_SIZE_LIMIT"));
  m.size_limit = static_cast<size_t>(std::atoll(size.c_str()));
  if (EnvPort("KILN_MAILSTACK_SMALL_PORT").ok()) {
    m.small_port = *EnvPort("KILN_MAILSTACK_SMALL_PORT");
    m.wrong_name_smtps_port = EnvPort("KILN_MAILSTACK_WRONG_NAME_SMTPS_PORT").value_or(0);
    m.wrong_name_imaps_port = EnvPort("KILN_MAILSTACK_WRONG_NAME_IMAPS_PORT").value_or(0);
    m.small_size_limit = static_cast<size_t>(
        std::atoll(Env("KILN_MAILSTACK_SMALL_SIZE_LIMIT").value_or("0").c_str()));
    m.wrong_name_host = Env("KILN_MAILSTACK_WRONG_NAME_HOST").value_or("");
    m.wrong_name_ca_file = Env("KILN_MAILSTACK_WRONG_NAME_CA_FILE").value_or("");
  }
  KILN_ASSIGN_OR_RETURN(m.dir, Env("KILN_MAILSTACK_DIR"));
  KILN_ASSIGN_OR_RETURN(m.ca_file, Env("KILN_MAILSTACK_CA_FILE"));
  KILN_ASSIGN_OR_RETURN(m.mail_dir, Env("KILN_MAILSTACK_MAIL_DIR"));
  KILN_ASSIGN_OR_RETURN(std::string users_file, Env("KILN_MAILSTACK_USERS_FILE"));
  std::ifstream in(users_file);
  if (!in) {
    return Status::FailedPrecondition("cannot read " + users_file +
                                      ": is the mail stack running (scripts/mailstack status)?");
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    MailstackUser user;
    if (fields >> user.address >> user.password) m.users.push_back(std::move(user));
  }
  if (m.users.empty()) return Status::FailedPrecondition(users_file + " lists no users");
  return m;
}

Status Mailstack::Require(std::string_view what) const {
  if (small_port != 0 && small_size_limit != 0 && wrong_name_smtps_port != 0 &&
      wrong_name_imaps_port != 0 && !wrong_name_host.empty() && !wrong_name_ca_file.empty()) {
    return Status::Ok();
  }
  return Status::FailedPrecondition(
      std::string(what) +
      " needs the small.test relay and wrong-name TLS listeners (KILN_MAILSTACK_SMALL_PORT, "
      "KILN_MAILSTACK_WRONG_NAME_*), which the running mail stack predates: restart it with "
      "`scripts/mailstack stop; eval \"$(scripts/mailstack start)\"`");
}

Result<MailstackUser> Mailstack::User(std::string_view address) const {
  for (const MailstackUser& u : users) {
    if (u.address == address) return u;
  }
  return Status::NotFound("the mail stack has no user " + std::string(address));
}

std::string Mailstack::MaildirPath(std::string_view address, std::string_view folder) const {
  size_t at = address.find('@');
  std::string local(address.substr(0, at));
  std::string domain(at == std::string_view::npos ? "" : address.substr(at + 1));
  std::string path = mail_dir + "/" + domain + "/" + local;
  if (folder != "INBOX") path += "/." + std::string(folder);
  return path;
}

std::vector<std::string> Mailstack::ReadMessages(std::string_view address,
                                                 std::string_view folder) const {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::string base = MaildirPath(address, folder);
  for (const char* sub : {"/new", "/cur"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(base + sub, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  std::vector<std::string> out;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

Result<std::string> Mailstack::WaitForMessage(std::string_view address, std::string_view needle,
                                              std::chrono::milliseconds timeout,
                                              std::string_view folder) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (std::string& message : ReadMessages(address, folder)) {
      if (message.find(needle) != std::string::npos) return std::move(message);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded(
          "no message containing \"" + std::string(needle) + "\" reached " + std::string(address) +
          "/" + std::string(folder) + " within " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace kiln::testing
