// Test fixture shared by the engine's process-level tests (engine_crash_test, engine_nodes_test):
// a running campaign on the local mail stack, seeded straight into the database the way a launch
// leaves it — three senders (the stack's sender1..3@kiln-a.test with their real passwords sealed
// as the engine expects), an all-day schedule, `steps` steps and `leads` enrolled leads on the bots
// of kiln-b.test, every address tagged with the run's token so mail of other runs is told apart.
//
// Register kTestingCampaignSql with store::OpenOptions::extra_sql_files before seeding; it also
// names the read-back queries the tests share (testing_campaign.in_progress / by_status). Not
// thread-safe: call from the test's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "kiln/auth/secret_box.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"
#include "kiln/testing/mailstack.h"

namespace kiln::engine {

extern const std::string_view kTestingCampaignSql;  // queries/testing_campaign.sql

struct TestingCampaign {
  int64_t workspace_id = 0;
  int64_t campaign_id = 0;
};

struct TestingCampaignSpec {
  std::string token;  // unique per run: the first step's subject and part of every lead address
  int steps = 1;
  int leads = 0;
  // The text body of step i (a template: {{ email }} names the lead).
  std::function<std::string(int step)> body;
  int64_t now_ms = 0;
};

// Seeds the campaign in `tx`. Lead i is bot<1 + i % 6>+<token>-<i>@kiln-b.test. Fails when the
// database fails or a stack user is unknown.
Result<TestingCampaign> SeedTestingCampaign(store::Tx& tx, const testing::Mailstack& stack,
                                            const auth::SecretBox& box,
                                            const TestingCampaignSpec& spec);

}  // namespace kiln::engine
