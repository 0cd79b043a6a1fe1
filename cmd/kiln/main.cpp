// kiln: the one binary. Parses the role, resolves settings, and wires the object graph — the only
// place that names concrete classes.
//
// What each role exposes to the outside world:
//   serve    an HTTP server on `listen` (default 127.0.0.1:8080): the JSON API (/api/v1, every
//            route behind authentication except login/refresh/logout and openapi.json), the web UI
//            files from `web_root`, /healthz, /readyz and /metrics (unauthenticated, no user data).
//            It reads and writes the database and the secret key file; it opens no other sockets.
//            Unless --no-workers (workers=false), it also runs the sending engine (as `worker`).
//   worker   the sending engine only: sends due campaign mail through each sender's SMTP server
//            (the only role that opens SMTP connections); no listening sockets. Several workers
//            may share one PostgreSQL (docs/decisions/0004-exactly-once.md). It also runs the
//            warm-up bots (warmup/bot_runner.h): IMAP to bots' and warmed senders' mailboxes,
//            SMTP from the bots.
//            It POSTs signed webhook events to the URLs workspaces subscribed
//            (webhooks/dispatcher.h; loopback and private addresses refused unless
//            webhook_allow_private_targets).
//   migrate  brings the database schema up to date and exits.
//   user     creates accounts from the command line (the first owner); reads a password on stdin.
//   settings prints every setting (the same table as --help).
//   doctor   `doctor sender ID` checks a sender's SPF, DKIM, DMARC and MX in DNS (queries to
//            `dns_resolver` only) and exits 1 when something FAILs.
//   simulate runs a campaign in virtual time in a temporary database against recording fake
//            transports and checks every sending rule; no sockets, nothing leaves the process.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "kiln/analytics/rollup.h"
#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/password.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/config.h"
#include "kiln/dns/dkim_keys.h"
#include "kiln/dns/doctor.h"
#include "kiln/dns/sender_route.h"
#include "kiln/domain/email_address.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/inbox_watcher.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/simulation.h"
#include "kiln/engine/worker.h"
#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/server.h"
#include "kiln/http/static_files.h"
#include "kiln/leads/import_jobs.h"
#include "kiln/mail/dkim.h"
#include "kiln/store/db.h"
#include "kiln/warmup/bot_runner.h"
#include "kiln/warmup/reputation.h"
#include "kiln/warmup/source.h"
#include "kiln/webhooks/dispatcher.h"

extern char** environ;

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Start-up failures: one clear line on stderr and a non-zero exit (Postfix msg_fatal style).
[[noreturn]] void Fatal(const std::string& line, int code = 1) {
  std::fprintf(stderr, "kiln: %s\n", line.c_str());
  std::exit(code);
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos && kv.substr(0, 5) == "KILN_") {
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return env;
}

Config ResolveConfig(const std::map<std::string, std::string>& flags) {
  auto env = Environment();
  std::string file_name;
  if (auto it = flags.find("config"); it != flags.end()) {
    file_name = it->second;
  } else if (auto e = env.find("KILN_CONFIG"); e != env.end()) {
    file_name = e->second;
  }
  std::string text;
  if (!file_name.empty()) {
    std::ifstream in(file_name, std::ios::binary);
    if (!in) Fatal("cannot read config file " + file_name + ": " + std::strerror(errno), 2);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto config =
      Config::Resolve(AllSettings(), flags, env, text, file_name.empty() ? "config" : file_name);
  if (!config.ok()) Fatal(config.status().message(), 2);
  return std::move(config).value();
}

void SetupLogging(const Config& config) {
  auto logger = spdlog::stderr_color_mt("kiln");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  auto level = spdlog::level::from_str(config.GetString("log_level"));
  if (level == spdlog::level::off && config.GetString("log_level") != "off") {
    Fatal("log_level: '" + config.GetString("log_level") +
              "' is not one of trace, debug, info, warn, error",
          2);
  }
  spdlog::set_level(level);
}

std::string DataDir(const Config& c) { return c.GetString("data_dir"); }

std::string DatabaseUrl(const Config& c) {
  const std::string& db = c.GetString("db");
  return db.empty() ? (fs::path(DataDir(c)) / "kiln.db").string() : db;
}

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

// The data folder must exist and be writable: the SQLite file, its WAL and the key live there.
void EnsureDataDir(const Config& c) {
  fs::path dir = DataDir(c);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Fatal("cannot create data folder " + dir.string() + ": " + ec.message());
  fs::path probe = dir / ".write-test";
  {
    std::ofstream out(probe);
    if (!out) Fatal("data folder " + dir.string() + " is not writable: " + std::strerror(errno));
  }
  fs::remove(probe, ec);
}

auth::SecretBox LoadSecrets(const Config& c) {
  std::string path = c.GetString("secret_key_file");
  if (path.empty()) path = (fs::path(DataDir(c)) / "secret.key").string();
  auto box = auth::SecretBox::LoadOrCreateKeyFile(path);
  if (!box.ok()) Fatal(box.status().message());
  return std::move(box).value();
}

std::unique_ptr<store::Database> OpenDb(const Config& c) {
  std::string url = DatabaseUrl(c);
  if (!IsPostgresUrl(url)) EnsureDataDir(c);
  auto db = store::OpenDatabase(url, static_cast<int>(c.GetInt("db_pool_size")), /*migrate=*/true);
  if (!db.ok()) Fatal(db.status().message());
  return std::move(db).value();
}

// Redacts the password of a postgres:// URL for printing.
std::string Redact(std::string url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "****");
  return url;
}

// The sending engine on its own thread: one Scheduler ticking every second.
class Engine {
 public:
  Engine(const Config& config, store::Database& db, const Clock& clock,
         const auth::SecretBox& secrets) {
    auto key = api::LoadOrCreateTrackingKey(db, secrets, clock);
    if (!key.ok()) Fatal("engine: " + key.status().message());
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    engine::SchedulerOptions o;
    o.worker_id = std::string(host) + ":" + std::to_string(getpid()) + ":" +
                  std::to_string(clock.NowMillis());
    o.public_url = config.GetString("public_url");
    o.tracking_key = std::move(key).value();
    o.seed = static_cast<uint64_t>(clock.NowMillis()) ^ static_cast<uint64_t>(getpid());
    o.lease = Millis(config.GetInt("engine_lease_ms"));
    o.refresh = Millis(config.GetInt("engine_refresh_ms"));
    o.pacing = {.min_gap_ms = config.GetInt("engine_min_gap_ms"),
                .jitter_percent = static_cast<int>(config.GetInt("engine_jitter_percent"))};
    o.domain_hourly_cap = static_cast<int>(config.GetInt("engine_domain_hourly_cap"));
    o.max_concurrent_sends = static_cast<int>(config.GetInt("engine_max_concurrent_sends"));
    o.rotation.min_health_score = static_cast<int>(config.GetInt("engine_min_health_score"));
    o.failure_pause.max_consecutive_failures =
        static_cast<int>(config.GetInt("engine_max_consecutive_failures"));
    o.bounce = {.min_sends = static_cast<int>(config.GetInt("engine_hard_bounce_min_sends")),
                .max_hard_bounce_basis_points =
                    static_cast<int>(config.GetInt("engine_hard_bounce_max_bp"))};
    o.bounce_window_sends = static_cast<int>(config.GetInt("engine_hard_bounce_window"));
    warmup_source_ = std::make_unique<warmup::DbWarmupSource>(
        db, zones_, warmup::WarmupSourceOptions{.seed = o.seed});
    o.warmup = warmup_source_.get();
    // DKIM: every sender is signed with its domain's key (dkim_keys, loaded at start; a new key
    // takes effect when the worker restarts). A key that cannot be used is named and left out.
    auto ring = dns::LoadDkimSigners(db, secrets);
    if (!ring.ok()) Fatal("engine: cannot load DKIM keys: " + ring.status().message());
    dkim_ = std::move(ring).value();
    for (const auto& problem : dkim_.problems()) spdlog::warn("engine: DKIM: {}", problem);
    o.dkim_by_domain = dkim_.ByDomain();
    engine::SmtpDefaults smtp;
    smtp.helo_name = host[0] != '\0' ? host : "localhost";
    smtp.route = [&db](int64_t sender_id, mail::SmtpConfig* c) {
      return dns::ApplySenderRoute(db, sender_id, c);
    };
    scheduler_ = std::make_unique<engine::Scheduler>(
        db, clock, zones_, engine::SmtpTransportFactory(secrets, smtp), std::move(o));
    spdlog::info("engine: worker {} started", scheduler_->ledger().worker_id());
    thread_ = std::thread([this, tick = Millis(config.GetInt("engine_tick_ms"))] {
      engine::RunWorker(*scheduler_, tick, stop_);
    });
    // The receiving side of warm-up (bots' IMAP actions and replies) on its own thread: its
    // mailbox leases come due every warmup_scan_seconds; ticking every 10 s picks them up.
    warmup::BotRunnerOptions w;
    w.worker_id = scheduler_->ledger().worker_id();
    w.scan_interval = Millis(config.GetInt("warmup_scan_seconds") * 1000);
    w.missing_after = Millis(config.GetInt("warmup_missing_hours") * 3'600'000);
    w.hide_from_owner = config.GetBool("warmup_hide_from_owner");
    w.helo_name = smtp.helo_name;
    bot_runner_ =
        std::make_unique<warmup::BotRunner>(db, clock, io_clock_, secrets, zones_, std::move(w));
    bot_thread_ = std::thread([this] {
      warmup::RunBotRunner(*bot_runner_, Millis(10'000),
                           [this](Millis d) { return stop_.WaitFor(d); });
    });
    // Replies, bounces and complaints (engine/inbox_watcher.h) on their own thread: each sender's
    // mailbox comes due every inbox_poll_seconds; ticking every 5 s picks them up.
    engine::InboxWatcherOptions iw;
    iw.worker_id = scheduler_->ledger().worker_id();
    iw.poll_interval = Millis(config.GetInt("inbox_poll_seconds") * 1000);
    inbox_watcher_ = std::make_unique<engine::InboxWatcher>(
        db, clock, engine::ImapInboxFactory(secrets, inbox_io_clock_), std::move(iw));
    inbox_thread_ =
        std::thread([this] { engine::RunInboxWatcher(*inbox_watcher_, Millis(5000), stop_); });
    // Reputation (warmup/reputation.h): yesterday's and today's history rows and every sender's
    // and bot's health score, which the scheduler compares with engine_min_health_score.
    reputation_ = std::make_unique<warmup::ReputationJob>(db, clock, zones_);
    reputation_thread_ = std::thread([this] {
      warmup::RunReputationJob(*reputation_, Millis(15 * 60'000), Millis(60'000),
                               [this](Millis d) { return stop_.WaitFor(d); });
    });
    // Outgoing webhooks (webhooks/dispatcher.h): new events fanned out to subscriptions and due
    // deliveries sent every webhook_tick_ms; deliveries are leased, so workers share them.
    webhooks::DispatcherOptions wh;
    wh.worker_id = scheduler_->ledger().worker_id();
    wh.allow_private_targets = config.GetBool("webhook_allow_private_targets");
    wh.timeout = Millis(config.GetInt("webhook_timeout_ms"));
    wh.backoff_permille = config.GetInt("webhook_backoff_permille");
    wh.settle = Millis(config.GetInt("webhook_settle_ms"));
    wh.disable_after = std::chrono::hours(config.GetInt("webhook_disable_after_hours"));
    wh.max_concurrent = static_cast<int>(config.GetInt("webhook_max_concurrent"));
    wh.seed = static_cast<uint64_t>(clock.NowMillis()) ^ (static_cast<uint64_t>(getpid()) << 20);
    webhooks_ = std::make_unique<webhooks::Dispatcher>(db, clock, secrets, std::move(wh));
    webhook_thread_ = std::thread([this, tick = Millis(config.GetInt("webhook_tick_ms"))] {
      webhooks::RunDispatcher(*webhooks_, tick, [this](Millis d) { return stop_.WaitFor(d); });
    });
    // Analytics roll-ups (analytics/rollup.h): new events into analytics_daily every 30 s; one
    // worker at a time holds the roll-up lease. The API answers exactly without them (roll-ups
    // plus the live tail); they keep the tail short.
    rollup_ = std::make_unique<analytics::RollupJob>(
        db, clock, analytics::RollupOptions{.worker_id = scheduler_->ledger().worker_id()});
    rollup_thread_ = std::thread([this] {
      analytics::RunRollupJob(*rollup_, Millis(30'000),
                              [this](Millis d) { return stop_.WaitFor(d); });
    });
  }
  // The id this process's leases and claims carry: "HOST:PID:START_MS".
  const std::string& worker_id() { return scheduler_->ledger().worker_id(); }

  // Stops every thread: ticks in progress finish (a send under way is completed and recorded,
  // never left claimed), then the sender leases are given back so other workers take them at once.
  ~Engine() {
    stop_.Stop();
    if (thread_.joinable()) thread_.join();
    if (inbox_thread_.joinable()) inbox_thread_.join();
    if (bot_thread_.joinable()) bot_thread_.join();
    if (reputation_thread_.joinable()) reputation_thread_.join();
    if (webhook_thread_.joinable()) webhook_thread_.join();
    if (rollup_thread_.joinable()) rollup_thread_.join();
    spdlog::info("engine: stopped");
  }

 private:
  domain::TimeZoneDatabase zones_;
  std::unique_ptr<warmup::DbWarmupSource> warmup_source_;  // used by scheduler_ only
  dns::DkimKeyring dkim_;  // signers used by scheduler_ (declared first: outlives it)
  std::unique_ptr<engine::Scheduler> scheduler_;
  SystemClock io_clock_;  // IMAP I/O timeouts: real time even when `clock` is not
  std::unique_ptr<warmup::BotRunner> bot_runner_;
  engine::WorkerStop stop_;
  std::thread thread_;
  std::thread bot_thread_;
  std::unique_ptr<warmup::ReputationJob> reputation_;
  std::thread reputation_thread_;
  std::unique_ptr<analytics::RollupJob> rollup_;
  std::thread rollup_thread_;
  SystemClock inbox_io_clock_;  // IMAP I/O timeouts of the inbox watcher: always real time
  std::unique_ptr<engine::InboxWatcher> inbox_watcher_;
  std::thread inbox_thread_;
  std::unique_ptr<webhooks::Dispatcher> webhooks_;
  std::thread webhook_thread_;
};

// `kiln worker`: the engine until SIGINT or SIGTERM. The first signal stops it cleanly (sends
// under way finish and are recorded, the sender leases are released, exit 0); a second signal while
// it stops exits at once (status 1), which is as safe as a crash: claims left behind lapse and are
// marked unknown, never sent twice.
int Worker(const Config& config) {
  SetupLogging(config);
  EnsureDataDir(config);
  auth::SecretBox secrets = LoadSecrets(config);
  auto db = OpenDb(config);
  SystemClock clock;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by the engine's threads
  {
    Engine engine(config, *db, clock, secrets);
    // The worker id goes on the ready line: leases and claims name it, so operators (and tests)
    // can tell which process holds what.
    std::printf("Kiln worker %s is running (database %s)\n", engine.worker_id().c_str(),
                Redact(DatabaseUrl(config)).c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("engine: signal {}, stopping (a second signal exits at once)", sig);
    std::thread([signals] {
      int again = 0;
      sigwait(&signals, &again);
      spdlog::warn("engine: signal {} while stopping, exiting now", again);
      std::_Exit(1);
    }).detach();
  }
  return 0;
}

int Serve(const Config& config) {
  SetupLogging(config);
  EnsureDataDir(config);
  auth::SecretBox secrets = LoadSecrets(config);
  auto db = OpenDb(config);
  SystemClock clock;

  // Lead CSV imports run in this process, on the files uploaded to it; those a stop interrupted
  // resume where their last committed batch ended.
  domain::TimeZoneDatabase import_zones;
  // The MX check of imports (check_mx) asks the dns_resolver setting's servers.
  leads::ImportJobs imports(*db, clock, import_zones, DataDir(config) + "/imports", 2,
                            config.GetString("dns_resolver"));
  if (auto resumed = imports.ResumeInterrupted(); !resumed.ok()) {
    spdlog::warn("imports: cannot resume interrupted imports: {}", resumed.status().ToString());
  } else if (*resumed > 0) {
    spdlog::info("imports: resuming {} interrupted import(s)", *resumed);
  }

  http::Router router;
  http::Metrics metrics;
  api::Api api({db.get(), &clock, &config, &secrets, &imports}, &router);
  if (!api.init_status().ok()) Fatal(api.init_status().message());
  api.RegisterAll();
  store::Database* dbp = db.get();
  http::AddOperationalRoutes(router, metrics, [dbp]() -> Status {
    return dbp->Read([](store::Tx& tx) { return tx.Query("users.count").status(); });
  });
  router.SetFallback(http::MakeStaticFileHandler({.web_root = config.GetString("web_root")}));

  std::string listen = config.GetString("listen");
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) Fatal("listen: '" + listen + "' is not HOST:PORT", 2);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception&) {
    Fatal("listen: '" + listen + "' has no valid port (0-65535)", 2);
  }
  int threads = static_cast<int>(config.GetInt("http_threads"));
  if (threads == 0) threads = std::max(2u, std::thread::hardware_concurrency());

  http::ServerOptions opts;
  opts.host = host;
  opts.port = static_cast<uint16_t>(port);
  opts.threads = threads;
  opts.read_timeout = Millis(config.GetInt("http_read_timeout_ms"));
  opts.idle_timeout = Millis(config.GetInt("http_idle_timeout_ms"));
  opts.body_limit = static_cast<size_t>(config.GetInt("http_body_limit"));
  opts.body_limit_for = [limit = opts.body_limit](std::string_view target) {
    return api::Api::BodyLimitFor(target, limit);
  };
  opts.stream_body_for = &api::Api::StreamsBody;
  opts.upload_dir = imports.dir();
  opts.header_limit = static_cast<size_t>(config.GetInt("http_header_limit"));
  opts.access_log = config.GetBool("access_log");
  opts.handle_signals = true;
  opts.shutdown_grace = Millis(config.GetInt("shutdown_grace_ms"));
  opts.blocking_threads = static_cast<int>(config.GetInt("http_blocking_threads"));
  opts.blocking_queue = static_cast<size_t>(config.GetInt("http_blocking_queue"));
  http::Server server(opts, router, metrics, clock);
  if (Status st = server.Listen(); !st.ok()) Fatal(st.message());

  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string url = "http://" + shown_host + ":" + std::to_string(server.port()) + "/";
  std::printf("Kiln is running: %s\n", url.c_str());
  if (config.GetString("public_url").empty()) {
    std::printf(
        "  public_url is not set: campaigns will not send until it is (unsubscribe links need "
        "it)\n");
  } else {
    std::printf("  public URL: %s\n", config.GetString("public_url").c_str());
  }
  std::printf("  database: %s\n", Redact(DatabaseUrl(config)).c_str());
  int64_t users = 0;
  Status counted = db->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("users.count", {}));
    users = row.Int("n");
    return Status::Ok();
  });
  if (counted.ok() && users == 0) {
    std::printf(
        "  No accounts yet. Create the first owner (the password is read from stdin, or generated "
        "and shown once):\n");
    std::printf(
        "    kiln user create --email you@example.com --owner%s\n",
        config.SourceOf("data_dir") == "default" ? "" : (" --data-dir " + DataDir(config)).c_str());
  }
  std::fflush(stdout);
  std::unique_ptr<Engine> engine;
  if (config.GetBool("workers")) engine = std::make_unique<Engine>(config, *db, clock, secrets);
  server.Run();
  engine.reset();
  spdlog::info("stopped");
  return 0;
}

// `kiln doctor sender ID`: the sender's DNS as receivers see it (dns/doctor.h).
int DoctorSender(const Config& config, int64_t sender_id) {
  auto db = OpenDb(config);
  SystemClock clock;
  return dns::RunSenderDoctor(*db, config.GetString("dns_resolver"), sender_id, clock.Now(), stdout,
                              stderr);
}

int Migrate(const Config& config) {
  SetupLogging(config);
  auto db = OpenDb(config);
  auto applied = db->AppliedMigrations();
  if (!applied.ok()) Fatal(applied.status().message());
  std::printf("database %s is at migration %d\n", Redact(DatabaseUrl(config)).c_str(),
              applied->empty() ? 0 : applied->back());
  return 0;
}

std::string ReadPasswordFromStdin() {
  if (isatty(STDIN_FILENO)) return {};
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

// `kiln simulate`: prints the report; exit 1 when a rule was broken, 2 when it could not run.
int Simulate(const engine::SimulationSpec& spec, bool as_json) {
  domain::TimeZoneDatabase zones;
  auto report = engine::RunSimulation(spec, zones);
  if (!report.ok()) Fatal("simulate: " + report.status().message(), 2);
  std::fputs(as_json ? (report->ToJson() + "\n").c_str() : report->ToText().c_str(), stdout);
  return report->ok() ? 0 : 1;
}

int CreateUser(const Config& config, const std::string& email_in, const std::string& name_in,
               bool owner, const std::string& workspace_name) {
  SetupLogging(config);
  auto email = domain::NormalizeEmailAddress(email_in);
  if (!email.ok()) Fatal("--email: " + email.status().message(), 2);
  std::string password = ReadPasswordFromStdin();
  bool generated = password.empty();
  if (generated) {
    password = auth::GeneratePassword();
  } else if (Status st = auth::CheckPasswordPolicy(password); !st.ok()) {
    Fatal("password: " + st.message(), 2);
  }
  auto hash = auth::HashPassword(password);
  if (!hash.ok()) Fatal(hash.status().message());
  auto db = OpenDb(config);
  SystemClock clock;
  int64_t now = clock.NowMillis();
  std::string name = name_in.empty() ? email->substr(0, email->find('@')) : name_in;
  std::string ws_name = workspace_name.empty() ? name + "'s workspace" : workspace_name;
  int64_t uid = 0, ws = 0;
  Status st = db->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto u, tx.QueryRow("users.insert", {*email, name, *hash, now}));
    uid = u.Int("id");
    if (owner) {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {ws_name, now}));
      ws = w.Int("id");
      KILN_RETURN_IF_ERROR(tx.Exec("members.insert", {ws, uid, "owner", now}).status());
    }
    return tx
        .Exec("audit.insert", {api::NullIfZero(ws), uid, std::nullopt, "user.created_cli", "user",
                               std::to_string(uid), "", R"({"via":"kiln user create"})", now})
        .status();
  });
  if (!st.ok()) {
    if (st.code() == Status::Code::kAlreadyExists)
      Fatal("an account with email " + *email + " already exists");
    Fatal(st.message());
  }
  std::printf("created user %s (id %lld)\n", email->c_str(), static_cast<long long>(uid));
  if (owner)
    std::printf("owner of workspace \"%s\" (id %lld)\n", ws_name.c_str(),
                static_cast<long long>(ws));
  if (generated) std::printf("password (shown once): %s\n", password.c_str());
  return 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  using namespace kiln;
  CLI::App app{
      "Kiln: self-hosted cold email with warm-up.\n\nSettings come from flags > KILN_* environment "
      "> config file > defaults."};
  app.set_help_all_flag("--help-all", "help for every command");
  app.require_subcommand(1);

  // Every setting is a flag of every command (one table: base/settings.cpp).
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> setting_opts;
  auto* settings_group = "Settings (also KILN_<NAME> or in the config file)";
  for (const auto& def : AllSettings()) {
    std::string flag = FlagNameOf(def.name);
    std::string desc = std::string(def.doc) + " [" + EnvNameOf(def.name) + ", default: " +
                       (def.default_value.empty() ? "\"\"" : std::string(def.default_value)) + "]";
    setting_opts[std::string(def.name)] =
        app.add_option(flag, flag_values[std::string(def.name)], desc)->group(settings_group);
  }

  auto* serve =
      app.add_subcommand("serve", "run the web dashboard, the API and (by default) the workers");
  bool no_workers = false;
  serve->add_flag("--no-workers", no_workers, "web and API only; run `kiln worker` elsewhere");
  serve->fallthrough();

  auto* worker = app.add_subcommand("worker", "run the sending engine only (no web or API)");
  worker->fallthrough();

  auto* migrate = app.add_subcommand("migrate", "apply database migrations and exit");
  migrate->fallthrough();

  auto* user = app.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  auto* user_create = user->add_subcommand(
      "create", "create an account; the password is read from stdin, or generated and shown once");
  std::string email, name, workspace;
  bool owner = false;
  user_create->add_option("--email", email, "email address of the account")->required();
  user_create->add_option("--name", name, "display name");
  user_create->add_flag("--owner", owner, "also create a workspace owned by this account");
  user_create->add_option("--workspace", workspace, "name of that workspace");
  user_create->fallthrough();
  user->fallthrough();

  auto* dkim = app.add_subcommand("dkim", "DKIM keys");
  dkim->require_subcommand(1);
  auto* keygen = dkim->add_subcommand(
      "keygen", "generate a DKIM key pair and print the DNS record to publish");
  std::string dkim_domain, dkim_selector, dkim_type = "rsa";
  keygen->add_option("--domain", dkim_domain, "the sending domain")->required();
  keygen->add_option("--selector", dkim_selector, "the DKIM selector")->required();
  keygen->add_option("--type", dkim_type, "rsa (2048) or ed25519")
      ->check(CLI::IsMember({"rsa", "ed25519"}));

  auto* doctor = app.add_subcommand("doctor", "check what receivers see in DNS");
  doctor->require_subcommand(1);
  auto* doctor_sender = doctor->add_subcommand(
      "sender", "a sender's SPF, DKIM, DMARC and MX: one OK/WARN/FAIL line each; exit 1 on FAIL");
  int64_t doctor_sender_id = 0;
  doctor_sender->add_option("ID", doctor_sender_id, "the sender's id")->required();
  doctor->fallthrough();  // settings may follow the subcommand
  doctor_sender->fallthrough();

  auto* settings = app.add_subcommand(
      "settings", "print every setting with its flag, environment variable and default");
  bool markdown = false;
  settings->add_flag("--markdown", markdown, "as a Markdown table (docs/operations.md)");

  auto* simulate = app.add_subcommand(
      "simulate",
      "run a campaign in virtual time against recording fake transports and check every sending "
      "rule (exit status 1 on a violation)");
  engine::SimulationSpec sim;
  bool sim_json = false;
  simulate->add_option("--senders", sim.senders, "senders in the campaign's pool")
      ->capture_default_str();
  simulate->add_option("--leads", sim.leads, "leads in the audience")->capture_default_str();
  simulate->add_option("--days", sim.days, "virtual days to run")->capture_default_str();
  simulate->add_option("--seed", sim.seed, "seed of every random choice")->capture_default_str();
  simulate
      ->add_option("--daily-limit", sim.campaign_daily_limit,
                   "the campaign's daily limit (0: sender quotas only)")
      ->capture_default_str();
  simulate
      ->add_option("--bounce-percent", sim.permanent_refusal_percent,
                   "share of leads refused permanently (hard bounces)")
      ->capture_default_str();
  simulate
      ->add_option("--transient-percent", sim.transient_refusal_percent,
                   "share of leads refused transiently twice before accepting")
      ->capture_default_str();
  simulate
      ->add_option("--warmup-mix", sim.warmup_mix_percent,
                   "the campaign's share of a warmed sender's day sent to warm-up inboxes (%)")
      ->capture_default_str();
  simulate->add_option("--bots", sim.bots, "warm-up inboxes")->capture_default_str();
  simulate
      ->add_option("--domain-cap", sim.domain_hourly_cap,
                   "cold sends per sender per recipient domain per hour (0: no cap)")
      ->capture_default_str();
  simulate->add_flag("--json", sim_json, "print the report as one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::map<std::string, std::string> flags;
  for (const auto& [name_, opt] : setting_opts) {
    if (opt->count() > 0) flags[name_] = flag_values[name_];
  }
  if (*serve && no_workers) flags["workers"] = "false";
  Config config = ResolveConfig(flags);

  if (*serve) return Serve(config);
  if (*worker) return Worker(config);
  if (*migrate) return Migrate(config);
  if (*user_create) return CreateUser(config, email, name, owner, workspace);
  if (*keygen) {
    auto type = dkim_type == "ed25519" ? mail::DkimKeyType::kEd25519 : mail::DkimKeyType::kRsa2048;
    auto pair = mail::GenerateDkimKey(type);
    if (!pair.ok()) Fatal(pair.status().message());
    std::fputs(mail::DkimKeygenReport(dkim_domain, dkim_selector, type, *pair).c_str(), stdout);
    return 0;
  }
  if (*doctor_sender) return DoctorSender(config, doctor_sender_id);
  if (*simulate) return Simulate(sim, sim_json);
  if (*settings) {
    if (markdown) {
      std::fputs(SettingsMarkdown(AllSettings()).c_str(), stdout);
    } else {
      for (const auto& d : AllSettings()) {
        std::printf("%-28s %-28s %-20s %s\n", FlagNameOf(d.name).c_str(), EnvNameOf(d.name).c_str(),
                    std::string(d.default_value).c_str(), std::string(d.doc).c_str());
      }
    }
    return 0;
  }
  return 0;
}
