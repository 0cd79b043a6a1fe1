// bench_send PORT MESSAGES SESSIONS [dkim-rsa]: composes MESSAGES personalised ~5 KB messages
// with ComposeMessage (and, with dkim-rsa, signs each with a fresh RSA-2048 DKIM key) and sends
// them through SESSIONS concurrent SmtpClients (one reused connection each, all on one thread, so
// on one core) to 127.0.0.1:PORT. Prints
//   "kiln: N messages (K KB avg) in S s = R msg/s (F failed), C msg per cpu-s"
// ("kiln+dkim-rsa: ..." when signing). R is by wall clock; C divides by the process's CPU time
// (user + system), which is what `openssl speed` reports by default (user CPU time), so the two
// compare fairly on a machine shared with other work.
#include <time.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "kiln/base/clock.h"
#include "kiln/mail/dkim.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"

namespace asio = boost::asio;
using namespace kiln::mail;

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int failures = 0;
size_t total_bytes = 0;

asio::awaitable<void> Session(SmtpConfig config, int first, int count, kiln::TimePoint date,
                              const DkimSigner* signer) {
  SmtpClient client(co_await asio::this_coro::executor, config);
  std::string paragraph =
      "We help teams like yours cut onboarding time in half. Our customers report fewer support "
      "tickets and happier users within the first month of rollout. ";
  for (int i = first; i < first + count; ++i) {
    OutgoingMessage m;
    m.from = {"Kiln Bench", "bench@kiln-a.test"};
    m.to = {{"Lead " + std::to_string(i), "lead" + std::to_string(i) + "@sink.test"}};
    m.subject = "Quick question, Lead " + std::to_string(i);
    m.date = date;
    std::string body = "<p>Hi Lead " + std::to_string(i) + ",</p>";
    while (body.size() < 2200) body += "<p>" + paragraph + "</p>";
    m.html_body = body;
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
  const double cpu_start = CpuSeconds();
  int per = messages / sessions;
  for (int s = 0; s < sessions; ++s) {
    int count = s == sessions - 1 ? messages - per * (sessions - 1) : per;
    asio::co_spawn(io, Session(config, s * per, count, clock.Now(), signer ? &*signer : nullptr),
                   asio::detached);
  }
  io.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf(
      "%s: %d messages (%.1f KB avg) in %.3f s = %.0f msg/s (%d failed), %.0f msg per cpu-s\n",
      dkim ? "kiln+dkim-rsa" : "kiln", messages, total_bytes / 1024.0 / messages, secs,
      messages / secs, failures, messages / cpu);
  return failures == 0 ? 0 : 1;
}
