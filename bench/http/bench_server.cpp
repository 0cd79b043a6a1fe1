// bench_http_server: Kiln's HTTP server with only the operational routes (/healthz, /readyz,
// /metrics), no access log, for bench/http/run. Listens on 127.0.0.1, prints "listening <port>"
// once bound, and serves until SIGTERM/SIGINT (graceful shutdown).
//
// Usage: bench_http_server [--port N] [--threads N]
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "kiln/base/clock.h"
#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/server.h"

int main(int argc, char** argv) {
  kiln::http::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.access_log = false;
  options.handle_signals = true;
  options.shutdown_grace = kiln::Millis(2000);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
      int value = std::atoi(argv[++i]);
      if (arg == "--port") options.port = static_cast<uint16_t>(value);
      if (arg == "--threads") options.threads = value > 0 ? value : 1;
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);

  kiln::SystemClock clock;
  kiln::http::Metrics metrics;
  kiln::http::Router router;
  kiln::http::AddOperationalRoutes(router, metrics, nullptr);
  kiln::http::Server server(options, router, metrics, clock);
  kiln::Status status = server.Listen();
  if (!status.ok()) {
    std::fprintf(stderr, "bench_http_server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.Run();
  return 0;
}
