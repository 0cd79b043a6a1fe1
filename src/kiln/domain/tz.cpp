#include "kiln/domain/tz.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>

namespace kiln::domain {
namespace {

constexpr int64_t kPeriodYears = 400;
constexpr int64_t kPeriodMillis = int64_t{146097} * kMillisPerDay;  // 400 Gregorian years
// Explicit transitions outside +-1e15 s cannot be expressed in int64 milliseconds with room to
// spare; the earliest of them only sets the type in force "since forever".
constexpr int64_t kMaxTransitionSeconds = int64_t{1'000'000'000'000'000};
constexpr size_t kMaxTzifBytes = size_t{1} << 20;
constexpr int32_t kMaxOffsetSeconds = 26 * 3600;

// ---- POSIX TZ strings (the TZif footer) ----------------------------------------------------

struct PosixRule {
  enum class Kind { kJulian1, kJulian0, kMonthWeekDay } kind = Kind::kMonthWeekDay;
  int day = 0;    // J: 1..365; n: 0..365; M: weekday 0..6
  int month = 0;  // M only
  int week = 0;   // M only: 1..5 (5 = last)
  int32_t time_seconds = 2 * 3600;
};

struct PosixTz {
  std::string std_abbr;
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::string dst_abbr;
  int32_t dst_offset = 0;
  PosixRule start;
  PosixRule end;
};

class PosixTzParser {
 public:
  explicit PosixTzParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> Parse() {
    PosixTz tz;
    if (!Abbr(tz.std_abbr)) return std::nullopt;
    auto std_west = Offset(24);
    if (!std_west) return std::nullopt;
    tz.std_offset = -*std_west;
    if (AtEnd()) return tz;
    tz.has_dst = true;
    if (!Abbr(tz.dst_abbr)) return std::nullopt;
    tz.dst_offset = tz.std_offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      auto dst_west = Offset(24);
      if (!dst_west) return std::nullopt;
      tz.dst_offset = -*dst_west;
    }
    if (AtEnd()) {
      // POSIX leaves the default rule to the implementation; use the US rules like glibc.
      tz.start = PosixRule{PosixRule::Kind::kMonthWeekDay, 0, 3, 2, 7200};
      tz.end = PosixRule{PosixRule::Kind::kMonthWeekDay, 0, 11, 1, 7200};
      return tz;
    }
    if (!Eat(',') || !Rule(tz.start) || !Eat(',') || !Rule(tz.end) || !AtEnd()) {
      return std::nullopt;
    }
    return tz;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool Abbr(std::string& out) {
    size_t start = pos_;
    if (Eat('<')) {
      while (!AtEnd() && Peek() != '>') {
        char c = Peek();
        if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-') return false;
        ++pos_;
      }
      out.assign(s_.substr(start + 1, pos_ - start - 1));
      return Eat('>') && out.size() >= 3;
    }
    while (IsAlpha(Peek())) ++pos_;
    out.assign(s_.substr(start, pos_ - start));
    return out.size() >= 3;
  }

  std::optional<int> Number(int max) {
    if (!IsDigit(Peek())) return std::nullopt;
    int v = 0;
    while (IsDigit(Peek())) {
      v = v * 10 + (s_[pos_++] - '0');
      if (v > max) return std::nullopt;
    }
    return v;
  }

  // [+-]hh[:mm[:ss]] in seconds (sign as written).
  std::optional<int32_t> Offset(int max_hours) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    auto h = Number(max_hours);
    if (!h) return std::nullopt;
    int m = 0, sec = 0;
    if (Eat(':')) {
      auto mm = Number(59);
      if (!mm) return std::nullopt;
      m = *mm;
      if (Eat(':')) {
        auto ss = Number(59);
        if (!ss) return std::nullopt;
        sec = *ss;
      }
    }
    return sign * (*h * 3600 + m * 60 + sec);
  }

  bool Rule(PosixRule& r) {
    if (Eat('J')) {
      auto n = Number(365);
      if (!n || *n < 1) return false;
      r.kind = PosixRule::Kind::kJulian1;
      r.day = *n;
    } else if (Eat('M')) {
      auto m = Number(12);
      if (!m || *m < 1 || !Eat('.')) return false;
      auto w = Number(5);
      if (!w || *w < 1 || !Eat('.')) return false;
      auto d = Number(6);
      if (!d) return false;
      r.kind = PosixRule::Kind::kMonthWeekDay;
      r.month = *m;
      r.week = *w;
      r.day = *d;
    } else {
      auto n = Number(365);
      if (!n) return false;
      r.kind = PosixRule::Kind::kJulian0;
      r.day = *n;
    }
    r.time_seconds = 2 * 3600;
    if (Eat('/')) {
      auto t = Offset(167);  // RFC 8536 §3.3.1 extension: -167..167 hours
      if (!t) return false;
      r.time_seconds = *t;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Days since the epoch of the day a rule names in `year`.
int64_t RuleDay(const PosixRule& r, int64_t year) {
  const int64_t jan1 = DaysFromCivil(year, 1, 1);
  switch (r.kind) {
    case PosixRule::Kind::kJulian1:
      return jan1 + r.day - 1 + (IsLeapYear(year) && r.day >= 60 ? 1 : 0);
    case PosixRule::Kind::kJulian0:
      return jan1 + r.day;
    case PosixRule::Kind::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(year, r.month, 1);
      int64_t day = first + FloorMod(r.day - WeekdayFromDays(first), 7) + (r.week - 1) * 7;
      const int64_t past_end = first + DaysInMonth(year, r.month);
      while (day >= past_end) day -= 7;
      return day;
    }
  }
  return jan1;
}

// ---- TZif ------------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool Has(size_t n) const { return data_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  std::string_view Take(size_t n) {
    auto v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  uint32_t U32() {
    auto b = Take(4);
    return (uint32_t{static_cast<uint8_t>(b[0])} << 24) |
           (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
           (uint32_t{static_cast<uint8_t>(b[2])} << 8) | uint32_t{static_cast<uint8_t>(b[3])};
  }
  int64_t I64() {
    uint64_t hi = U32();
    uint64_t lo = U32();
    return static_cast<int64_t>((hi << 32) | lo);
  }
  uint8_t U8() { return static_cast<uint8_t>(Take(1)[0]); }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::optional<TzifHeader> ReadHeader(Reader& r) {
  if (!r.Has(44)) return std::nullopt;
  if (r.Take(4) != "TZif") return std::nullopt;
  TzifHeader h;
  h.version = r.Take(1)[0];
  r.Take(15);
  h.isutcnt = r.U32();
  h.isstdcnt = r.U32();
  h.leapcnt = r.U32();
  h.timecnt = r.U32();
  h.typecnt = r.U32();
  h.charcnt = r.U32();
  return h;
}

size_t DataBlockSize(const TzifHeader& h, size_t time_size) {
  return size_t{h.timecnt} * time_size + h.timecnt + size_t{h.typecnt} * 6 + h.charcnt +
         size_t{h.leapcnt} * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

}  // namespace

// ---- TimeZone --------------------------------------------------------------------------------

uint16_t TimeZone::AddType(int32_t offset_seconds, bool is_dst, std::string_view abbreviation) {
  for (size_t i = 0; i < types_.size(); ++i) {
    const Type& t = types_[i];
    if (t.offset_seconds == offset_seconds && t.is_dst == is_dst &&
        std::string_view(abbrs_.c_str() + t.abbr_index) == abbreviation) {
      return static_cast<uint16_t>(i);
    }
  }
  size_t abbr_index = abbrs_.find(std::string(abbreviation) + '\0');
  if (abbr_index == std::string::npos) {
    abbr_index = abbrs_.size();
    abbrs_.append(abbreviation);
    abbrs_.push_back('\0');
  }
  types_.push_back(Type{offset_seconds, is_dst, static_cast<uint16_t>(abbr_index)});
  return static_cast<uint16_t>(types_.size() - 1);
}

TimeZone TimeZone::Fixed(std::string name, int32_t utc_offset_seconds, std::string abbreviation) {
  TimeZone tz;
  tz.name_ = std::move(name);
  tz.initial_type_ = tz.AddType(utc_offset_seconds, false, abbreviation);
  return tz;
}

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view data) {
  auto bad = [&name](std::string_view why) {
    return Status::InvalidArgument("time zone \"" + name + "\": " + std::string(why), "timezone");
  };
  if (data.size() > kMaxTzifBytes) return bad("TZif data over 1 MiB");
  Reader r(data);
  auto h1 = ReadHeader(r);
  if (!h1) return bad("not a TZif file (no \"TZif\" header)");
  TzifHeader h = *h1;
  size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block; the 64-bit block and the footer follow.
    if (!r.Has(DataBlockSize(h, 4))) return bad("truncated TZif data");
    r.Take(DataBlockSize(h, 4));
    auto h2 = ReadHeader(r);
    if (!h2) return bad("missing second TZif header");
    h = *h2;
    time_size = 8;
  } else if (h.version != '\0') {
    return bad("unknown TZif version");
  }
  if (h.leapcnt != 0) return bad("TZif data with leap seconds is not supported");
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0) return bad("TZif data without types");
  if ((h.isstdcnt != 0 && h.isstdcnt != h.typecnt) || (h.isutcnt != 0 && h.isutcnt != h.typecnt)) {
    return bad("inconsistent TZif counts");
  }
  if (!r.Has(DataBlockSize(h, time_size))) return bad("truncated TZif data");

  std::vector<int64_t> times(h.timecnt);
  for (auto& t : times) t = time_size == 8 ? r.I64() : static_cast<int32_t>(r.U32());
  std::vector<uint8_t> idx(h.timecnt);
  for (auto& i : idx) i = r.U8();
  struct RawType {
    int32_t off;
    bool dst;
    uint8_t abbr;
  };
  std::vector<RawType> raw_types(h.typecnt);
  for (auto& t : raw_types) {
    t.off = static_cast<int32_t>(r.U32());
    t.dst = r.U8() != 0;
    t.abbr = r.U8();
  }
  std::string_view chars = r.Take(h.charcnt);
  r.Take(h.isstdcnt + h.isutcnt);

  TimeZone tz;
  tz.name_ = name;
  std::vector<uint16_t> type_map(h.typecnt);
  for (size_t i = 0; i < raw_types.size(); ++i) {
    const RawType& t = raw_types[i];
    if (t.off <= -kMaxOffsetSeconds || t.off >= kMaxOffsetSeconds)
      return bad("UTC offset out of range");
    if (t.abbr >= chars.size()) return bad("abbreviation index out of range");
    std::string_view abbr = chars.substr(t.abbr);
    abbr = abbr.substr(0, abbr.find('\0'));
    type_map[i] = tz.AddType(t.off, t.dst, abbr);
  }
  tz.initial_type_ = type_map[0];
  for (size_t i = 0; i < times.size(); ++i) {
    if (idx[i] >= h.typecnt) return bad("transition type index out of range");
    if (i > 0 && times[i] <= times[i - 1]) return bad("transitions out of order");
    if (times[i] < -kMaxTransitionSeconds) {
      tz.initial_type_ = type_map[idx[i]];
      continue;
    }
    if (times[i] > kMaxTransitionSeconds) break;
    // "Fat" files repeat the current type (e.g. at 2038-01-19); such a transition changes nothing.
    const uint16_t current = tz.trans_type_.empty() ? tz.initial_type_ : tz.trans_type_.back();
    if (type_map[idx[i]] == current) continue;
    tz.trans_ms_.push_back(times[i] * 1000);
    tz.trans_type_.push_back(type_map[idx[i]]);
  }

  // Footer: "\n<POSIX TZ>\n" (version 2+).
  std::optional<PosixTz> footer;
  if (time_size == 8) {
    std::string_view rest = r.Rest();
    if (rest.size() < 2 || rest[0] != '\n') return bad("missing TZif footer");
    size_t nl = rest.find('\n', 1);
    if (nl == std::string_view::npos) return bad("unterminated TZif footer");
    std::string_view text = rest.substr(1, nl - 1);
    if (!text.empty()) {
      footer = PosixTzParser(text).Parse();
      if (!footer) return bad("bad POSIX TZ footer \"" + std::string(text) + "\"");
    }
  }

  if (footer && footer->has_dst) {
    const uint16_t std_type = tz.AddType(footer->std_offset, false, footer->std_abbr);
    const uint16_t dst_type = tz.AddType(footer->dst_offset, true, footer->dst_abbr);
    const int64_t last =
        tz.trans_ms_.empty() ? std::numeric_limits<int64_t>::min() : tz.trans_ms_.back();
    const int64_t first_year =
        tz.trans_ms_.empty() ? 1900 : CivilFromDays(FloorDiv(last, kMillisPerDay)).year;
    if (tz.trans_ms_.empty()) tz.initial_type_ = std_type;
    // One year of margin on each side of the 400-year cycle [first_year + 2, first_year + 402).
    struct Gen {
      int64_t ms;
      uint16_t type;
    };
    std::vector<Gen> gen;
    for (int64_t y = first_year; y <= first_year + kPeriodYears + 3; ++y) {
      const int64_t start = (RuleDay(footer->start, y) * kSecondsPerDay +
                             footer->start.time_seconds - footer->std_offset) *
                            1000;
      const int64_t end = (RuleDay(footer->end, y) * kSecondsPerDay + footer->end.time_seconds -
                           footer->dst_offset) *
                          1000;
      if (start < end) {
        gen.push_back({start, dst_type});
        gen.push_back({end, std_type});
      } else {
        gen.push_back({end, std_type});
        gen.push_back({start, dst_type});
      }
    }
    std::stable_sort(gen.begin(), gen.end(),
                     [](const Gen& a, const Gen& b) { return a.ms < b.ms; });
    for (const Gen& g : gen) {
      if (g.ms <= last) continue;
      // Same-instant pairs (all-year DST written as "0/0,J365/25") collapse to the later one.
      if (!tz.trans_ms_.empty() && tz.trans_ms_.back() == g.ms && tz.trans_ms_.back() > last) {
        tz.trans_ms_.pop_back();
        tz.trans_type_.pop_back();
      }
      const uint16_t current = tz.trans_type_.empty() ? tz.initial_type_ : tz.trans_type_.back();
      if (current == g.type) continue;
      tz.trans_ms_.push_back(g.ms);
      tz.trans_type_.push_back(g.type);
    }
    tz.periodic_ = true;
    tz.period_base_ms_ = DaysFromCivil(first_year + 2, 1, 1) * kMillisPerDay;
    tz.period_limit_ms_ = DaysFromCivil(first_year + 2 + kPeriodYears, 1, 1) * kMillisPerDay;
  } else if (footer && tz.trans_ms_.empty()) {
    tz.initial_type_ = tz.AddType(footer->std_offset, false, footer->std_abbr);
  }
  if (tz.types_.size() > 0xFFFF || tz.abbrs_.size() > 0xFFFF) return bad("too many types");

  tz.BuildLocalIndex();
  for (size_t i = 1; i < tz.local_lo_.size(); ++i) {
    if (tz.local_lo_[i] < tz.local_hi_[i - 1]) {
      return bad("transitions closer together than their offset changes");
    }
  }
  return tz;
}

void TimeZone::BuildLocalIndex() {
  local_lo_.resize(trans_ms_.size());
  local_hi_.resize(trans_ms_.size());
  for (size_t i = 0; i < trans_ms_.size(); ++i) {
    const int64_t before = int64_t{TypeAfter(static_cast<ptrdiff_t>(i) - 1).offset_seconds} * 1000;
    const int64_t after = int64_t{types_[trans_type_[i]].offset_seconds} * 1000;
    local_lo_[i] = trans_ms_[i] + std::min(before, after);
    local_hi_[i] = trans_ms_[i] + std::max(before, after);
  }
}

int64_t TimeZone::Reduce(int64_t& ms) const {
  if (!periodic_ || ms < period_limit_ms_) return 0;
  const int64_t cycles = FloorDiv(ms - period_base_ms_, kPeriodMillis);
  ms -= cycles * kPeriodMillis;
  return cycles;
}

ptrdiff_t TimeZone::TransitionIndexAt(int64_t unix_ms) const {
  auto it = std::upper_bound(trans_ms_.begin(), trans_ms_.end(), unix_ms);
  return (it - trans_ms_.begin()) - 1;
}

ZoneOffset TimeZone::LookupAt(int64_t unix_ms) const {
  Reduce(unix_ms);
  const Type& t = TypeAfter(TransitionIndexAt(unix_ms));
  return ZoneOffset{t.offset_seconds, t.is_dst, std::string_view(abbrs_.c_str() + t.abbr_index)};
}

int32_t TimeZone::OffsetSecondsAt(int64_t unix_ms) const {
  if (trans_ms_.empty()) return types_[initial_type_].offset_seconds;
  Reduce(unix_ms);
  return TypeAfter(TransitionIndexAt(unix_ms)).offset_seconds;
}

OffsetSpan TimeZone::SpanAt(int64_t unix_ms) const {
  if (trans_ms_.empty()) return OffsetSpan{types_[initial_type_].offset_seconds, kNoEndMillis};
  const int64_t cycles = Reduce(unix_ms);
  const ptrdiff_t i = TransitionIndexAt(unix_ms);
  OffsetSpan span{TypeAfter(i).offset_seconds, kNoEndMillis};
  // Skip transitions that change only the abbreviation or the DST flag.
  size_t next = static_cast<size_t>(i + 1);
  while (next < trans_ms_.size() &&
         types_[trans_type_[next]].offset_seconds == span.utc_offset_seconds) {
    ++next;
  }
  if (next < trans_ms_.size()) span.end_ms = trans_ms_[next] + cycles * kPeriodMillis;
  return span;
}

LocalTimeResolution TimeZone::ResolveLocal(int64_t local_ms) const {
  const int64_t cycles = Reduce(local_ms);
  const int64_t shift = cycles * kPeriodMillis;
  auto it = std::upper_bound(local_lo_.begin(), local_lo_.end(), local_ms);
  const ptrdiff_t i = (it - local_lo_.begin()) - 1;
  LocalTimeResolution r;
  if (i < 0 || local_ms >= local_hi_[static_cast<size_t>(i)]) {
    const int64_t t = local_ms - int64_t{TypeAfter(i).offset_seconds} * 1000 + shift;
    r.earliest_ms = r.latest_ms = r.compatible_ms = t;
    return r;
  }
  const int64_t before = int64_t{TypeAfter(i - 1).offset_seconds} * 1000;
  const int64_t after = int64_t{TypeAfter(i).offset_seconds} * 1000;
  if (after > before) {
    r.kind = LocalTimeKind::kSkipped;
    r.earliest_ms = trans_ms_[static_cast<size_t>(i)] + shift;
    r.latest_ms = local_ms - before + shift;
    r.compatible_ms = r.latest_ms;
  } else {
    r.kind = LocalTimeKind::kRepeated;
    r.earliest_ms = local_ms - before + shift;
    r.latest_ms = local_ms - after + shift;
    r.compatible_ms = r.earliest_ms;
  }
  return r;
}

// ---- names and the database ------------------------------------------------------------------

Status ValidateZoneName(std::string_view name) {
  auto bad = [&name](std::string_view why) {
    return Status::InvalidArgument(
        "unknown time zone \"" + std::string(name.substr(0, 64)) + "\": " + std::string(why),
        "timezone");
  };
  if (name.empty()) return bad("empty name");
  if (name.size() > 128) return bad("name longer than 128 characters");
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return bad("empty path component");
    const char c0 = part[0];
    if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z'))) {
      return bad("each component must start with a letter");
    }
    for (char c : part) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '+' || c == '-';
      if (!ok) return bad("character not allowed in a zone name");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string_view first = name.substr(0, name.find('/'));
  if (first == "posix" || first == "right") return bad("use the plain IANA name");
  if (name == "localtime" || name == "posixrules") return bad("not an IANA zone name");
  return Status::Ok();
}

TimeZoneDatabase::TimeZoneDatabase(std::string directory) : directory_(std::move(directory)) {}

Result<std::shared_ptr<const TimeZone>> TimeZoneDatabase::Get(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    // Heterogeneous lookup needs C++20 transparent hashing; the key copy is cheap next to a miss.
    std::string key(name);
    if (auto it = zones_.find(key); it != zones_.end()) return it->second;
    if (auto it = failures_.find(key); it != failures_.end()) return it->second;
  }
  std::string key(name);
  auto loaded = Load(key);
  std::unique_lock lock(mu_);
  if (loaded.ok()) {
    auto [it, inserted] = zones_.emplace(key, *loaded);
    return it->second;  // another thread may have won the race: everyone shares its copy
  }
  if (failures_.size() < kMaxCachedFailures) failures_.emplace(key, loaded.status());
  return loaded.status();
}

Result<std::shared_ptr<const TimeZone>> TimeZoneDatabase::Load(const std::string& name) const {
  if (name == "UTC") return std::make_shared<const TimeZone>(TimeZone::Fixed("UTC", 0, "UTC"));
  KILN_RETURN_IF_ERROR(ValidateZoneName(name));
  const std::string path = directory_ + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("unknown time zone \"" + name + "\"", "timezone");
  }
  std::string data;
  data.resize(kMaxTzifBytes + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) {
    return Status::InvalidArgument("unknown time zone \"" + name + "\": cannot read " + path,
                                   "timezone");
  }
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.empty()) {
    // Directories open but read nothing ("America").
    return Status::InvalidArgument("unknown time zone \"" + name + "\"", "timezone");
  }
  KILN_ASSIGN_OR_RETURN(TimeZone tz, TimeZone::FromTzif(name, data));
  return std::make_shared<const TimeZone>(std::move(tz));
}

}  // namespace kiln::domain
