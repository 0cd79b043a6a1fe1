#include "kiln/http/metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "kiln/http/router.h"

namespace kiln::http {
namespace {

[[noreturn]] void BadMetric(std::string_view name, std::string_view why) {
  std::fprintf(stderr, "kiln: metric \"%.*s\": %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLabels(std::string_view metric, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& [k, v] = labels[i];
    if (!IsValidName(k, false) || k.starts_with("__") || k == "le") {
      BadMetric(metric, "invalid label name \"" + k + "\"");
    }
    if (i > 0 && labels[i - 1].first == k) BadMetric(metric, "label \"" + k + "\" given twice");
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    AppendEscapedLabelValue(out, v);
    out += '"';
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

// "name{labels}" or "name{labels,extra}".
std::string SeriesName(std::string_view name, std::string_view suffix, std::string_view labels,
                       std::string_view extra = {}) {
  std::string out(name);
  out += suffix;
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
  return out;
}

std::string_view StatusClass(int status) {
  switch (status / 100) {
    case 1:
      return "1xx";
    case 2:
      return "2xx";
    case 3:
      return "3xx";
    case 4:
      return "4xx";
    default:
      return "5xx";
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t i =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& Metrics::DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,   1,    2.5,   5,    10};
  return kBuckets;
}

Metrics::Metrics() = default;

Metrics::Series& Metrics::GetSeries(std::string_view name, std::string_view help,
                                    const Labels& labels, Type type,
                                    const std::vector<double>* upper_bounds) {
  std::string rendered = RenderLabels(name, labels);
  {
    std::shared_lock lock(mu_);
    auto f = families_.find(name);
    if (f != families_.end() && f->second.type == type) {
      auto s = f->second.series.find(rendered);
      if (s != f->second.series.end()) return s->second;
    }
  }
  std::unique_lock lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) {
    if (!IsValidName(name, true)) BadMetric(name, "not a valid metric name");
    Family family{type, std::string(help), {}, {}};
    if (upper_bounds) {
      if (upper_bounds->empty() || !std::is_sorted(upper_bounds->begin(), upper_bounds->end()) ||
          std::adjacent_find(upper_bounds->begin(), upper_bounds->end()) != upper_bounds->end() ||
          !std::all_of(upper_bounds->begin(), upper_bounds->end(),
                       [](double b) { return std::isfinite(b); })) {
        BadMetric(name, "histogram bounds must be finite, strictly ascending and non-empty");
      }
      family.upper_bounds = *upper_bounds;
    }
    f = families_.emplace(std::string(name), std::move(family)).first;
  } else if (f->second.type != type) {
    BadMetric(name, "registered before with another type");
  } else if (upper_bounds && *upper_bounds != f->second.upper_bounds) {
    BadMetric(name, "histogram registered before with other buckets");
  }
  auto [s, inserted] = f->second.series.try_emplace(rendered);
  if (inserted) {
    s->second.labels = rendered;
    switch (type) {
      case Type::kCounter:
        s->second.counter = std::make_unique<Counter>();
        break;
      case Type::kGauge:
        s->second.gauge = std::make_unique<Gauge>();
        break;
      case Type::kHistogram:
        s->second.histogram = std::make_unique<Histogram>(f->second.upper_bounds);
        break;
    }
  }
  return s->second;
}

Counter& Metrics::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  return *GetSeries(name, help, labels, Type::kCounter, nullptr).counter;
}

Gauge& Metrics::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *GetSeries(name, help, labels, Type::kGauge, nullptr).gauge;
}

Histogram& Metrics::GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                                 const std::vector<double>& upper_bounds) {
  return *GetSeries(name, help, labels, Type::kHistogram, &upper_bounds).histogram;
}

void Metrics::ObserveHttpRequest(std::string_view method, std::string_view route, int status,
                                 double seconds) {
  std::string_view status_class = StatusClass(status);
  std::string key;
  key.reserve(method.size() + route.size() + status_class.size() + 2);
  key.append(method).append(1, '\n').append(route).append(1, '\n').append(status_class);
  HttpSeries series{};
  {
    std::shared_lock lock(http_mu_);
    auto it = http_series_.find(key);
    if (it != http_series_.end()) series = it->second;
  }
  if (series.requests == nullptr) {
    Labels labels = {{"method", std::string(method)},
                     {"route", std::string(route)},
                     {"status", std::string(status_class)}};
    series.requests =
        &GetCounter("kiln_http_requests_total",
                    "HTTP requests answered, by method, route and status class", labels);
    series.duration = &GetHistogram(
        "kiln_http_request_duration_seconds",
        "Time from the first byte of a request to its response being handed to the socket", labels);
    std::unique_lock lock(http_mu_);
    http_series_.emplace(std::move(key), series);
  }
  series.requests->Inc();
  series.duration->Observe(seconds);
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  std::shared_lock lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
    switch (family.type) {
      case Type::kCounter:
        out += "# TYPE " + name + " counter\n";
        break;
      case Type::kGauge:
        out += "# TYPE " + name + " gauge\n";
        break;
      case Type::kHistogram:
        out += "# TYPE " + name + " histogram\n";
        break;
    }
    for (const auto& [labels, series] : family.series) {
      switch (family.type) {
        case Type::kCounter:
          out += SeriesName(name, "", labels) + " " + FormatValue(series.counter->value()) + "\n";
          break;
        case Type::kGauge:
          out += SeriesName(name, "", labels) + " " + FormatValue(series.gauge->value()) + "\n";
          break;
        case Type::kHistogram: {
          const Histogram& h = *series.histogram;
          std::vector<uint64_t> counts = h.CumulativeCounts();
          for (size_t i = 0; i < counts.size(); ++i) {
            std::string le =
                i < h.upper_bounds().size() ? FormatValue(h.upper_bounds()[i]) : "+Inf";
            out += SeriesName(name, "_bucket", labels, "le=\"" + le + "\"") + " " +
                   std::to_string(counts[i]) + "\n";
          }
          out += SeriesName(name, "_sum", labels) + " " + FormatValue(h.sum()) + "\n";
          out += SeriesName(name, "_count", labels) + " " + std::to_string(counts.back()) + "\n";
          break;
        }
      }
    }
  }
  return out;
}

void AddOperationalRoutes(Router& router, Metrics& metrics, std::function<Status()> ready) {
  router.Add(
      bhttp::verb::get, "/metrics",
      [&metrics](Request&) {
        return Response::Text(bhttp::status::ok, metrics.RenderPrometheus(),
                              "text/plain; version=0.0.4; charset=utf-8");
      },
      RouteDoc{.summary = "Prometheus metrics in the text exposition format",
               .tag = "operations",
               .response_schema = R"({"type":"string"})",
               .authenticated = false});
  router.Add(
      bhttp::verb::get, "/healthz",
      [](Request&) { return Response::Json(bhttp::status::ok, R"({"status":"ok"})"); },
      RouteDoc{
          .summary = "Liveness: the process is up and answering",
          .tag = "operations",
          .response_schema =
              R"({"type":"object","properties":{"status":{"type":"string","const":"ok"}},"required":["status"]})",
          .authenticated = false});
  router.Add(
      bhttp::verb::get, "/readyz",
      [ready = std::move(ready)](Request& request) {
        Status status = ready ? ready() : Status::Ok();
        if (status.ok()) return Response::Json(bhttp::status::ok, R"({"status":"ready"})");
        spdlog::warn("readyz: not ready: {} (request {})", status.ToString(), request.request_id);
        return Response::Error(bhttp::status::service_unavailable, "unavailable",
                               "not ready: " + std::string(status.code_name()));
      },
      RouteDoc{
          .summary = "Readiness: dependencies (database) answer; 503 when not",
          .tag = "operations",
          .response_schema =
              R"({"type":"object","properties":{"status":{"type":"string","const":"ready"}},"required":["status"]})",
          .authenticated = false});
}

}  // namespace kiln::http
