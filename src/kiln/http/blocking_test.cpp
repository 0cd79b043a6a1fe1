// Blocking routes (RouteDoc::blocking) over real sockets on 127.0.0.1: their handlers run on the
// server's blocking pool, so a held handler does not stop other requests; a full pool answers
// 503; shutdown with a held handler is clean. Handlers are held by a gate the test opens, never
// by sleeps: every wait is for a condition, with a generous bound.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "kiln/http/blocking_pool.h"
#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/server.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/http_client.h"

namespace kiln::http {
namespace {

using kiln::testing::ClientResponse;
using kiln::testing::HttpClient;
using Steady = std::chrono::steady_clock;

constexpr auto kBound = std::chrono::seconds(30);  // generous: a bound, never an expectation

// Holds every handler that passes through it until Open(); counts the ones that entered.
class Gate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // True once `n` handlers have entered (false after kBound).
  bool WaitEntered(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kBound, [&] { return entered_ >= n; });
  }
  int entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

// Waits until `predicate` holds, checking every few milliseconds; false after kBound.
template <typename Predicate>
bool Eventually(Predicate predicate) {
  const auto deadline = Steady::now() + kBound;
  while (!predicate()) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string ErrorCode(const ClientResponse& r) {
  return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
}

class BlockingRouteTest : public ::testing::Test {
 protected:
  BlockingRouteTest() {
    RouteDoc plain{.summary = "plain", .tag = "test"};
    RouteDoc blocking{.summary = "held", .tag = "test", .blocking = true};
    router_.Add(
        bhttp::verb::get, "/api/v1/held",
        [this](Request&) {
          gate_.Pass();
          return Response::Json(bhttp::status::ok, R"({"held":true})");
        },
        blocking);
    router_.Add(
        bhttp::verb::get, "/api/v1/held-boom",
        [](Request&) -> Response { throw std::runtime_error("kaboom"); }, blocking);
    router_.Add(
        bhttp::verb::get, "/api/v1/plain",
        [](Request&) { return Response::Json(bhttp::status::ok, R"({"plain":true})"); }, plain);
    AddOperationalRoutes(router_, metrics_, nullptr);
  }
  ~BlockingRouteTest() override {
    gate_.Open();  // never leave a handler (and so the server) held when a test fails early
    Stop();
  }

  // One I/O thread: if a held handler occupied it, nothing else could be answered.
  void Start(int blocking_threads, size_t blocking_queue) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    options.blocking_threads = blocking_threads;
    options.blocking_queue = blocking_queue;
    options.access_log = false;
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(Millis(1000));
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  // GET `target` on a fresh connection from another thread.
  std::future<Result<ClientResponse>> GetAsync(std::string target) {
    return std::async(std::launch::async, [port = port_, target] {
      HttpClient client("127.0.0.1", port);
      client.set_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(kBound * 2));
      return client.Get(target);
    });
  }
  double Gauge(std::string_view name) { return metrics_.GetGauge(name, "").value(); }

  Router router_;
  Metrics metrics_;
  testing::FakeClock clock_;
  Gate gate_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(BlockingRouteTest, HeldHandlerDoesNotStopOtherRequests) {
  Start(/*blocking_threads=*/2, /*blocking_queue=*/4);
  auto held = GetAsync("/api/v1/held");
  ASSERT_TRUE(gate_.WaitEntered(1));

  HttpClient client("127.0.0.1", port_);
  for (const char* target : {"/healthz", "/api/v1/plain"}) {
    auto r = client.Get(target);
    ASSERT_TRUE(r.ok()) << target << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200) << target;
  }
  // The held request is still outstanding: the answers above did not wait for it.
  EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  EXPECT_EQ(Gauge("kiln_http_blocking_handlers_running"), 1);

  gate_.Open();
  auto r = held.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"held":true})");
  EXPECT_TRUE(Eventually([&] { return Gauge("kiln_http_blocking_handlers_running") == 0; }));
}

TEST_F(BlockingRouteTest, FullPoolAnswers503WithRetryAfter) {
  Start(/*blocking_threads=*/1, /*blocking_queue=*/1);
  auto first = GetAsync("/api/v1/held");
  ASSERT_TRUE(gate_.WaitEntered(1));
  auto second = GetAsync("/api/v1/held");  // waits for the one thread
  ASSERT_TRUE(Eventually([&] { return Gauge("kiln_http_blocking_handlers_queued") == 1; }));

  HttpClient client("127.0.0.1", port_);
  auto refused = client.Get("/api/v1/held");
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("Retry-After"), "5");
  EXPECT_EQ(ErrorCode(*refused), "unavailable");
  EXPECT_EQ(metrics_.GetCounter("kiln_http_blocking_rejected_total", "").value(), 1);
  // Plain routes are not affected by the full pool.
  auto plain = client.Get("/api/v1/plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(gate_.entered(), 1);

  gate_.Open();
  for (auto* f : {&first, &second}) {
    auto r = f->get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(gate_.entered(), 2);
  EXPECT_EQ(Gauge("kiln_http_blocking_handlers_queued"), 0);
}

TEST_F(BlockingRouteTest, ShutdownAnswersQueuedAndWaitsForTheHeldHandler) {
  Start(/*blocking_threads=*/1, /*blocking_queue=*/2);
  auto held = GetAsync("/api/v1/held");
  ASSERT_TRUE(gate_.WaitEntered(1));
  auto queued = GetAsync("/api/v1/held");
  ASSERT_TRUE(Eventually([&] { return Gauge("kiln_http_blocking_handlers_queued") == 1; }));

  server_->Shutdown(Millis(100));  // the grace runs out while the handler is still held
  auto q = queued.get();
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->status, 503);
  EXPECT_EQ(ErrorCode(*q), "unavailable");
  EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  gate_.Open();
  auto r = held.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"held":true})");
  EXPECT_FALSE(r->keep_alive);  // answered with Connection: close
  thread_.join();               // Run returns once the held request is answered
  EXPECT_EQ(gate_.entered(), 1);
}

TEST_F(BlockingRouteTest, BlockingHandlerExceptionIs500) {
  Start(/*blocking_threads=*/1, /*blocking_queue=*/0);
  HttpClient client("127.0.0.1", port_);
  auto r = client.Get("/api/v1/held-boom");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(ErrorCode(*r), "internal");
  auto again = client.Get("/api/v1/plain");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
}

TEST(BlockingPoolTest, QueueBoundAndStopCancelsWaitingJobs) {
  Gate gate;
  std::atomic<int> ran{0}, cancelled{0};
  auto job = [&] {
    return BlockingPool::Job{.run =
                                 [&] {
                                   gate.Pass();
                                   ++ran;
                                 },
                             .cancel = [&] { ++cancelled; }};
  };
  {
    BlockingPool pool(/*threads=*/1, /*queue_limit=*/2);
    ASSERT_TRUE(pool.Submit(job()));
    ASSERT_TRUE(gate.WaitEntered(1));
    EXPECT_EQ(pool.running(), 1u);
    EXPECT_TRUE(pool.Submit(job()));
    EXPECT_TRUE(pool.Submit(job()));
    EXPECT_EQ(pool.queued(), 2u);
    EXPECT_FALSE(pool.Submit(job()));  // the queue is full
    pool.Stop();
    EXPECT_EQ(cancelled.load(), 2);
    EXPECT_EQ(pool.queued(), 0u);
    EXPECT_FALSE(pool.Submit(job()));  // stopped
    gate.Open();
  }  // joins: the running job finishes
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(cancelled.load(), 2);
}

TEST(BlockingPoolTest, EveryThreadTakesAJobWithoutQueueRoom) {
  Gate gate;
  std::atomic<int> ran{0};
  BlockingPool pool(/*threads=*/2, /*queue_limit=*/0);
  auto job = [&] {
    return BlockingPool::Job{.run =
                                 [&] {
                                   gate.Pass();
                                   ++ran;
                                 },
                             .cancel = nullptr};
  };
  ASSERT_TRUE(pool.Submit(job()));
  ASSERT_TRUE(gate.WaitEntered(1));
  ASSERT_TRUE(pool.Submit(job()));
  ASSERT_TRUE(gate.WaitEntered(2));
  EXPECT_FALSE(pool.Submit(job()));  // both busy, no queue
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return ran.load() == 2 && pool.running() == 0; }));
  EXPECT_TRUE(Eventually([&] { return pool.Submit(job()); }));
}

}  // namespace
}  // namespace kiln::http
