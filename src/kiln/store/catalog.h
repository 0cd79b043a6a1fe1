// Catalog: the named queries and migrations of one dialect, parsed from the .sql files under
// store/sql/ (embedded at build time, see embed_sql.cmake). Internal to kiln/store.
//
//   queries/<area>.sql            blocks "-- name: <area>.<query>" in the portable dialect (the
//                                 prefix may name a related group: users.sql holds refresh.*)
//   queries/<area>.<dialect>.sql  blocks that replace same-named portable blocks for one dialect
//   migrations/NNNN_<name>.sql    numbered schema changes, {{TOKENS}} expanded per dialect
//   migrations/NNNN_<name>.<dialect>.sql  replaces the portable migration NNNN for one dialect
// where <dialect> is "sqlite" or "postgres". See docs/decisions/0001-sql-dialect.md.
//
// Pure functions over values; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::store {

struct NamedQuery {
  std::string name;     // "users.create"
  std::string sql;      // one statement, no trailing ';'
  std::string source;   // "queries/users.sql:12", for error messages
  int param_count = 0;  // highest $N; every $1..$N appears
};

struct Migration {
  int version = 0;
  std::string name;  // "0001_init"
  std::string sql;   // tokens expanded; may hold several statements
};

struct Catalog {
  std::vector<NamedQuery> queries;    // sorted by name
  std::vector<Migration> migrations;  // sorted by version: 1, 2, 3, ... without gaps
};

// The files compiled into the binary (generated).
std::vector<SqlFile> EmbeddedSqlFiles();

// Parses `files` for `dialect`. Fails (InvalidArgument, naming the file and line) on: a duplicate
// query name (across all files), a name not shaped <group>.<name>, an override without a portable
// block, text before the first block, an empty block, $N parameters with gaps, a migration number
// used twice or missing, an unknown {{TOKEN}}, a file name that fits none of the patterns above.
Result<Catalog> LoadCatalog(const std::vector<SqlFile>& files, Dialect dialect);

// Highest $N in `sql` outside quotes and comments; InvalidArgument when some $K <= N is unused
// (SQLite and PostgreSQL would disagree on the parameter list).
Result<int> CountParams(std::string_view sql);

// Expands the migration tokens: {{ID}} (auto-increment 64-bit primary key), {{BLOB}} (bytes).
Result<std::string> ExpandTokens(std::string_view sql, Dialect dialect);

}  // namespace kiln::store
