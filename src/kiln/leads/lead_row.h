// Lead rows from a CSV file: which column holds what (header detection and the automatic guess a
// user can correct), and the checks every row passes before it becomes a lead.
//
// Pure functions over plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/domain/tz.h"

namespace kiln::leads {

enum class LeadField {
  kIgnore,  // the column is not imported
  kEmail,
  kFirstName,
  kLastName,
  kFullName,  // "Ann Lee": split into first and last name
  kCompany,
  kTitle,
  kTimezone,
  kPhone,
  kWebsite,
  kCustom,  // a custom field (template variable {{ custom.<key> }})
};

// "email", "first_name", ... "custom", "ignore": the names the API uses in a mapping.
std::string_view LeadFieldName(LeadField f);
std::optional<LeadField> LeadFieldFromName(std::string_view name);

struct ColumnTarget {
  LeadField field = LeadField::kIgnore;
  std::string custom_key;  // for kCustom: [a-z0-9_], at most 64 characters
};

// One target per column of the file, in order.
struct ColumnMapping {
  std::vector<ColumnTarget> columns;
  bool has_header = true;
};

// Whether the first record of a file is a header row: no field is an email address and at least
// one field names a known column ("Email", "First Name", "company", ...) or every field is a
// short label without digits or '@'.
bool LooksLikeHeader(const std::vector<std::string>& first_record);

// The automatic mapping for a header row: known names (case, spaces, '-' and '_' ignored; common
// synonyms such as "E-mail Address", "Given name", "Organization", "Job title", "Mobile", "URL")
// map to lead fields, each lead field at most once; every other column becomes a custom field
// keyed by its normalised name ("Favourite Colour" -> "favourite_colour"; de-duplicated with a
// numeric suffix). Without a header row (has_header false), the email column is the first column
// whose value in `first_record` is an address and the others are custom fields column_<n>.
ColumnMapping GuessMapping(const std::vector<std::string>& first_record, bool has_header);

// A user's mapping from the API: {"Email Address": "email", "Colour": "custom:colour",
// "Notes": "ignore"} by header name, or by 1-based column number ("3": "email"). Columns left out
// keep the guess. Failure: InvalidArgument naming the offending key ("mapping.Colour") when a
// name is neither a header nor a column number, a target is unknown, a custom key is malformed,
// or the result has no email column or maps two columns to one lead field.
Result<ColumnMapping> ApplyUserMapping(const std::vector<std::string>& header, ColumnMapping guess,
                                       const std::map<std::string, std::string>& user);

// A mapping must name exactly one email column. InvalidArgument otherwise.
Status ValidateMapping(const ColumnMapping& mapping);

// A lead as read from one row, before it is stored.
struct LeadRow {
  std::string email;  // normalised (domain lowercased)
  std::string first_name, last_name, company, title, timezone, phone, website;
  std::vector<std::pair<std::string, std::string>> custom;  // key, value
  bool role_address = false;       // info@, sales@, ... (flagged, still imported)
  bool disposable_domain = false;  // mailinator.com, ... (flagged, still imported)
};

// Maps one record and checks it: the email (domain/email_address.h rules, IDN domains accepted),
// the time zone when given (an IANA name known to `zones`, when `zones` is set), lengths (names,
// company and title at most 200 characters, phone 50, website 500, custom values 2,000).
// Success: the lead. Failure: InvalidArgument whose field() is the column at fault (its header
// name, or "column 3" without a header) and whose message says what is wrong.
Result<LeadRow> ReadLeadRow(const std::vector<std::string>& fields, const ColumnMapping& mapping,
                            const std::vector<std::string>& header,
                            domain::TimeZoneDatabase* zones = nullptr);

// Role addresses: local parts that name a function rather than a person (info, sales, support,
// admin, noreply, ...), compared case-insensitively and ignoring a "+tag".
bool IsRoleAddress(std::string_view email);

// Disposable-mailbox domains (a built-in list of well-known throwaway providers), including their
// subdomains.
bool IsDisposableDomain(std::string_view domain);

}  // namespace kiln::leads
