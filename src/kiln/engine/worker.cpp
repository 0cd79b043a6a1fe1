#include "kiln/engine/worker.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <set>
#include <utility>

#include "kiln/mail/smtp_client.h"

namespace kiln::engine {

TransportFactory SmtpTransportFactory(const auth::SecretBox& box, SmtpDefaults defaults) {
  return [&box, defaults = std::move(defaults)](
             const SenderInfo& s,
             boost::asio::any_io_executor executor) -> Result<std::unique_ptr<mail::Transport>> {
    mail::SmtpConfig c;
    c.host = s.smtp_host;
    c.port = static_cast<uint16_t>(s.smtp_port);
    if (s.smtp_security == "tls") {
      c.security = mail::SmtpSecurity::kTls;
    } else if (s.smtp_security == "starttls") {
      c.security = mail::SmtpSecurity::kStartTls;
    } else if (s.smtp_security == "none") {
      c.security = mail::SmtpSecurity::kNone;
    } else {
      return Status::FailedPrecondition("sender " + s.email + " has an unknown smtp_security '" +
                                        s.smtp_security + "'");
    }
    c.username = s.smtp_username;
    if (!s.smtp_secret_sealed.empty()) {
      auto secret =
          box.Open(s.smtp_secret_sealed, "senders:" + std::to_string(s.id) + ":smtp_secret");
      if (!secret.ok()) {
        return Status::FailedPrecondition("cannot unseal the SMTP password of sender " + s.email +
                                          ": " + secret.status().message());
      }
      c.secret = std::move(secret).value();
    }
    c.allow_self_signed = s.allow_self_signed;
    c.helo_name = defaults.helo_name;
    c.timeouts = defaults.timeouts;
    if (defaults.route) {
      Status route = defaults.route(s.id, &c);
      if (!route.ok()) {
        return Status::FailedPrecondition("cannot route sender " + s.email + ": " +
                                          route.ToString());
      }
    }
    return std::unique_ptr<mail::Transport>(
        std::make_unique<mail::SmtpClient>(std::move(executor), std::move(c)));
  };
}

void WorkerStop::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool WorkerStop::WaitFor(Millis d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopped_.load(); });
}

void RunWorker(Scheduler& scheduler, Millis tick, WorkerStop& stop) {
  // Campaign errors are logged when they appear or change, not on every tick they persist.
  std::set<std::string> logged_errors;
  std::string last_failure;
  while (!stop.stopped()) {
    auto stats = scheduler.RunOnce(&stop.flag());
    if (!stats.ok()) {
      const std::string failure = stats.status().ToString();
      if (failure != last_failure) spdlog::error("engine: tick failed: {}", failure);
      last_failure = failure;
    } else {
      if (!last_failure.empty()) spdlog::info("engine: ticks work again");
      last_failure.clear();
      std::set<std::string> now_errors(scheduler.campaign_errors().begin(),
                                       scheduler.campaign_errors().end());
      for (const std::string& e : now_errors) {
        if (!logged_errors.count(e)) spdlog::warn("engine: {}", e);
      }
      logged_errors = std::move(now_errors);
      if (stats->senders_paused > 0) {
        spdlog::warn("engine: {} sender(s) paused or failed this tick (see their status_reason)",
                     stats->senders_paused);
      }
      if (stats->reaped_unknown > 0) {
        spdlog::warn(
            "engine: {} message(s) caught mid-send by a crash are now 'unknown' and will "
            "not be resent",
            stats->reaped_unknown);
      }
      if (stats->cut_short) {
        spdlog::info(
            "engine: stop requested: the tick ended early ({} sent in it, every claim "
            "it made recorded)",
            stats->sent);
        break;
      }
      if (stats->sent > 0) continue;  // more may be due already
    }
    if (stop.WaitFor(tick)) break;
  }
  scheduler.CloseTransports();
  scheduler.ReleaseSenders();
}

}  // namespace kiln::engine
