#include "kiln/store/catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

namespace kiln::store {
namespace {

std::string_view DialectSuffix(Dialect d) { return d == Dialect::kSqlite ? "sqlite" : "postgres"; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsIdent(std::string_view s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// A file name split into stem and optional dialect: "users.postgres.sql" -> {"users", "postgres"}.
struct FileName {
  std::string stem;
  std::string dialect;  // "", "sqlite" or "postgres"
};

Result<FileName> SplitFileName(std::string_view path, std::string_view base) {
  auto bad = [&] {
    return Status::InvalidArgument(
        std::string(path) +
        ": expected <name>.sql or <name>.sqlite.sql or <name>.postgres.sql (lowercase, digits, _)");
  };
  if (base.size() < 5 || base.substr(base.size() - 4) != ".sql") return bad();
  std::string_view rest = base.substr(0, base.size() - 4);
  FileName out;
  if (size_t dot = rest.rfind('.'); dot != std::string_view::npos) {
    out.dialect = std::string(rest.substr(dot + 1));
    rest = rest.substr(0, dot);
    if (out.dialect != "sqlite" && out.dialect != "postgres") return bad();
  }
  out.stem = std::string(rest);
  if (!IsIdent(out.stem) && !(std::isdigit(static_cast<unsigned char>(out.stem[0])))) return bad();
  return out;
}

struct Block {
  std::string name;
  std::string sql;
  std::string source;
};

Result<std::vector<Block>> ParseQueryFile(const SqlFile& file, std::string_view area) {
  constexpr std::string_view kMarker = "-- name:";
  std::vector<Block> blocks;
  std::string_view text = file.text;
  int line_no = 0;
  std::string pending;  // text before the first block
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    std::string_view t = Trim(line);
    if (t.substr(0, kMarker.size()) == kMarker) {
      std::string name(Trim(t.substr(kMarker.size())));
      std::string where = file.path + ":" + std::to_string(line_no);
      // The prefix is usually the file's area, but an area file may hold a few related groups
      // ("users.sql" with users.* and refresh.*); names are unique across all files anyway.
      size_t dot = name.find('.');
      if (dot == std::string::npos || !IsIdent(name.substr(0, dot)) ||
          !IsIdent(name.substr(dot + 1))) {
        return Status::InvalidArgument(where + ": query name '" + name + "' must be '" +
                                       std::string(area) +
                                       ".<lowercase_name>' (or <group>.<name>)");
      }
      blocks.push_back({std::move(name), "", std::move(where)});
      continue;
    }
    if (blocks.empty()) {
      if (!t.empty() && t.substr(0, 2) != "--") {
        return Status::InvalidArgument(file.path + ":" + std::to_string(line_no) +
                                       ": SQL before the first '-- name:' line");
      }
      continue;
    }
    blocks.back().sql.append(line).push_back('\n');
  }
  for (Block& b : blocks) {
    std::string_view sql = Trim(b.sql);
    while (!sql.empty() && sql.back() == ';') sql = Trim(sql.substr(0, sql.size() - 1));
    if (sql.empty()) return Status::InvalidArgument(b.source + ": query " + b.name + " is empty");
    b.sql = std::string(sql);
  }
  return blocks;
}

}  // namespace

Result<int> CountParams(std::string_view sql) {
  std::set<int> seen;
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // Quoted literal or identifier; a doubled quote is an escaped quote.
      ++i;
      while (i < n) {
        if (sql[i] == c) {
          if (i + 1 < n && sql[i + 1] == c) {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == '$' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t j = i + 1;
      int v = 0;
      while (j < n && std::isdigit(static_cast<unsigned char>(sql[j])) && v < 100000) {
        v = v * 10 + (sql[j] - '0');
        ++j;
      }
      if (v == 0)
        return Status::InvalidArgument("parameter $0 does not exist; parameters start at $1");
      seen.insert(v);
      i = j;
    } else {
      ++i;
    }
  }
  int max = seen.empty() ? 0 : *seen.rbegin();
  if (static_cast<int>(seen.size()) != max) {
    for (int k = 1; k <= max; ++k) {
      if (!seen.count(k)) {
        return Status::InvalidArgument("uses $" + std::to_string(max) + " but not $" +
                                       std::to_string(k));
      }
    }
  }
  return max;
}

Result<std::string> ExpandTokens(std::string_view sql, Dialect dialect) {
  static const std::map<std::string, std::pair<std::string, std::string>, std::less<>> kTokens = {
      // {token, {sqlite, postgres}}
      {"ID", {"INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}},
      {"BLOB", {"BLOB", "BYTEA"}},
  };
  std::string out;
  out.reserve(sql.size());
  size_t pos = 0;
  while (true) {
    size_t open = sql.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = sql.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated '{{' at offset " + std::to_string(open));
    }
    std::string_view token = sql.substr(open + 2, close - open - 2);
    auto it = kTokens.find(token);
    if (it == kTokens.end()) {
      return Status::InvalidArgument("unknown token {{" + std::string(token) +
                                     "}} (known: {{ID}}, {{BLOB}})");
    }
    out.append(sql.substr(pos, open - pos));
    out.append(dialect == Dialect::kSqlite ? it->second.first : it->second.second);
    pos = close + 2;
  }
  out.append(sql.substr(pos));
  return out;
}

Result<Catalog> LoadCatalog(const std::vector<SqlFile>& files, Dialect dialect) {
  const std::string_view mine = DialectSuffix(dialect);
  std::map<std::string, NamedQuery> portable;
  // Overrides for this dialect, checked against `portable` once every file is read.
  std::vector<Block> overrides;
  std::set<std::string> override_names;
  std::map<int, Migration> migrations_portable;
  std::map<int, Migration> migrations_mine;
  std::map<int, std::string> migration_names;  // version -> stem, to catch two names for one number

  for (const SqlFile& file : files) {
    std::string_view path = file.path;
    size_t slash = path.find('/');
    if (slash == std::string_view::npos || path.find('/', slash + 1) != std::string_view::npos) {
      return Status::InvalidArgument(file.path + ": expected queries/<file> or migrations/<file>");
    }
    std::string_view dir = path.substr(0, slash);
    KILN_ASSIGN_OR_RETURN(FileName fn, SplitFileName(path, path.substr(slash + 1)));

    if (dir == "queries") {
      if (!IsIdent(fn.stem)) {
        return Status::InvalidArgument(file.path +
                                       ": area name must be lowercase letters, digits, _");
      }
      KILN_ASSIGN_OR_RETURN(std::vector<Block> blocks, ParseQueryFile(file, fn.stem));
      for (Block& b : blocks) {
        // Parameters are validated for every dialect's files, so a bad override of the other
        // dialect still fails every build's boot.
        Result<int> params = CountParams(b.sql);
        if (!params.ok()) {
          return Status::InvalidArgument(b.source + ": query " + b.name + " " +
                                         params.status().message());
        }
        if (fn.dialect.empty()) {
          if (portable.count(b.name)) {
            return Status::InvalidArgument(b.source + ": duplicate query name " + b.name +
                                           " (first in " + portable[b.name].source + ")");
          }
          portable[b.name] = NamedQuery{b.name, b.sql, b.source, *params};
        } else if (fn.dialect == mine) {
          if (!override_names.insert(b.name).second) {
            return Status::InvalidArgument(b.source + ": duplicate query name " + b.name);
          }
          overrides.push_back(std::move(b));
        }
      }
    } else if (dir == "migrations") {
      // NNNN_name
      const std::string& stem = fn.stem;
      if (stem.size() < 6 || stem[4] != '_' ||
          !std::all_of(stem.begin(), stem.begin() + 4,
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
          !IsIdent(stem.substr(5))) {
        return Status::InvalidArgument(file.path + ": migration files are named NNNN_<name>.sql");
      }
      int version = std::stoi(stem.substr(0, 4));
      if (version == 0) return Status::InvalidArgument(file.path + ": migrations start at 0001");
      auto [it, inserted] = migration_names.emplace(version, stem);
      if (!inserted && it->second != stem) {
        return Status::InvalidArgument(file.path + ": migration number " + stem.substr(0, 4) +
                                       " is also used by " + it->second);
      }
      if (!fn.dialect.empty() && fn.dialect != mine) continue;
      Result<std::string> sql = ExpandTokens(file.text, dialect);
      if (!sql.ok()) return sql.status().WithContext(file.path);
      auto& target = fn.dialect.empty() ? migrations_portable : migrations_mine;
      if (target.count(version)) {
        return Status::InvalidArgument(file.path + ": duplicate migration " + stem);
      }
      target[version] = Migration{version, stem, std::move(*sql)};
    } else {
      return Status::InvalidArgument(file.path + ": expected queries/<file> or migrations/<file>");
    }
  }

  Catalog catalog;
  for (Block& b : overrides) {
    auto it = portable.find(b.name);
    if (it == portable.end()) {
      return Status::InvalidArgument(b.source + ": " + b.name +
                                     " overrides no query of the portable file; write the portable "
                                     "version first so every dialect has the query");
    }
    Result<int> params = CountParams(b.sql);
    if (*params != it->second.param_count) {
      return Status::InvalidArgument(b.source + ": " + b.name + " takes " +
                                     std::to_string(*params) +
                                     " parameters but the portable query (" + it->second.source +
                                     ") takes " + std::to_string(it->second.param_count));
    }
    it->second.sql = std::move(b.sql);
    it->second.source = std::move(b.source);
  }
  for (auto& [name, q] : portable) catalog.queries.push_back(std::move(q));

  for (auto& [version, m] : migrations_mine) migrations_portable[version] = std::move(m);
  int expected = 1;
  for (auto& [version, m] : migrations_portable) {
    if (version != expected) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d", expected);
      return Status::InvalidArgument("migrations/" + m.name + ".sql: migration " + buf +
                                     " is missing (migrations are numbered without gaps)");
    }
    ++expected;
    catalog.migrations.push_back(std::move(m));
  }
  return catalog;
}

}  // namespace kiln::store
