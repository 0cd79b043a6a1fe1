// The c-ares resolver against the real NSD of scripts/dns serving testdata/*.zone.
#include "kiln/dns/resolver.h"

#include <gtest/gtest.h>

#include "kiln/dns/dns_test_util.h"

namespace kiln::dns {
namespace {

namespace ip = boost::asio::ip;
using testing::TestResolver;

TEST(ResolverTest, TxtRecordsAreWholeAndCharacterStringsJoined) {
  auto r = TestResolver();
  ASSERT_NE(r, nullptr);
  auto txt = r->Txt("pass.kiln.test");
  ASSERT_TRUE(txt.ok()) << txt.status().ToString();
  std::vector<std::string> got = txt->records;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"google-site-verification=not-an-spf-record",
                                      "v=spf1 a:mx.pass.kiln.test include:relay.kiln.test -all"}));
  auto split = r->Txt("split.kiln.test.");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->records, std::vector<std::string>{"v=spf1 ip4:127.0.0.2 -all"});
}

TEST(ResolverTest, NxdomainAndNodataAreNoRecordsNotErrors) {
  auto r = TestResolver();
  ASSERT_NE(r, nullptr);
  auto nx = r->Txt("does-not-exist.kiln.test");
  ASSERT_TRUE(nx.ok()) << nx.status().ToString();
  EXPECT_TRUE(nx->empty());
  EXPECT_TRUE(nx->nxdomain);
  auto nodata = r->Txt("onlya.kiln.test");
  ASSERT_TRUE(nodata.ok());
  EXPECT_TRUE(nodata->empty());
  EXPECT_FALSE(nodata->nxdomain);
  auto mx = r->Mx("onlya.kiln.test");
  ASSERT_TRUE(mx.ok());
  EXPECT_TRUE(mx->empty());
}

TEST(ResolverTest, AddressesMxAndPtr) {
  auto r = TestResolver();
  ASSERT_NE(r, nullptr);
  auto a = r->Address("mx.pass.kiln.test", false);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->records, std::vector<ip::address>{ip::make_address("127.0.0.53")});
  auto aaaa = r->Address("mx.pass.kiln.test", true);
  ASSERT_TRUE(aaaa.ok());
  EXPECT_EQ(aaaa->records, std::vector<ip::address>{ip::make_address("::1")});
  auto mx = r->Mx("pass.kiln.test");
  ASSERT_TRUE(mx.ok());
  ASSERT_EQ(mx->records.size(), 1u);
  EXPECT_EQ(mx->records[0].preference, 10);
  EXPECT_EQ(mx->records[0].exchange, "mx.pass.kiln.test");
  auto ptr = r->Ptr(ip::make_address("127.0.0.2"));
  ASSERT_TRUE(ptr.ok()) << ptr.status().ToString();
  EXPECT_EQ(ptr->records, std::vector<std::string>{"host2.kiln.test"});
}

TEST(ResolverTest, ReverseNames) {
  EXPECT_EQ(ReverseName(ip::make_address("192.0.2.1")), "1.2.0.192.in-addr.arpa");
  EXPECT_EQ(ReverseName(ip::make_address("2001:db8::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST(ResolverTest, NoServerIsUnavailableNamingTheQuestion) {
  auto r = MakeResolver(
      {.servers = "127.0.0.1:9", .timeout = std::chrono::milliseconds(200), .tries = 1});
  ASSERT_TRUE(r.ok());
  auto txt = (*r)->Txt("pass.kiln.test");
  ASSERT_FALSE(txt.ok());
  EXPECT_EQ(txt.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(txt.status().message().find("TXT pass.kiln.test"), std::string::npos)
      << txt.status().message();
}

TEST(ResolverTest, BadServerListNamesTheSetting) {
  for (const char* bad : {"dns.example.com", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "1.2.3"}) {
    auto r = MakeResolver({.servers = bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "dns_resolver") << bad;
  }
  EXPECT_TRUE(MakeResolver({.servers = "127.0.0.1:55353, [::1]:53,192.0.2.1"}).ok());
}

}  // namespace
}  // namespace kiln::dns
