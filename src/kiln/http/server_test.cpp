// Server tests over real sockets on 127.0.0.1.
#include "kiln/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>

#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/static_files.h"
#include "kiln/http/test_util.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/http_client.h"

namespace kiln::http {
namespace {

using kiln::testing::ClientResponse;
using kiln::testing::HttpClient;
using Steady = std::chrono::steady_clock;

// A raw TCP connection for requests an HTTP client would refuse to send.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until the peer closes (returns true) or `timeout` passes (returns false).
  bool ReadUntilClosed(std::chrono::milliseconds timeout, std::string* out) {
    auto deadline = Steady::now() + timeout;
    char buf[4096];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      out->append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

bool CanConnect(uint16_t port) { return RawConnection(port).connected(); }

std::string ErrorCode(const ClientResponse& r) {
  return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
}

void ExpectSecurityHeaders(const ClientResponse& r, std::string_view what) {
  EXPECT_EQ(r.Header("Content-Security-Policy"),
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
      << what;
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << what;
  EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer") << what;
  EXPECT_EQ(r.Header("X-Frame-Options"), "DENY") << what;
  EXPECT_EQ(r.Header("Server"), "kiln") << what;
  EXPECT_FALSE(r.Header("X-Request-Id").empty()) << what;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    RouteDoc doc{.summary = "test", .tag = "test"};
    router_.Add(
        bhttp::verb::get, "/api/v1/items/{id}",
        [](Request& r) {
          return Response::Json(bhttp::status::ok, "{\"id\":\"" + r.path_params["id"] + "\"}");
        },
        doc);
    router_.Add(
        bhttp::verb::get, "/api/v1/items/special",
        [](Request&) { return Response::Json(bhttp::status::ok, "{\"special\":true}"); }, doc);
    router_.Add(
        bhttp::verb::post, "/api/v1/echo",
        [](Request& r) { return Response::Text(bhttp::status::ok, r.body); }, doc);
    router_.Add(
        bhttp::verb::post, "/api/v1/upload",
        [this](Request& r) {
          // Reports what reached the handler: the file's size and its first and last bytes.
          std::string content;
          if (std::FILE* f = std::fopen(r.body_file.c_str(), "rb")) {
            char buf[65536];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
            std::fclose(f);
          }
          last_upload_path_ = r.body_file;
          return Response::Text(
              bhttp::status::ok,
              std::to_string(content.size()) + ":" + content.substr(0, 5) + ":" +
                  (content.size() >= 5 ? content.substr(content.size() - 5) : "") + ":" +
                  std::to_string(r.body.size()));
        },
        doc);
    router_.Add(
        bhttp::verb::get, "/api/v1/boom",
        [](Request&) -> Response { throw std::runtime_error("kaboom"); }, doc);
    router_.Add(
        bhttp::verb::get, "/api/v1/slow",
        [this](Request&) {
          clock_.Advance(Millis(300));  // what the latency histogram sees
          slow_entered_ = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(slow_sleep_ms_));
          return Response::Text(bhttp::status::ok, std::string(100000, 'x'));
        },
        doc);
    AddOperationalRoutes(router_, metrics_, nullptr);
  }
  ~ServerTest() override { Stop(); }

  void Start(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { server_->Run(); });
  }
  static ServerOptions Small() {
    ServerOptions o;
    o.threads = 2;
    o.body_limit = 1024;
    o.header_limit = 2048;
    o.read_timeout = Millis(2000);
    o.idle_timeout = Millis(2000);
    return o;
  }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(Millis(1000));
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  HttpClient Client() { return HttpClient("127.0.0.1", port_); }

  Router router_;
  Metrics metrics_;
  kiln::testing::FakeClock clock_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<bool> slow_entered_{false};
  std::string last_upload_path_;
  int slow_sleep_ms_ = 300;
};

TEST_F(ServerTest, RoutesParams404And405) {
  Start(Small());
  HttpClient c = Client();
  auto r = c.Get("/api/v1/items/a%20b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"id":"a b"})");
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  EXPECT_EQ(c.Get("/api/v1/items/special")->body, R"({"special":true})");

  auto missing = c.Get("/api/v1/nope");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(*missing), "not_found");
  EXPECT_EQ(c.Get("/nope")->status, 404);

  auto wrong = c.Send("DELETE", "/api/v1/items/1");
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("Allow"), "GET, HEAD");
  EXPECT_EQ(ErrorCode(*wrong), "method_not_allowed");

  auto bad = c.Get("/api/v1/items/%zz");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(ErrorCode(*bad), "bad_request");
  EXPECT_EQ(c.Get("/api/v1/items/x%00y")->status, 400);
  EXPECT_EQ(c.connections_opened(), 1);  // 400 for a bad path keeps the connection
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  Start(Small());
  HttpClient c = Client();
  for (int i = 0; i < 5; ++i) {
    auto r = c.Post("/api/v1/echo", "hello " + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "hello " + std::to_string(i));
    EXPECT_TRUE(r->keep_alive);
  }
  EXPECT_EQ(c.connections_opened(), 1);
  auto closing = c.Send("GET", "/healthz", {}, {{"Connection", "close"}});
  EXPECT_FALSE(closing->keep_alive);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start(Small());
  RawConnection raw(port_);
  ASSERT_TRUE(
      raw.Send("GET /api/v1/items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /api/v1/items/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string out;
  ASSERT_TRUE(raw.ReadUntilClosed(Millis(3000), &out));
  size_t first = out.find(R"({"id":"1"})");
  size_t second = out.find(R"({"id":"2"})");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second);
}

TEST_F(ServerTest, HeadAnswersGetRoutesWithoutBody) {
  Start(Small());
  HttpClient c = Client();
  auto get = c.Get("/api/v1/items/12345");
  auto head = c.Send("HEAD", "/api/v1/items/12345");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->Header("Content-Length"), std::to_string(get->body.size()));
  EXPECT_EQ(c.Get("/api/v1/items/1")->status, 200);  // the connection is still in sync
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  Start(Small());
  HttpClient c = Client();
  auto big = c.Post("/api/v1/echo", std::string(2000, 'a'));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(ErrorCode(*big), "too_large");
  EXPECT_FALSE(big->keep_alive);
  ExpectSecurityHeaders(*big, "413");
  EXPECT_EQ(c.Post("/api/v1/echo", std::string(1000, 'a'))->status, 200);

  // Content-Length alone decides: the answer comes before any body byte is sent.
  RawConnection raw(port_);
  ASSERT_TRUE(
      raw.Send("POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
  std::string out;
  EXPECT_TRUE(raw.ReadUntilClosed(Millis(3000), &out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 413")) << out;

  // A chunked body is cut off when it passes the limit.
  RawConnection chunked(port_);
  std::string request =
      "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'b') + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_TRUE(chunked.Send(request));
  out.clear();
  EXPECT_TRUE(chunked.ReadUntilClosed(Millis(3000), &out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 413")) << out;
}

ServerOptions UploadOptions(const std::string& dir) {
  ServerOptions o;
  o.threads = 2;
  o.body_limit = 1024;
  o.read_timeout = Millis(600);
  o.body_limit_for = [](std::string_view target) -> size_t {
    return target == "/api/v1/upload" ? size_t{8} << 20 : 1024;
  };
  o.stream_body_for = [](std::string_view target) { return target == "/api/v1/upload"; };
  o.upload_dir = dir;
  return o;
}

TEST_F(ServerTest, UploadsAreStreamedToAFileAndRemovedAfterTheResponse) {
  const std::string dir = ::testing::TempDir() + "/kiln-upload-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  Start(UploadOptions(dir));
  HttpClient c = Client();
  // 5 MiB: far over the in-memory limit of every other route, under this route's own.
  std::string body = "first" + std::string(5 << 20, 'x') + "final";
  auto r = c.Post("/api/v1/upload", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::to_string(body.size()) + ":first:final:0");
  EXPECT_FALSE(last_upload_path_.empty());
  // Removed once the response is written (the client may read it a moment before).
  for (int i = 0; i < 100 && std::filesystem::exists(last_upload_path_); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(last_upload_path_)) << "removed after the response";
  EXPECT_TRUE(r->keep_alive);
  EXPECT_EQ(c.Post("/api/v1/upload", "small")->body, "5:small:small:0") << "same connection";

  // Over the route's limit: refused before any byte is read; without a length: 411.
  RawConnection big(port_);
  ASSERT_TRUE(
      big.Send("POST /api/v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n"));
  std::string out;
  EXPECT_TRUE(big.ReadUntilClosed(Millis(3000), &out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 413")) << out;
  RawConnection chunked(port_);
  ASSERT_TRUE(
      chunked.Send("POST /api/v1/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n"));
  out.clear();
  EXPECT_TRUE(chunked.ReadUntilClosed(Millis(3000), &out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 411")) << out;

  // A client that stops sending is cut off by the read timeout and its partial file removed.
  RawConnection stalled(port_);
  ASSERT_TRUE(
      stalled.Send("POST /api/v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                   std::string(20000, 'y')));
  out.clear();
  EXPECT_TRUE(stalled.ReadUntilClosed(Millis(3000), &out));
  EXPECT_EQ(out, "") << "no response to a request that never completed";
  // The in-memory routes keep their own limit.
  EXPECT_EQ(c.Post("/api/v1/echo", std::string(2000, 'a'))->status, 413);
  Stop();
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "no upload file is left behind";
  std::filesystem::remove_all(dir);
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  Start(Small());
  RawConnection raw(port_);
  ASSERT_TRUE(
      raw.Send("POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 5\r\nConnection: close\r\n\r\n"));
  std::string out;
  raw.ReadUntilClosed(Millis(300), &out);
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(raw.Send("hello"));
  EXPECT_TRUE(raw.ReadUntilClosed(Millis(3000), &out));
  EXPECT_TRUE(out.ends_with("\r\n\r\nhello")) << out;
}

TEST_F(ServerTest, HeaderOverLimitIs431) {
  Start(Small());
  HttpClient c = Client();
  auto r = c.Send("GET", "/healthz", {}, {{"X-Padding", std::string(4000, 'p')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(ErrorCode(*r), "too_large");
  ExpectSecurityHeaders(*r, "431");
}

TEST_F(ServerTest, SlowlorisIsCutOffByTheReadTimeout) {
  ServerOptions o = Small();
  o.read_timeout = Millis(400);
  Start(o);
  RawConnection raw(port_);
  auto start = Steady::now();
  ASSERT_TRUE(raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  // Trickle a header every 100 ms: each read makes progress, the request never completes.
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    closed = !raw.Send("X-Slow-" + std::to_string(i) + ": 1\r\n");
    if (!closed) {
      std::string ignored;
      closed = raw.ReadUntilClosed(Millis(1), &ignored);
      EXPECT_TRUE(ignored.empty()) << ignored;
    }
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start);
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed.count(), 350);
  EXPECT_LT(elapsed.count(), 1200);
}

TEST_F(ServerTest, SilentConnectionAndIdleKeepAliveAreClosed) {
  ServerOptions o = Small();
  o.read_timeout = Millis(300);
  o.idle_timeout = Millis(300);
  Start(o);
  RawConnection silent(port_);
  std::string out;
  EXPECT_TRUE(silent.ReadUntilClosed(Millis(1500), &out));
  EXPECT_TRUE(out.empty());

  RawConnection idle(port_);
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto start = Steady::now();
  EXPECT_TRUE(idle.ReadUntilClosed(Millis(1500), &out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200")) << out;
  EXPECT_GE(Steady::now() - start, std::chrono::milliseconds(250));
}

TEST_F(ServerTest, MalformedRequestsAre400AndClose) {
  Start(Small());
  for (const char* request : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                              "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                              "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    RawConnection raw(port_);
    ASSERT_TRUE(raw.Send(request));
    std::string out;
    EXPECT_TRUE(raw.ReadUntilClosed(Millis(3000), &out)) << request;
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400")) << request << " -> " << out;
    EXPECT_NE(out.find("X-Content-Type-Options: nosniff"), std::string::npos) << out;
  }
}

TEST_F(ServerTest, HandlerExceptionIs500AndServerLivesOn) {
  Start(Small());
  HttpClient c = Client();
  auto r = c.Get("/api/v1/boom", {{"X-Request-Id", "boom-1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(ErrorCode(*r), "internal");
  EXPECT_NE(r->body.find("boom-1"), std::string::npos);
  EXPECT_EQ(r->body.find("kaboom"), std::string::npos);  // no internals leak
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

TEST_F(ServerTest, SecurityHeadersOnEveryResponse) {
  testutil::TempDir dir;
  dir.Write("index.html", "<html>UI</html>");
  router_.SetFallback(MakeStaticFileHandler({dir.path()}));
  Start(Small());
  HttpClient c = Client();
  auto ok = c.Get("/api/v1/items/1");
  ExpectSecurityHeaders(*ok, "200 api");
  EXPECT_EQ(ok->Header("Cache-Control"), "no-store");
  auto not_found = c.Get("/api/v1/none");
  ExpectSecurityHeaders(*not_found, "404 api");
  EXPECT_EQ(not_found->Header("Cache-Control"), "no-store");
  ExpectSecurityHeaders(*c.Send("PUT", "/api/v1/items/1"), "405");
  ExpectSecurityHeaders(*c.Get("/api/v1/boom"), "500");
  auto page = c.Get("/");
  EXPECT_EQ(page->body, "<html>UI</html>");
  ExpectSecurityHeaders(*page, "static");
  EXPECT_EQ(page->Header("Cache-Control"), "no-cache");
  ExpectSecurityHeaders(*c.Get("/healthz"), "healthz");
}

TEST_F(ServerTest, RequestIdIsEchoedWhenSaneElseGenerated) {
  Start(Small());
  HttpClient c = Client();
  EXPECT_EQ(c.Get("/healthz", {{"X-Request-Id", "abc-123.X_y"}})->Header("X-Request-Id"),
            "abc-123.X_y");
  std::regex generated("[0-9a-f]{16}");
  for (std::string bad :
       {std::string("has space"), std::string("semi;colon"), std::string(65, 'a'), std::string()}) {
    auto r = bad.empty() ? c.Get("/healthz") : c.Get("/healthz", {{"X-Request-Id", bad}});
    EXPECT_TRUE(std::regex_match(r->Header("X-Request-Id"), generated))
        << bad << " -> " << r->Header("X-Request-Id");
  }
  std::string a = c.Get("/healthz")->Header("X-Request-Id");
  EXPECT_NE(a, c.Get("/healthz")->Header("X-Request-Id"));
  EXPECT_EQ(c.Get("/healthz", {{"X-Request-Id", std::string(64, 'z')}})->Header("X-Request-Id"),
            std::string(64, 'z'));
}

TEST_F(ServerTest, MetricsCountRequestsByRoutePattern) {
  slow_sleep_ms_ = 0;
  Start(Small());
  HttpClient c = Client();
  ASSERT_TRUE(c.Get("/api/v1/items/1").ok());
  ASSERT_TRUE(c.Get("/api/v1/items/2").ok());
  ASSERT_TRUE(c.Get("/api/v1/nothing").ok());
  ASSERT_TRUE(c.Get("/api/v1/slow").ok());  // the handler advances the fake clock by 300 ms
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r.ok());
  const std::string& text = r->body;
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  };
  has(R"m(kiln_http_requests_total{method="GET",route="/api/v1/items/{id}",status="2xx"} 2)m");
  has(R"m(kiln_http_requests_total{method="GET",route="(unmatched)",status="4xx"} 1)m");
  has(R"m(kiln_http_request_duration_seconds_bucket{method="GET",route="/api/v1/items/{id}",status="2xx",le="0.001"} 2)m");
  has(R"m(kiln_http_request_duration_seconds_bucket{method="GET",route="/api/v1/slow",status="2xx",le="0.25"} 0)m");
  has(R"m(kiln_http_request_duration_seconds_bucket{method="GET",route="/api/v1/slow",status="2xx",le="0.5"} 1)m");
  has(R"m(kiln_http_request_duration_seconds_sum{method="GET",route="/api/v1/slow",status="2xx"} 0.3)m");
  has(R"m(kiln_http_open_connections 1)m");
  EXPECT_EQ(text.find("/api/v1/items/1"), std::string::npos);  // raw paths never become labels
}

TEST_F(ServerTest, StaticFilesOverHttp) {
  testutil::TempDir dir;
  dir.Write("secret.txt", "TOP SECRET");
  dir.Write("web/index.html", "<html>SPA</html>");
  dir.Write("web/assets/index-4f2a.js", "js!");
  router_.SetFallback(MakeStaticFileHandler({dir.path() / "web"}));
  Start(Small());
  HttpClient c = Client();
  auto js = c.Get("/assets/index-4f2a.js");
  EXPECT_EQ(js->body, "js!");
  EXPECT_EQ(js->Header("Cache-Control"), "public, max-age=31536000, immutable");
  ExpectSecurityHeaders(*js, "asset");
  auto again = c.Get("/assets/index-4f2a.js", {{"If-None-Match", js->Header("ETag")}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(c.Get("/campaigns/7/steps")->body, "<html>SPA</html>");
  auto api = c.Get("/api/v1/missing");
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(ErrorCode(*api), "not_found");
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/assets%2F..%2F..%2Fsecret.txt",
        "/..%5csecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/x%00.txt", "/.%2e/secret.txt"}) {
    auto r = c.Get(target);
    ASSERT_TRUE(r.ok()) << target << ": " << r.status().ToString();
    EXPECT_TRUE(r->status == 404 || r->status == 400) << target << " -> " << r->status;
    EXPECT_EQ(r->body.find("TOP SECRET"), std::string::npos) << target;
  }
}

TEST_F(ServerTest, ListenFailureNamesAddressAndReason) {
  Start(Small());
  ServerOptions o = Small();
  o.port = port_;
  Server second(o, router_, metrics_, clock_);
  Status s = second.Listen();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message(),
            "cannot listen on 127.0.0.1:" + std::to_string(port_) + ": address already in use");
  o.host = "not-an-ip";
  EXPECT_EQ(Server(o, router_, metrics_, clock_).Listen().code(), Status::Code::kInvalidArgument);
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequests) {
  Start(Small());
  HttpClient idle = Client();
  ASSERT_EQ(idle.Get("/healthz")->status, 200);  // an idle keep-alive connection stays open

  Result<ClientResponse> slow = Status::Internal("not sent");
  std::thread client([&] {
    HttpClient c = Client();
    slow = c.Get("/api/v1/slow");
  });
  while (!slow_entered_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto start = Steady::now();
  server_->Shutdown(Millis(5000));
  EXPECT_FALSE(CanConnect(port_));  // the listener is closed when Shutdown returns
  client.join();
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body.size(), 100000u);
  EXPECT_FALSE(slow->keep_alive);  // answered with Connection: close
  thread_.join();                  // Run returns once the in-flight request is done
  auto took = Steady::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(2000));  // idle connection closed, not waited for
  server_.reset();
}

TEST_F(ServerTest, ShutdownGraceCutsOffStalledReads) {
  Start(Small());
  RawConnection stalled(port_);
  ASSERT_TRUE(stalled.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // never finishes
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = Steady::now();
  server_->Shutdown(Millis(200));
  thread_.join();
  auto took = Steady::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  std::string out;
  EXPECT_TRUE(stalled.ReadUntilClosed(Millis(500), &out));
  server_.reset();
}

}  // namespace
}  // namespace kiln::http
