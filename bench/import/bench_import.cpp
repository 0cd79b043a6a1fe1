// bench_import: imports a lead CSV file with leads::LeadImporter (validation, de-duplication,
// suppression) into a fresh workspace of the database at URL, reading the file in 1 MiB chunks,
// and prints "kiln import: N rows in S s = R rows/s (imported I, duplicates D, invalid E)".
// Usage: bench_import FILE.csv DATABASE_URL   (a SQLite path or postgres://...)
// See bench/import/run, which measures sqlite3 .import (and COPY) on the same file as references.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "kiln/base/clock.h"
#include "kiln/leads/importer.h"
#include "kiln/store/db.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_import FILE.csv DATABASE_URL\n");
    return 2;
  }
  auto db = kiln::store::OpenDatabase(argv[2], kiln::store::OpenOptions{});
  if (!db.ok()) {
    std::fprintf(stderr, "bench_import: %s\n", db.status().ToString().c_str());
    return 1;
  }
  kiln::SystemClock clock;
  int64_t ws = 0;
  kiln::Status s = (*db)->Write([&](kiln::store::Tx& tx) -> kiln::Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"bench", clock.NowMillis()}));
    ws = w.Int("id");
    return kiln::Status::Ok();
  });
  if (!s.ok()) {
    std::fprintf(stderr, "bench_import: %s\n", s.ToString().c_str());
    return 1;
  }
  kiln::domain::TimeZoneDatabase zones;
  kiln::leads::LeadImporter importer(**db, clock, &zones, ws, std::nullopt, {});
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_import: cannot open %s\n", argv[1]);
    return 1;
  }
  std::vector<char> buf(1 << 20);
  const auto t0 = std::chrono::steady_clock::now();
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    s = importer.Feed(std::string_view(buf.data(), n));
    if (!s.ok()) break;
  }
  if (s.ok()) s = importer.Finish();
  const double secs = kiln::bench::WallSecondsSince(t0);
  if (!s.ok()) {
    std::fprintf(stderr, "bench_import: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto& c = importer.counts();
  std::printf(
      "kiln import: %lld rows in %.2f s = %.0f rows/s (imported %lld, duplicates %lld, "
      "invalid %lld)\n",
      static_cast<long long>(c.rows), secs, static_cast<double>(c.rows) / secs,
      static_cast<long long>(c.imported), static_cast<long long>(c.duplicates),
      static_cast<long long>(c.invalid));
  return 0;
}
