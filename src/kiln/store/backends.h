// The two Database implementations and what they share. Internal to kiln/store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/store/catalog.h"
#include "kiln/store/db.h"

namespace kiln::store {

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path, const OpenOptions& options,
                                             Catalog catalog, const Clock& clock);
Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const OpenOptions& options,
                                               Catalog catalog, const Clock& clock);

// Compares the migrations recorded in the database with the binary's. Fails when the database has
// a version the binary does not know (it is newer), or when `migrate` is false and some are
// pending. On success returns the migrations still to apply, in order.
Result<std::vector<const Migration*>> PendingMigrations(const std::vector<int>& applied,
                                                        const Catalog& catalog, bool migrate);

// "migration 0002_x failed: <error>"
Status MigrationFailed(const Migration& m, std::string_view error);

// "<query>: expects N parameters, got M" when they differ.
Status CheckParamCount(const NamedQuery& q, const Params& params);

}  // namespace kiln::store
