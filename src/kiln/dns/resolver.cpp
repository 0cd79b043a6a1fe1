#include "kiln/dns/resolver.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>

namespace kiln::dns {

namespace ip = boost::asio::ip;

namespace {

// c-ares wants ares_library_init once per process before the first channel.
Status InitAresOnce() {
  static std::once_flag once;
  static int rc = ARES_SUCCESS;
  std::call_once(once, [] { rc = ares_library_init(ARES_LIB_INIT_ALL); });
  if (rc != ARES_SUCCESS) {
    return Status::Internal(std::string("cannot initialise c-ares: ") + ares_strerror(rc));
  }
  return Status::Ok();
}

// Checks one "IP", "IP:port" or "[IPv6]:port" entry of the server list.
Status CheckServer(std::string_view entry) {
  std::string_view host = entry, port;
  if (!entry.empty() && entry.front() == '[') {
    size_t close = entry.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("'" + std::string(entry) + "' has no closing ']'",
                                     "dns_resolver");
    }
    host = entry.substr(1, close - 1);
    std::string_view rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Status::InvalidArgument("'" + std::string(entry) + "' must be [IPv6]:port",
                                       "dns_resolver");
      }
      port = rest.substr(1);
    }
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    size_t colon = entry.find(':');
    host = entry.substr(0, colon);
    port = entry.substr(colon + 1);
  }
  boost::system::error_code ec;
  ip::make_address(std::string(host), ec);
  if (ec) {
    return Status::InvalidArgument(
        "'" + std::string(entry) + "' is not an IP address (optionally with :port)",
        "dns_resolver");
  }
  if (!port.empty() || (entry.size() > host.size() + 2 && entry.front() == '[')) {
    int p = 0;
    auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (err != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return Status::InvalidArgument("'" + std::string(entry) + "' has no valid port (1-65535)",
                                     "dns_resolver");
    }
  }
  return Status::Ok();
}

std::string TypeName(int type) {
  switch (type) {
    case ns_t_txt:
      return "TXT";
    case ns_t_a:
      return "A";
    case ns_t_aaaa:
      return "AAAA";
    case ns_t_mx:
      return "MX";
    case ns_t_ptr:
      return "PTR";
  }
  return "type " + std::to_string(type);
}

struct QueryState {
  bool done = false;
  int status = ARES_SUCCESS;
  std::string answer;
};

void OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* st = static_cast<QueryState*>(arg);
  st->done = true;
  st->status = status;
  if (abuf != nullptr && alen > 0) st->answer.assign(reinterpret_cast<char*>(abuf), alen);
}

class AresResolver final : public Resolver {
 public:
  explicit AresResolver(ares_channel channel) : channel_(channel) {}
  ~AresResolver() override { ares_destroy(channel_); }
  AresResolver(const AresResolver&) = delete;
  AresResolver& operator=(const AresResolver&) = delete;

  Result<Answer<std::string>> Txt(std::string_view name) override {
    Answer<std::string> out;
    KILN_ASSIGN_OR_RETURN(std::string raw, Query(name, ns_t_txt, &out.nxdomain));
    if (raw.empty()) return out;
    ares_txt_ext* txt = nullptr;
    int rc = ares_parse_txt_reply_ext(reinterpret_cast<const unsigned char*>(raw.data()),
                                      static_cast<int>(raw.size()), &txt);
    if (rc == ARES_ENODATA) return out;
    if (rc != ARES_SUCCESS) return ParseError(name, ns_t_txt, rc);
    for (ares_txt_ext* t = txt; t != nullptr; t = t->next) {
      std::string chunk(reinterpret_cast<const char*>(t->txt), t->length);
      if (t->record_start || out.records.empty()) {
        out.records.push_back(std::move(chunk));
      } else {
        out.records.back() += chunk;
      }
    }
    ares_free_data(txt);
    return out;
  }

  Result<Answer<ip::address>> Address(std::string_view name, bool ipv6) override {
    Answer<ip::address> out;
    int type = ipv6 ? ns_t_aaaa : ns_t_a;
    KILN_ASSIGN_OR_RETURN(std::string raw, Query(name, type, &out.nxdomain));
    if (raw.empty()) return out;
    const auto* buf = reinterpret_cast<const unsigned char*>(raw.data());
    int len = static_cast<int>(raw.size());
    hostent* host = nullptr;
    int rc = ipv6 ? ares_parse_aaaa_reply(buf, len, &host, nullptr, nullptr)
                  : ares_parse_a_reply(buf, len, &host, nullptr, nullptr);
    if (rc == ARES_ENODATA) return out;
    if (rc != ARES_SUCCESS) return ParseError(name, type, rc);
    for (char** p = host->h_addr_list; p != nullptr && *p != nullptr; ++p) {
      if (ipv6) {
        ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), *p, bytes.size());
        out.records.emplace_back(ip::address_v6(bytes));
      } else {
        ip::address_v4::bytes_type bytes;
        std::memcpy(bytes.data(), *p, bytes.size());
        out.records.emplace_back(ip::address_v4(bytes));
      }
    }
    ares_free_hostent(host);
    return out;
  }

  Result<Answer<MxRecord>> Mx(std::string_view name) override {
    Answer<MxRecord> out;
    KILN_ASSIGN_OR_RETURN(std::string raw, Query(name, ns_t_mx, &out.nxdomain));
    if (raw.empty()) return out;
    ares_mx_reply* mx = nullptr;
    int rc = ares_parse_mx_reply(reinterpret_cast<const unsigned char*>(raw.data()),
                                 static_cast<int>(raw.size()), &mx);
    if (rc == ARES_ENODATA) return out;
    if (rc != ARES_SUCCESS) return ParseError(name, ns_t_mx, rc);
    for (ares_mx_reply* m = mx; m != nullptr; m = m->next) {
      std::string host = m->host != nullptr ? m->host : "";
      while (!host.empty() && host.back() == '.') host.pop_back();
      out.records.push_back({m->priority, std::move(host)});
    }
    ares_free_data(mx);
    std::sort(out.records.begin(), out.records.end(), [](const MxRecord& a, const MxRecord& b) {
      return a.preference != b.preference ? a.preference < b.preference : a.exchange < b.exchange;
    });
    return out;
  }

  Result<Answer<std::string>> Ptr(const ip::address& addr) override {
    Answer<std::string> out;
    std::string name = ReverseName(addr);
    KILN_ASSIGN_OR_RETURN(std::string raw, Query(name, ns_t_ptr, &out.nxdomain));
    if (raw.empty()) return out;
    hostent* host = nullptr;
    int rc = ares_parse_ptr_reply(reinterpret_cast<const unsigned char*>(raw.data()),
                                  static_cast<int>(raw.size()), nullptr, 0,
                                  addr.is_v6() ? AF_INET6 : AF_INET, &host);
    if (rc == ARES_ENODATA) return out;
    if (rc != ARES_SUCCESS) return ParseError(name, ns_t_ptr, rc);
    auto add = [&](const char* n) {
      if (n == nullptr) return;
      std::string s(n);
      while (!s.empty() && s.back() == '.') s.pop_back();
      // c-ares repeats the first name among the aliases.
      if (!s.empty() && std::find(out.records.begin(), out.records.end(), s) == out.records.end()) {
        out.records.push_back(std::move(s));
      }
    };
    add(host->h_name);
    for (char** a = host->h_aliases; a != nullptr && *a != nullptr; ++a) add(*a);
    ares_free_hostent(host);
    return out;
  }

 private:
  // Runs one query to completion. Success: the raw answer, or "" with *nxdomain set when the
  // name has no records of `type`. Failure: Unavailable naming the name, the type and why.
  Result<std::string> Query(std::string_view name, int type, bool* nxdomain) {
    std::string qname(name);
    while (!qname.empty() && qname.back() == '.') qname.pop_back();
    if (qname.empty()) return Status::InvalidArgument("empty DNS name");
    QueryState st;
    ares_query(channel_, qname.c_str(), ns_c_in, type, OnAnswer, &st);
    while (!st.done) {
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
      pollfd fds[ARES_GETSOCK_MAXNUM];
      nfds_t n = 0;
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events == 0) continue;
        fds[n++] = pollfd{socks[i], events, 0};
      }
      timeval tv_buf{};
      timeval* tv = ares_timeout(channel_, nullptr, &tv_buf);
      int wait_ms = tv == nullptr ? 1000 : static_cast<int>(tv->tv_sec * 1000 + tv->tv_usec / 1000);
      int ready = poll(fds, n, std::max(wait_ms, 1));
      if (ready <= 0) {
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
        continue;
      }
      for (nfds_t i = 0; i < n; ++i) {
        ares_socket_t r =
            (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
        ares_socket_t w = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
        if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD) ares_process_fd(channel_, r, w);
      }
    }
    *nxdomain = false;
    switch (st.status) {
      case ARES_SUCCESS:
        return std::move(st.answer);
      case ARES_ENODATA:
        return std::string();
      case ARES_ENOTFOUND:
        *nxdomain = true;
        return std::string();
      default:
        break;
    }
    return Status::Unavailable("DNS lookup of " + TypeName(type) + " " + qname +
                               " failed: " + ares_strerror(st.status));
  }

  Status ParseError(std::string_view name, int type, int rc) {
    return Status::Unavailable("DNS answer for " + TypeName(type) + " " + std::string(name) +
                               " is malformed: " + ares_strerror(rc));
  }

  ares_channel channel_;
};

}  // namespace

std::string ReverseName(const ip::address& addr) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    for (int i = 3; i >= 0; --i) out += std::to_string(b[i]) + ".";
    return out + "in-addr.arpa";
  }
  auto b = addr.to_v6().to_bytes();
  for (int i = 15; i >= 0; --i) {
    out += kHex[b[i] & 0xf];
    out += '.';
    out += kHex[b[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

Result<std::unique_ptr<Resolver>> MakeResolver(const ResolverOptions& options) {
  std::string servers;
  for (char c : options.servers) {
    if (c != ' ' && c != '\t') servers += c;
  }
  if (!servers.empty()) {
    size_t start = 0;
    while (start <= servers.size()) {
      size_t comma = servers.find(',', start);
      if (comma == std::string::npos) comma = servers.size();
      KILN_RETURN_IF_ERROR(CheckServer(std::string_view(servers).substr(start, comma - start)));
      start = comma + 1;
    }
  }
  KILN_RETURN_IF_ERROR(InitAresOnce());
  ares_options opts{};
  opts.timeout = static_cast<int>(std::max<int64_t>(options.timeout.count(), 1));
  opts.tries = std::max(options.tries, 1);
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
  if (rc != ARES_SUCCESS) {
    return Status::Internal(std::string("cannot start the DNS resolver: ") + ares_strerror(rc));
  }
  if (!servers.empty()) {
    rc = ares_set_servers_ports_csv(channel, servers.c_str());
    if (rc != ARES_SUCCESS) {
      ares_destroy(channel);
      return Status::InvalidArgument(
          "'" + servers + "' is not a list of DNS servers: " + ares_strerror(rc), "dns_resolver");
    }
  }
  return std::unique_ptr<Resolver>(std::make_unique<AresResolver>(channel));
}

}  // namespace kiln::dns
