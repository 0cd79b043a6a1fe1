// Sender creation shared by the route files that add senders: POST .../senders (senders.cpp) and
// the CSV import POST .../senders/import (senders_import.cpp). Both go through the same checks and
// the same insert, so an imported sender is stored exactly like one added by hand: passwords
// sealed with AES-256-GCM bound to the row and field, the warm-up plan checked, an audit record,
// status unverified.
//
// Pure functions over their arguments (the database work happens in the caller's transaction);
// thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/api/api.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::api {

// The largest CSV body POST .../senders/import takes (Api::BodyLimitFor).
inline constexpr size_t kMaxSenderImportBytes = size_t{4} << 20;

// Checks `body` as the input of a new sender (the body of POST .../senders) at time `now`,
// without writing. Success: *email holds the normalized address. Failure: InvalidArgument naming
// the input field at fault ("smtp.port", "warmup.max_volume").
Status CheckNewSender(const boost::json::object& body, int64_t now, std::string* email);

// Inserts a new sender from `body` in `tx` (checked as CheckNewSender does): the row, its warm-up
// plan, its sealed passwords and an audit record `action` ("sender.created", "sender.imported").
// Success: the new id. Failure: the check's InvalidArgument, AlreadyExists naming "email" when the
// workspace has a sender with this address, or the database's error.
Result<int64_t> InsertNewSender(const Api& api, store::Tx& tx, const Ctx& ctx,
                                const boost::json::object& body, std::string_view action,
                                int64_t now);

}  // namespace kiln::api
