// Fuzzes the DKIM private keys workspace admins upload (kiln/mail/dkim.h: DkimKeyPairFromPem and
// DkimSigner, POST .../dkim-keys) and the relaxed canonicalisation the signer hashes.
//
// The first input byte picks a mode, the rest is the payload:
//   0: the payload is a private key PEM. Refused: InvalidArgument naming private_key_pem, the
//      same verdict from DkimSigner::Create, and never a passphrase prompt (an encrypted key is
//      refused as such). Accepted: the public half is standard base64 of a plausible size, the
//      DNS record is "v=DKIM1; k=rsa|ed25519; p=<it>" split into strings of at most 255 bytes, and
//      the key signs a message with one DKIM-Signature naming the domain, selector and algorithm.
//   1: relaxed body canonicalisation (RFC 6376 §3.4.4) of the payload with its line ends made
//      CRLF: idempotent, empty or ending in exactly one CRLF, no whitespace before a line end.
//   2: relaxed header canonicalisation (§3.4.2) of "Name: value" from the payload (a field name
//      of printable ASCII): idempotent, a lower-case name, no whitespace after the colon or at the
//      end, no CR or LF (unfolded), no tab, single spaces.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/mail/dkim.h"

namespace {

using kiln::Status;
using kiln::mail::DkimKeyType;

bool IsStandardBase64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '=') {
      ++pad;
    } else if (pad > 0 || !(alnum || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}

void FuzzPem(std::string_view pem) {
  auto pair = kiln::mail::DkimKeyPairFromPem(pem);
  auto signer = kiln::mail::DkimSigner::Create(pem, "sender.example", "k1");
  FUZZ_CHECK(pair.ok() == signer.ok());
  if (!pair.ok()) {
    FUZZ_CHECK(pair.status().code() == Status::Code::kInvalidArgument);
    FUZZ_CHECK(pair.status().field() == "private_key_pem");
    FUZZ_CHECK(signer.status().field() == "private_key_pem");
    return;
  }
  const std::string& pub = pair->public_key_base64;
  FUZZ_CHECK(IsStandardBase64(pub));
  if (pair->type == DkimKeyType::kEd25519) {
    FUZZ_CHECK(pub.size() == 44);  // 32 raw bytes
  } else {
    FUZZ_CHECK(pub.size() >= 200);  // DER SubjectPublicKeyInfo of a key of >= 1024 bits
  }
  const std::string value = kiln::mail::DkimDnsRecordValue(*pair);
  const std::string prefix =
      pair->type == DkimKeyType::kEd25519 ? "v=DKIM1; k=ed25519; p=" : "v=DKIM1; k=rsa; p=";
  FUZZ_CHECK(value == prefix + pub);
  const std::string record = kiln::mail::DkimDnsRecord("sender.example", "k1", *pair);
  std::string joined;
  size_t pos = 0;
  while ((pos = record.find('"', pos)) != std::string::npos) {
    const size_t end = record.find('"', pos + 1);
    FUZZ_CHECK(end != std::string::npos && end - pos - 1 <= 255);
    joined += record.substr(pos + 1, end - pos - 1);
    pos = end + 1;
  }
  FUZZ_CHECK(joined == value);

  const std::string message =
      "From: Ada <ada@sender.example>\r\nTo: bob@example.com\r\nSubject: Hi\r\n\r\nHello\r\n";
  auto signed_message = signer->Sign(message, kiln::TimePoint(std::chrono::seconds(1'767'225'600)));
  FUZZ_CHECK(signed_message.ok());
  FUZZ_CHECK(signed_message->ends_with(message));
  FUZZ_CHECK(signed_message->starts_with("DKIM-Signature: "));
  const std::string header = signed_message->substr(0, signed_message->size() - message.size());
  FUZZ_CHECK(header.find("DKIM-Signature:", 1) == std::string::npos);  // one key, one signature
  FUZZ_CHECK(header.find("d=sender.example;") != std::string::npos);
  FUZZ_CHECK(header.find("s=k1;") != std::string::npos);
  FUZZ_CHECK(
      header.find(pair->type == DkimKeyType::kEd25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;") !=
      std::string::npos);
}

std::string WithCrlf(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' || in[i] == '\n') {
      if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      out += "\r\n";
    } else {
      out += in[i];
    }
  }
  return out;
}

void FuzzBody(std::string_view in) {
  const std::string body = WithCrlf(in);
  const std::string c = kiln::mail::DkimCanonicalizeBodyRelaxed(body);
  FUZZ_CHECK(kiln::mail::DkimCanonicalizeBodyRelaxed(c) == c);
  if (c.empty()) return;
  FUZZ_CHECK(c.ends_with("\r\n"));
  FUZZ_CHECK(!c.ends_with("\r\n\r\n"));
  for (size_t i = c.find("\r\n"); i != std::string::npos; i = c.find("\r\n", i + 2)) {
    FUZZ_CHECK(i == 0 || (c[i - 1] != ' ' && c[i - 1] != '\t'));
  }
}

void FuzzHeader(std::string_view in) {
  // A field name as RFC 5322 §2.2 allows it (printable ASCII but ':'), then any value.
  const size_t colon_in = in.find(':');
  if (colon_in == std::string_view::npos) {
    FUZZ_CHECK(kiln::mail::DkimCanonicalizeHeaderRelaxed(in).empty());
    return;
  }
  std::string field;
  for (char ch : in.substr(0, colon_in)) {
    if (ch > 0x20 && ch < 0x7f) field += ch;
  }
  field += WithCrlf(in.substr(colon_in));
  const std::string c = kiln::mail::DkimCanonicalizeHeaderRelaxed(field);
  FUZZ_CHECK(c.find('\r') == std::string::npos && c.find('\n') == std::string::npos);
  FUZZ_CHECK(c.find("  ") == std::string::npos && c.find('\t') == std::string::npos);
  const size_t colon = c.find(':');
  FUZZ_CHECK(colon != std::string::npos);
  for (char ch : c.substr(0, colon)) FUZZ_CHECK(!(ch >= 'A' && ch <= 'Z'));
  FUZZ_CHECK(colon + 1 == c.size() || c[colon + 1] != ' ');
  FUZZ_CHECK(c.back() != ' ');
  FUZZ_CHECK(kiln::mail::DkimCanonicalizeHeaderRelaxed(c) == c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzPem(in);
      break;
    case 1:
      FuzzBody(in);
      break;
    case 2:
      FuzzHeader(in);
      break;
  }
  return 0;
}
