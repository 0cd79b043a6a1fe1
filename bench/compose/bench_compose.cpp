// Throughput of the sending hot path on one core: compose N personalised messages (HTML with a
// derived text part, non-ASCII names, unsubscribe headers), then DKIM-sign M of them with RSA 2048
// and with RSA 2048 + Ed25519. Prints messages per second. Usage: bench_compose [N] [M]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kiln/mail/dkim.h"
#include "kiln/mail/mime_writer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

kiln::mail::OutgoingMessage Message(int i) {
  kiln::mail::OutgoingMessage m;
  m.from = {"José from Acme", "jose@sender.example"};
  m.to = {{"Lead Number " + std::to_string(i), "lead" + std::to_string(i) + "@example.com"}};
  m.subject = "Quick question about Acme's outbound, lead " + std::to_string(i);
  std::string html = "<html><body><p>Hi Lead " + std::to_string(i) + ",</p>";
  for (int p = 0; p < 6; ++p) {
    html +=
        "<p>We help teams like yours send <b>personalised</b> sequences that land in the inbox. "
        "Would a short call next week make sense? Here is <a href=\"https://t.sender.example/c/" +
        std::to_string(i) + "/" + std::to_string(p) + "\">a two-minute overview</a>.</p>";
  }
  html += "<p>Best,<br>José</p><img src=\"https://t.sender.example/o/" + std::to_string(i) +
          ".gif\" width=1 height=1></body></html>";
  m.html_body = std::move(html);
  m.date = kiln::FromUnixMillis(1'767'225'600'000 + i * 1000LL);
  m.list_unsubscribe_url = "https://t.sender.example/u/" + std::to_string(i);
  m.list_unsubscribe_mailto = "unsubscribe@sender.example?subject=" + std::to_string(i);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int m = argc > 2 ? std::atoi(argv[2]) : 1000;

  std::vector<kiln::mail::OutgoingMessage> inputs;
  inputs.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) inputs.push_back(Message(i));
  size_t bytes = 0;
  std::string last;
  auto start = Clock::now();
  for (const auto& msg : inputs) {
    auto raw = kiln::mail::ComposeMessage(msg);
    if (!raw.ok()) {
      std::fprintf(stderr, "compose failed: %s\n", raw.status().ToString().c_str());
      return 1;
    }
    bytes += raw->size();
    last = std::move(raw).value();
  }
  double t = Seconds(start);
  std::printf("compose: %d messages (%.1f KB avg) in %.3f s = %.0f msg/s, %.1f MB/s\n", n,
              bytes / 1024.0 / n, t, n / t, bytes / t / 1e6);

  auto rsa = kiln::mail::GenerateDkimKey(kiln::mail::DkimKeyType::kRsa2048);
  auto ed = kiln::mail::GenerateDkimKey(kiln::mail::DkimKeyType::kEd25519);
  if (!rsa.ok() || !ed.ok()) return 1;
  auto signer = kiln::mail::DkimSigner::Create(rsa->private_key_pem, "sender.example", "k1");
  if (!signer.ok()) return 1;
  const kiln::TimePoint now = kiln::FromUnixMillis(1'767'225'600'000);
  start = Clock::now();
  for (int i = 0; i < m; ++i) {
    if (!signer->Sign(last, now).ok()) return 1;
  }
  t = Seconds(start);
  std::printf("dkim rsa2048: %d signatures in %.3f s = %.0f sign/s\n", m, t, m / t);

  if (!signer->AddKey(ed->private_key_pem, "k2").ok()) return 1;
  start = Clock::now();
  for (int i = 0; i < m; ++i) {
    if (!signer->Sign(last, now).ok()) return 1;
  }
  t = Seconds(start);
  std::printf("dkim rsa2048+ed25519: %d messages in %.3f s = %.0f msg/s\n", m, t, m / t);

  start = Clock::now();
  for (int i = 0; i < m; ++i) {
    auto raw = kiln::mail::ComposeMessage(inputs[static_cast<size_t>(i % n)]);
    if (!raw.ok() || !signer->Sign(*raw, now).ok()) return 1;
  }
  t = Seconds(start);
  std::printf("compose+dual sign: %d messages in %.3f s = %.0f msg/s\n", m, t, m / t);
  return 0;
}
