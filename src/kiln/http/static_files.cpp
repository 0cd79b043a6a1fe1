#include "kiln/http/static_files.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kiln::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

constexpr std::string_view kNotBuiltPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto">
<h1>Kiln is running</h1>
<p>The web UI is not built, so there is nothing to show here yet. The JSON API under
<code>/api/v1/</code> works.</p>
<p>Build the UI with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then point
<code>web_root</code> at <code>web/dist</code> (or restart Kiln from the repository root).</p>
</body></html>
)";

std::string_view ContentTypeFor(std::string_view name) {
  size_t dot = name.rfind('.');
  std::string ext = dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  };
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

// RFC 9110 IMF-fixdate, independent of the C locale.
std::string HttpDate(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool IsInside(const fs::path& file, const fs::path& root) {
  const std::string& f = file.native();
  const std::string& r = root.native();
  return f.size() > r.size() && f.compare(0, r.size(), r) == 0 &&
         (r.back() == '/' || f[r.size()] == '/');
}

Response NotFound(bool api) {
  if (api) return Response::Error(bhttp::status::not_found, "not_found", "no such endpoint");
  return Response::Text(bhttp::status::not_found, "404 not found\n");
}

}  // namespace

StaticFiles::StaticFiles(StaticFileOptions options) : options_(std::move(options)) {}

Response StaticFiles::Serve(const Request& request) const {
  const bool decoded_only = request.target.empty();
  std::string_view raw = decoded_only ? std::string_view(request.path) : RawPath(request.target);
  const bool api = raw == "/api" || raw.starts_with("/api/");
  if (request.method != bhttp::verb::get && request.method != bhttp::verb::head) {
    Response r =
        api ? Response::Error(bhttp::status::method_not_allowed, "method_not_allowed",
                              "only GET and HEAD are allowed here")
            : Response::Text(bhttp::status::method_not_allowed, "405 method not allowed\n");
    r.SetHeader(bhttp::field::allow, "GET, HEAD");
    return r;
  }
  if (api) return NotFound(true);

  // Segment-wise: decoding first would let "%2F" or "..%2F" smuggle separators past the checks.
  std::vector<std::string> segments;
  std::string_view rest = raw;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty()) continue;
    std::string segment;
    if (decoded_only) {
      segment = std::string(part);
    } else {
      auto decoded = PercentDecode(part);
      if (!decoded.ok()) {
        return Response::Text(bhttp::status::bad_request,
                              "400 bad path: " + decoded.status().message() + "\n");
      }
      segment = std::move(*decoded);
    }
    if (segment.front() == '.' ||
        segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
      return NotFound(false);
    }
    segments.push_back(std::move(segment));
  }

  std::error_code ec;
  fs::path root = fs::canonical(options_.web_root, ec);
  const bool have_root = !ec;
  auto serve_index = [&]() -> Response {
    fs::path index = root / "index.html";
    if (have_root && fs::is_regular_file(index, ec)) {
      // The fallback answers many URLs with one body; it is the same file, so the same ETag.
      Request index_request;
      index_request.method = request.method;
      index_request.path = "/index.html";
      index_request.headers = request.headers;
      return Serve(index_request);
    }
    Response r =
        Response::Text(bhttp::status::ok, std::string(kNotBuiltPage), "text/html; charset=utf-8");
    r.SetHeader(bhttp::field::cache_control, kRevalidate);
    return r;
  };

  std::string relative;
  for (const auto& s : segments) {
    if (!relative.empty()) relative += '/';
    relative += s;
  }
  if (relative.empty()) return serve_index();
  if (!have_root) {
    return segments.back().find('.') == std::string::npos ? serve_index() : NotFound(false);
  }

  fs::path file = fs::canonical(root / relative, ec);
  bool is_file = !ec && fs::is_regular_file(file, ec) && !ec;
  if (is_file && !IsInside(file, root)) {
    spdlog::warn("static: refused {}: resolves outside the web root (request {})", relative,
                 request.request_id);
    return NotFound(false);
  }
  if (!is_file) {
    if (segments.back().find('.') == std::string::npos) return serve_index();
    return NotFound(false);
  }

  uintmax_t size = fs::file_size(file, ec);
  if (ec) {
    spdlog::error("static: cannot stat {}: {} (request {})", file.string(), ec.message(),
                  request.request_id);
    return Response::Text(bhttp::status::internal_server_error, "500 cannot read file\n");
  }
  if (size > options_.max_file_size) {
    spdlog::error("static: {} is {} bytes, over the {} byte limit (request {})", file.string(),
                  size, options_.max_file_size, request.request_id);
    return Response::Text(bhttp::status::internal_server_error, "500 file too large to serve\n");
  }
  auto mtime = fs::last_write_time(file, ec);
  auto sys_mtime = std::chrono::file_clock::to_sys(mtime);
  auto mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(sys_mtime.time_since_epoch()).count();
  char etag_buf[64];
  std::snprintf(etag_buf, sizeof etag_buf, "\"%jx-%llx\"", size,
                static_cast<unsigned long long>(mtime_ns));
  std::string etag = etag_buf;
  std::string last_modified = HttpDate(std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(sys_mtime)));
  std::string_view cache = relative.starts_with("assets/") ? kImmutable : kRevalidate;

  auto add_validators = [&](Response& r) {
    r.SetHeader(bhttp::field::etag, etag);
    r.SetHeader(bhttp::field::last_modified, last_modified);
    r.SetHeader(bhttp::field::cache_control, cache);
  };
  std::string_view if_none_match = request.Header(bhttp::field::if_none_match);
  bool not_modified = false;
  if (!if_none_match.empty()) {
    not_modified = if_none_match == "*" || if_none_match.find(etag) != std::string_view::npos;
  } else if (request.Header(bhttp::field::if_modified_since) == last_modified) {
    not_modified = true;
  }
  if (not_modified) {
    Response r;
    r.status = bhttp::status::not_modified;
    add_validators(r);
    return r;
  }

  std::string body;
  if (request.method == bhttp::verb::get) {
    std::ifstream in(file, std::ios::binary);
    body.resize(size);
    if (!in || !in.read(body.data(), static_cast<std::streamsize>(size))) {
      spdlog::error("static: cannot read {} (request {})", file.string(), request.request_id);
      return Response::Text(bhttp::status::internal_server_error, "500 cannot read file\n");
    }
  } else {
    body.resize(size);  // HEAD: the server sends only the headers, Content-Length from the size
  }
  Response r = Response::Text(bhttp::status::ok, std::move(body), ContentTypeFor(relative));
  add_validators(r);
  return r;
}

Handler MakeStaticFileHandler(StaticFileOptions options) {
  auto files = std::make_shared<const StaticFiles>(std::move(options));
  return [files](Request& request) { return files->Serve(request); };
}

}  // namespace kiln::http
