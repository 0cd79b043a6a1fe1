// Where the CPU of the sending hot path goes, on one thread: compose N personalised messages (HTML
// with a derived text part, non-ASCII names, unsubscribe headers), HtmlToText alone, then
// DKIM-sign M of them with RSA 2048 next to a bare RSA-2048 signature with the same key (an
// EVP_PKEY_sign on a context set up once: what `openssl speed rsa2048` times), so that the DKIM
// work around the signature shows as the difference; then RSA 2048 + Ed25519 and compose + sign.
// Every figure is per CPU-second of this process, like openssl speed's, so that it holds on a
// machine shared with other work. Usage: bench_compose [N] [M]
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "kiln/mail/dkim.h"
#include "kiln/mail/html_to_text.h"
#include "kiln/mail/mime_writer.h"

namespace {

using kiln::bench::CpuSeconds;

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

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

// CPU seconds per bare RSA PKCS#1 v1.5 SHA-256 signature of a digest with `pem`'s key, over `m`
// signatures on one context; negative when OpenSSL fails.
double BareRsaSeconds(const std::string& pem, int m) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) return -1;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return -1;
  }
  unsigned char digest[32] = {1, 2, 3};
  unsigned char signature[512];
  const double start = CpuSeconds();
  for (int i = 0; i < m; ++i) {
    size_t len = sizeof signature;
    if (EVP_PKEY_sign(ctx.get(), signature, &len, digest, sizeof digest) != 1) return -1;
  }
  return (CpuSeconds() - start) / m;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int m = argc > 2 ? std::atoi(argv[2]) : 1000;
  if (n <= 0 || m <= 0) {
    std::fprintf(stderr, "usage: bench_compose [N > 0] [M > 0]\n");
    return 2;
  }

  std::vector<kiln::mail::OutgoingMessage> inputs;
  inputs.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) inputs.push_back(Message(i));
  size_t bytes = 0;
  std::string last;
  double start = CpuSeconds();
  for (const auto& msg : inputs) {
    auto raw = kiln::mail::ComposeMessage(msg);
    if (!raw.ok()) {
      std::fprintf(stderr, "compose failed: %s\n", raw.status().ToString().c_str());
      return 1;
    }
    bytes += raw->size();
    last = std::move(raw).value();
  }
  double t = CpuSeconds() - start;
  std::printf("compose: %d messages (%.1f KB avg) in %.3f cpu-s = %.0f msg/s, %.2f us/msg\n", n,
              bytes / 1024.0 / n, t, n / t, t / n * 1e6);

  size_t text_bytes = 0;
  start = CpuSeconds();
  for (const auto& msg : inputs) text_bytes += kiln::mail::HtmlToText(msg.html_body).size();
  t = CpuSeconds() - start;
  std::printf("  of which html_to_text: %.2f us/msg (%zu B of text per msg)\n", t / n * 1e6,
              text_bytes / static_cast<size_t>(n));

  auto rsa = kiln::mail::GenerateDkimKey(kiln::mail::DkimKeyType::kRsa2048);
  auto ed = kiln::mail::GenerateDkimKey(kiln::mail::DkimKeyType::kEd25519);
  if (!rsa.ok() || !ed.ok()) return 1;
  auto signer = kiln::mail::DkimSigner::Create(rsa->private_key_pem, "sender.example", "k1");
  if (!signer.ok()) return 1;
  const kiln::TimePoint now = kiln::FromUnixMillis(1'767'225'600'000);
  if (!signer->Sign(last, now).ok()) return 1;  // the first call sets up the contexts
  start = CpuSeconds();
  for (int i = 0; i < m; ++i) {
    if (!signer->Sign(last, now).ok()) return 1;
  }
  t = CpuSeconds() - start;
  const double bare = BareRsaSeconds(rsa->private_key_pem, m);
  if (bare < 0) return 1;
  std::printf("dkim rsa2048: %d signatures in %.3f cpu-s = %.0f sign/s\n", m, t, m / t);
  std::printf(
      "  per message: %.1f us = %.1f us bare RSA-2048 signature (%.0f sign/s) + %.1f us "
      "DKIM (split, canonicalise, SHA-256, header)\n",
      t / m * 1e6, bare * 1e6, 1 / bare, (t / m - bare) * 1e6);

  if (!signer->AddKey(ed->private_key_pem, "k2").ok()) return 1;
  start = CpuSeconds();
  for (int i = 0; i < m; ++i) {
    if (!signer->Sign(last, now).ok()) return 1;
  }
  t = CpuSeconds() - start;
  std::printf("dkim rsa2048+ed25519: %d messages in %.3f cpu-s = %.0f msg/s\n", m, t, m / t);

  start = CpuSeconds();
  for (int i = 0; i < m; ++i) {
    auto raw = kiln::mail::ComposeMessage(inputs[static_cast<size_t>(i % n)]);
    if (!raw.ok() || !signer->Sign(*raw, now).ok()) return 1;
  }
  t = CpuSeconds() - start;
  std::printf("compose+dual sign: %d messages in %.3f cpu-s = %.0f msg/s\n", m, t, m / t);
  return 0;
}
