// The table of every Kiln setting. Add a row here and it appears in `kiln --help`, in the
// KILN_* environment, in the config file and in docs/operations.md (`kiln settings --markdown`).
#include "kiln/base/config.h"

namespace kiln {
namespace {

using T = SettingDef::Type;

constexpr SettingDef kSettings[] = {
    {"config", T::kString, "", "path of a config file of 'name = value' lines (default: none)"},
    {"listen", T::kString, "127.0.0.1:8080",
     "HOST:PORT the HTTP server listens on (port 0: any free port)"},
    {"data_dir", T::kString, "./var",
     "folder for the SQLite database, the secret key and other state"},
    {"db", T::kString, "",
     "database: empty for DATA_DIR/kiln.db (SQLite), a file path, or postgres://user@host:port/db"},
    {"db_pool_size", T::kInt, "8", "database connections kept open per process", 1, 256},
    {"secret_key_file", T::kString, "",
     "AES-256 key for secrets at rest (default: DATA_DIR/secret.key, created 0600 on first run)"},
    {"public_url", T::kString, "", "external base URL of this server (default: http://LISTEN)"},
    {"dns_resolver", T::kString, "",
     "DNS servers kiln doctor asks, as IP[:PORT],... (default: the system's, /etc/resolv.conf)"},
    {"web_root", T::kString, "./web/dist", "folder of the built web UI served at /"},
    {"http_threads", T::kInt, "0", "threads serving HTTP (0: one per core)", 0, 256},
    {"http_read_timeout_ms", T::kInt, "30000", "time a client has to send a whole request", 100,
     3600000},
    {"http_idle_timeout_ms", T::kInt, "60000",
     "keep-alive connections idle longer than this are closed", 100, 3600000},
    {"http_body_limit", T::kInt, "1048576", "largest JSON request body in bytes", 1024, 1073741824},
    {"http_header_limit", T::kInt, "16384", "largest request header block in bytes", 1024, 1048576},
    {"http_blocking_threads", T::kInt, "8",
     "threads for slow API requests (mailbox checks, test emails, webhook pings), so they never "
     "hold the threads serving HTTP",
     1, 256},
    {"http_blocking_queue", T::kInt, "64",
     "slow API requests that may wait for a blocking thread; more are answered 503 with "
     "Retry-After",
     0, 100000},
    {"shutdown_grace_ms", T::kInt, "10000", "on SIGTERM, time in-flight requests get to finish", 0,
     600000},
    {"live_connections_per_user", T::kInt, "8",
     "live-progress WebSockets one user or API key may hold open at once", 1, 1000},
    {"live_send_buffer_bytes", T::kInt, "1048576",
     "bytes queued for a live-progress WebSocket before a client that does not keep up is dropped",
     4096, 67108864},
    {"live_idle_timeout_ms", T::kInt, "60000",
     "a live-progress WebSocket that answers nothing (not even a ping) this long is closed", 1000,
     3600000},
    {"access_token_ttl_s", T::kInt, "900", "lifetime of an access token (JWT)", 30, 86400},
    {"refresh_token_ttl_s", T::kInt, "2592000", "lifetime of a refresh token", 300, 31536000},
    {"rate_limit_per_minute", T::kInt, "100", "API requests per minute per user or API key", 1,
     1000000},
    {"login_attempts_per_window", T::kInt, "5",
     "failed logins per account or IP before delays grow", 1, 1000},
    {"login_window_s", T::kInt, "900", "window over which failed logins are counted", 10, 86400},
    {"cookie_secure", T::kBool, "false", "mark session cookies Secure (turn on behind HTTPS)"},
    {"log_level", T::kString, "info", "trace, debug, info, warn, error"},
    {"access_log", T::kBool, "true", "log one line per HTTP request"},
    {"workers", T::kBool, "true",
     "run the sending engine in this process (serve --no-workers turns it off)"},
    {"engine_tick_ms", T::kInt, "1000",
     "the sending engine looks for due warm-up and cold sends this often (at once again after a "
     "tick that sent)",
     10, 60000},
    {"engine_lease_ms", T::kInt, "600000",
     "a worker's claim on a message and its lease on a sender last this long without renewal; a "
     "dead worker's senders move on after it (longer than the slowest SMTP send)",
     1000, 86400000},
    {"engine_refresh_ms", T::kInt, "60000",
     "workers reload their senders' settings, share senders with the other live workers and "
     "check new bounces this often",
     1000, 3600000},
    {"engine_min_gap_ms", T::kInt, "120000", "least time between two sends of one sender", 0,
     86400000},
    {"engine_jitter_percent", T::kInt, "40",
     "how far a sender's gaps randomly stray from even spacing over its day", 0, 100},
    {"engine_domain_hourly_cap", T::kInt, "10",
     "most cold sends per sender to one recipient domain in any hour (0: no cap)", 0, 100000},
    {"engine_max_concurrent_sends", T::kInt, "16",
     "cold SMTP exchanges a worker keeps in flight at once, each for a different sender (1: one "
     "at a time)",
     1, 1024},
    {"engine_min_health_score", T::kInt, "50",
     "senders whose health score is below this send no cold mail (warm-up goes on)", 0, 100},
    {"engine_max_consecutive_failures", T::kInt, "10",
     "a sender is paused after more consecutive failed sends than this", 1, 100000},
    {"engine_hard_bounce_max_bp", T::kInt, "300",
     "hard-bounce rate (basis points: 300 = 3%) above which a sender and its running campaigns "
     "are paused",
     1, 10000},
    {"engine_hard_bounce_min_sends", T::kInt, "50",
     "cold sends a sender must have before its hard-bounce rate can pause it", 1, 1000000},
    {"engine_hard_bounce_window", T::kInt, "500",
     "the hard-bounce rate is measured over a sender's last this many cold sends", 1, 1000000},
    {"inbox_poll_seconds", T::kInt, "120",
     "workers read each sender's mailbox for replies, bounces and complaints this often", 10,
     86400},
    {"warmup_scan_seconds", T::kInt, "300",
     "workers scan each bot's and warmed sender's mailbox for warm-up mail this often", 10, 86400},
    {"warmup_missing_hours", T::kInt, "6",
     "warm-up mail not found in its recipient's mailbox this long after sending is 'missing'", 1,
     720},
    {"warmup_hide_from_owner", T::kBool, "true",
     "move warm-up replies out of the sender's INBOX into the folder \"Kiln Warmup\""},
    {"webhook_allow_private_targets", T::kBool, "false",
     "send webhooks to loopback and private addresses (link-local and cloud metadata addresses "
     "stay refused): trusted internal receivers and tests"},
    {"webhook_timeout_ms", T::kInt, "10000", "a webhook receiver must answer within this", 100,
     120000},
    {"webhook_tick_ms", T::kInt, "1000",
     "workers look for new events and due webhook deliveries this often", 10, 60000},
    {"webhook_backoff_permille", T::kInt, "1000",
     "webhook retry delays are this many thousandths of the schedule 1 min, 5 min, 30 min, 2 h, "
     "6 h, 14 h (lower only for tests)",
     1, 1000},
    {"webhook_settle_ms", T::kInt, "2000",
     "events are sent to webhooks once they are this old (a concurrent transaction may still "
     "commit an earlier event)",
     0, 60000},
    {"webhook_disable_after_hours", T::kInt, "72",
     "a webhook subscription whose deliveries have all failed for this long is disabled", 1, 8760},
    {"webhook_max_concurrent", T::kInt, "8",
     "webhook subscriptions one worker sends to at once (each subscription's deliveries go one at "
     "a time, in order), so a slow receiver holds up only its own",
     1, 64},
    {"provision_adapter", T::kString, "",
     "how POST .../bots/provision creates mailboxes: empty (off) or files (Postfix + Dovecot "
     "user files, below)"},
    {"provision_dovecot_passwd", T::kString, "",
     "files adapter: the Dovecot passwd-file new mailboxes are added to"},
    {"provision_postfix_vmailbox", T::kString, "",
     "files adapter: the Postfix virtual mailbox map (texthash:); only its domains are served"},
    {"provision_postfix_senders", T::kString, "",
     "files adapter: the Postfix sender login map (optional)"},
    {"provision_users_file", T::kString, "",
     "files adapter: a file of 'address password' lines to append to (optional)"},
    {"provision_postfix_config_dir", T::kString, "",
     "files adapter: run `postfix -c DIR reload` after adding a mailbox (optional)"},
};

}  // namespace

std::span<const SettingDef> AllSettings() { return kSettings; }

}  // namespace kiln
