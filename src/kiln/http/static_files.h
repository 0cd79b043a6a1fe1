// StaticFiles: serves the built web UI (web/dist) from a root folder, as the Router's fallback.
//
//   - GET and HEAD only (405 with Allow otherwise).
//   - The path is split into segments, each percent-decoded, and refused (404) when a segment is
//     "." / ".." / a dotfile or contains '/', '\' or NUL after decoding; invalid encoding is 400.
//     The file's canonical path (symlinks resolved) must lie inside the canonical root.
//   - Content-Type by extension; a strong ETag (size + mtime) and Last-Modified; If-None-Match and
//     If-Modified-Since (exact match, as nginx does by default) answer 304.
//   - Vite's hashed /assets/* are cached forever (public, max-age=31536000, immutable);
//     everything else, index.html included, is "no-cache" (revalidate with the ETag).
//   - SPA fallback: a path that is not a file, is not under /api/ and whose last segment has no
//     extension serves index.html. /api/... never falls back (404 in the API's error shape).
//   - A root without index.html answers "/" (and SPA fallbacks) with a small built-in page that
//     says the web UI is not built and how to build it.
//   - Files are read into memory per request, up to max_file_size (larger: 500, logged).
//
// Thread-safety: Serve is const and keeps no state between requests; safe from any thread.
#pragma once

#include <cstddef>
#include <filesystem>

#include "kiln/http/message.h"
#include "kiln/http/router.h"

namespace kiln::http {

struct StaticFileOptions {
  std::filesystem::path web_root;   // e.g. "web/dist"; may not exist yet
  size_t max_file_size = 32 << 20;  // bytes
};

class StaticFiles {
 public:
  explicit StaticFiles(StaticFileOptions options);
  // Answers the request from the root as described above; never throws for I/O errors (500).
  Response Serve(const Request& request) const;

 private:
  StaticFileOptions options_;
};

// A Handler (for Router::SetFallback) that owns a StaticFiles.
Handler MakeStaticFileHandler(StaticFileOptions options);

}  // namespace kiln::http
