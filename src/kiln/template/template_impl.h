// The compiled form of a Template (internal to src/kiln/template): an AST whose text runs are
// byte ranges of the kept source. Immutable once Parse returns; shared by Template copies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/template/template.h"
#include "kiln/template/value.h"

namespace kiln::tmpl {

struct Pos {
  int line = 0;
  int column = 0;
};

struct Operand {
  enum class Kind : uint8_t { kLiteral, kVariable, kBlank, kEmpty };
  Kind kind = Kind::kLiteral;
  Value literal;     // kLiteral (literals are template text: safe)
  std::string path;  // kVariable: the dotted lookup path
};

enum class FilterId : uint8_t {
  kDefault,
  kCapitalize,
  kUpcase,
  kDowncase,
  kTruncate,
  kStrip,
  kLstrip,
  kRstrip,
  kEscape,
  kUrlEncode,
  kFirstWord,
  kLastWord,
};

struct Filter {
  FilterId id;
  std::vector<Operand> args;
  size_t truncate_length = 50;  // kTruncate: the length literal
};

struct Output {
  Operand head;
  std::vector<Filter> filters;
  bool has_default = false;  // a `default` filter: the author handled the empty case
  Pos pos;                   // of the `{{`
};

enum class CompareOp : uint8_t { kNone, kEq, kNe, kLt, kGt, kLe, kGe, kContains };

struct Comparison {
  Operand left;
  CompareOp op = CompareOp::kNone;  // kNone: the truthiness of `left`
  Operand right;
};

// terms[0] op[0] terms[1] op[1] ... evaluated right to left (Liquid's rule).
struct Condition {
  std::vector<Comparison> terms;
  std::vector<bool> is_and;  // size terms - 1; false means `or`
};

struct Node {
  enum class Kind : uint8_t { kText, kOutput, kIf, kSpin };
  Kind kind;
  uint32_t a;  // kText: source offset; otherwise the index into Impl::outputs / ifs / spins
  uint32_t b;  // kText: byte length
};
using Block = std::vector<Node>;

struct Branch {
  bool has_condition = false;  // false: the else branch
  bool negate = false;         // unless
  Condition condition;
  Block body;
};

struct IfBlock {
  std::vector<Branch> branches;
};

struct SpinGroup {
  uint32_t id;  // pre-order index among the template's groups: the choice's stream
  std::vector<Block> alternatives;
};

struct Template::Impl {
  std::string source;
  Block root;
  std::vector<Output> outputs;
  std::vector<IfBlock> ifs;
  std::vector<SpinGroup> spins;
  std::vector<std::string> variables;
  size_t text_bytes = 0;  // sum of text run lengths: a reserve hint for renders
};

}  // namespace kiln::tmpl
