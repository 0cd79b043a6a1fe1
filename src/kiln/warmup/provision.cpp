#include "kiln/warmup/provision.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace kiln::warmup {

namespace {

bool SafeLocalPart(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool SafeDomain(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Characters that would break a passwd-file or map line.
bool SafePassword(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    if (c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') return false;
  }
  return true;
}

std::string ErrnoText() { return std::strerror(errno); }

// Reads a whole file; Unavailable naming it when it cannot be read.
Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + path + ": " + ErrnoText());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first whitespace- or ':'-separated word of each line.
std::vector<std::string> Keys(const std::string& text, char separator) {
  std::vector<std::string> keys;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_first_of(separator == ':' ? ":" : " \t", start);
    keys.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return keys;
}

// Appends one line to `path` (O_APPEND, after a newline when the file does not end with one).
// The file keeps its owner and mode.
Status AppendLine(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("cannot open " + path + " for writing: " + ErrnoText());
  std::string text = line + "\n";
  auto existing = ReadAll(path);
  if (existing.ok() && !existing->empty() && existing->back() != '\n') text = "\n" + text;
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = ErrnoText();
      ::close(fd);
      return Status::Unavailable("cannot write " + path + ": " + err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status::Unavailable("cannot write " + path + ": " + ErrnoText());
  }
  return Status::Ok();
}

// Runs argv (no shell), output discarded; OK when it exits 0.
Status Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Unavailable("cannot run `" + command + "`: " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Unavailable("cannot wait for `" + command + "`");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Unavailable("`" + command + "` failed (exit status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return Status::Ok();
}

// An exclusive flock held for the lifetime of the object.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

Status FilesProvisioner::CreateMailbox(const std::string& address, const std::string& password) {
  size_t at = address.find('@');
  if (at == std::string::npos) {
    return Status::InvalidArgument("'" + address + "' is not an email address");
  }
  const std::string local = address.substr(0, at);
  const std::string domain = address.substr(at + 1);
  if (!SafeLocalPart(local)) {
    return Status::InvalidArgument("the local part may hold only a-z, 0-9, '.', '-', '_'");
  }
  if (!SafeDomain(domain)) return Status::InvalidArgument("'" + domain + "' is not a domain name");
  if (!SafePassword(password)) {
    return Status::InvalidArgument("the password must not hold ':' or white space");
  }

  FileLock lock(options_.postfix_vmailbox);
  if (!lock.ok()) {
    return Status::Unavailable("cannot lock " + options_.postfix_vmailbox + ": " + ErrnoText());
  }
  KILN_ASSIGN_OR_RETURN(std::string vmailbox, ReadAll(options_.postfix_vmailbox));
  bool served = false;
  for (const std::string& key : Keys(vmailbox, ' ')) {
    if (key == address) {
      return Status::AlreadyExists("the mailbox " + address + " already exists on the server");
    }
    served = served || (key.size() > domain.size() + 1 && key.ends_with("@" + domain));
  }
  if (!served) {
    return Status::InvalidArgument("the mail server does not serve " + domain +
                                   " (no mailbox of it in " + options_.postfix_vmailbox + ")");
  }
  KILN_ASSIGN_OR_RETURN(std::string passwd, ReadAll(options_.dovecot_passwd));
  for (const std::string& key : Keys(passwd, ':')) {
    if (key == address) {
      return Status::AlreadyExists("the login " + address + " already exists in " +
                                   options_.dovecot_passwd);
    }
  }
  // Login first, delivery last: a half-done run never accepts mail nobody can read.
  KILN_RETURN_IF_ERROR(
      AppendLine(options_.dovecot_passwd, address + ":{PLAIN}" + password + "::::::"));
  if (!options_.postfix_senders.empty()) {
    KILN_RETURN_IF_ERROR(AppendLine(options_.postfix_senders, address + " " + address));
  }
  if (!options_.users_file.empty()) {
    KILN_RETURN_IF_ERROR(AppendLine(options_.users_file, address + " " + password));
  }
  KILN_RETURN_IF_ERROR(
      AppendLine(options_.postfix_vmailbox, address + " " + domain + "/" + local + "/"));
  if (!options_.postfix_config_dir.empty()) {
    KILN_RETURN_IF_ERROR(Run({"postfix", "-c", options_.postfix_config_dir, "reload"}));
  }
  return Status::Ok();
}

Result<std::unique_ptr<MailboxProvisioner>> ProvisionerFromConfig(const Config& config) {
  const std::string& adapter = config.GetString("provision_adapter");
  if (adapter.empty()) {
    return Status::FailedPrecondition(
        "provisioning is off on this server (set provision_adapter, see docs/operations.md)");
  }
  if (adapter != "files") {
    return Status::FailedPrecondition("provision_adapter '" + adapter +
                                      "' is unknown (known: files)");
  }
  FilesProvisionerOptions o;
  o.dovecot_passwd = config.GetString("provision_dovecot_passwd");
  o.postfix_vmailbox = config.GetString("provision_postfix_vmailbox");
  o.postfix_senders = config.GetString("provision_postfix_senders");
  o.users_file = config.GetString("provision_users_file");
  o.postfix_config_dir = config.GetString("provision_postfix_config_dir");
  if (o.dovecot_passwd.empty()) {
    return Status::FailedPrecondition("provision_adapter 'files' needs provision_dovecot_passwd");
  }
  if (o.postfix_vmailbox.empty()) {
    return Status::FailedPrecondition("provision_adapter 'files' needs provision_postfix_vmailbox");
  }
  return std::unique_ptr<MailboxProvisioner>(new FilesProvisioner(std::move(o)));
}

}  // namespace kiln::warmup
