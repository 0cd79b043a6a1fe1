// Template::Render: walks the AST once; no loops exist, so the work is linear in the template
// plus the size of the values written.
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "kiln/template/template.h"
#include "kiln/template/template_impl.h"
#include "kiln/template/text.h"

namespace kiln::tmpl {

void Value::AppendTo(std::string* out) const {
  switch (kind_) {
    case Kind::kNil:
      return;
    case Kind::kBool:
      out->append(bool_ ? "true" : "false");
      return;
    case Kind::kString:
      out->append(text_);
      return;
    case Kind::kNumber: {
      char buf[64];
      std::to_chars_result r;
      if (std::isfinite(number_) && std::fabs(number_) < 1e15 &&
          number_ == static_cast<double>(static_cast<long long>(number_))) {
        r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(number_));
      } else {
        r = std::to_chars(buf, buf + sizeof buf, number_);
      }
      out->append(buf, r.ptr);
      return;
    }
  }
}

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const Value kNil;
const Value kEmptySafe = Value::Safe("");

// A number from a number value or a string that is exactly a decimal number ("50", "-1.5").
bool AsNumber(const Value& v, double* out) {
  if (v.kind() == Value::Kind::kNumber) return *out = v.number(), true;
  if (!v.is_string()) return false;
  std::string_view s = Strip(v.text());
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto r = std::from_chars(s.data(), end, *out);
  return r.ec == std::errc() && r.ptr == end && std::isfinite(*out);
}

bool IsBlank(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
      return true;
    case Value::Kind::kBool:
      return !v.boolean();
    case Value::Kind::kString:
      return Strip(v.text()).empty();
    case Value::Kind::kNumber:
      return false;
  }
  return false;
}

bool Equal(const Value& a, const Value& b) {
  if (a.kind() == b.kind()) {
    switch (a.kind()) {
      case Value::Kind::kNil:
        return true;
      case Value::Kind::kBool:
        return a.boolean() == b.boolean();
      case Value::Kind::kNumber:
        return a.number() == b.number();
      case Value::Kind::kString:
        return a.text() == b.text();
    }
  }
  // A number against a numeric string: lead fields are text, so `employees == 50` compares the
  // numbers.
  double x, y;
  if ((a.kind() == Value::Kind::kNumber || b.kind() == Value::Kind::kNumber) && AsNumber(a, &x) &&
      AsNumber(b, &y)) {
    return x == y;
  }
  return false;
}

// -1, 0, 1, or 2 when the two values have no order.
int Order(const Value& a, const Value& b) {
  double x, y;
  if (AsNumber(a, &x) && AsNumber(b, &y)) return x < y ? -1 : (x > y ? 1 : 0);
  if (a.is_string() && b.is_string()) {
    const int c = a.text().compare(b.text());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 2;
}

class Renderer {
 public:
  Renderer(const Template::Impl& t, const Variables& vars, const RenderOptions& options,
           RenderResult* result)
      : t_(t), vars_(vars), options_(options), result_(result), out_(result->text) {}

  Status Run() {
    const size_t hint = t_.text_bytes + 16 * t_.outputs.size();
    out_.reserve(std::min(hint, options_.max_output_bytes));
    KILN_RETURN_IF_ERROR(RenderBlock(t_.root));
    if (options_.single_line) MakeSingleLine();
    return Status::Ok();
  }

 private:
  Status TooLarge() const {
    return Status::TooLarge("rendered template exceeds the output limit of " +
                            std::to_string(options_.max_output_bytes) + " bytes");
  }

  Status Append(std::string_view s) {
    if (s.size() > options_.max_output_bytes - out_.size()) return TooLarge();
    out_.append(s);
    return Status::Ok();
  }

  Status RenderBlock(const Block& block) {
    for (const Node& n : block) {
      switch (n.kind) {
        case Node::Kind::kText:
          KILN_RETURN_IF_ERROR(Append(std::string_view(t_.source).substr(n.a, n.b)));
          break;
        case Node::Kind::kOutput:
          KILN_RETURN_IF_ERROR(RenderOutput(t_.outputs[n.a]));
          break;
        case Node::Kind::kIf:
          for (const Branch& b : t_.ifs[n.a].branches) {
            if (!b.has_condition || Eval(b.condition) != b.negate) {
              KILN_RETURN_IF_ERROR(RenderBlock(b.body));
              break;
            }
          }
          break;
        case Node::Kind::kSpin: {
          const SpinGroup& g = t_.spins[n.a];
          const size_t pick = SpinChoice(options_.spin_seed, g.id, g.alternatives.size());
          KILN_RETURN_IF_ERROR(RenderBlock(g.alternatives[pick]));
          break;
        }
      }
    }
    return Status::Ok();
  }

  // The value an operand denotes; never null (absent variables are nil, *found says which).
  const Value* Resolve(const Operand& o, bool* found = nullptr) const {
    if (found) *found = true;
    switch (o.kind) {
      case Operand::Kind::kLiteral:
        return &o.literal;
      case Operand::Kind::kVariable: {
        const Value* v = vars_.Find(o.path);
        if (v != nullptr) return v;
        if (found) *found = false;
        return &kNil;
      }
      case Operand::Kind::kBlank:
      case Operand::Kind::kEmpty:
        return &kEmptySafe;
    }
    return &kNil;
  }

  // The text of a value: its string, or its printed form in `scratch`.
  static std::string_view Text(const Value& v, std::string* scratch) {
    if (v.is_string()) return v.text();
    scratch->clear();
    v.AppendTo(scratch);
    return *scratch;
  }

  // Applies `f` to `in`; the result is `in`, an argument, or *dst.
  Result<const Value*> Apply(const Filter& f, const Value& in, Value* dst) {
    if (f.id == FilterId::kDefault) {
      const bool use_default = in.is_nil() || (in.kind() == Value::Kind::kBool && !in.boolean()) ||
                               (in.is_string() && in.text().empty());
      return use_default ? Resolve(f.args[0]) : &in;
    }
    const std::string_view s = Text(in, &scratch_);
    std::string r;
    bool safe = in.safe();
    switch (f.id) {
      case FilterId::kDefault:
        break;
      case FilterId::kCapitalize:
        AppendCapitalize(s, &r);
        break;
      case FilterId::kUpcase:
        AppendUpcase(s, &r);
        break;
      case FilterId::kDowncase:
        AppendDowncase(s, &r);
        break;
      case FilterId::kTruncate: {
        std::string_view ellipsis = "...";
        std::string ellipsis_scratch;
        if (f.args.size() == 2) {
          const Value& e = *Resolve(f.args[1]);
          ellipsis = Text(e, &ellipsis_scratch);
          safe = safe && e.safe();
        }
        AppendTruncate(s, f.truncate_length, ellipsis, &r);
        break;
      }
      case FilterId::kStrip:
        r.assign(Strip(s));
        break;
      case FilterId::kLstrip:
        r.assign(LeftStrip(s));
        break;
      case FilterId::kRstrip:
        r.assign(RightStrip(s));
        break;
      case FilterId::kEscape:
        AppendHtmlEscaped(s, &r);
        safe = true;
        break;
      case FilterId::kUrlEncode:
        AppendUrlEncoded(s, &r);
        safe = true;
        break;
      case FilterId::kFirstWord:
        r.assign(FirstWord(s));
        break;
      case FilterId::kLastWord:
        r.assign(LastWord(s));
        break;
    }
    // Escaping grows text up to 6x per filter: bound every intermediate, not just the output.
    if (r.size() > options_.max_output_bytes) return TooLarge();
    *dst = safe ? Value::Safe(std::move(r)) : Value::String(std::move(r));
    return static_cast<const Value*>(dst);
  }

  Status RenderOutput(const Output& o) {
    bool found;
    const Value* head = Resolve(o.head, &found);
    const Value* cur = head;
    Value a, b;
    for (const Filter& f : o.filters) {
      KILN_ASSIGN_OR_RETURN(cur, Apply(f, *cur, cur == &a ? &b : &a));
    }
    if (o.head.kind == Operand::Kind::kVariable && !o.has_default && head->RendersEmpty() &&
        cur->RendersEmpty()) {
      const bool empty = found;
      if (options_.strict) {
        return Status::InvalidArgument("line " + std::to_string(o.pos.line) + ", column " +
                                       std::to_string(o.pos.column) + ": variable '" + o.head.path +
                                       "' is " + (empty ? "empty" : "missing") +
                                       " and has no default");
      }
      result_->missing.push_back(MissingVar{o.head.path, o.pos.line, o.pos.column, empty});
      return Status::Ok();
    }
    const std::string_view s = Text(*cur, &scratch_);
    if (options_.html_escape_values && !cur->safe()) {
      if (s.size() > options_.max_output_bytes - out_.size()) return TooLarge();
      AppendHtmlEscaped(s, &out_);
      if (out_.size() > options_.max_output_bytes) return TooLarge();
      return Status::Ok();
    }
    return Append(s);
  }

  bool EvalTerm(const Comparison& c) const {
    const Value& left = *Resolve(c.left);
    if (c.op == CompareOp::kNone) return left.Truthy();
    const Value& right = *Resolve(c.right);
    if (c.left.kind == Operand::Kind::kBlank || c.right.kind == Operand::Kind::kBlank ||
        c.left.kind == Operand::Kind::kEmpty || c.right.kind == Operand::Kind::kEmpty) {
      const bool left_special =
          c.left.kind == Operand::Kind::kBlank || c.left.kind == Operand::Kind::kEmpty;
      const Operand& special = left_special ? c.left : c.right;
      const Value& other = left_special ? right : left;
      const bool match = special.kind == Operand::Kind::kBlank
                             ? IsBlank(other)
                             : (other.is_string() && other.text().empty());
      return c.op == CompareOp::kEq ? match : !match;
    }
    switch (c.op) {
      case CompareOp::kNone:
        break;
      case CompareOp::kEq:
        return Equal(left, right);
      case CompareOp::kNe:
        return !Equal(left, right);
      case CompareOp::kLt: {
        const int o = Order(left, right);
        return o == -1;
      }
      case CompareOp::kGt:
        return Order(left, right) == 1;
      case CompareOp::kLe: {
        const int o = Order(left, right);
        return o == -1 || o == 0;
      }
      case CompareOp::kGe: {
        const int o = Order(left, right);
        return o == 1 || o == 0;
      }
      case CompareOp::kContains: {
        if (!left.is_string() || right.is_nil()) return false;
        std::string needle_scratch;
        return left.text().find(Text(right, &needle_scratch)) != std::string::npos;
      }
    }
    return false;
  }

  // Liquid evaluates and/or from the right: a or b and c == a or (b and c).
  bool Eval(const Condition& c) const {
    size_t i = c.terms.size() - 1;
    bool r = EvalTerm(c.terms[i]);
    while (i-- > 0) {
      r = c.is_and[i] ? (EvalTerm(c.terms[i]) && r) : (EvalTerm(c.terms[i]) || r);
    }
    return r;
  }

  // CR, LF and CRLF (and other C0 controls but TAB) become one space each.
  void MakeSingleLine() {
    size_t w = 0;
    for (size_t r = 0; r < out_.size(); ++r) {
      char c = out_[r];
      if (c == '\r' && r + 1 < out_.size() && out_[r + 1] == '\n') ++r;
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) c = ' ';
      out_[w++] = c;
    }
    out_.resize(w);
  }

  const Template::Impl& t_;
  const Variables& vars_;
  const RenderOptions& options_;
  RenderResult* result_;
  std::string& out_;
  std::string scratch_;
};

}  // namespace

Result<RenderResult> Template::Render(const Variables& vars, const RenderOptions& options) const {
  RenderResult result;
  KILN_RETURN_IF_ERROR(Renderer(*impl_, vars, options, &result).Run());
  return result;
}

const std::vector<std::string>& Template::variables() const { return impl_->variables; }

size_t Template::spin_group_count() const { return impl_->spins.size(); }

uint64_t SpinSeed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6A09E667F3BCC909ULL;
  for (uint64_t p : parts) h = Mix64(h ^ Mix64(p + kGolden));
  return h;
}

size_t SpinChoice(uint64_t seed, uint32_t group, size_t alternatives) {
  const uint64_t z = Mix64(seed + kGolden * (static_cast<uint64_t>(group) + 1));
  return static_cast<size_t>((static_cast<unsigned __int128>(z) * alternatives) >> 64);
}

}  // namespace kiln::tmpl
