// Test helpers for the DNS tests: where scripts/dns answers, and a resolver asking it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "kiln/dns/resolver.h"

namespace kiln::dns::testing {

// $KILN_TEST_DNS, else scripts/dns's default address.
inline std::string TestDnsServer() {
  const char* env = std::getenv("KILN_TEST_DNS");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:55353";
}

// A resolver for the test zone; fails the test with what to run when the server is not there.
inline std::unique_ptr<Resolver> TestResolver() {
  auto r = MakeResolver({.servers = TestDnsServer(), .timeout = std::chrono::milliseconds(1000)});
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return nullptr;
  }
  auto soa = (*r)->Address("ns.kiln.test", false);
  if (!soa.ok() || soa->empty()) {
    ADD_FAILURE() << "no test DNS server at " << TestDnsServer()
                  << ": run `scripts/dns start` (or set KILN_TEST_DNS)";
    return nullptr;
  }
  return std::move(r).value();
}

}  // namespace kiln::dns::testing
