// bench_send PORT MESSAGES SESSIONS [dkim-rsa]: composes MESSAGES personalised ~5 KB messages
// with ComposeMessage (and, with dkim-rsa, signs each with a fresh RSA-2048 DKIM key) and sends
// them through SESSIONS concurrent SmtpClients (one reused connection each, all on one thread, so
// on one core) to 127.0.0.1:PORT. Prints
//   "kiln: N messages (K KB avg) in S s = R msg/s (F failed), C msg per cpu-s (U us user + Y us
//   system per message)"
// ("kiln+dkim-rsa: ..." when signing). R is by wall clock; C divides by the process's CPU time,
// user + system (the kernel's TCP work of sending counts too), which is how `openssl speed`
// counts (its user CPU time; it spends next to none in the kernel), so the two compare fairly on
// a machine shared with other work. Setting up (key generation) is outside the measured time, as
// it is for openssl speed; connecting and EHLO are inside.
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "bench/common/bench_util.h"
#include "kiln/base/clock.h"
#include "kiln/mail/dkim.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"

namespace asio = boost::asio;
using namespace kiln::mail;

namespace {

struct CpuTimes {
  double user = 0;
  double system = 0;
};

CpuTimes Cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

int failures = 0;
size_t total_bytes = 0;

asio::awaitable<void> Session(SmtpConfig config, int first, int count, kiln::TimePoint date,
                              const DkimSigner* signer) {
  SmtpClient client(co_await asio::this_coro::executor, config);
  constexpr std::string_view kParagraph =
      "We help teams like yours cut onboarding time in half. Our customers report fewer support "
      "tickets and happier users within the first month of rollout. ";
  for (int i = first; i < first + count; ++i) {
    // The personalised input a rendered template would hand over: name, address, subject, body.
    const std::string lead = std::to_string(i);
    OutgoingMessage m;
    m.from = {"Kiln Bench", "bench@kiln-a.test"};
    m.to = {{"Lead " + lead, "lead" + lead + "@sink.test"}};
    m.subject = "Quick question, Lead " + lead;
    m.date = date;
    m.html_body.reserve(2400);
    m.html_body = "<p>Hi Lead ";
    m.html_body += lead;
    m.html_body += ",</p>";
    while (m.html_body.size() < 2200) {
      m.html_body += "<p>";
      m.html_body += kParagraph;
      m.html_body += "</p>";
    }
    auto composed = ComposeMessage(m);
    if (!composed.ok()) {
      std::fprintf(stderr, "compose failed: %s\n", composed.status().ToString().c_str());
      std::exit(1);
    }
    if (signer != nullptr) {
      composed = signer->Sign(*composed, date);
      if (!composed.ok()) {
        std::fprintf(stderr, "DKIM signing failed: %s\n", composed.status().ToString().c_str());
        std::exit(1);
      }
    }
    total_bytes += composed->size();
    Envelope env = DefaultEnvelope(m);
    SendResult r = co_await client.Send(env, *composed);
    if (!r.ok()) {
      if (++failures < 5) std::fprintf(stderr, "send failed: %s\n", r.reason.c_str());
    }
  }
  co_await client.Close();
}

}  // namespace

int main(int argc, char** argv) {
  const bool dkim = argc == 5 && std::string(argv[4]) == "dkim-rsa";
  if (argc != 4 && !dkim) {
    std::fprintf(stderr, "usage: bench_send PORT MESSAGES SESSIONS [dkim-rsa]\n");
    return 2;
  }
  std::optional<DkimSigner> signer;
  if (dkim) {
    auto key = GenerateDkimKey(DkimKeyType::kRsa2048);
    if (!key.ok()) {
      std::fprintf(stderr, "DKIM key generation failed: %s\n", key.status().ToString().c_str());
      return 1;
    }
    auto created = DkimSigner::Create(key->private_key_pem, "kiln-a.test", "bench");
    if (!created.ok()) {
      std::fprintf(stderr, "DKIM signer: %s\n", created.status().ToString().c_str());
      return 1;
    }
    signer = std::move(created).value();
  }
  SmtpConfig config;
  config.host = "127.0.0.1";
  config.port = static_cast<uint16_t>(std::atoi(argv[1]));
  config.security = SmtpSecurity::kNone;
  config.helo_name = "bench.kiln.test";
  const int messages = std::atoi(argv[2]);
  const int sessions = std::atoi(argv[3]);
  kiln::SystemClock clock;  // the bench's edge: real time is what it measures
  asio::io_context io;
  auto start = std::chrono::steady_clock::now();
  const CpuTimes cpu_start = Cpu();
  int per = messages / sessions;
  for (int s = 0; s < sessions; ++s) {
    int count = s == sessions - 1 ? messages - per * (sessions - 1) : per;
    asio::co_spawn(io, Session(config, s * per, count, clock.Now(), signer ? &*signer : nullptr),
                   asio::detached);
  }
  io.run();
  double secs = kiln::bench::WallSecondsSince(start);
  const CpuTimes cpu_end = Cpu();
  const double user = cpu_end.user - cpu_start.user;
  const double system = cpu_end.system - cpu_start.system;
  std::printf(
      "%s: %d messages (%.1f KB avg) in %.3f s = %.0f msg/s (%d failed), %.0f msg per cpu-s "
      "(%.1f us user + %.1f us system per message)\n",
      dkim ? "kiln+dkim-rsa" : "kiln", messages, total_bytes / 1024.0 / messages, secs,
      messages / secs, failures, messages / (user + system), user / messages * 1e6,
      system / messages * 1e6);
  return failures == 0 ? 0 : 1;
}
