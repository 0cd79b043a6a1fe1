// bench_track_setup DATA_DIR: for bench/track/run. Opens the SQLite database of a kiln data folder
// (migrated by a `kiln serve` that ran on it), writes one workspace with a sent message of a
// campaign, and prints two lines: the path of that message's open pixel ("/o/<token>.gif") and of
// its click redirect ("/c/<token>"), signed with the instance's tracking key (created if kiln has
// not made it yet). Exits 1 with one line on stderr when anything fails.
#include <cstdio>
#include <string>

#include "bench/common/bench_util.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/store/db.h"

namespace {

constexpr char kQueries[] = R"(-- bench/track: one sent message.
-- name: bench.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('bench', $1, $1) RETURNING id;
-- name: bench.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at)
VALUES ($1, 'lead@bench.test', $2, $2) RETURNING id;
-- name: bench.campaign
INSERT INTO campaigns (workspace_id, name, status, created_at, updated_at)
VALUES ($1, 'bench', 'running', $2, $2) RETURNING id;
-- name: bench.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, 0, $3, $3) RETURNING id;
-- name: bench.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, status, scheduled_at,
                      sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'sent', $5, $5, $5, $5) RETURNING id;
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln;
  using bench::Die;
  using bench::Must;
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_track_setup DATA_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  SystemClock clock;
  store::OpenOptions opt;
  opt.pool_size = 1;
  opt.migrate = false;
  opt.extra_sql_files = {{"queries/bench_track.sql", kQueries}};
  auto db = Must(store::OpenDatabase(dir + "/kiln.db", opt), "open " + dir + "/kiln.db");
  auto box = Must(auth::SecretBox::LoadOrCreateKeyFile(dir + "/secret.key"), "secret key");
  auto key = Must(api::LoadOrCreateTrackingKey(*db, box, clock), "tracking key");

  int64_t ws = 0, message = 0;
  // Sent an hour ago: hits are not inside the scanner window, so a browser's count as human.
  const int64_t sent_at = clock.NowMillis() - 3'600'000;
  Status st = db->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("bench.workspace", {sent_at}));
    ws = w.Int("id");
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("bench.contact", {ws, sent_at}));
    KILN_ASSIGN_OR_RETURN(auto k, tx.QueryRow("bench.campaign", {ws, sent_at}));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("bench.step", {ws, k.Int("id"), sent_at}));
    KILN_ASSIGN_OR_RETURN(
        auto m, tx.QueryRow("bench.message", {ws, k.Int("id"), c.Int("id"), s.Int("id"), sent_at}));
    message = m.Int("id");
    return Status::Ok();
  });
  if (!st.ok()) Die("write the sent message", st);
  const std::string open = Must(api::OpenPixelUrl("", key, ws, message), "open pixel URL");
  const std::string click = Must(
      api::ClickUrl("", key, ws, message, 0, "https://example.com/pricing?ref=bench"), "click URL");
  std::printf("%s\n%s\n", open.c_str(), click.c_str());
  return 0;
}
