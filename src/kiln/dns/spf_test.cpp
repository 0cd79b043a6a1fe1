// check_host() against the real NSD of scripts/dns: every mechanism, the limits, the errors.
#include "kiln/dns/spf.h"

#include <gtest/gtest.h>

#include "kiln/dns/dns_test_util.h"

namespace kiln::dns {
namespace {

namespace ip = boost::asio::ip;

class SpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    resolver_ = testing::TestResolver();
    ASSERT_NE(resolver_, nullptr);
  }
  SpfEvaluation Check(std::string_view domain, std::string_view addr = "127.0.0.2") {
    SpfQuery q;
    q.ip = ip::make_address(std::string(addr));
    q.domain = std::string(domain);
    q.sender = "ann@" + std::string(domain);
    q.helo = "mail.kiln.test";
    return CheckHost(*resolver_, q);
  }
  std::unique_ptr<Resolver> resolver_;
};

bool HasWarning(const SpfEvaluation& e, std::string_view needle) {
  for (const auto& w : e.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(SpfTest, PassThroughIncludeAndFailOtherwise) {
  auto e = Check("pass.kiln.test");
  EXPECT_EQ(e.result, SpfResult::kPass) << e.reason;
  EXPECT_EQ(e.reason, "matched include:relay.kiln.test in the record of pass.kiln.test");
  EXPECT_EQ(e.record, "v=spf1 a:mx.pass.kiln.test include:relay.kiln.test -all");
  EXPECT_EQ(e.dns_lookups, 2);
  EXPECT_EQ(e.void_lookups, 0);
  EXPECT_TRUE(e.warnings.empty());
  ASSERT_EQ(e.trace.size(), 2u);
  EXPECT_EQ(e.trace[1], "relay.kiln.test: v=spf1 ip4:127.0.0.0/29 ip6:2001:db8::/32 -all");

  EXPECT_EQ(Check("pass.kiln.test", "127.0.0.53").reason,
            "matched a:mx.pass.kiln.test in the record of pass.kiln.test");
  EXPECT_EQ(Check("pass.kiln.test", "2001:db8:5::1").result, SpfResult::kPass);
  EXPECT_EQ(Check("pass.kiln.test", "::ffff:127.0.0.3").result, SpfResult::kPass);
  auto f = Check("pass.kiln.test", "198.51.100.1");
  EXPECT_EQ(f.result, SpfResult::kFail);
  EXPECT_EQ(f.reason, "matched -all in the record of pass.kiln.test");
}

TEST_F(SpfTest, FailSoftfailNeutralAndPlusAllWarnings) {
  EXPECT_EQ(Check("fail.kiln.test").result, SpfResult::kFail);
  EXPECT_EQ(Check("fail.kiln.test", "192.0.2.200").result, SpfResult::kPass);
  EXPECT_EQ(Check("fail.kiln.test", "2001:db8::1").result, SpfResult::kPass);
  EXPECT_EQ(Check("fail.kiln.test", "2001:db8::2").result, SpfResult::kFail);

  auto weak = Check("weak.kiln.test");
  EXPECT_EQ(weak.result, SpfResult::kNeutral);
  EXPECT_TRUE(HasWarning(weak, "'?all'")) << weak.warnings.size();

  auto open = Check("open.kiln.test");
  EXPECT_EQ(open.result, SpfResult::kPass);
  EXPECT_TRUE(HasWarning(open, "every host on the Internet"));

  // mx/29: the MX host 127.0.0.53 covers 127.0.0.48-55.
  EXPECT_EQ(Check("soft.kiln.test", "127.0.0.50").result, SpfResult::kPass);
  auto soft = Check("soft.kiln.test");
  EXPECT_EQ(soft.result, SpfResult::kSoftFail);
  EXPECT_EQ(soft.reason, "matched ~all in the record of soft.kiln.test");
}

TEST_F(SpfTest, IncludeChainAndRedirectWithMacros) {
  auto chain = Check("chain.kiln.test");
  EXPECT_EQ(chain.result, SpfResult::kPass) << chain.reason;
  EXPECT_EQ(chain.dns_lookups, 3);
  EXPECT_EQ(chain.trace.size(), 4u);
  // chain2 ends in ~all: a softfail inside an include is "no match", so the top -all decides.
  EXPECT_EQ(Check("chain.kiln.test", "192.0.2.99").result, SpfResult::kFail);
  EXPECT_EQ(Check("chain.kiln.test", "192.0.2.1").result, SpfResult::kPass);

  auto redir = Check("redir.kiln.test");
  EXPECT_EQ(redir.result, SpfResult::kPass) << redir.reason;
  EXPECT_EQ(redir.reason, "matched exists:%{ir}.%{v}._spf.%{d} in the record of macro.kiln.test");
  EXPECT_EQ(Check("redir.kiln.test", "127.0.0.3").result, SpfResult::kFail);

  auto ptr = Check("ptrmech.kiln.test");
  EXPECT_EQ(ptr.result, SpfResult::kPass) << ptr.reason;
  EXPECT_TRUE(HasWarning(ptr, "deprecated"));
  EXPECT_EQ(Check("ptrmech.kiln.test", "127.0.0.3").result, SpfResult::kFail);
}

TEST_F(SpfTest, LoopAndOverTheLookupLimitArePermerrors) {
  auto loop = Check("loop.kiln.test");
  EXPECT_EQ(loop.result, SpfResult::kPermError);
  EXPECT_EQ(loop.reason,
            "more than 10 DNS lookups: include:loop.kiln.test in the record of loop.kiln.test is "
            "lookup number 11; flatten includes into ip4:/ip6: ranges");
  auto many = Check("many.kiln.test");
  EXPECT_EQ(many.result, SpfResult::kPermError);
  EXPECT_NE(many.reason.find("include:relay.kiln.test in the record of many.kiln.test is lookup "
                             "number 11"),
            std::string::npos)
      << many.reason;
  // The tenth a: matches before the limit is reached.
  auto tenth = Check("many.kiln.test", "192.0.2.10");
  EXPECT_EQ(tenth.result, SpfResult::kPass);
  EXPECT_TRUE(HasWarning(tenth, "10 of the 10 DNS lookups"));
}

TEST_F(SpfTest, VoidLookupLimit) {
  auto v = Check("void.kiln.test");
  EXPECT_EQ(v.result, SpfResult::kPermError);
  EXPECT_EQ(v.void_lookups, 3);
  EXPECT_NE(v.reason.find("more than 2 lookups answered nothing (the last: nx3.kiln.test"),
            std::string::npos)
      << v.reason;
}

TEST_F(SpfTest, NoneAndPermerrors) {
  auto none = Check("onlya.kiln.test");
  EXPECT_EQ(none.result, SpfResult::kNone);
  EXPECT_EQ(none.reason, "no SPF record at onlya.kiln.test");
  EXPECT_EQ(Check("nowhere.kiln.test").reason, "the domain nowhere.kiln.test does not exist");
  EXPECT_EQ(Check("localhost").result, SpfResult::kNone);

  auto twice = Check("twice.kiln.test");
  EXPECT_EQ(twice.result, SpfResult::kPermError);
  EXPECT_EQ(twice.reason, "twice.kiln.test publishes 2 SPF records (exactly one is allowed)");

  auto broken = Check("broken.kiln.test");
  EXPECT_EQ(broken.result, SpfResult::kPermError);
  EXPECT_EQ(broken.reason,
            "syntax error in the SPF record of broken.kiln.test: term 'ip4:300.1.2.3' '300.1.2.3' "
            "is not an IPv4 address");
  EXPECT_EQ(Check("split.kiln.test").result, SpfResult::kPass);
}

TEST_F(SpfTest, ExplanationIsExpanded) {
  auto e = Check("explain.kiln.test");
  EXPECT_EQ(e.result, SpfResult::kFail);
  EXPECT_EQ(e.explanation, "127.0.0.2 is not one of explain.kiln.test's senders");
}

TEST_F(SpfTest, DnsFailureIsTemperror) {
  auto r = MakeResolver(
      {.servers = "127.0.0.1:9", .timeout = std::chrono::milliseconds(200), .tries = 1});
  ASSERT_TRUE(r.ok());
  SpfQuery q;
  q.ip = ip::make_address("127.0.0.2");
  q.domain = "pass.kiln.test";
  auto e = CheckHost(**r, q);
  EXPECT_EQ(e.result, SpfResult::kTempError);
}

// A fake resolver for what the NSD zone cannot show: how many queries one evaluation makes. The
// one TXT record is `spf`; every other name does not exist.
class CountingFakeResolver : public Resolver {
 public:
  explicit CountingFakeResolver(std::string spf) : spf_(std::move(spf)) {}
  Result<Answer<std::string>> Txt(std::string_view name) override {
    ++queries;
    Answer<std::string> a;
    if (name == "fake.kiln.test") {
      a.records.push_back(spf_);
    } else {
      a.nxdomain = true;
    }
    return a;
  }
  Result<Answer<ip::address>> Address(std::string_view, bool) override {
    ++queries;
    return Answer<ip::address>{.records = {}, .nxdomain = true};
  }
  Result<Answer<MxRecord>> Mx(std::string_view) override {
    ++queries;
    return Answer<MxRecord>{.records = {}, .nxdomain = true};
  }
  Result<Answer<std::string>> Ptr(const ip::address&) override {
    ++queries;
    ++ptr_queries;
    return Answer<std::string>{.records = {}, .nxdomain = true};
  }
  int queries = 0;
  int ptr_queries = 0;

 private:
  std::string spf_;
};

// Found by fuzz/fuzz_dns_doctor: every %{p} looked the PTR (and up to 10 addresses) up again and
// did not count toward the void-lookup limit, so one record could ask for thousands of queries.
TEST(SpfLimitsTest, PtrNamesAreLookedUpOncePerEvaluation) {
  std::string repeated = "v=spf1 exists:";
  for (int i = 0; i < 50; ++i) repeated += "%{p}";
  repeated += ".kiln.test ptr ptr:%{p}.kiln.test -all";
  CountingFakeResolver resolver(repeated);
  SpfQuery q;
  q.ip = ip::make_address("192.0.2.7");
  q.domain = "fake.kiln.test";
  q.sender = "ann@fake.kiln.test";
  auto e = CheckHost(resolver, q);
  EXPECT_EQ(resolver.ptr_queries, 1);
  EXPECT_LE(resolver.queries, 4);
  // The PTR answer and the exists: target are both void; the ptr mechanism's is the same one.
  EXPECT_EQ(e.void_lookups, 2);
  EXPECT_EQ(e.result, SpfResult::kFail) << e.reason;
}

TEST(SpfLimitsTest, VoidPtrLookupPastTheLimitIsPermerror) {
  CountingFakeResolver resolver("v=spf1 a:x1.kiln.test a:x2.kiln.test exists:%{p}.kiln.test -all");
  SpfQuery q;
  q.ip = ip::make_address("192.0.2.7");
  q.domain = "fake.kiln.test";
  auto e = CheckHost(resolver, q);
  EXPECT_EQ(e.result, SpfResult::kPermError) << e.reason;
  EXPECT_EQ(e.void_lookups, 3);
  EXPECT_NE(e.reason.find("lookups answered nothing"), std::string::npos) << e.reason;
}

}  // namespace
}  // namespace kiln::dns
