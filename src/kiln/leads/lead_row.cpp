#include "kiln/leads/lead_row.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <utility>

#include "kiln/base/utf8.h"
#include "kiln/domain/email_address.h"

namespace kiln::leads {
namespace {

struct FieldName {
  LeadField field;
  std::string_view name;
};
constexpr std::array<FieldName, 11> kFieldNames = {{
    {LeadField::kIgnore, "ignore"},
    {LeadField::kEmail, "email"},
    {LeadField::kFirstName, "first_name"},
    {LeadField::kLastName, "last_name"},
    {LeadField::kFullName, "full_name"},
    {LeadField::kCompany, "company"},
    {LeadField::kTitle, "title"},
    {LeadField::kTimezone, "timezone"},
    {LeadField::kPhone, "phone"},
    {LeadField::kWebsite, "website"},
    {LeadField::kCustom, "custom"},
}};

// Header names as people write them, reduced by Squash (lowercase, letters and digits only).
struct Synonym {
  std::string_view squashed;
  LeadField field;
};
constexpr std::array<Synonym, 52> kSynonyms = {{
    {"email", LeadField::kEmail},
    {"emailaddress", LeadField::kEmail},
    {"mail", LeadField::kEmail},
    {"emailid", LeadField::kEmail},
    {"workemail", LeadField::kEmail},
    {"businessemail", LeadField::kEmail},
    {"primaryemail", LeadField::kEmail},
    {"courriel", LeadField::kEmail},
    {"firstname", LeadField::kFirstName},
    {"first", LeadField::kFirstName},
    {"givenname", LeadField::kFirstName},
    {"forename", LeadField::kFirstName},
    {"prenom", LeadField::kFirstName},
    {"vorname", LeadField::kFirstName},
    {"lastname", LeadField::kLastName},
    {"last", LeadField::kLastName},
    {"surname", LeadField::kLastName},
    {"familyname", LeadField::kLastName},
    {"nom", LeadField::kLastName},
    {"nachname", LeadField::kLastName},
    {"name", LeadField::kFullName},
    {"fullname", LeadField::kFullName},
    {"contactname", LeadField::kFullName},
    {"company", LeadField::kCompany},
    {"companyname", LeadField::kCompany},
    {"organization", LeadField::kCompany},
    {"organisation", LeadField::kCompany},
    {"account", LeadField::kCompany},
    {"accountname", LeadField::kCompany},
    {"employer", LeadField::kCompany},
    {"business", LeadField::kCompany},
    {"title", LeadField::kTitle},
    {"jobtitle", LeadField::kTitle},
    {"position", LeadField::kTitle},
    {"role", LeadField::kTitle},
    {"designation", LeadField::kTitle},
    {"timezone", LeadField::kTimezone},
    {"tz", LeadField::kTimezone},
    {"leadtimezone", LeadField::kTimezone},
    {"phone", LeadField::kPhone},
    {"phonenumber", LeadField::kPhone},
    {"mobile", LeadField::kPhone},
    {"mobilephone", LeadField::kPhone},
    {"telephone", LeadField::kPhone},
    {"tel", LeadField::kPhone},
    {"cell", LeadField::kPhone},
    {"website", LeadField::kWebsite},
    {"url", LeadField::kWebsite},
    {"web", LeadField::kWebsite},
    {"companywebsite", LeadField::kWebsite},
    {"domain", LeadField::kWebsite},
    {"companydomain", LeadField::kWebsite},
}};

constexpr std::array<std::string_view, 44> kRoleLocalParts = {
    "abuse",     "accounting",  "accounts",  "admin",     "administrator", "billing",
    "careers",   "contact",     "contactus", "enquiries", "enquiry",       "feedback",
    "finance",   "hello",       "help",      "helpdesk",  "hostmaster",    "hr",
    "info",      "inquiries",   "inquiry",   "jobs",      "legal",         "mail",
    "marketing", "media",       "news",      "no-reply",  "noreply",       "office",
    "orders",    "postmaster",  "press",     "privacy",   "reception",     "recruiting",
    "sales",     "security",    "service",   "support",   "team",          "webmaster",
    "welcome",   "do-not-reply"};

// Well-known throwaway mailbox providers (a fixed list; subdomains match too).
constexpr std::array<std::string_view, 60> kDisposableDomains = {
    "10minutemail.com",  "10minutemail.net",  "20minutemail.com",
    "33mail.com",        "anonbox.net",       "burnermail.io",
    "discard.email",     "dispostable.com",   "dropmail.me",
    "emailondeck.com",   "fakeinbox.com",     "fakemail.net",
    "getairmail.com",    "getnada.com",       "guerrillamail.biz",
    "guerrillamail.com", "guerrillamail.de",  "guerrillamail.info",
    "guerrillamail.net", "guerrillamail.org", "guerrillamailblock.com",
    "harakirimail.com",  "inboxbear.com",     "incognitomail.org",
    "jetable.org",       "mailcatch.com",     "maildrop.cc",
    "mailinator.com",    "mailinator.net",    "mailinator2.com",
    "mailnesia.com",     "mailnull.com",      "mailsac.com",
    "mintemail.com",     "moakt.com",         "mohmal.com",
    "mytemp.email",      "nada.email",        "sharklasers.com",
    "spam4.me",          "spambox.us",        "spamgourmet.com",
    "temp-mail.io",      "temp-mail.org",     "tempail.com",
    "tempinbox.com",     "tempmail.com",      "tempmail.net",
    "tempmailo.com",     "tempr.email",       "throwawaymail.com",
    "trash-mail.com",    "trashmail.com",     "trashmail.de",
    "trashmail.net",     "wegwerfmail.de",    "yopmail.com",
    "yopmail.fr",        "yopmail.net",       "mailpoof.com"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lowercase ASCII letters and digits only; "E-mail Address" -> "emailaddress". Accented Latin-1
// letters of common headers ("Prénom") lose their accent first.
std::string Squash(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (c == 0xC3 && i + 1 < s.size()) {  // U+00C0..U+00FF
      const auto d = static_cast<unsigned char>(s[i + 1]);
      const char* map = "aaaaaaaceeeeiiiidnooooo*ouuuuyts";  // from U+00E0 / U+00C0
      out.push_back(map[(d & 0x1F)]);
      ++i;
    }
  }
  return out;
}

// A custom field key: lowercase [a-z0-9_], words joined by '_', at most 64 characters.
std::string CustomKey(std::string_view header) {
  std::string out;
  bool gap = false;
  for (char ch : header) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) && c < 0x80) {
      if (gap && !out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(c)));
      gap = false;
    } else {
      gap = true;
    }
    if (out.size() >= 64) break;
  }
  return out;
}

bool IsCustomKey(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string ColumnName(const std::vector<std::string>& header, size_t i) {
  if (i < header.size() && !header[i].empty()) return header[i];
  return "column " + std::to_string(i + 1);
}

// Characters (code points) in UTF-8 text.
size_t Characters(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string_view LeadFieldName(LeadField f) {
  for (const auto& n : kFieldNames) {
    if (n.field == f) return n.name;
  }
  return "ignore";
}

std::optional<LeadField> LeadFieldFromName(std::string_view name) {
  for (const auto& n : kFieldNames) {
    if (n.name == name) return n.field;
  }
  return std::nullopt;
}

bool LooksLikeHeader(const std::vector<std::string>& first) {
  bool known = false, all_labels = !first.empty();
  for (const std::string& f : first) {
    if (domain::NormalizeEmailAddress(f).ok()) return false;
    const std::string sq = Squash(f);
    for (const auto& s : kSynonyms) {
      if (s.squashed == sq) known = true;
    }
    if (f.size() > 64 || f.find('@') != std::string::npos ||
        std::any_of(f.begin(), f.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      all_labels = false;
    }
  }
  return known || all_labels;
}

ColumnMapping GuessMapping(const std::vector<std::string>& first, bool has_header) {
  ColumnMapping m;
  m.has_header = has_header;
  m.columns.resize(first.size());
  std::set<LeadField> taken;
  std::set<std::string> keys;
  auto unique_key = [&](std::string k) {
    if (k.empty()) k = "column";
    std::string candidate = k;
    for (int n = 2; keys.count(candidate); ++n) candidate = k + "_" + std::to_string(n);
    keys.insert(candidate);
    return candidate;
  };
  if (has_header) {
    for (size_t i = 0; i < first.size(); ++i) {
      const std::string sq = Squash(first[i]);
      for (const auto& s : kSynonyms) {
        if (s.squashed == sq && !taken.count(s.field)) {
          m.columns[i].field = s.field;
          taken.insert(s.field);
          break;
        }
      }
    }
    // A full-name column only when first and last names are not both there.
    for (auto& c : m.columns) {
      if (c.field == LeadField::kFullName && taken.count(LeadField::kFirstName) &&
          taken.count(LeadField::kLastName)) {
        c.field = LeadField::kIgnore;
        taken.erase(LeadField::kFullName);
      }
    }
    for (size_t i = 0; i < first.size(); ++i) {
      if (m.columns[i].field != LeadField::kIgnore) continue;
      // Unnamed columns hold nothing the user labelled: leave them out.
      if (Trim(first[i]).empty()) continue;
      m.columns[i].field = LeadField::kCustom;
      m.columns[i].custom_key = unique_key(CustomKey(first[i]));
    }
    return m;
  }
  for (size_t i = 0; i < first.size(); ++i) {
    if (!taken.count(LeadField::kEmail) && domain::NormalizeEmailAddress(first[i]).ok()) {
      m.columns[i].field = LeadField::kEmail;
      taken.insert(LeadField::kEmail);
    } else {
      m.columns[i].field = LeadField::kCustom;
      m.columns[i].custom_key = unique_key("column_" + std::to_string(i + 1));
    }
  }
  return m;
}

Status ValidateMapping(const ColumnMapping& mapping) {
  std::map<LeadField, int> count;
  for (const auto& c : mapping.columns) {
    if (c.field == LeadField::kCustom && !IsCustomKey(c.custom_key)) {
      return Status::InvalidArgument(
          "custom field key '" + c.custom_key + "' must be 1-64 characters of a-z, 0-9 and _",
          "mapping");
    }
    if (c.field != LeadField::kIgnore && c.field != LeadField::kCustom) ++count[c.field];
  }
  if (count[LeadField::kEmail] != 1) {
    return Status::InvalidArgument(count[LeadField::kEmail] == 0
                                       ? "no column is mapped to email"
                                       : "more than one column is mapped to email",
                                   "mapping");
  }
  for (const auto& [field, n] : count) {
    if (n > 1) {
      return Status::InvalidArgument(
          "more than one column is mapped to " + std::string(LeadFieldName(field)), "mapping");
    }
  }
  std::set<std::string> keys;
  for (const auto& c : mapping.columns) {
    if (c.field == LeadField::kCustom && !keys.insert(c.custom_key).second) {
      return Status::InvalidArgument("two columns are mapped to custom field " + c.custom_key,
                                     "mapping");
    }
  }
  return Status::Ok();
}

Result<ColumnMapping> ApplyUserMapping(const std::vector<std::string>& header, ColumnMapping guess,
                                       const std::map<std::string, std::string>& user) {
  for (const auto& [key, target] : user) {
    const std::string field = "mapping." + key;
    std::optional<size_t> col;
    for (size_t i = 0; i < header.size() && guess.has_header; ++i) {
      if (header[i] == key) {
        col = i;
        break;
      }
    }
    if (!col && !key.empty() && key.size() <= 4 &&
        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const size_t n = std::stoul(key);
      if (n >= 1 && n <= guess.columns.size()) col = n - 1;
    }
    if (!col) {
      return Status::InvalidArgument("is neither a column header of the file nor a column number",
                                     field);
    }
    ColumnTarget t;
    if (target.rfind("custom:", 0) == 0) {
      t.field = LeadField::kCustom;
      t.custom_key = target.substr(7);
      if (!IsCustomKey(t.custom_key)) {
        return Status::InvalidArgument("custom field key must be 1-64 characters of a-z, 0-9 and _",
                                       field);
      }
    } else if (target == "custom") {
      t.field = LeadField::kCustom;
      t.custom_key = CustomKey(ColumnName(header, *col));
      if (t.custom_key.empty()) t.custom_key = "column_" + std::to_string(*col + 1);
    } else if (auto f = LeadFieldFromName(target)) {
      t.field = *f;
    } else {
      return Status::InvalidArgument(
          "unknown target '" + target +
              "' (email, first_name, last_name, full_name, company, title, timezone, phone, "
              "website, custom, custom:<key>, ignore)",
          field);
    }
    guess.columns[*col] = std::move(t);
  }
  // A field the user gave to a column is taken away from the column the guess gave it to.
  for (const auto& [key, target] : user) {
    (void)key;
    auto f = LeadFieldFromName(target);
    if (!f || *f == LeadField::kIgnore || *f == LeadField::kCustom) continue;
    int seen = 0;
    for (const auto& c : guess.columns) seen += c.field == *f;
    if (seen < 2) continue;
    for (size_t i = 0; i < guess.columns.size(); ++i) {
      if (guess.columns[i].field != *f) continue;
      const std::string name = ColumnName(header, i);
      const bool chosen = user.count(name) || user.count(std::to_string(i + 1));
      if (!chosen) guess.columns[i] = ColumnTarget{};
    }
  }
  KILN_RETURN_IF_ERROR(ValidateMapping(guess));
  return guess;
}

Result<LeadRow> ReadLeadRow(const std::vector<std::string>& fields, const ColumnMapping& mapping,
                            const std::vector<std::string>& header,
                            domain::TimeZoneDatabase* zones) {
  LeadRow row;
  bool have_email = false;
  for (size_t i = 0; i < mapping.columns.size() && i < fields.size(); ++i) {
    const ColumnTarget& t = mapping.columns[i];
    if (t.field == LeadField::kIgnore) continue;
    const std::string value = Trim(fields[i]);
    const std::string col = ColumnName(header, i);
    auto limit = [&](size_t max) -> Status {
      if (Characters(value) > max) {
        return Status::InvalidArgument("is longer than " + std::to_string(max) + " characters",
                                       col);
      }
      return Status::Ok();
    };
    switch (t.field) {
      case LeadField::kEmail: {
        if (value.empty()) return Status::InvalidArgument("is empty (an email is required)", col);
        auto norm = domain::NormalizeEmailAddress(value);
        if (!norm.ok()) {
          return Status::InvalidArgument(
              "'" + value.substr(0, 100) + "' is not a valid address: " + norm.status().message(),
              col);
        }
        row.email = *norm;
        have_email = true;
        break;
      }
      case LeadField::kFirstName:
        KILN_RETURN_IF_ERROR(limit(200));
        row.first_name = value;
        break;
      case LeadField::kLastName:
        KILN_RETURN_IF_ERROR(limit(200));
        row.last_name = value;
        break;
      case LeadField::kFullName: {
        KILN_RETURN_IF_ERROR(limit(400));
        const size_t sp = value.rfind(' ');
        if (row.first_name.empty()) row.first_name = value.substr(0, sp);
        if (row.last_name.empty() && sp != std::string::npos)
          row.last_name = Trim(value.substr(sp));
        break;
      }
      case LeadField::kCompany:
        KILN_RETURN_IF_ERROR(limit(200));
        row.company = value;
        break;
      case LeadField::kTitle:
        KILN_RETURN_IF_ERROR(limit(200));
        row.title = value;
        break;
      case LeadField::kTimezone:
        if (!value.empty() && zones != nullptr) {
          auto z = zones->Get(value);
          if (!z.ok()) {
            return Status::InvalidArgument(
                "'" + value.substr(0, 100) + "' is not a known time zone (e.g. Europe/Paris)", col);
          }
        }
        row.timezone = value;
        break;
      case LeadField::kPhone:
        KILN_RETURN_IF_ERROR(limit(50));
        row.phone = value;
        break;
      case LeadField::kWebsite:
        KILN_RETURN_IF_ERROR(limit(500));
        row.website = value;
        break;
      case LeadField::kCustom:
        KILN_RETURN_IF_ERROR(limit(2000));
        if (!value.empty()) row.custom.emplace_back(t.custom_key, value);
        break;
      case LeadField::kIgnore:
        break;
    }
  }
  if (!have_email) {
    for (size_t i = 0; i < mapping.columns.size(); ++i) {
      if (mapping.columns[i].field == LeadField::kEmail) {
        return Status::InvalidArgument("is missing (the row has fewer columns than the header)",
                                       ColumnName(header, i));
      }
    }
    return Status::InvalidArgument("no column is mapped to email", "mapping");
  }
  row.role_address = IsRoleAddress(row.email);
  row.disposable_domain = IsDisposableDomain(domain::EmailDomain(row.email));
  return row;
}

bool IsRoleAddress(std::string_view email) {
  const size_t at = email.rfind('@');
  std::string local = Lower(email.substr(0, at == std::string_view::npos ? email.size() : at));
  if (size_t plus = local.find('+'); plus != std::string::npos) local.resize(plus);
  return std::find(kRoleLocalParts.begin(), kRoleLocalParts.end(), local) != kRoleLocalParts.end();
}

bool IsDisposableDomain(std::string_view domain) {
  const std::string d = Lower(domain);
  for (std::string_view known : kDisposableDomains) {
    if (d == known) return true;
    if (d.size() > known.size() && d.compare(d.size() - known.size(), known.size(), known) == 0 &&
        d[d.size() - known.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace kiln::leads
