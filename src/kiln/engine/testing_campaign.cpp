#include "kiln/engine/testing_campaign.h"

namespace kiln::engine {

const std::string_view kTestingCampaignSql = R"sql(
-- name: testing_campaign.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('engine test', $1, $1) RETURNING id;
-- name: testing_campaign.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, created_at, updated_at)
VALUES ($1, 'c', 'running', '{"days":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00"}', 'UTC', $2,
        $2) RETURNING id;
-- name: testing_campaign.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, created_at,
                            updated_at)
VALUES ($1, $2, $3, 0, $4, $4) RETURNING id;
-- name: testing_campaign.variant
INSERT INTO step_variants (workspace_id, step_id, subject, body_text, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5);
-- name: testing_campaign.sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, smtp_username,
                     allow_self_signed, daily_quota, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'starttls', $2, 1, 1000000, 'active', $5, $5) RETURNING id;
-- name: testing_campaign.sender_secret
UPDATE senders SET smtp_secret = $2 WHERE id = $1;
-- name: testing_campaign.pool
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, $4);
-- name: testing_campaign.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)
RETURNING id;
-- name: testing_campaign.enrol
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, next_at, status, created_at,
                               updated_at)
VALUES ($1, $2, $3, $4, 'pending', $4, $4);
-- name: testing_campaign.in_progress
SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = $1 AND status IN ('pending', 'active');
-- name: testing_campaign.by_status
SELECT status, COUNT(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY status;
)sql";

Result<TestingCampaign> SeedTestingCampaign(store::Tx& tx, const testing::Mailstack& stack,
                                            const auth::SecretBox& box,
                                            const TestingCampaignSpec& spec) {
  const int64_t t0 = spec.now_ms;
  TestingCampaign out;
  KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("testing_campaign.workspace", {t0}));
  out.workspace_id = w.Int("id");
  const int64_t ws = out.workspace_id;
  KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("testing_campaign.campaign", {ws, t0}));
  out.campaign_id = c.Int("id");
  for (int i = 0; i < spec.steps; ++i) {
    KILN_ASSIGN_OR_RETURN(auto s,
                          tx.QueryRow("testing_campaign.step", {ws, out.campaign_id, i, t0}));
    KILN_RETURN_IF_ERROR(tx.Exec("testing_campaign.variant",
                                 {ws, s.Int("id"), i == 0 ? spec.token : "", spec.body(i), t0})
                             .status());
  }
  for (const char* email : {"sender1@kiln-a.test", "sender2@kiln-a.test", "sender3@kiln-a.test"}) {
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("testing_campaign.sender",
                                              {ws, email, stack.host, stack.starttls_port, t0}));
    KILN_ASSIGN_OR_RETURN(auto user, stack.User(email));
    KILN_ASSIGN_OR_RETURN(
        std::string sealed,
        box.Seal(user.password, "senders:" + std::to_string(s.Int("id")) + ":smtp_secret"));
    KILN_RETURN_IF_ERROR(
        tx.Exec("testing_campaign.sender_secret", {s.Int("id"), store::Blob{sealed}}).status());
    KILN_RETURN_IF_ERROR(
        tx.Exec("testing_campaign.pool", {out.campaign_id, s.Int("id"), ws, t0}).status());
  }
  for (int i = 0; i < spec.leads; ++i) {
    const std::string email = "bot" + std::to_string(1 + i % 6) + "+" + spec.token + "-" +
                              std::to_string(i) + "@kiln-b.test";
    KILN_ASSIGN_OR_RETURN(auto contact, tx.QueryRow("testing_campaign.contact", {ws, email, t0}));
    KILN_RETURN_IF_ERROR(
        tx.Exec("testing_campaign.enrol", {ws, out.campaign_id, contact.Int("id"), t0}).status());
  }
  return out;
}

}  // namespace kiln::engine
