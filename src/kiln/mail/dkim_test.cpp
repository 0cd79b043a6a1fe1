#include "kiln/mail/dkim.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "kiln/mail/compose_test_util.h"
#include "kiln/mail/mime_writer.h"

namespace kiln::mail {
namespace {

namespace json = boost::json;
using testing::RunCommand;
using testing::RunPythonTool;
using testing::TempFile;

constexpr int64_t kSignTime = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class DkimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<DkimKeyPair> rsa = GenerateDkimKey(DkimKeyType::kRsa2048);
    Result<DkimKeyPair> ed = GenerateDkimKey(DkimKeyType::kEd25519);
    ASSERT_TRUE(rsa.ok() && ed.ok());
    rsa_ = new DkimKeyPair(*rsa);
    ed_ = new DkimKeyPair(*ed);
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ed_;
  }

  static DkimSigner RsaSigner() {
    Result<DkimSigner> s = DkimSigner::Create(rsa_->private_key_pem, "sender.example", "k1");
    if (!s.ok()) std::abort();
    return std::move(s).value();
  }
  static DkimSigner DualSigner() {
    DkimSigner s = RsaSigner();
    if (!s.AddKey(ed_->private_key_pem, "k2ed").ok()) std::abort();
    return s;
  }

  // Verifies every signature of `message` with python3-dkim; returns one bool per signature.
  static std::vector<bool> Verify(const std::string& message) {
    json::object records;
    records[DkimDnsName("sender.example", "k1")] = DkimDnsRecordValue(*rsa_);
    records[DkimDnsName("sender.example", "k2ed")] = DkimDnsRecordValue(*ed_);
    TempFile msg(message);
    TempFile dns(json::serialize(records));
    json::value v = RunPythonTool("dkim_verify.py", msg.path() + " " + dns.path());
    std::vector<bool> out;
    if (!v.is_object()) return out;
    EXPECT_FALSE(v.as_object().contains("error")) << v;
    for (const json::value& r : v.at("results").as_array()) out.push_back(r.as_bool());
    return out;
  }

  static std::string Composed(std::string subject = "Quick question") {
    OutgoingMessage m;
    m.from = {"Ada", "ada@sender.example"};
    m.to = {{"Bob", "bob@lead.example"}};
    m.cc = {{"", "carol@lead.example"}};
    m.subject = std::move(subject);
    m.html_body = "<p>Hello Bob,</p><p>Ten minutes?</p>";
    m.date = FromUnixMillis(kSignTime);
    m.list_unsubscribe_url = "https://t.sender.example/u/abc";
    m.list_unsubscribe_mailto = "u@sender.example?subject=abc";
    m.in_reply_to = "prev@sender.example";
    Result<std::string> raw = ComposeMessage(m);
    if (!raw.ok()) std::abort();
    return *raw;
  }

  static DkimKeyPair* rsa_;
  static DkimKeyPair* ed_;
};
DkimKeyPair* DkimTest::rsa_ = nullptr;
DkimKeyPair* DkimTest::ed_ = nullptr;

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  if (at == std::string::npos) std::abort();
  s.replace(at, from.size(), to);
  return s;
}

TEST(DkimCanonicalizationTest, Rfc6376Example) {
  // RFC 6376 §3.4.5.
  EXPECT_EQ(DkimCanonicalizeHeaderRelaxed("A: X"), "a:X");
  EXPECT_EQ(DkimCanonicalizeHeaderRelaxed("B : Y\t\r\n\tZ  "), "b:Y Z");
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
}

TEST(DkimCanonicalizationTest, BodyEdgeCases) {
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed(""), "");
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed("\r\n\r\n"), "");
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed("  \t \r\n"), "");
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed("no final crlf  "), "no final crlf\r\n");
  EXPECT_EQ(DkimCanonicalizeBodyRelaxed("a\r\n\r\nb\r\n \r\n"), "a\r\n\r\nb\r\n");
  EXPECT_EQ(DkimCanonicalizeHeaderRelaxed("SUBJECT:\t  many   \t spaces \t"),
            "subject:many spaces");
  EXPECT_EQ(DkimCanonicalizeHeaderRelaxed("Subject:"), "subject:");
}

// RFC 6376 §3.4.4 applied one byte at a time: what the signer's run-copying version must match.
std::string CanonicalBodyByteByByte(std::string_view body) {
  std::string out;
  size_t keep = 0;  // end of the last line with content
  bool content = false;
  bool wsp = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
      out += "\r\n";
      if (content) keep = out.size();
      content = wsp = false;
      ++i;
    } else if (c == ' ' || c == '\t') {
      wsp = true;
    } else {
      if (wsp) out += ' ';
      out += c;
      content = true;
      wsp = false;
    }
  }
  if (content) {
    out += "\r\n";
    keep = out.size();
  }
  out.resize(keep);
  return out;
}

TEST(DkimCanonicalizationTest, BodyMatchesTheByteByByteDefinition) {
  // Long lines (the 16-byte scan) with WSP runs, TABs, lone CRs and LFs, and WSP before CRLF at
  // every offset.
  std::mt19937 rng(6376);
  const std::string_view alphabet = "abcdefghij  \t\r\n";
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const size_t length = rng() % 300;
    for (size_t i = 0; i < length; ++i) {
      if (rng() % 12 == 0) {
        body += "\r\n";
      } else {
        body += alphabet[rng() % (round % 2 ? alphabet.size() : 10)];
      }
    }
    ASSERT_EQ(DkimCanonicalizeBodyRelaxed(body), CanonicalBodyByteByByte(body)) << body;
  }
}

TEST_F(DkimTest, RsaSignatureVerifies) {
  const std::string message = Composed();
  Result<std::string> signed_message = RsaSigner().Sign(message, FromUnixMillis(kSignTime));
  ASSERT_TRUE(signed_message.ok()) << signed_message.status().ToString();
  EXPECT_TRUE(signed_message->ends_with(message));
  EXPECT_TRUE(signed_message->starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;"));
  EXPECT_NE(signed_message->find("t=1767225600;"), std::string::npos);
  // Every line of the signature header is folded within 78 columns.
  const std::string header = signed_message->substr(0, signed_message->find("\r\nDate:"));
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find("\r\n", start);
    if (end == std::string::npos) end = header.size();
    EXPECT_LE(end - start, 78u) << header;
    start = end + 2;
  }
  std::string unfolded;
  for (char c : header) {
    if (c != '\r' && c != '\n' && c != '\t' && c != ' ') unfolded += c;
  }
  EXPECT_NE(unfolded.find("h=from:from:to:cc:subject:date:message-id:in-reply-to:references:"
                          "list-unsubscribe:list-unsubscribe-post:mime-version:content-type;"),
            std::string::npos)
      << unfolded;
  EXPECT_EQ(Verify(*signed_message), std::vector<bool>{true});
}

TEST_F(DkimTest, DualRsaAndEd25519SignaturesVerify) {
  Result<std::string> signed_message = DualSigner().Sign(Composed(), FromUnixMillis(kSignTime));
  ASSERT_TRUE(signed_message.ok()) << signed_message.status().ToString();
  EXPECT_NE(signed_message->find("a=ed25519-sha256;"), std::string::npos);
  EXPECT_EQ(Verify(*signed_message), (std::vector<bool>{true, true}));
}

TEST_F(DkimTest, NonAsciiSubjectVerifies) {
  Result<std::string> signed_message =
      DualSigner().Sign(Composed("Ça va, Zoë? Une idée pour l'équipe 🚀 — rapide et efficace"),
                        FromUnixMillis(kSignTime));
  ASSERT_TRUE(signed_message.ok());
  EXPECT_EQ(Verify(*signed_message), (std::vector<bool>{true, true}));
}

TEST_F(DkimTest, FoldedHeadersTrailingWhitespaceAndEmptyBody) {
  const std::string message =
      "From: Ada <ada@sender.example>\r\n"
      "To: bob@lead.example,\r\n\t  carol@lead.example  \r\n"
      "Subject:   folded   \r\n  subject\t line \r\n"
      "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
      "Message-ID: <ws@sender.example>\r\n"
      "\r\n"
      "trailing spaces   \r\n\tindented\t\ttabs \r\n\r\n\r\n";
  const DkimSigner signer = DualSigner();
  Result<std::string> s = signer.Sign(message, FromUnixMillis(kSignTime));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Verify(*s), (std::vector<bool>{true, true}));
  // Relaxed canonicalisation tolerates whitespace changes in transit...
  EXPECT_EQ(Verify(Replace(*s, "trailing spaces   \r\n", "trailing   spaces\r\n") + "\r\n"),
            (std::vector<bool>{true, true}));
  // ...but not a changed word.
  EXPECT_EQ(Verify(Replace(*s, "indented", "Indented")), (std::vector<bool>{false, false}));

  const std::string no_body = message.substr(0, message.find("\r\n\r\n") + 4);
  s = signer.Sign(no_body, FromUnixMillis(kSignTime));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Verify(*s), (std::vector<bool>{true, true}));
  // A message with no header/body separator at all is all header.
  s = signer.Sign(no_body.substr(0, no_body.size() - 2), FromUnixMillis(kSignTime));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Verify(*s + "\r\n"), (std::vector<bool>{true, true}));
}

TEST_F(DkimTest, TamperingFailsVerification) {
  Result<std::string> s = DualSigner().Sign(Composed(), FromUnixMillis(kSignTime));
  ASSERT_TRUE(s.ok());
  const std::vector<bool> both_fail = {false, false};
  EXPECT_EQ(Verify(Replace(*s, "Subject: Quick question", "Subject: Quick questions")), both_fail);
  EXPECT_EQ(Verify(Replace(*s, "Hello Bob", "Hello Rob")), both_fail);
  EXPECT_EQ(Verify(Replace(*s, "https://t.sender.example/u/abc", "https://evil.example/u/abc")),
            both_fail);
  EXPECT_EQ(Verify(Replace(*s, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "")),
            both_fail);
  // A second From added in transit breaks the (over-signed) From.
  EXPECT_EQ(Verify(Replace(*s, "\r\nDate:", "\r\nFrom: evil@x.example\r\nDate:")), both_fail);
  EXPECT_EQ(Verify(Replace(*s, "Cc: carol@lead.example", "Cc: mallory@x.example")), both_fail);
}

TEST_F(DkimTest, SignerGivesTheSameBytesWhenReusedMovedOrShared) {
  // RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic: the contexts a signer keeps between
  // calls (and hands to concurrent callers) must not change a single byte.
  DkimSigner signer = DualSigner();
  const std::string a = Composed("First");
  const std::string b = Composed("Second");
  Result<std::string> signed_a = signer.Sign(a, FromUnixMillis(kSignTime));
  ASSERT_TRUE(signed_a.ok()) << signed_a.status().ToString();
  ASSERT_TRUE(signer.Sign(b, FromUnixMillis(kSignTime)).ok());
  EXPECT_EQ(*signer.Sign(a, FromUnixMillis(kSignTime)), *signed_a);
  EXPECT_EQ(Verify(*signed_a), (std::vector<bool>{true, true}));

  DkimSigner moved = std::move(signer);
  EXPECT_EQ(*moved.Sign(a, FromUnixMillis(kSignTime)), *signed_a);

  std::vector<std::thread> threads;
  std::atomic<int> mismatches = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        Result<std::string> s = moved.Sign(a, FromUnixMillis(kSignTime));
        if (!s.ok() || *s != *signed_a) ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(DkimTest, RejectsBadInput) {
  const DkimSigner signer = RsaSigner();
  Result<std::string> s = signer.Sign("From: a@b.example\nSubject: x\n\nbody\n", FromUnixMillis(0));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "message");
  s = signer.Sign("From: a@b.example\r\nSubject: x\r\n\r\nbo\rdy\r\n", FromUnixMillis(0));
  EXPECT_EQ(s.status().field(), "message");
  s = signer.Sign("Subject: no from\r\n\r\nbody\r\n", FromUnixMillis(0));
  EXPECT_EQ(s.status().field(), "message");
  EXPECT_NE(s.status().message().find("From"), std::string::npos);

  Result<DkimSigner> bad = DkimSigner::Create("not a key", "sender.example", "k1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "private_key_pem");
  bad = DkimSigner::Create(rsa_->private_key_pem, "bad domain", "k1");
  EXPECT_EQ(bad.status().field(), "domain");
  bad = DkimSigner::Create(rsa_->private_key_pem, "sender.example", "k1;x");
  EXPECT_EQ(bad.status().field(), "selector");
  DkimSigner ok = RsaSigner();
  EXPECT_EQ(
      ok.AddKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "k2").field(),
      "private_key_pem");
}

TEST_F(DkimTest, KeysFromOpensslCommandLine) {
  // Traditional "BEGIN RSA PRIVATE KEY" PEM as older tooling writes it, and a too-small key.
  int code = 0;
  const std::string traditional = RunCommand("openssl genrsa -traditional 2048 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  ASSERT_NE(traditional.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  Result<DkimSigner> s = DkimSigner::Create(traditional, "sender.example", "k1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<DkimKeyPair> pair = DkimKeyPairFromPem(traditional);
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->type, DkimKeyType::kRsa2048);

  const std::string small =
      RunCommand("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  s = DkimSigner::Create(small, "sender.example", "k1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("512-bit"), std::string::npos);
}

// An encrypted key made OpenSSL ask for its passphrase on the terminal of `kiln serve`, blocking
// the request; it is refused with what to do instead.
TEST_F(DkimTest, EncryptedKeyIsRefusedWithoutAskingForAPassphrase) {
  int code = 0;
  const std::string encrypted = RunCommand(
      "openssl genpkey -algorithm ed25519 -aes-128-cbc -pass pass:secret 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  ASSERT_NE(encrypted.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  Result<DkimKeyPair> pair = DkimKeyPairFromPem(encrypted);
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(pair.status().field(), "private_key_pem");
  EXPECT_NE(pair.status().message().find("encrypted with a passphrase"), std::string::npos)
      << pair.status().message();
  const std::string traditional = RunCommand(
      "openssl genrsa -traditional -aes128 -passout pass:secret 1024 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  ASSERT_NE(traditional.find("ENCRYPTED"), std::string::npos);
  Result<DkimSigner> s = DkimSigner::Create(traditional, "sender.example", "k1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("encrypted with a passphrase"), std::string::npos)
      << s.status().message();
}

// RSA keys over 4096 bits are refused (RFC 8301: verifiers need not accept them), before the
// costly pair check; 4096 itself is accepted.
TEST_F(DkimTest, RsaKeysOver4096BitsAreRefused) {
  int code = 0;
  const std::string big = RunCommand("openssl genrsa 4104 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  Result<DkimSigner> s = DkimSigner::Create(big, "sender.example", "k1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "private_key_pem");
  EXPECT_NE(s.status().message().find("4104-bit RSA key"), std::string::npos)
      << s.status().message();
  const std::string ok = RunCommand("openssl genrsa 4096 2>/dev/null", &code);
  ASSERT_EQ(code, 0);
  EXPECT_TRUE(DkimSigner::Create(ok, "sender.example", "k1").ok());
}

// Found by fuzz/fuzz_dkim_key: a 1024-bit RSA key whose iqmp is not the inverse of q parsed, was
// stored, and then failed every signature at send time.
TEST_F(DkimTest, InconsistentKeyIsRefusedWhenLoaded) {
  const std::string damaged =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIICeAIBADANBgkqhkiG9w0BAQEFAASCAmIwggJeAgEAAoGBAN7bKf1Y9mf9Au1m\n"
      "dF2pfrbiUfTByOPDUhzyO9FdXg1kfHgiJ7XpAg0BTVrB86hy0PO9S0qljSFy0/vm\n"
      "E9i1QvI3y2RHGYP/OJzNF8ozujCNq3nyTBffCIrzT0Qr0gze8la3DUejvpFcfp4y\n"
      "hOhiOye0zjenHquXDUnz/NL72CPJAgMBAAECgYEAzeGJRC1ozp7Wkn2BaXoJv2kM\n"
      "L+LK9WfftzAuBPiNyC+aMd3T8+GEbIFUdlESCf+wfEzXfum8nTcZEfD3StACPEvt\n"
      "Vh8KJ4z03PGBydT+CTVSbIxaJeibhXjj+cRNuzSeLOIHS1lYQe3K5KNVeMz3fZYe\n"
      "r5Zrh5yX0CVp3RIWpAECQQDvWe3S2fGghxuVyLQ+nqRrmF5whyQby2Bb4jN/3riL\n"
      "YKdNRStH56NmDJlV5rOQQlgJed1nQmymMrDHs0l1uMCBAkEA7luCZs0ho8keuK2L\n"
      "La2VCmB1tIFpwNb15a5HbkIR9DdKldOjv8jcaB928Yn5Oaoe9qV26Hyw99Dog+0l\n"
      "zgm/SQJAFZZ/28+qencVJtpWX3uBiu7QPcgCmrsqMr9hM7xL2s5Z6J8/exnKZA7o\n"
      "2ZWYRn+lXx1tub2E/Sx/Q1PJYWPLgQJBANJBImwwMqZZeKILY6PtZHT81ZdeOL0E\n"
      "YXAzJYta+J9mToKPZ/h65AFtD+zMem2lZR7IonU92JUhUJlfDWQMMRECQQE/C+ii\n"
      "xwhIYE8qgKY1cONv7AOijEQ9f/RUXqatLqNuHzroLKA9Edgyluor4F9D8CbHMtrF\n"
      "D8gEK8WnC4q2wfdV\n"
      "-----END PRIVATE KEY-----\n";
  Result<DkimKeyPair> pair = DkimKeyPairFromPem(damaged);
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(pair.status().field(), "private_key_pem");
  EXPECT_NE(pair.status().message().find("not a consistent key pair"), std::string::npos)
      << pair.status().message();
  EXPECT_FALSE(DkimSigner::Create(damaged, "sender.example", "k1").ok());
}

TEST_F(DkimTest, DnsRecordAndKeygenReport) {
  EXPECT_EQ(DkimDnsName("sender.example", "k1"), "k1._domainkey.sender.example");
  const std::string value = DkimDnsRecordValue(*rsa_);
  EXPECT_TRUE(value.starts_with("v=DKIM1; k=rsa; p=MIIB")) << value;
  EXPECT_GT(value.size(), 255u);
  const std::string record = DkimDnsRecord("sender.example", "k1", *rsa_);
  EXPECT_TRUE(record.starts_with("k1._domainkey.sender.example. 3600 IN TXT ( \"")) << record;
  // Quoted strings of at most 255 bytes that concatenate to the value.
  std::string joined;
  size_t pos = 0;
  int strings = 0;
  while ((pos = record.find('"', pos)) != std::string::npos) {
    const size_t end = record.find('"', pos + 1);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - pos - 1, 255u);
    joined += record.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    ++strings;
  }
  EXPECT_EQ(joined, value);
  EXPECT_EQ(strings, 2);
  EXPECT_EQ(DkimDnsRecordValue(*ed_).substr(0, 21), "v=DKIM1; k=ed25519; p");
  EXPECT_EQ(ed_->public_key_base64.size(), 44u);  // 32 raw bytes

  const std::string report = DkimKeygenReport("sender.example", "k1", DkimKeyType::kRsa2048, *rsa_);
  EXPECT_NE(report.find("k1._domainkey.sender.example"), std::string::npos);
  EXPECT_NE(report.find(value), std::string::npos);
  EXPECT_NE(report.find(rsa_->private_key_pem), std::string::npos);
  EXPECT_TRUE(report.ends_with("-----END PRIVATE KEY-----\n"));
}

}  // namespace
}  // namespace kiln::mail
