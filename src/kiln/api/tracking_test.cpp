#include "kiln/api/tracking.h"

#include <gtest/gtest.h>

namespace kiln::api {
namespace {

TEST(MachineHits, ProxiesScannersAndScriptsAreMachines) {
  for (const char* ua : {
           "",
           "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
           "GoogleImageProxy)",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko)",
           "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
           "Barracuda Sentinel (EE)",
           "Mozilla/5.0 (compatible; Mimecast URL Protect)",
           "python-requests/2.31.0",
           "curl/8.4.0",
           "Go-http-client/1.1",
           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "HeadlessChrome/120.0",
       }) {
    EXPECT_TRUE(IsMachineUserAgent(ua)) << ua;
  }
}

TEST(MachineHits, PeopleAreNot) {
  for (const char* ua : {
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
           "like "
           "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
           "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
       }) {
    EXPECT_FALSE(IsMachineUserAgent(ua)) << ua;
  }
}

TEST(MachineHits, TooSoonAfterTheSendIsAScanner) {
  const char* human = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
  EXPECT_TRUE(IsMachineHit(human, 1'000'000, 1'000'000));
  EXPECT_TRUE(IsMachineHit(human, 1'000'000, 1'000'000 + kScannerWindowMs - 1));
  EXPECT_FALSE(IsMachineHit(human, 1'000'000, 1'000'000 + kScannerWindowMs));
  EXPECT_FALSE(IsMachineHit(human, std::nullopt, 1'000'000));
  EXPECT_FALSE(IsMachineHit(human, 2'000'000, 1'000'000));  // clock skew between nodes
  EXPECT_TRUE(IsMachineHit("curl/8.4.0", 0, 1'000'000'000));
}

}  // namespace
}  // namespace kiln::api
