// `kiln doctor sender` checks, from senders in a real database (SQLite and PostgreSQL) against the
// real NSD of scripts/dns; the DKIM keyring from the same table; local-address checks.
#include "kiln/dns/doctor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kiln/dns/dkim_keys.h"
#include "kiln/dns/dns_test_util.h"
#include "kiln/dns/local_address.h"
#include "kiln/dns/sender_route.h"
#include "kiln/domain/ip_pool.h"
#include "kiln/testing/db_fixture.h"

namespace kiln::dns {
namespace {

constexpr std::string_view kFixtureSql = R"sql(
-- name: doctor_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', 1, 1) RETURNING id;
-- name: doctor_test.sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, source_ip,
                     proxy_url, created_at, updated_at)
VALUES ($1, $2, $3, 587, 'starttls', $4, $5, 1, 1) RETURNING id;
-- name: doctor_test.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, created_at, updated_at)
VALUES ($1, 'c', 'draft', '{}', 'UTC', 1, 1) RETURNING id;
-- name: doctor_test.campaign_sender
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, 1);
)sql";

std::string ReadTestFile(const std::string& name) {
  const char* root = std::getenv("KILN_SOURCE_DIR");
  std::ifstream f(std::string(root ? root : ".") + "/src/kiln/dns/testdata/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class DoctorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    resolver_ = testing::TestResolver();
    ASSERT_NE(resolver_, nullptr);
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/doctor_test.sql", std::string(kFixtureSql)});
    auto db = kiln::testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto box = auth::SecretBox::FromKey(std::string(32, 'k'));
    ASSERT_TRUE(box.ok());
    box_ = std::make_unique<auth::SecretBox>(std::move(box).value());
    ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("doctor_test.workspace", {}));
                     ws_ = w.Int("id");
                     return Status::Ok();
                   })
                    .ok());
    pem_ = ReadTestFile("dkim_ed25519.pem");
    ASSERT_FALSE(pem_.empty()) << "testdata/dkim_ed25519.pem not found (KILN_SOURCE_DIR)";
  }

  int64_t AddSender(const std::string& email, const std::string& smtp_host,
                    const std::string& source_ip, const std::string& proxy_url = "") {
    int64_t id = 0;
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto r, tx.QueryRow("doctor_test.sender", {ws_, email, smtp_host, source_ip, proxy_url}));
      id = r.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }

  // Stores `pem` as the key of `domain` under `selector`, sealed as the API does.
  void AddKey(const std::string& domain, const std::string& selector, const std::string& pem,
              std::string aad = "") {
    auto pair = mail::DkimKeyPairFromPem(pem);
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    if (aad.empty()) aad = DkimKeyAad(ws_, domain, selector);
    auto sealed = box_->Seal(pem, aad);
    ASSERT_TRUE(sealed.ok());
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      return tx
          .Exec("dns.dkim_insert",
                {ws_, domain, selector, std::string(DkimAlgorithmName(pair->type)),
                 store::Blob{*sealed}, pair->public_key_base64, 1})
          .status();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::vector<std::string> Doctor(int64_t sender_id) {
    auto in = LoadSenderDnsInput(*db_, *resolver_, sender_id);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return {};
    std::vector<std::string> lines;
    for (const Finding& f : CheckSenderDns(*resolver_, *in, TimePoint{})) {
      lines.push_back(FormatFinding(f));
    }
    return lines;
  }

  std::unique_ptr<Resolver> resolver_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::SecretBox> box_;
  int64_t ws_ = 0;
  std::string pem_;
};

using Lines = std::vector<std::string>;

TEST_P(DoctorTest, EverythingInOrder) {
  int64_t id = AddSender("ann@pass.kiln.test", "smtp.example.invalid", "127.0.0.2");
  AddKey("pass.kiln.test", "kiln", pem_);
  EXPECT_EQ(Doctor(id),
            (Lines{
                "OK   IP: ann@pass.kiln.test sends from 127.0.0.2 (its source_ip)",
                "OK   SPF: pass.kiln.test authorises 127.0.0.2 (its source_ip): matched "
                "include:relay.kiln.test in the record of pass.kiln.test",
                "OK   DKIM: kiln._domainkey.pass.kiln.test publishes the ed25519 key Kiln signs "
                "with",
                "OK   DMARC: _dmarc.pass.kiln.test has p=reject",
                "OK   DMARC: SPF and DKIM both pass for pass.kiln.test, the From domain (adkim=s, "
                "aspf=r)",
                "OK   MX: pass.kiln.test receives mail at mx.pass.kiln.test (10)",
            }));
}

TEST_P(DoctorTest, FailingSpfAndAForeignDkimKey) {
  int64_t id = AddSender("bob@fail.kiln.test", "smtp.example.invalid", "127.0.0.2");
  AddKey("fail.kiln.test", "kiln", pem_);
  auto lines = Doctor(id);
  EXPECT_EQ(lines,
            (Lines{
                "OK   IP: bob@fail.kiln.test sends from 127.0.0.2 (its source_ip)",
                "FAIL SPF: fail.kiln.test does not authorise 127.0.0.2 (its source_ip) (fail, "
                "matched -all in the record of fail.kiln.test); add ip4:127.0.0.2 to the SPF "
                "record of fail.kiln.test",
                "FAIL DKIM: the ed25519 key published at kiln._domainkey.fail.kiln.test is not the "
                "key Kiln signs with; publish a TXT record at kiln._domainkey.fail.kiln.test: "
                "\"v=DKIM1; k=ed25519; p=2V3vmjtui8f0vELgVCjX2JjJf/Wqo+rKDk/guR2CeRI=\"",
                "OK   DMARC: _dmarc.fail.kiln.test has p=quarantine",
                "WARN DMARC: _dmarc.fail.kiln.test has no rua=: nobody receives the aggregate "
                "reports; add rua=mailto:dmarc@fail.kiln.test",
                "FAIL DMARC: neither SPF nor DKIM passes for fail.kiln.test, so mail fails DMARC "
                "and is sent to spam: fix SPF or DKIM above",
                "OK   MX: fail.kiln.test receives mail at mx.pass.kiln.test (10)",
            }));
  auto in = LoadSenderDnsInput(*db_, *resolver_, id);
  ASSERT_TRUE(in.ok());
  EXPECT_TRUE(dns::HasFailure(CheckSenderDns(*resolver_, *in, TimePoint{})));
}

TEST_P(DoctorTest, SmtpHostAddressNeutralSpfNoDkimDmarcNoneNoMx) {
  // No source IP, pool or proxy: the SMTP host's address (weak.kiln.test -> 192.0.2.7) is checked.
  int64_t id = AddSender("cy@weak.kiln.test", "weak.kiln.test", "");
  EXPECT_EQ(Doctor(id),
            (Lines{
                "OK   IP: cy@weak.kiln.test sends from 192.0.2.7 (the address of its SMTP host "
                "weak.kiln.test)",
                "OK   SPF: weak.kiln.test authorises 192.0.2.7 (the address of its SMTP host "
                "weak.kiln.test): matched ip4:192.0.2.7 in the record of weak.kiln.test",
                "WARN SPF: the record of weak.kiln.test ends in '?all': mail from other hosts is "
                "neutral, not refused; use -all or ~all",
                "FAIL DKIM: Kiln has no DKIM key for weak.kiln.test, so its mail goes out "
                "unsigned; create one (POST /api/v1/workspaces/{ws}/dkim-keys) and publish the "
                "TXT record it returns",
                "WARN DMARC: _dmarc.weak.kiln.test has p=none: receivers take no action on mail "
                "that fails DMARC, and some rank such domains lower; move to p=quarantine once "
                "the reports show only your own senders",
                "WARN DMARC: only SPF passes aligned with weak.kiln.test (adkim=r, aspf=r); mail "
                "relies on it alone: fix DKIM above",
                "FAIL MX: weak.kiln.test has no MX record: replies and bounces to "
                "cy@weak.kiln.test cannot be delivered; add an MX record",
            }));
}

TEST_P(DoctorTest, PoolAddressAndABrokenSpfRecord) {
  int64_t id = AddSender("dee@loop.kiln.test", "smtp.example.invalid", "");
  ASSERT_TRUE(
      db_->Write([&](store::Tx& tx) -> Status {
           KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("doctor_test.campaign", {ws_}));
           int64_t campaign = c.Int("id");
           KILN_RETURN_IF_ERROR(
               tx.Exec("doctor_test.campaign_sender", {campaign, id, ws_}).status());
           KILN_RETURN_IF_ERROR(tx.Exec("dns.ip_pool_add", {campaign, "127.0.0.3", 0}).status());
           return tx.Exec("dns.ip_pool_add", {campaign, "127.0.0.4", 1}).status();
         })
          .ok());
  auto lines = Doctor(id);
  ASSERT_GE(lines.size(), 3u);
  // Which of the two the sender keeps is domain::ChooseSourceIp's (sticky) choice.
  EXPECT_TRUE(lines[0].starts_with("OK   IP: dee@loop.kiln.test sends from 127.0.0.")) << lines[0];
  EXPECT_TRUE(lines[0].ends_with(" (the IP pool of campaign 1)")) << lines[0];
  EXPECT_TRUE(
      lines[1].starts_with("FAIL SPF: the SPF record of loop.kiln.test is broken "
                           "(permerror): more than 10 DNS lookups: "
                           "include:loop.kiln.test in the record of loop.kiln.test is "
                           "lookup number 11"))
      << lines[1];
  EXPECT_EQ(lines.back(), "OK   MX: loop.kiln.test receives mail at mx.pass.kiln.test (10)");
  EXPECT_EQ(lines[lines.size() - 2],
            "FAIL DMARC: no DMARC record at _dmarc.loop.kiln.test; Gmail and Yahoo require one "
            "from bulk senders: publish \"v=DMARC1; p=none; rua=mailto:dmarc@loop.kiln.test\" "
            "and tighten it once the reports are clean");
}

TEST_P(DoctorTest, ProxyRevokedKeyBadPolicyAndUnknownSender) {
  int64_t id =
      AddSender("eve@bad.kiln.test", "smtp.example.invalid", "", "socks5://127.0.0.2:1080");
  AddKey("bad.kiln.test", "kiln", pem_);
  EXPECT_EQ(Doctor(id),
            (Lines{
                "OK   IP: eve@bad.kiln.test sends from 127.0.0.2 (its proxy "
                "socks5://127.0.0.2:1080)",
                "WARN IP: mail leaves through the SOCKS5 proxy socks5://127.0.0.2:1080; SPF is "
                "checked for the proxy host's address, which is right only when the proxy sends "
                "from it",
                "OK   SPF: bad.kiln.test authorises 127.0.0.2 (its proxy socks5://127.0.0.2:1080): "
                "matched ip4:127.0.0.2 in the record of bad.kiln.test",
                "FAIL DKIM: the key at kiln._domainkey.bad.kiln.test is revoked (empty p=); "
                "publish a TXT record at kiln._domainkey.bad.kiln.test: \"v=DKIM1; k=ed25519; "
                "p=2V3vmjtui8f0vELgVCjX2JjJf/Wqo+rKDk/guR2CeRI=\"",
                "FAIL DMARC: the record at _dmarc.bad.kiln.test has p=maybe; it must be p=none, "
                "p=quarantine or p=reject",
                "OK   MX: bad.kiln.test receives mail at mx.pass.kiln.test (10)",
            }));
  auto missing = LoadSenderDnsInput(*db_, *resolver_, 999999);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no sender with id 999999");
}

TEST_P(DoctorTest, UnresolvableSmtpHostIsAFailure) {
  int64_t id = AddSender("fay@pass.kiln.test", "nothing.kiln.test", "");
  auto lines = Doctor(id);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "FAIL IP: cannot tell which address fay@pass.kiln.test sends from: its SMTP host "
            "nothing.kiln.test does not resolve: nothing.kiln.test has no A or AAAA record");
  EXPECT_EQ(lines[1], "FAIL SPF: not checked: the sender's address is unknown (see IP above)");
}

TEST_P(DoctorTest, KeyringSignsByDomainAndSkipsKeysThatDoNotOpen) {
  AddKey("pass.kiln.test", "kiln", pem_);
  AddKey("other.kiln.test", "kiln", pem_, "dkim_keys:999:other.kiln.test:kiln");  // wrong AAD
  auto ring = LoadDkimSigners(*db_, *box_);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->size(), 1u);
  ASSERT_EQ(ring->problems().size(), 1u);
  EXPECT_TRUE(
      ring->problems()[0].starts_with("DKIM key 2 (kiln._domainkey.other.kiln.test, workspace " +
                                      std::to_string(ws_) + ") skipped: cannot unseal it"))
      << ring->problems()[0];
  const mail::DkimSigner* signer = ring->Find(ws_, "pass.kiln.test");
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(ring->Find(ws_ + 1, "pass.kiln.test"), nullptr);
  auto by_domain = ring->ByDomain();
  ASSERT_EQ(by_domain.size(), 1u);
  EXPECT_EQ(by_domain["pass.kiln.test"], signer);
  auto signed_msg = signer->Sign("From: a@pass.kiln.test\r\nSubject: x\r\n\r\nhi\r\n", TimePoint{});
  ASSERT_TRUE(signed_msg.ok()) << signed_msg.status().ToString();
  EXPECT_NE(signed_msg->find("d=pass.kiln.test;"), std::string::npos) << *signed_msg;
  EXPECT_NE(signed_msg->find("s=kiln;"), std::string::npos) << *signed_msg;
  // A second key of the same domain joins the same signer: two signatures.
  auto rsa = mail::GenerateDkimKey(mail::DkimKeyType::kRsa2048);
  ASSERT_TRUE(rsa.ok());
  AddKey("pass.kiln.test", "rsa1", rsa->private_key_pem);
  auto ring2 = LoadDkimSigners(*db_, *box_);
  ASSERT_TRUE(ring2.ok());
  auto both = ring2->Find(ws_, "pass.kiln.test")
                  ->Sign("From: a@pass.kiln.test\r\nSubject: x\r\n\r\nhi\r\n", TimePoint{});
  ASSERT_TRUE(both.ok());
  EXPECT_NE(both->find("s=kiln;"), std::string::npos);
  EXPECT_NE(both->find("s=rsa1;"), std::string::npos);
}

TEST_P(DoctorTest, RouteAppliedToTheSmtpSettings) {
  int64_t own = AddSender("a@pass.kiln.test", "smtp.example.invalid", "127.0.0.2");
  int64_t proxied =
      AddSender("b@pass.kiln.test", "smtp.example.invalid", "", "socks5://[::1]:1080");
  int64_t pooled = AddSender("c@pass.kiln.test", "smtp.example.invalid", "");
  int64_t plain = AddSender("d@pass.kiln.test", "smtp.example.invalid", "");
  ASSERT_TRUE(
      db_->Write([&](store::Tx& tx) -> Status {
           KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("doctor_test.campaign", {ws_}));
           int64_t campaign = c.Int("id");
           for (int64_t s : {own, pooled}) {
             KILN_RETURN_IF_ERROR(
                 tx.Exec("doctor_test.campaign_sender", {campaign, s, ws_}).status());
           }
           KILN_RETURN_IF_ERROR(tx.Exec("dns.ip_pool_add", {campaign, "127.0.0.5", 0}).status());
           return tx.Exec("dns.ip_pool_add", {campaign, "127.0.0.6", 1}).status();
         })
          .ok());
  mail::SmtpConfig c;
  ASSERT_TRUE(ApplySenderRoute(*db_, own, &c).ok());
  EXPECT_EQ(c.source_address, "127.0.0.2");  // its own address wins over the pool
  EXPECT_TRUE(c.socks5_proxy.host.empty());
  ASSERT_TRUE(ApplySenderRoute(*db_, proxied, &c).ok());
  EXPECT_EQ(c.source_address, "");
  EXPECT_EQ(c.socks5_proxy.host, "::1");
  EXPECT_EQ(c.socks5_proxy.port, 1080);
  ASSERT_TRUE(ApplySenderRoute(*db_, pooled, &c).ok());
  std::vector<std::string> pool{"127.0.0.5", "127.0.0.6"};
  EXPECT_EQ(c.source_address, domain::ChooseSourceIp(pool, pooled));
  EXPECT_TRUE(c.socks5_proxy.host.empty());
  ASSERT_TRUE(ApplySenderRoute(*db_, plain, &c).ok());
  EXPECT_EQ(c.source_address, "");
  EXPECT_EQ(ApplySenderRoute(*db_, 424242, &c).message(), "no sender with id 424242");
}

INSTANTIATE_TEST_SUITE_P(Db, DoctorTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

// Found by fuzz/fuzz_dns_doctor: a DMARC record holding "\x1b[2J" reached the operator's terminal
// as an escape sequence through the quoted p= value.
TEST(FormatFindingTest, EscapesControlCharactersFromDnsRecords) {
  Finding f{Finding::Level::kWarn, "DMARC",
            std::string("_dmarc.example.com has p=\x1b[2J\r\n\x7f\0!", 34)};
  EXPECT_EQ(FormatFinding(f), "WARN DMARC: _dmarc.example.com has p=\\x1b[2J\\x0d\\x0a\\x7f\\x00!");
  EXPECT_EQ(FormatFinding({Finding::Level::kOk, "MX", "example.com receives mail at mx (10)"}),
            "OK   MX: example.com receives mail at mx (10)");
}

TEST(LocalAddressTest, LoopbackIsLocalDocumentationAddressIsNot) {
  EXPECT_TRUE(CheckLocalAddress("127.0.0.1", "source_ip").ok());
  EXPECT_TRUE(CheckLocalAddress("127.0.0.2", "source_ip").ok());
  Status remote = CheckLocalAddress("192.0.2.7", "source_ip");
  EXPECT_EQ(remote.field(), "source_ip");
  EXPECT_TRUE(remote.message().starts_with(
      "192.0.2.7 is not an address of this machine (add it to an interface first)"))
      << remote.message();
  Status garbage = CheckLocalAddress("10.0.0", "ips[2]");
  EXPECT_EQ(garbage.field(), "ips[2]");
  EXPECT_EQ(garbage.message(), "must be an IPv4 or IPv6 address");
  EXPECT_FALSE(CheckLocalAddress("0.0.0.0", "source_ip").ok());
}

TEST(SenderRouteTest, Socks5Urls) {
  auto p = ParseSocks5Url("socks5://proxy.example.com:1081");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host, "proxy.example.com");
  EXPECT_EQ(p->port, 1081);
  for (const char* bad : {"http://p:1", "socks5://p", "socks5://:1", "socks5://p:0",
                          "socks5://p:70000", "socks5://p:1x"}) {
    auto r = ParseSocks5Url(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "proxy_url") << bad;
  }
}

}  // namespace
}  // namespace kiln::dns
