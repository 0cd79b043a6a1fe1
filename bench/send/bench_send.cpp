// bench_send PORT MESSAGES SESSIONS: composes MESSAGES personalised ~5 KB messages with
// ComposeMessage and sends them through SESSIONS concurrent SmtpClients (one reused connection
// each, all on one thread) to 127.0.0.1:PORT. Prints "kiln: N messages in S s = R msg/s".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "kiln/base/clock.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"

namespace asio = boost::asio;
using namespace kiln::mail;

namespace {

int failures = 0;

asio::awaitable<void> Session(SmtpConfig config, int first, int count, kiln::TimePoint date) {
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
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_send PORT MESSAGES SESSIONS\n");
    return 2;
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
  int per = messages / sessions;
  for (int s = 0; s < sessions; ++s) {
    int count = s == sessions - 1 ? messages - per * (sessions - 1) : per;
    asio::co_spawn(io, Session(config, s * per, count, clock.Now()), asio::detached);
  }
  io.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("kiln: %d messages in %.3f s = %.0f msg/s (%d failed)\n", messages, secs,
              messages / secs, failures);
  return failures == 0 ? 0 : 1;
}
