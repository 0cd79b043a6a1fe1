#include "kiln/http/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "kiln/http/router.h"

namespace kiln::http {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(MetricsTest, CountersAndGaugesRenderWithHelpAndType) {
  Metrics m;
  Counter& c = m.GetCounter("kiln_sends_total", "Messages handed to SMTP", {{"kind", "cold"}});
  c.Inc();
  c.Inc(2);
  EXPECT_EQ(&c, &m.GetCounter("kiln_sends_total", "ignored", {{"kind", "cold"}}));
  m.GetGauge("kiln_queue_depth", "Due tasks").Set(7);
  std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text,
                       "# HELP kiln_sends_total Messages handed to SMTP\n"
                       "# TYPE kiln_sends_total counter\n"
                       "kiln_sends_total{kind=\"cold\"} 3\n"))
      << text;
  EXPECT_TRUE(Contains(text, "# TYPE kiln_queue_depth gauge\nkiln_queue_depth 7\n")) << text;
}

TEST(MetricsTest, LabelsAreSortedAndEscaped) {
  Metrics m;
  m.GetCounter("x_total", "x", {{"b", "say \"hi\"\\\n"}, {"a", "1"}}).Inc();
  EXPECT_TRUE(Contains(m.RenderPrometheus(), "x_total{a=\"1\",b=\"say \\\"hi\\\"\\\\\\n\"} 1\n"))
      << m.RenderPrometheus();
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  Histogram& h = m.GetHistogram("lat_seconds", "latency", {}, {0.25, 1});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(3);
  std::string text = m.RenderPrometheus();
  EXPECT_TRUE(Contains(text,
                       "# TYPE lat_seconds histogram\n"
                       "lat_seconds_bucket{le=\"0.25\"} 2\n"
                       "lat_seconds_bucket{le=\"1\"} 3\n"
                       "lat_seconds_bucket{le=\"+Inf\"} 4\n"
                       "lat_seconds_sum 3.875\n"
                       "lat_seconds_count 4\n"))
      << text;
}

TEST(MetricsTest, HttpRequestsByRouteAndStatusClass) {
  Metrics m;
  m.ObserveHttpRequest("GET", "/api/v1/campaigns/{id}", 200, 0.002);
  m.ObserveHttpRequest("GET", "/api/v1/campaigns/{id}", 204, 0.3);
  m.ObserveHttpRequest("GET", "/api/v1/campaigns/{id}", 404, 0.002);
  std::string text = m.RenderPrometheus();
  const std::string labels = "method=\"GET\",route=\"/api/v1/campaigns/{id}\",status=\"2xx\"";
  EXPECT_TRUE(Contains(text, "kiln_http_requests_total{" + labels + "} 2\n")) << text;
  EXPECT_TRUE(
      Contains(text, "kiln_http_request_duration_seconds_bucket{" + labels + ",le=\"0.001\"} 0\n"));
  EXPECT_TRUE(
      Contains(text, "kiln_http_request_duration_seconds_bucket{" + labels + ",le=\"0.005\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "kiln_http_request_duration_seconds_bucket{" + labels + ",le=\"0.25\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "kiln_http_request_duration_seconds_bucket{" + labels + ",le=\"0.5\"} 2\n"));
  EXPECT_TRUE(Contains(text, "kiln_http_request_duration_seconds_count{" + labels + "} 2\n"));
  EXPECT_TRUE(Contains(text,
                       "kiln_http_requests_total{method=\"GET\",route=\"/api/v1/campaigns/"
                       "{id}\",status=\"4xx\"} 1\n"));
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.GetCounter("c_total", "c", {{"k", std::to_string(i % 3)}}).Inc();
        m.ObserveHttpRequest("GET", "/x", 200, 0.01);
      }
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  for (int k = 0; k < 3; ++k)
    total += m.GetCounter("c_total", "c", {{"k", std::to_string(k)}}).value();
  EXPECT_EQ(total, 40000);
  EXPECT_TRUE(Contains(m.RenderPrometheus(),
                       "kiln_http_request_duration_seconds_count{method=\"GET\",route=\"/x\","
                       "status=\"2xx\"} 40000\n"));
}

TEST(MetricsDeathTest, MisuseAborts) {
  Metrics m;
  m.GetCounter("a_total", "a");
  EXPECT_DEATH(m.GetGauge("a_total", "a"), "another type");
  EXPECT_DEATH(m.GetCounter("bad-name", "x"), "not a valid metric name");
  EXPECT_DEATH(m.GetCounter("b_total", "x", {{"le", "1"}}), "invalid label name");
  EXPECT_DEATH(m.GetHistogram("h", "x", {}, {1, 0.5}), "ascending");
}

TEST(OperationalRoutesTest, HealthReadyAndMetrics) {
  Router router;
  Metrics metrics;
  Status ready = Status::Unavailable("database is down");
  AddOperationalRoutes(router, metrics, [&ready] { return ready; });
  for (const Route& r : router.routes()) {
    EXPECT_FALSE(r.doc.authenticated) << r.pattern;
    EXPECT_FALSE(r.doc.summary.empty()) << r.pattern;
  }
  Request req;
  req.target = "/healthz";
  Response health = router.Dispatch(req);
  EXPECT_EQ(health.status, bhttp::status::ok);
  EXPECT_EQ(health.body, R"({"status":"ok"})");

  req.target = "/readyz";
  Response not_ready = router.Dispatch(req);
  EXPECT_EQ(not_ready.status, bhttp::status::service_unavailable);
  EXPECT_TRUE(Contains(not_ready.body, "\"code\":\"unavailable\""));
  EXPECT_FALSE(Contains(not_ready.body, "database is down"));  // detail is logged, not shown
  ready = Status::Ok();
  EXPECT_EQ(router.Dispatch(req).status, bhttp::status::ok);

  metrics.GetCounter("probe_total", "p").Inc();
  req.target = "/metrics";
  Response m = router.Dispatch(req);
  EXPECT_EQ(m.headers[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(Contains(m.body, "probe_total 1\n"));
}

}  // namespace
}  // namespace kiln::http
