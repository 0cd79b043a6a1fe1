// Metrics: process-wide counters, gauges and histograms rendered in the Prometheus text format
// (exposition format 0.0.4) at GET /metrics.
//
// The HTTP server records every request by (method, route pattern, status class): the route
// pattern ("/api/v1/campaigns/{id}"), never the raw path, so the number of series stays bounded.
// Other parts register their own series with GetCounter / GetGauge / GetHistogram.
//
// Thread-safety: everything is thread-safe. Updating a series is a few atomic operations; looking
// a series up takes a shared (reader) lock, creating one a brief exclusive lock. References
// returned by Get* stay valid for the life of the Metrics object, so hot paths look up once and
// keep the reference.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::http {

class Router;

// Label name/value pairs, e.g. {{"mailbox_provider", "gmail"}}. Order does not matter.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value.
class Counter {
 public:
  void Inc(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (plus +Inf) and keeps their sum.
class Histogram {
 public:
  // `upper_bounds` must be sorted ascending and finite (checked by Metrics::GetHistogram).
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative counts per bound, then the +Inf count (== total count), as of now.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, last one is +Inf; not cumulative
  std::atomic<double> sum_{0};
};

class Metrics {
 public:
  // Latency buckets in seconds used for HTTP requests (and the default for GetHistogram).
  static const std::vector<double>& DefaultLatencyBuckets();

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Returns the series `name{labels}`, creating it (and the family with `help`) on first use.
  // A name or label name that is not a valid Prometheus identifier, a name already registered with
  // another type, or a histogram re-registered with other buckets is a programming error: aborts
  // with a message naming the metric.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels = {},
                          const std::vector<double>& upper_bounds = DefaultLatencyBuckets());

  // Records one HTTP request: kiln_http_requests_total and kiln_http_request_duration_seconds by
  // method, route pattern and status class ("2xx"...).
  void ObserveHttpRequest(std::string_view method, std::string_view route, int status,
                          double seconds);

  // The whole registry in the Prometheus text format, families sorted by name.
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    std::string labels;  // rendered label set without braces: a="x",b="y" (sorted by name)
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> upper_bounds;      // histograms only
    std::map<std::string, Series> series;  // by rendered labels
  };

  Series& GetSeries(std::string_view name, std::string_view help, const Labels& labels, Type type,
                    const std::vector<double>* upper_bounds);

  mutable std::shared_mutex mu_;
  std::map<std::string, Family, std::less<>> families_;

  // ObserveHttpRequest's fast path: (method, route, status class) -> its two series, so a request
  // costs one hash lookup instead of rendering label sets.
  struct HttpSeries {
    Counter* requests;
    Histogram* duration;
  };
  std::shared_mutex http_mu_;
  std::unordered_map<std::string, HttpSeries> http_series_;
};

// Registers GET /metrics (Prometheus text), GET /healthz (200 {"status":"ok"}: the process is up)
// and GET /readyz (runs `ready`: 200 {"status":"ready"} when it returns OK, else 503 in the API's
// error shape; the failure detail is logged, not shown). An empty `ready` means always ready.
// None of them needs authentication; all carry a RouteDoc.
void AddOperationalRoutes(Router& router, Metrics& metrics, std::function<Status()> ready);

}  // namespace kiln::http
