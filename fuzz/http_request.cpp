// fuzz_http_request: what Kiln does with an attacker's request-target. Runs ParseTarget, then
// Router::Dispatch with API routes and the static-file fallback over a throwaway web root.
// Invariants: nothing crashes; a decoded path or query never holds a NUL; a response never carries
// a byte of a file outside the web root or of a dotfile inside it (path confinement).
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "kiln/http/message.h"
#include "kiln/http/router.h"
#include "kiln/http/static_files.h"

namespace {

namespace fs = std::filesystem;
using kiln::http::Request;
using kiln::http::Response;

void WriteFile(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

struct Fixture {
  Fixture() {
    std::string tmpl = (fs::temp_directory_path() / "kiln-fuzz-http-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    WriteFile(dir / "secret.txt", "SECRET-OUTSIDE-ROOT");
    WriteFile(dir / "web/index.html", "<html>index</html>");
    WriteFile(dir / "web/assets/app-1.js", "js");
    WriteFile(dir / "web/.env", "SECRET-DOTFILE");
    fs::create_directory_symlink(dir, dir / "web/up");
    fs::create_symlink(dir / "secret.txt", dir / "web/link.txt");
    router.Add(kiln::http::bhttp::verb::get, "/api/v1/items/{id}",
               [](Request& r) {
                 return Response::Text(kiln::http::bhttp::status::ok, r.path_params["id"]);
               },
               {.summary = "fuzz"});
    router.Add(kiln::http::bhttp::verb::get, "/api/v1/items/new",
               [](Request&) { return Response::NoContent(); }, {.summary = "fuzz"});
    router.SetFallback(kiln::http::MakeStaticFileHandler({dir / "web"}));
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
  kiln::http::Router router;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  std::string target(reinterpret_cast<const char*>(data), size);

  Request parsed;
  if (kiln::http::ParseTarget(target, parsed).ok()) {
    FUZZ_CHECK(parsed.path.find('\0') == std::string::npos);
    for (const auto& [k, v] : parsed.query) {
      FUZZ_CHECK(k.find('\0') == std::string::npos && v.find('\0') == std::string::npos);
    }
  }

  for (auto method : {kiln::http::bhttp::verb::get, kiln::http::bhttp::verb::head}) {
    Request request;
    request.method = method;
    request.target = target;
    Response response = fixture.router.Dispatch(request);
    FUZZ_CHECK(response.body.find("SECRET") == std::string::npos);
    for (const auto& [k, v] : request.path_params) FUZZ_CHECK(!v.empty());
  }
  return 0;
}
