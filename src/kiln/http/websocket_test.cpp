// WebSocket routes over real sockets on 127.0.0.1: the handshake through the router (accept,
// refusal, plain GET), the per-key connection limit, the bounded send buffer with a client that
// does not read, the idle timeout without pongs, and a prompt close (1001) on server shutdown.
// Also the Origin check as a function.
#include "kiln/http/websocket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/server.h"
#include "kiln/http/websocket_test_client.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/http_client.h"

namespace kiln::http {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  Request r;
  for (auto& [k, v] : headers) r.headers.set(k, v);
  return r;
}

TEST(WebSocketOriginTest, AllowsOwnOriginsAndProgramsAndRefusesOthers) {
  // No Origin: not a browser.
  EXPECT_TRUE(CheckWebSocketOrigin(WithHeaders({{"Host", "kiln.test"}}), "").ok());
  // public_url's origin, with or without its default port, any path.
  EXPECT_TRUE(CheckWebSocketOrigin(WithHeaders({{"Origin", "https://kiln.example.com"}}),
                                   "https://Kiln.Example.com:443/app/")
                  .ok());
  EXPECT_TRUE(CheckWebSocketOrigin(WithHeaders({{"Origin", "http://10.0.0.5:8080"}}),
                                   "http://10.0.0.5:8080")
                  .ok());
  // The Host the browser connected to.
  EXPECT_TRUE(CheckWebSocketOrigin(
                  WithHeaders({{"Origin", "http://127.0.0.1:9000"}, {"Host", "127.0.0.1:9000"}}),
                  "https://kiln.example.com")
                  .ok());
  EXPECT_TRUE(CheckWebSocketOrigin(
                  WithHeaders({{"Origin", "http://kiln.lan"}, {"Host", "kiln.lan:80"}}), "")
                  .ok());

  // Another site, another port, another scheme, "null", garbage.
  Status s = CheckWebSocketOrigin(
      WithHeaders({{"Origin", "https://evil.example"}, {"Host", "kiln.example.com"}}),
      "https://kiln.example.com");
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(s.message().find("https://evil.example"), std::string::npos) << s.message();
  EXPECT_FALSE(
      CheckWebSocketOrigin(
          WithHeaders({{"Origin", "http://127.0.0.1:9001"}, {"Host", "127.0.0.1:9000"}}), "")
          .ok());
  EXPECT_FALSE(CheckWebSocketOrigin(WithHeaders({{"Origin", "http://kiln.example.com"}}),
                                    "https://kiln.example.com")
                   .ok());
  EXPECT_FALSE(CheckWebSocketOrigin(
                   WithHeaders({{"Origin", "https://kiln.lan"}, {"Host", "kiln.lan:80"}}), "")
                   .ok());
  EXPECT_FALSE(
      CheckWebSocketOrigin(WithHeaders({{"Origin", "null"}, {"Host", "kiln.lan"}}), "").ok());
  EXPECT_FALSE(
      CheckWebSocketOrigin(WithHeaders({{"Origin", "kiln.lan"}, {"Host", "kiln.lan"}}), "").ok());
}

class WebSocketServerTest : public ::testing::Test {
 protected:
  WebSocketServerTest() {
    router_.AddWebSocket(
        "/ws/{name}",
        [this](Request& r) -> UpgradeResult {
          if (r.Header("X-Token") != "let-me-in") {
            return Response::Error(bhttp::status::unauthorized, "unauthenticated", "sign in first");
          }
          WebSocketAccept accept;
          accept.limit_key = std::string(r.Header("X-User"));
          accept.max_per_key = 2;
          accept.send_buffer_limit = send_buffer_limit_;
          accept.idle_timeout = idle_timeout_;
          std::string greeting = "hello " + r.path_params["name"];
          accept.on_open = [this, greeting](std::shared_ptr<WebSocketChannel> channel) {
            channel->Send(greeting);
            std::lock_guard lock(mu_);
            channels_.push_back(std::move(channel));
          };
          return accept;
        },
        {.summary = "test stream", .tag = "test"});
  }
  ~WebSocketServerTest() override { Stop(); }

  void Start() {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.read_timeout = Millis(2000);
    o.idle_timeout = Millis(2000);
    o.access_log = false;
    server_ = std::make_unique<Server>(o, router_, metrics_, clock_);
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

  static TestWebSocket::Options Opts(std::string user = "u1", bool read = true) {
    TestWebSocket::Options o;
    o.headers = {{"X-Token", "let-me-in"}, {"X-User", std::move(user)}};
    o.read = read;
    return o;
  }
  std::shared_ptr<WebSocketChannel> Channel(size_t i) {
    std::lock_guard lock(mu_);
    return i < channels_.size() ? channels_[i] : nullptr;
  }
  size_t Channels() {
    std::lock_guard lock(mu_);
    return channels_.size();
  }

  Router router_;
  Metrics metrics_;
  kiln::testing::FakeClock clock_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  size_t send_buffer_limit_ = 1 << 20;
  Millis idle_timeout_{10'000};
  std::mutex mu_;
  std::vector<std::shared_ptr<WebSocketChannel>> channels_;  // guarded by mu_
};

TEST_F(WebSocketServerTest, AcceptsRefusesAndAnswersPlainGets) {
  Start();
  auto ws = TestWebSocket::Connect(port_, "/ws/ann", Opts());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto frame = (*ws)->Read(2s);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(*frame, "hello ann");
  ASSERT_EQ(Channels(), 1u);
  EXPECT_TRUE(Channel(0)->Send("second"));
  EXPECT_EQ((*ws)->Read(2s).value_or("<none>"), "second");

  // The handler's refusal is the handshake's answer.
  int status = 0;
  std::string body;
  auto refused = TestWebSocket::Connect(port_, "/ws/ann", {}, &status, &body);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(status, 401);
  // No such route.
  refused = TestWebSocket::Connect(port_, "/nowhere", Opts(), &status);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(status, 404);

  // A plain GET gets the refusal, or 426 when it would have been accepted.
  kiln::testing::HttpClient http("127.0.0.1", port_);
  EXPECT_EQ(http.Get("/ws/ann").value().status, 401);
  auto plain = http.Get("/ws/ann", {{"X-Token", "let-me-in"}, {"X-User", "u1"}}).value();
  EXPECT_EQ(plain.status, 426) << plain.body;
  EXPECT_EQ(plain.Header("Upgrade"), "websocket");

  // The server closes its end when asked; the client sees a normal close.
  Channel(0)->Close();
  EXPECT_TRUE((*ws)->WaitClosed(3s));
  EXPECT_EQ((*ws)->close_code(), 1000);
  EXPECT_FALSE(Channel(0)->Send("after close"));

  std::string exposition = metrics_.RenderPrometheus();
  EXPECT_NE(exposition.find("kiln_websocket_connections"), std::string::npos);
  EXPECT_NE(exposition.find("route=\"/ws/{name}\",status=\"1xx\""), std::string::npos)
      << exposition;
}

TEST_F(WebSocketServerTest, LimitsConnectionsPerKey) {
  Start();
  auto a = TestWebSocket::Connect(port_, "/ws/a", Opts("u1"));
  auto b = TestWebSocket::Connect(port_, "/ws/b", Opts("u1"));
  ASSERT_TRUE(a.ok() && b.ok());
  int status = 0;
  std::string body;
  auto c = TestWebSocket::Connect(port_, "/ws/c", Opts("u1"), &status, &body);
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(status, 429);
  EXPECT_NE(body.find("at most 2"), std::string::npos) << body;
  // Another key has its own allowance.
  auto other = TestWebSocket::Connect(port_, "/ws/d", Opts("u2"));
  EXPECT_TRUE(other.ok()) << other.status().ToString();

  // Closing one frees its slot (the server notices within moments).
  (*a)->Close();
  auto deadline = Steady::now() + 3s;
  Result<std::unique_ptr<TestWebSocket>> again = Status::Unavailable("not tried");
  while (Steady::now() < deadline) {
    again = TestWebSocket::Connect(port_, "/ws/e", Opts("u1"));
    if (again.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(WebSocketServerTest, DropsAClientThatDoesNotRead) {
  send_buffer_limit_ = 64 << 10;
  Start();
  TestWebSocket::Options o = Opts("slow", /*read=*/false);
  o.receive_buffer = 4096;
  auto ws = TestWebSocket::Connect(port_, "/ws/slow", o);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto deadline = Steady::now() + 3s;
  while (Channels() == 0 && Steady::now() < deadline) std::this_thread::sleep_for(10ms);
  auto channel = Channel(0);
  ASSERT_TRUE(channel);

  // 16 KiB frames: the socket buffers take some, then the queue fills to its 64 KiB and the
  // next Send drops the client. Bounded: never more than a few MB in total.
  std::string frame(16 << 10, 'x');
  size_t sent_bytes = 0;
  bool refused = false;
  auto start = Steady::now();
  while (sent_bytes < (64u << 20) && Steady::now() - start < 10s) {
    if (!channel->Send(frame)) {
      refused = true;
      break;
    }
    sent_bytes += frame.size();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(refused) << "queued " << sent_bytes << " bytes without dropping the client";
  RecordProperty("bytes_accepted_before_drop", std::to_string(sent_bytes));
  std::printf(
      "slow client dropped after %zu bytes accepted in %lld ms\n", sent_bytes,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start).count()));
  EXPECT_LT(sent_bytes, 16u << 20);
  EXPECT_LT(Steady::now() - start, 5s);
  EXPECT_TRUE(channel->closed());
  EXPECT_FALSE(channel->Send("more"));
}

TEST_F(WebSocketServerTest, ClosesAConnectionThatAnswersNoPings) {
  idle_timeout_ = Millis(800);
  Start();
  auto silent = TestWebSocket::Connect(port_, "/ws/silent", Opts("u1", /*read=*/false));
  auto alive = TestWebSocket::Connect(port_, "/ws/alive", Opts("u2"));
  ASSERT_TRUE(silent.ok() && alive.ok());
  auto deadline = Steady::now() + 3s;
  while (Channels() < 2 && Steady::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(Channels(), 2u);
  EXPECT_TRUE((*alive)->Read(2s).ok());
  auto start = Steady::now();
  deadline = start + 4s;
  while (Steady::now() < deadline && !(Channel(0)->closed() || Channel(1)->closed()))
    std::this_thread::sleep_for(20ms);
  EXPECT_LT(Steady::now() - start, 2s) << "the silent client outlived its idle timeout";
  std::this_thread::sleep_for(1500ms);  // well past the idle timeout for the answering client too
  int closed = (Channel(0)->closed() ? 1 : 0) + (Channel(1)->closed() ? 1 : 0);
  EXPECT_EQ(closed, 1) << "exactly the silent client is closed";
  EXPECT_FALSE((*alive)->WaitClosed(10ms));
  EXPECT_TRUE((*alive)->Read(10ms).status().code() == Status::Code::kDeadlineExceeded);
}

TEST_F(WebSocketServerTest, ShutdownClosesWebSocketsPromptly) {
  Start();
  auto ws = TestWebSocket::Connect(port_, "/ws/bye", Opts());
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->Read(2s).ok());
  auto start = Steady::now();
  server_->Shutdown(Millis(5000));
  thread_.join();
  server_.reset();
  EXPECT_LT(Steady::now() - start, 2s);
  EXPECT_TRUE((*ws)->WaitClosed(2s));
  EXPECT_EQ((*ws)->close_code(), 1001);
}

}  // namespace
}  // namespace kiln::http
