#include "kiln/mail/imap_inbox.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vmime/net/imap/IMAPCommand.hpp>
#include <vmime/net/imap/IMAPConnection.hpp>
#include <vmime/net/imap/IMAPFolder.hpp>
#include <vmime/net/imap/IMAPParser.hpp>
#include <vmime/net/imap/IMAPStore.hpp>
#include <vmime/net/imap/IMAPUtils.hpp>
#include <vmime/net/tracer.hpp>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/security/cert/certificateNotTrustedException.hpp>
#include <vmime/security/cert/defaultCertificateVerifier.hpp>
#include <vmime/security/cert/serverIdentityException.hpp>
#include <vmime/security/sasl/SASLMechanism.hpp>
#include <vmime/security/sasl/SASLMechanismFactory.hpp>
#include <vmime/security/sasl/SASLSession.hpp>
#include <vmime/security/sasl/defaultSASLAuthenticator.hpp>
#include <vmime/vmime.hpp>

#include "kiln/mail/imap_socket.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/mail/tls_names.h"

namespace kiln::mail {
namespace {

namespace vnet = vmime::net;
namespace vcert = vmime::security::cert;
namespace vsasl = vmime::security::sasl;

// What the server said when it refused an XOAUTH2 login, for the Status message.
struct XOAuth2Outcome {
  bool offered = true;    // the server listed AUTH=XOAUTH2
  std::string challenge;  // its error challenge, decoded (JSON), printable ASCII only
  std::string refusal;    // its tagged NO / BAD line
};

// Keeps printable ASCII of untrusted server text, at most `max` bytes.
std::string Printable(std::string_view text, size_t max = 300) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    if (c >= 0x20 && c < 0x7f) out.push_back(c);
  }
  return out;
}

// XOAUTH2 (https://developers.google.com/gmail/imap/xoauth2-protocol), Kiln's own mechanism:
// Debian's vmime 0.9.2 has none (its SASL mechanisms come from GNU SASL, which lacks XOAUTH2),
// and upstream vmime's answers the server's error challenge by sending the credentials again.
// The first step sends base64("user=U\x01auth=Bearer T\x01\x01"), on the AUTHENTICATE line
// when the server has SASL-IR (RFC 4959), else after its empty "+" continuation; a later
// challenge is the server's JSON error, which is recorded and answered with an empty response
// so that the server ends the exchange with its tagged NO.
class XOAuth2Mechanism : public vsasl::SASLMechanism {
 public:
  XOAuth2Mechanism(vmime::shared_ptr<vsasl::SASLContext> /*ctx*/, const vmime::string& /*name*/) {}

  const vmime::string getName() const override { return "XOAUTH2"; }
  bool step(vmime::shared_ptr<vsasl::SASLSession> sess, const vmime::byte_t* challenge,
            const size_t challenge_len, vmime::byte_t** response, size_t* response_len) override;
  bool isComplete() const override { return sent_; }
  bool hasInitialResponse() const override { return initial_response_; }
  void encode(vmime::shared_ptr<vsasl::SASLSession>, const vmime::byte_t* input,
              const size_t input_len, vmime::byte_t** output, size_t* output_len) override {
    Copy(std::string_view(reinterpret_cast<const char*>(input), input_len), output, output_len);
  }
  void decode(vmime::shared_ptr<vsasl::SASLSession>, const vmime::byte_t* input,
              const size_t input_len, vmime::byte_t** output, size_t* output_len) override {
    Copy(std::string_view(reinterpret_cast<const char*>(input), input_len), output, output_len);
  }

  void set_initial_response(bool on) { initial_response_ = on; }

 private:
  // vmime frees these buffers with delete[].
  static void Copy(std::string_view bytes, vmime::byte_t** out, size_t* out_len) {
    *out = new vmime::byte_t[bytes.size() + 1];
    std::copy(bytes.begin(), bytes.end(), *out);
    *out_len = bytes.size();
  }

  bool sent_ = false;
  bool initial_response_ = false;
};

// Offers only Kiln's XOAUTH2 mechanism (never a password mechanism) and collects what the server
// said about it.
class XOAuth2Authenticator : public vsasl::defaultSASLAuthenticator {
 public:
  explicit XOAuth2Authenticator(std::shared_ptr<XOAuth2Outcome> outcome)
      : outcome_(std::move(outcome)) {}

  const std::vector<vmime::shared_ptr<vsasl::SASLMechanism>> getAcceptableMechanisms(
      const std::vector<vmime::shared_ptr<vsasl::SASLMechanism>>& available,
      vmime::shared_ptr<vsasl::SASLMechanism> /*suggested*/) const override {
    bool sasl_ir = false;
    if (auto imap = vmime::dynamicCast<vnet::imap::IMAPStore>(getService().lock())) {
      if (auto conn = imap->getConnection()) sasl_ir = conn->hasCapability("SASL-IR");
    }
    std::vector<vmime::shared_ptr<vsasl::SASLMechanism>> out;
    for (const auto& m : available) {
      if (auto x = vmime::dynamicCast<XOAuth2Mechanism>(m)) {
        x->set_initial_response(sasl_ir);
        out.push_back(m);
      }
    }
    outcome_->offered = !out.empty();
    return out;
  }

  XOAuth2Outcome& outcome() { return *outcome_; }

 private:
  std::shared_ptr<XOAuth2Outcome> outcome_;
};

bool XOAuth2Mechanism::step(vmime::shared_ptr<vsasl::SASLSession> sess,
                            const vmime::byte_t* challenge, const size_t challenge_len,
                            vmime::byte_t** response, size_t* response_len) {
  if (!sent_) {
    auto auth = sess->getAuthenticator();
    sent_ = true;
    Copy(XOAuth2Response(auth->getUsername(), auth->getAccessToken()), response, response_len);
    return true;
  }
  if (auto auth = vmime::dynamicCast<XOAuth2Authenticator>(sess->getAuthenticator())) {
    auth->outcome().challenge =
        Printable(std::string_view(reinterpret_cast<const char*>(challenge), challenge_len));
  }
  Copy("", response, response_len);
  return true;
}

// Registers XOAuth2Mechanism with vmime's (process-wide) mechanism factory, once.
void RegisterXOAuth2Mechanism() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto* factory = vsasl::SASLMechanismFactory::getInstance();
    if (!factory->isMechanismSupported("XOAUTH2")) {
      factory->registerMechanism<XOAuth2Mechanism>("XOAUTH2");
    }
  });
}

// Records the server's last tagged NO/BAD line (never what the client sends: that holds
// credentials).
class RefusalTracer : public vnet::tracer {
 public:
  explicit RefusalTracer(std::shared_ptr<XOAuth2Outcome> outcome) : outcome_(std::move(outcome)) {}
  void traceSend(const vmime::string&) override {}
  void traceReceive(const vmime::string& line) override {
    if (line.empty() || line[0] == '*' || line[0] == '+') return;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) return;
    const std::string rest = line.substr(sp + 1, 4);
    if (rest.rfind("NO ", 0) == 0 || rest.rfind("BAD ", 0) == 0 || rest == "NO" || rest == "BAD") {
      outcome_->refusal = Printable(std::string_view(line).substr(sp + 1));
    }
  }

 private:
  std::shared_ptr<XOAuth2Outcome> outcome_;
};

class RefusalTracerFactory : public vnet::tracerFactory {
 public:
  explicit RefusalTracerFactory(std::shared_ptr<XOAuth2Outcome> outcome)
      : outcome_(std::move(outcome)) {}
  vmime::shared_ptr<vnet::tracer> create(vmime::shared_ptr<vnet::service>, const int) override {
    return vmime::make_shared<RefusalTracer>(outcome_);
  }

 private:
  std::shared_ptr<XOAuth2Outcome> outcome_;
};

// A server certificate whose names do not match the host connected to; what() says both.
class CertificateNameMismatch : public vcert::certificateException {
 public:
  using vcert::certificateException::certificateException;
};

// Trusts the system store plus an optional CA file. With allow_self_signed, an untrusted chain
// or a name mismatch is accepted (encryption without authentication, see ImapConfig); broken
// chains and expired certificates never are.
class KilnCertificateVerifier : public vcert::certificateVerifier {
 public:
  KilnCertificateVerifier(bool allow_self_signed,
                          std::vector<vmime::shared_ptr<vcert::X509Certificate>> roots)
      : allow_self_signed_(allow_self_signed) {
    default_.setX509RootCAs(roots);
  }

  void verify(vmime::shared_ptr<vcert::certificateChain> chain,
              const vmime::string& hostname) override {
    try {
      default_.verify(chain, hostname);
    } catch (const vcert::certificateNotTrustedException&) {
      if (!allow_self_signed_) throw;
    } catch (const vcert::serverIdentityException&) {
      if (allow_self_signed_) return;
      std::string der;
      auto leaf = chain && chain->getCount() > 0
                      ? vmime::dynamicCast<vcert::X509Certificate>(chain->getAt(0))
                      : nullptr;
      if (leaf) {
        vmime::utility::outputStreamStringAdapter out(der);
        leaf->write(out, vcert::X509Certificate::FORMAT_DER);
      }
      throw CertificateNameMismatch(NameMismatchText(CertificateNamesFromDer(der), hostname));
    }
  }

 private:
  bool allow_self_signed_;
  vcert::defaultCertificateVerifier default_;
};

// Every certificate of a PEM bundle file; missing files give none.
void LoadPemBundle(const std::string& path,
                   std::vector<vmime::shared_ptr<vcert::X509Certificate>>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string pem = ss.str();
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string::npos) {
    const size_t end = pem.find(kEnd, pos);
    if (end == std::string::npos) break;
    const std::string one = pem.substr(pos, end + kEnd.size() - pos);
    try {
      auto cert = vcert::X509Certificate::import(reinterpret_cast<const vmime::byte_t*>(one.data()),
                                                 one.size());
      if (cert) out.push_back(cert);
    } catch (...) {
      // A certificate GnuTLS cannot read is left out of the trust store.
    }
    pos = end + kEnd.size();
  }
}

vnet::folder::path ToPath(std::string_view name) {
  vnet::folder::path path;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    if (slash > pos) {
      path.appendComponent(vnet::folder::path::component(std::string(name.substr(pos, slash - pos)),
                                                         vmime::charsets::UTF_8));
    }
    pos = slash + 1;
  }
  return path;
}

std::string ToName(const vnet::folder::path& path) {
  std::string name;
  for (size_t i = 0; i < path.getSize(); ++i) {
    if (i) name.push_back('/');
    name += path[i].getConvertedText(vmime::charsets::UTF_8);
  }
  return name;
}

std::optional<FolderRole> RoleOfSpecialUse(int special_use) {
  switch (special_use) {
    case vnet::folderAttributes::SPECIALUSE_JUNK:
      return FolderRole::kJunk;
    case vnet::folderAttributes::SPECIALUSE_SENT:
      return FolderRole::kSent;
    case vnet::folderAttributes::SPECIALUSE_TRASH:
      return FolderRole::kTrash;
    case vnet::folderAttributes::SPECIALUSE_DRAFTS:
      return FolderRole::kDrafts;
    case vnet::folderAttributes::SPECIALUSE_ARCHIVE:
      return FolderRole::kArchive;
    default:
      return std::nullopt;
  }
}

uint32_t UidOf(const vnet::message& m) {
  const std::string s = m.getUID();
  try {
    return static_cast<uint32_t>(std::stoul(s));
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string_view FolderRoleName(FolderRole role) {
  switch (role) {
    case FolderRole::kInbox:
      return "inbox";
    case FolderRole::kJunk:
      return "junk";
    case FolderRole::kSent:
      return "sent";
    case FolderRole::kTrash:
      return "trash";
    case FolderRole::kDrafts:
      return "drafts";
    case FolderRole::kArchive:
      return "archive";
  }
  return "unknown";
}

const std::vector<std::string>& FolderNameFallbacks(FolderRole role) {
  static const std::vector<std::string> kInbox = {"INBOX"};
  static const std::vector<std::string> kJunk = {"Junk",        "Spam",       "[Gmail]/Spam",
                                                 "Junk E-mail", "Junk Email", "Bulk Mail",
                                                 "INBOX/Junk",  "INBOX/Spam"};
  static const std::vector<std::string> kSent = {"Sent",      "Sent Items",        "Sent Messages",
                                                 "Sent Mail", "[Gmail]/Sent Mail", "INBOX/Sent"};
  static const std::vector<std::string> kTrash = {
      "Trash",       "Deleted Items", "Deleted Messages", "[Gmail]/Trash",
      "[Gmail]/Bin", "Bin",           "INBOX/Trash"};
  static const std::vector<std::string> kDrafts = {"Drafts", "[Gmail]/Drafts", "INBOX/Drafts"};
  static const std::vector<std::string> kArchive = {"Archive", "Archives", "[Gmail]/All Mail"};
  switch (role) {
    case FolderRole::kInbox:
      return kInbox;
    case FolderRole::kJunk:
      return kJunk;
    case FolderRole::kSent:
      return kSent;
    case FolderRole::kTrash:
      return kTrash;
    case FolderRole::kDrafts:
      return kDrafts;
    case FolderRole::kArchive:
      return kArchive;
  }
  return kInbox;
}

struct ImapInbox::State {
  vmime::shared_ptr<vnet::session> session;
  vmime::shared_ptr<vnet::store> store;
  vmime::shared_ptr<vnet::folder> open_folder;
  std::string open_name;

  void Reset() {
    if (open_folder) {
      try {
        if (open_folder->isOpen()) open_folder->close(false);
      } catch (...) {
      }
    }
    open_folder.reset();
    open_name.clear();
    if (store) {
      try {
        if (store->isConnected()) store->disconnect();
      } catch (...) {
      }
    }
    store.reset();
    session.reset();
  }
};

ImapInbox::ImapInbox(ImapConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), state_(std::make_unique<State>()) {}

ImapInbox::~ImapInbox() { Disconnect(); }

namespace {

// Runs `f`, turning vmime's exceptions into a Status. `where` names the server and operation.
// `fatal` is set when the connection is no longer usable.
template <typename F>
Status Guard(const std::string& where, bool& fatal, F&& f) {
  fatal = false;
  try {
    return f();
  } catch (const CertificateNameMismatch& e) {
    fatal = true;
    return Status::Unavailable(where + ": TLS certificate refused: " + e.what() +
                               "; connect by a name it lists, or set allow_self_signed");
  } catch (const vcert::certificateException& e) {
    fatal = true;
    return Status::Unavailable(where + ": TLS certificate refused (" + e.what() +
                               "); trust its CA with ca_file or set allow_self_signed");
  } catch (const vmime::exceptions::tls_exception& e) {
    fatal = true;
    return Status::Unavailable(where + ": TLS handshake failed: " + e.what());
  } catch (const vmime::exceptions::authentication_error& e) {
    fatal = true;
    return Status::Unauthenticated(where + ": login refused: " + e.response());
  } catch (const vmime::exceptions::authentication_exception& e) {
    fatal = true;
    return Status::Unauthenticated(where + ": authentication failed: " + e.what());
  } catch (const vmime::exceptions::operation_timed_out&) {
    fatal = true;
    return Status::DeadlineExceeded(where + ": the server did not answer in time");
  } catch (const vmime::exceptions::folder_not_found& e) {
    return Status::NotFound(where + ": no such folder");
  } catch (const vmime::exceptions::socket_exception& e) {
    fatal = true;
    return Status::Unavailable(where + ": connection failed: " + e.what());
  } catch (const vmime::exceptions::connection_greeting_error& e) {
    fatal = true;
    return Status::Unavailable(where + ": bad server greeting: " + e.response());
  } catch (const vmime::exceptions::not_connected&) {
    fatal = true;
    return Status::Unavailable(where + ": not connected");
  } catch (const vmime::exceptions::command_error& e) {
    return Status::Unavailable(where + ": " + e.command() + " failed: " + e.response());
  } catch (const vmime::exceptions::invalid_response& e) {
    fatal = true;
    return Status::Unavailable(where + ": invalid response: " + e.what());
  } catch (const vmime::exception& e) {
    return Status::Internal(where + ": " + e.name() + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(where + ": " + e.what());
  }
}

// Sends one raw command on `conn` and reads its tagged answer. Returns the response text of an
// OK answer; a NO/BAD answer becomes Unavailable naming the command.
Result<std::string> RunCommand(vnet::imap::IMAPConnection& conn, const std::string& text) {
  conn.sendCommand(vnet::imap::IMAPCommand::createCommand(text));
  std::unique_ptr<vnet::imap::IMAPParser::response> resp(conn.readResponse());
  const auto* done = resp ? resp->response_done() : nullptr;
  const auto* tagged = done ? done->response_tagged() : nullptr;
  const auto* cond = tagged ? tagged->resp_cond_state() : nullptr;
  std::string resp_text;
  bool copyuid = false;
  if (cond && cond->resp_text()) {
    resp_text = cond->resp_text()->text();
    const auto* code = cond->resp_text()->resp_text_code();
    copyuid = code && code->type() == vnet::imap::IMAPParser::resp_text_code::COPYUID;
  }
  if (!cond || cond->status() != vnet::imap::IMAPParser::resp_cond_state::OK) {
    return Status::Unavailable("IMAP " + text.substr(0, text.find(' ', 4)) +
                               " refused: " + resp_text);
  }
  return copyuid ? "[COPYUID] " + resp_text : resp_text;
}

}  // namespace

Status ImapInbox::Connect() {
  Disconnect();
  const std::string where =
      "IMAP " + config_.host + ":" + std::to_string(config_.port) + " as " + config_.username;
  if (config_.host.empty()) return Status::InvalidArgument("IMAP host is empty", "host");
  if (config_.username.empty())
    return Status::InvalidArgument("IMAP username is empty", "username");
  bool fatal = false;
  const bool xoauth2 = config_.auth == ImapAuth::kXOAuth2;
  auto outcome = std::make_shared<XOAuth2Outcome>();
  Status s = Guard(where, fatal, [&]() -> Status {
    auto session = vnet::session::create();
    vmime::utility::url url(config_.security == ImapSecurity::kTls ? "imaps" : "imap", config_.host,
                            config_.port);
    vmime::shared_ptr<vmime::security::authenticator> auth;
    if (xoauth2) {
      RegisterXOAuth2Mechanism();
      auth = vmime::make_shared<XOAuth2Authenticator>(outcome);
    }
    auto store = session->getStore(url, auth);
    if (xoauth2) store->setTracerFactory(vmime::make_shared<RefusalTracerFactory>(outcome));
    const bool starttls = config_.security == ImapSecurity::kStartTls;
    store->setProperty("connection.tls", starttls);
    store->setProperty("connection.tls.required", starttls);
    store->setProperty("options.need-authentication", true);
    store->setProperty("auth.username", config_.username);
    store->setProperty("options.sasl", true);
    if (config_.auth == ImapAuth::kXOAuth2) {
      store->setProperty("auth.accesstoken", config_.secret);
      store->setProperty("options.sasl.fallback", false);
    } else {
      store->setProperty("auth.password", config_.secret);
      store->setProperty("options.sasl.fallback", true);
    }
    store->setSocketFactory(vmime::make_shared<NoDelaySocketFactory>(config_.connect_timeout));
    store->setTimeoutHandlerFactory(
        vmime::make_shared<ClockTimeoutHandlerFactory>(clock_, config_.io_timeout));
    if (config_.security != ImapSecurity::kNone) {
      std::vector<vmime::shared_ptr<vcert::X509Certificate>> roots;
      LoadPemBundle("/etc/ssl/certs/ca-certificates.crt", roots);
      if (!config_.ca_file.empty()) {
        const size_t before = roots.size();
        LoadPemBundle(config_.ca_file, roots);
        if (roots.size() == before) {
          return Status::InvalidArgument("no certificate could be read from " + config_.ca_file,
                                         "ca_file");
        }
      }
      store->setCertificateVerifier(
          vmime::make_shared<KilnCertificateVerifier>(config_.allow_self_signed, roots));
    }
    store->connect();
    if (xoauth2) store->setTracerFactory(nullptr);  // later traffic need not be watched
    state_->session = session;
    state_->store = store;
    return Status::Ok();
  });
  if (!s.ok() && xoauth2 && s.code() == Status::Code::kUnauthenticated) {
    if (!outcome->offered) {
      s = Status::Unauthenticated(where +
                                  ": the server does not offer XOAUTH2 (no AUTH=XOAUTH2 in its "
                                  "capabilities): use a password, or the provider's OAuth host");
    } else if (!outcome->challenge.empty() || !outcome->refusal.empty()) {
      std::string detail = outcome->refusal.empty() ? "" : ": " + outcome->refusal;
      if (!outcome->challenge.empty()) detail += " (error " + outcome->challenge + ")";
      s = Status::Unauthenticated(where + ": OAuth access token rejected" + detail +
                                  "; refresh the token or reconnect the account");
    }
  }
  if (!s.ok()) state_->Reset();
  return s;
}

void ImapInbox::Disconnect() { state_->Reset(); }

bool ImapInbox::IsConnected() const { return state_->store && state_->store->isConnected(); }

std::vector<std::string> ImapInbox::Capabilities() {
  if (!IsConnected()) return {};
  try {
    auto imap = vmime::dynamicCast<vnet::imap::IMAPStore>(state_->store);
    std::vector<std::string> caps = imap->getConnection()->getCapabilities();
    for (auto& c : caps) {
      for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    return caps;
  } catch (...) {
    return {};
  }
}

Result<std::vector<FolderInfo>> ImapInbox::ListFolders() {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  std::vector<FolderInfo> out;
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " LIST", fatal, [&]() -> Status {
    auto root = state_->store->getRootFolder();
    for (const auto& f : root->getFolders(true)) {
      FolderInfo info;
      info.name = ToName(f->getFullPath());
      auto attrs = f->getAttributes();
      info.role = RoleOfSpecialUse(attrs.getSpecialUse());
      if (AsciiLower(info.name) == "inbox") info.role = FolderRole::kInbox;
      info.selectable = (attrs.getFlags() & vnet::folderAttributes::FLAG_NO_OPEN) == 0;
      out.push_back(std::move(info));
    }
    return Status::Ok();
  });
  if (fatal) state_->Reset();
  if (!s.ok()) return s;
  return out;
}

Result<std::string> ImapInbox::FindFolder(FolderRole role) {
  KILN_ASSIGN_OR_RETURN(std::vector<FolderInfo> folders, ListFolders());
  for (const auto& f : folders) {
    if (f.role == role && f.selectable) return f.name;
  }
  for (const auto& candidate : FolderNameFallbacks(role)) {
    for (const auto& f : folders) {
      if (f.selectable && AsciiLower(f.name) == AsciiLower(candidate)) return f.name;
    }
  }
  return Status::NotFound("no " + std::string(FolderRoleName(role)) + " folder on IMAP " +
                          config_.host + " for " + config_.username);
}

Result<FetchResult> ImapInbox::FetchSince(std::string_view folder, const SyncState& state,
                                          size_t max_messages) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  FetchResult result;
  bool fatal = false;
  const std::string where = "IMAP " + config_.host + " fetch " + std::string(folder);
  Status s = Guard(where, fatal, [&]() -> Status {
    // Reopen on every fetch: vmime reads UIDVALIDITY and new arrivals at SELECT time.
    if (state_->open_folder && state_->open_folder->isOpen()) state_->open_folder->close(false);
    state_->open_folder = state_->store->getFolder(ToPath(folder));
    state_->open_name = std::string(folder);
    if (!state_->open_folder->exists()) {
      state_->open_folder.reset();
      return Status::NotFound(where + ": no such folder");
    }
    state_->open_folder->open(vnet::folder::MODE_READ_WRITE);
    auto imap_folder = vmime::dynamicCast<vnet::imap::IMAPFolder>(state_->open_folder);
    result.uidvalidity = imap_folder->getUIDValidity();
    uint32_t after = state.last_uid;
    if (state.uidvalidity != 0 && state.uidvalidity != result.uidvalidity) {
      result.uidvalidity_changed = true;
      after = 0;
    }
    if (state_->open_folder->getMessageCount() == 0) return Status::Ok();
    auto messages = state_->open_folder->getAndFetchMessages(
        vnet::messageSet::byUID(vnet::message::uid(static_cast<unsigned long>(after) + 1),
                                vnet::message::uid("*")),
        vnet::fetchAttributes(vnet::fetchAttributes::UID | vnet::fetchAttributes::SIZE |
                              vnet::fetchAttributes::FLAGS));
    std::vector<std::pair<uint32_t, vmime::shared_ptr<vnet::message>>> fresh;
    for (auto& m : messages) {
      const uint32_t uid = UidOf(*m);
      if (uid > after) fresh.emplace_back(uid, m);  // "n:*" also returns the last message
    }
    std::sort(fresh.begin(), fresh.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (fresh.size() > max_messages) {
      fresh.resize(max_messages);
      result.more = true;
    }
    for (auto& [uid, m] : fresh) {
      FetchedMessage out;
      out.uid = uid;
      out.size = m->getSize();
      const int flags = m->getFlags();
      out.seen = (flags & vnet::message::FLAG_SEEN) != 0;
      out.flagged = (flags & vnet::message::FLAG_MARKED) != 0;
      std::string header_text;
      if (out.size > config_.max_message_bytes) {
        out.too_large = true;
        state_->open_folder->fetchMessage(
            m, vnet::fetchAttributes(vnet::fetchAttributes::FULL_HEADER));
        header_text = m->getHeader()->generate();
      } else {
        vmime::utility::outputStreamStringAdapter os(out.raw);
        m->extract(os, nullptr, 0, static_cast<size_t>(-1), /*peek=*/true);
        header_text = out.raw;
      }
      HeaderMap headers = ParseHeaderBlock(header_text, false, 500);
      if (auto id = FirstHeader(headers, "Message-ID")) {
        auto ids = ParseMessageIdList(*id);
        out.message_id = ids.empty() ? NormalizeMessageId(*id) : ids.front();
      }
      result.messages.push_back(std::move(out));
    }
    return Status::Ok();
  });
  if (fatal) state_->Reset();
  if (!s.ok()) return s;
  return result;
}

namespace {

Status SetFlag(vnet::store& store, vmime::shared_ptr<vnet::folder>& open_folder,
               std::string& open_name, std::string_view folder, uint32_t uid, int flag, bool on) {
  if (!open_folder || open_name != folder || !open_folder->isOpen()) {
    if (open_folder && open_folder->isOpen()) open_folder->close(false);
    open_folder = store.getFolder(ToPath(folder));
    open_name = std::string(folder);
    if (!open_folder->exists()) {
      open_folder.reset();
      return Status::NotFound("no such folder " + std::string(folder));
    }
    open_folder->open(vnet::folder::MODE_READ_WRITE);
  }
  open_folder->setMessageFlags(vnet::messageSet::byUID(vnet::message::uid(uid)), flag,
                               on ? vnet::message::FLAG_MODE_ADD : vnet::message::FLAG_MODE_REMOVE);
  return Status::Ok();
}

}  // namespace

Status ImapInbox::SetSeen(std::string_view folder, uint32_t uid, bool seen) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " set \\Seen", fatal, [&] {
    return SetFlag(*state_->store, state_->open_folder, state_->open_name, folder, uid,
                   vnet::message::FLAG_SEEN, seen);
  });
  if (fatal) state_->Reset();
  return s;
}

Status ImapInbox::SetFlagged(std::string_view folder, uint32_t uid, bool flagged) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " set \\Flagged", fatal, [&] {
    return SetFlag(*state_->store, state_->open_folder, state_->open_name, folder, uid,
                   vnet::message::FLAG_MARKED, flagged);
  });
  if (fatal) state_->Reset();
  return s;
}

Status ImapInbox::Move(uint32_t uid, std::string_view from, std::string_view to) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  bool fatal = false;
  const std::string where = "IMAP " + config_.host + " move UID " + std::to_string(uid) + " " +
                            std::string(from) + " -> " + std::string(to);
  Status s = Guard(where, fatal, [&]() -> Status {
    for (std::string_view name : {from, to}) {
      if (!state_->store->getFolder(ToPath(name))->exists()) {
        return Status::NotFound(where + ": no such folder " + std::string(name));
      }
    }
    // UID MOVE / UID COPY of a missing UID succeed silently: look the message up first.
    if (!state_->open_folder || state_->open_name != from || !state_->open_folder->isOpen()) {
      if (state_->open_folder && state_->open_folder->isOpen()) state_->open_folder->close(false);
      state_->open_folder = state_->store->getFolder(ToPath(from));
      state_->open_name = std::string(from);
      state_->open_folder->open(vnet::folder::MODE_READ_WRITE);
    }
    bool found = false;
    for (const auto& m : state_->open_folder->getAndFetchMessages(
             vnet::messageSet::byUID(vnet::message::uid(static_cast<unsigned long>(uid))),
             vnet::fetchAttributes(vnet::fetchAttributes::UID))) {
      found = found || UidOf(*m) == uid;
    }
    if (!found) return Status::NotFound(where + ": no message with that UID");
    // The store's own connection (not a folder's) runs the raw commands vmime lacks.
    auto conn = vmime::dynamicCast<vnet::imap::IMAPStore>(state_->store)->getConnection();
    const char sep = conn->hierarchySeparator();
    const std::string from_q =
        vnet::imap::IMAPUtils::quoteString(vnet::imap::IMAPUtils::pathToString(sep, ToPath(from)));
    const std::string to_q =
        vnet::imap::IMAPUtils::quoteString(vnet::imap::IMAPUtils::pathToString(sep, ToPath(to)));
    const std::string id = std::to_string(uid);
    KILN_ASSIGN_OR_RETURN(std::string selected, RunCommand(*conn, "SELECT " + from_q));
    (void)selected;
    const bool uidplus = conn->hasCapability("UIDPLUS");
    Status result = Status::Ok();
    if (use_move_ && conn->hasCapability("MOVE")) {
      auto moved = RunCommand(*conn, "UID MOVE " + id + " " + to_q);
      if (!moved.ok()) result = moved.status();
    } else {
      auto copied = RunCommand(*conn, "UID COPY " + id + " " + to_q);
      if (!copied.ok()) {
        result = copied.status();
      } else {
        auto stored = RunCommand(*conn, "UID STORE " + id + " +FLAGS.SILENT (\\Deleted)");
        if (!stored.ok()) {
          result = stored.status();
        } else if (uidplus) {
          auto expunged = RunCommand(*conn, "UID EXPUNGE " + id);
          if (!expunged.ok()) result = expunged.status();
        }
      }
    }
    // Leave the selected state without expunging anything else.
    if (conn->hasCapability("UNSELECT")) {
      auto unselected = RunCommand(*conn, "UNSELECT");
      if (!unselected.ok() && result.ok()) result = unselected.status();
    } else {
      auto examined = RunCommand(*conn, "EXAMINE " + from_q);
      if (!examined.ok() && result.ok()) result = examined.status();
    }
    return result;
  });
  if (fatal) state_->Reset();
  return s;
}

Status ImapInbox::AppendToSent(std::string_view raw) {
  if (raw.empty()) return Status::InvalidArgument("message to append is empty", "raw");
  KILN_ASSIGN_OR_RETURN(std::string sent, FindFolder(FolderRole::kSent));
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " append to " + sent, fatal, [&]() -> Status {
    // vmime appends through the folder's own connection, so the folder must be open.
    // vmime allows one open instance per folder: reuse the open one, else make Sent the open one.
    if (!state_->open_folder || state_->open_name != sent || !state_->open_folder->isOpen()) {
      if (state_->open_folder && state_->open_folder->isOpen()) state_->open_folder->close(false);
      state_->open_folder = state_->store->getFolder(ToPath(sent));
      state_->open_name = sent;
      state_->open_folder->open(vnet::folder::MODE_READ_WRITE);
    }
    const std::string copy(raw);
    vmime::utility::inputStreamStringAdapter is(copy);
    state_->open_folder->addMessage(is, copy.size(), vnet::message::FLAG_SEEN);
    return Status::Ok();
  });
  if (fatal) state_->Reset();
  return s;
}

Status ImapInbox::CreateFolder(std::string_view name) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " create " + std::string(name), fatal, [&]() -> Status {
    auto folder = state_->store->getFolder(ToPath(name));
    if (folder->exists()) return Status::AlreadyExists("folder " + std::string(name) + " exists");
    vnet::folderAttributes attrs;
    attrs.setType(vnet::folderAttributes::TYPE_CONTAINS_MESSAGES);
    folder->create(attrs);
    return Status::Ok();
  });
  if (fatal) state_->Reset();
  return s;
}

Status ImapInbox::DeleteFolder(std::string_view name) {
  if (!IsConnected()) return Status::FailedPrecondition("IMAP inbox is not connected");
  bool fatal = false;
  Status s = Guard("IMAP " + config_.host + " delete " + std::string(name), fatal, [&]() -> Status {
    if (state_->open_folder && state_->open_name == name) {
      if (state_->open_folder->isOpen()) state_->open_folder->close(false);
      state_->open_folder.reset();
      state_->open_name.clear();
    }
    auto folder = state_->store->getFolder(ToPath(name));
    if (!folder->exists()) return Status::NotFound("no such folder " + std::string(name));
    folder->destroy();
    return Status::Ok();
  });
  if (fatal) state_->Reset();
  return s;
}

}  // namespace kiln::mail
