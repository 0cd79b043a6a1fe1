// DKIM keys and campaign IP pools over the API, and `kiln doctor sender ID` as a command, on
// SQLite and PostgreSQL. The doctor asks the NSD of `scripts/dns start` (src/kiln/dns/testdata).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "api_test_util.h"
#include "kiln/dns/dns_test_util.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

constexpr char kTestQueries[] = R"(
-- name: dns_api_test.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, created_at, updated_at)
VALUES ($1, 'c', 'draft', '{}', 'UTC', 1, 1) RETURNING id;
)";

std::string TestKeyPem() {
  std::ifstream f(std::string(KILN_SOURCE_DIR) + "/src/kiln/dns/testdata/dkim_ed25519.pem");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string SenderWithSourceIp(const std::string& email, const std::string& source_ip) {
  json::object endpoint{{"host", "smtp.kiln.test"},
                        {"port", 587},
                        {"security", "starttls"},
                        {"username", email},
                        {"password", "smtp-pass-Zq9"}};
  return json::serialize(json::object{{"name", "Sales"},
                                      {"email", email},
                                      {"source_ip", source_ip},
                                      {"smtp", endpoint},
                                      {"imap", endpoint}});
}

class DnsApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
  }
  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  int64_t Campaign(int64_t ws) {
    int64_t id = 0;
    EXPECT_TRUE(Db().Write([&](store::Tx& tx) -> Status {
                      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("dns_api_test.campaign", {ws}));
                      id = r.Int("id");
                      return Status::Ok();
                    })
                    .ok());
    return id;
  }
  Session a_;
};

TEST_P(DnsApiTest, DkimKeysGenerateImportListDeleteAndTheDoctorChecksThem) {
  auto s = a_.Post(a_.Ws() + "/senders", SenderWithSourceIp("ann@pass.kiln.test", "127.0.0.2"));
  ASSERT_EQ(s.status, 201) << s.body;
  const int64_t sender = Json(s).at("id").as_int64();

  auto imported = a_.Post(
      a_.Ws() + "/dkim-keys",
      json::serialize(json::object{
          {"domain", "Pass.Kiln.Test."}, {"selector", "kiln"}, {"private_key_pem", TestKeyPem()}}));
  ASSERT_EQ(imported.status, 201) << imported.body;
  auto k = Json(imported).as_object();
  EXPECT_EQ(k.at("domain").as_string(), "pass.kiln.test");
  EXPECT_EQ(k.at("algorithm").as_string(), "ed25519-sha256");
  EXPECT_EQ(k.at("dns_name").as_string(), "kiln._domainkey.pass.kiln.test");
  EXPECT_EQ(k.at("dns_value").as_string(),
            "v=DKIM1; k=ed25519; p=2V3vmjtui8f0vELgVCjX2JjJf/Wqo+rKDk/guR2CeRI=");
  EXPECT_EQ(imported.body.find("PRIVATE"), std::string::npos);

  auto generated =
      a_.Post(a_.Ws() + "/dkim-keys", R"({"domain":"pass.kiln.test","selector":"rsa2026"})");
  ASSERT_EQ(generated.status, 201) << generated.body;
  auto g = Json(generated).as_object();
  EXPECT_EQ(g.at("algorithm").as_string(), "rsa-sha256");
  EXPECT_TRUE(std::string(g.at("dns_value").as_string()).starts_with("v=DKIM1; k=rsa; p=MII"));
  EXPECT_TRUE(std::string(g.at("dns_record").as_string())
                  .starts_with("rsa2026._domainkey.pass.kiln.test. 3600 IN TXT ("));

  auto again = a_.Post(a_.Ws() + "/dkim-keys", R"({"domain":"pass.kiln.test","selector":"kiln"})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(ErrField(again), "selector");
  for (const char* bad :
       {R"({"domain":"127.0.0.1","selector":"s"})", R"({"domain":"localhost","selector":"s"})",
        R"({"domain":"a..b","selector":"s"})"}) {
    auto r = a_.Post(a_.Ws() + "/dkim-keys", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(ErrField(r), "domain") << bad;
  }
  auto bad_selector =
      a_.Post(a_.Ws() + "/dkim-keys", R"({"domain":"pass.kiln.test","selector":"a b"})");
  EXPECT_EQ(ErrField(bad_selector), "selector");
  auto bad_algorithm = a_.Post(a_.Ws() + "/dkim-keys",
                               R"({"domain":"x.kiln.test","selector":"s","algorithm":"dsa"})");
  EXPECT_EQ(ErrField(bad_algorithm), "algorithm");
  auto bad_pem = a_.Post(a_.Ws() + "/dkim-keys",
                         R"({"domain":"x.kiln.test","selector":"s","private_key_pem":"nope"})");
  EXPECT_EQ(ErrField(bad_pem), "private_key_pem");

  auto list = a_.Get(a_.Ws() + "/dkim-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list).at("items").as_array().size(), 2u);

  const std::string resolver = dns::testing::TestDnsServer();
  auto doctor = [&] {
    auto args = BaseArgs();
    args.insert(args.end(),
                {"--dns-resolver", resolver, "doctor", "sender", std::to_string(sender)});
    return testing::RunKiln(args);
  };
  // The generated key is not published: FAIL, exit 1.
  auto failing = doctor();
  EXPECT_EQ(failing.exit_code, 1) << failing.out << failing.err;
  EXPECT_NE(failing.out.find("FAIL DKIM: no DKIM record at rsa2026._domainkey.pass.kiln.test; "
                             "publish a TXT record at rsa2026._domainkey.pass.kiln.test: "
                             "\"v=DKIM1; k=rsa; p=MII"),
            std::string::npos)
      << failing.out;

  auto del = a_.Delete(a_.Ws() + "/dkim-keys/" + std::to_string(g.at("id").as_int64()));
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(a_.Delete(a_.Ws() + "/dkim-keys/" + std::to_string(g.at("id").as_int64())).status, 404);

  auto passing = doctor();
  EXPECT_EQ(passing.exit_code, 0) << passing.out << passing.err;
  EXPECT_EQ(
      passing.out,
      "sender " + std::to_string(sender) +
          " <ann@pass.kiln.test>, domain pass.kiln.test, "
          "DNS " +
          resolver +
          "\n"
          "OK   IP: ann@pass.kiln.test sends from 127.0.0.2 (its source_ip)\n"
          "OK   SPF: pass.kiln.test authorises 127.0.0.2 (its source_ip): matched "
          "include:relay.kiln.test in the record of pass.kiln.test\n"
          "OK   DKIM: kiln._domainkey.pass.kiln.test publishes the ed25519 key Kiln signs with\n"
          "OK   DMARC: _dmarc.pass.kiln.test has p=reject\n"
          "OK   DMARC: SPF and DKIM both pass for pass.kiln.test, the From domain (adkim=s, "
          "aspf=r)\n"
          "OK   MX: pass.kiln.test receives mail at mx.pass.kiln.test (10)\n");

  auto args = BaseArgs();
  args.insert(args.end(), {"--dns-resolver", resolver, "doctor", "sender", "999999"});
  auto unknown = testing::RunKiln(args);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "kiln doctor: no sender with id 999999\n");
  args = BaseArgs();
  args.insert(args.end(), {"--dns-resolver", "dns.example.com", "doctor", "sender", "1"});
  auto bad_resolver = testing::RunKiln(args);
  EXPECT_EQ(bad_resolver.exit_code, 2);
  EXPECT_NE(bad_resolver.err.find("dns_resolver"), std::string::npos) << bad_resolver.err;
}

TEST_P(DnsApiTest, CampaignIpPool) {
  const int64_t campaign = Campaign(a_.ws);
  const std::string path = a_.Ws() + "/campaigns/" + std::to_string(campaign) + "/ip-pool";
  auto empty = a_.Get(path);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(json::serialize(Json(empty).at("ips")), "[]");

  auto set = [&](const std::string& body) {
    return a_.http->Send("PUT", path, body, a_.H()).value();
  };
  auto ok = set(R"({"ips":["127.0.0.2","127.0.0.3"]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::serialize(Json(ok).at("ips")), R"(["127.0.0.2","127.0.0.3"])");
  EXPECT_EQ(json::serialize(Json(a_.Get(path)).at("ips")), R"(["127.0.0.2","127.0.0.3"])");

  auto remote = set(R"({"ips":["127.0.0.2","192.0.2.7"]})");
  EXPECT_EQ(remote.status, 400);
  EXPECT_EQ(ErrField(remote), "ips[1]");
  EXPECT_NE(remote.body.find("192.0.2.7 is not an address of this machine"), std::string::npos)
      << remote.body;
  EXPECT_EQ(ErrField(set(R"({"ips":["127.0.0.2","127.0.0.2"]})")), "ips[1]");
  EXPECT_EQ(ErrField(set(R"({"ips":["not-an-ip"]})")), "ips[0]");
  // Leading zeros are refused rather than guessed at (octal in some tools, decimal in others).
  EXPECT_EQ(ErrField(set(R"({"ips":["127.0.0.2","127.000.0.3"]})")), "ips[1]");
  EXPECT_EQ(ErrField(set(R"({"ips":[7]})")), "ips[0]");
  // A failed PUT changes nothing.
  EXPECT_EQ(json::serialize(Json(a_.Get(path)).at("ips")), R"(["127.0.0.2","127.0.0.3"])");
  EXPECT_EQ(json::serialize(Json(set(R"({"ips":[]})")).at("ips")), "[]");

  Session b = NewOwner("owner@kiln-b.test");
  auto foreign = b.Get(b.Ws() + "/campaigns/" + std::to_string(campaign) + "/ip-pool");
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(a_.Get(a_.Ws() + "/campaigns/987654/ip-pool").status, 404);
}

INSTANTIATE_TEST_SUITE_P(Db, DnsApiTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

}  // namespace
}  // namespace kiln::testing
