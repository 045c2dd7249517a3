//===- LfStaticMask.cpp - static mask expressions: text, C++ type, names --===//
//
// The grammar and spellings are docs/static-masks.md's; the runtime parses the
// same text (runtime/core/StaticMask.cpp) and the kernels instantiate the same
// types (kernels_templates/lfc/static_mask.cuh). tests/unit/compiler checks
// that the three agree on every mask the example policies lower to.
//
//===----------------------------------------------------------------------===//

#include "dialect/LfStaticMask.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"

#include <cstdint>
#include <limits>

using namespace mlir::lf;

namespace {

// Template arguments of the generated C++ types are `int`.
constexpr int64_t kMaxArg = std::numeric_limits<int32_t>::max();
// Nesting bound, so that hostile text cannot exhaust the stack.
constexpr int kMaxDepth = 64;

struct TermSpelling {
  StaticMaskExpr::Kind kind;
  llvm::StringLiteral text; // canonical text
  llvm::StringLiteral cpp;  // lfc::mask:: type
  int arity;                // number of args; -1: one or more
};

using Kind = StaticMaskExpr::Kind;

constexpr TermSpelling kTerms[] = {
    {Kind::All, "all", "All", 0},
    {Kind::Sink, "sink", "Sink", 1},
    {Kind::Near, "near", "Near", 1},
    {Kind::Current, "current", "Current", 0},
    {Kind::WindowFrames, "window_frames", "WindowFrames", 1},
    {Kind::WindowTokens, "window_tokens", "WindowTokens", 1},
    {Kind::Radial, "radial", "Radial", 2},
    {Kind::Frames, "frames", "Frames", -1},
    {Kind::Union, "union", "Union", 0},
    {Kind::Restrict, "restrict", "Restrict", 0},
};

const TermSpelling &spelling(Kind kind) {
  for (const TermSpelling &term : kTerms)
    if (term.kind == kind)
      return term;
  return kTerms[0];
}

class Parser {
public:
  Parser(llvm::StringRef text, std::string &error) : text(text), error(error) {}

  std::optional<StaticMaskExpr> parseAll() {
    std::optional<StaticMaskExpr> expr = parseExpr(0);
    if (expr && pos != text.size())
      return fail(pos, "end of text");
    return expr;
  }

private:
  std::nullopt_t fail(size_t at, const llvm::Twine &expected) {
    if (error.empty())
      error =
          ("column " + llvm::Twine(at + 1) + ": expected " + expected).str();
    return std::nullopt;
  }
  bool peek(char c) const { return pos < text.size() && text[pos] == c; }
  bool expect(char c, const llvm::Twine &what) {
    if (!peek(c)) {
      fail(pos, what);
      return false;
    }
    ++pos;
    return true;
  }
  /// A canonical decimal integer in [0, kMaxArg]: no sign, no leading zeros.
  std::optional<int64_t> number(llvm::StringRef what) {
    size_t start = pos;
    if (pos >= text.size() || !llvm::isDigit(text[pos]))
      return fail(pos, what + " as a non-negative decimal integer");
    int64_t value = 0;
    while (pos < text.size() && llvm::isDigit(text[pos])) {
      if (pos > start && text[start] == '0')
        return fail(start, what + " without leading zeros");
      value = value * 10 + (text[pos] - '0');
      if (value > kMaxArg)
        return fail(start, what + " <= " + llvm::Twine(kMaxArg));
      ++pos;
    }
    return value;
  }

  std::optional<StaticMaskExpr> parseExpr(int depth) {
    size_t start = pos;
    if (depth > kMaxDepth)
      return fail(start, "at most 64 levels of nested union/restrict");
    size_t end = pos;
    while (end < text.size() && (llvm::isLower(text[end]) || text[end] == '_'))
      ++end;
    llvm::StringRef word = text.slice(start, end);
    const TermSpelling *term = nullptr;
    for (const TermSpelling &candidate : kTerms)
      if (word == candidate.text)
        term = &candidate;
    if (!term)
      return fail(start, "a term (all, sink(N), near(N), current, "
                         "window_frames(N), window_tokens(N), radial(D,W), "
                         "frames(a,...), union(x,y,...) or restrict(x,y))");
    pos = end;
    if (term->kind == Kind::All || term->kind == Kind::Current)
      return StaticMaskExpr::term(term->kind);
    if (!expect('(', "'(' after " + term->text))
      return std::nullopt;
    if (term->kind == Kind::Union || term->kind == Kind::Restrict) {
      std::vector<StaticMaskExpr> operands;
      do {
        std::optional<StaticMaskExpr> operand = parseExpr(depth + 1);
        if (!operand)
          return std::nullopt;
        operands.push_back(std::move(*operand));
      } while (peek(',') && ++pos);
      size_t want = term->kind == Kind::Restrict ? 2 : 0;
      if ((want && operands.size() != want) || operands.size() < 2)
        return fail(pos, term->kind == Kind::Restrict
                             ? "restrict(x,y): exactly two operands"
                             : "union(x,y,...): two or more operands");
      if (!expect(')', "',' or ')'"))
        return std::nullopt;
      // As written: canonical text may nest unions, and parse(t).text() == t.
      return StaticMaskExpr::node(term->kind, {}, std::move(operands));
    }
    llvm::SmallVector<int64_t> args;
    do {
      size_t at = pos;
      std::optional<int64_t> value = number("an integer");
      if (!value)
        return std::nullopt;
      if (term->kind == Kind::Frames && !args.empty() && *value <= args.back())
        return fail(at, "a frame > " + llvm::Twine(args.back()) +
                            " (frames are ascending and distinct)");
      if (term->kind == Kind::Radial && *value < 1)
        return fail(at, args.empty() ? "D >= 1" : "W >= 1");
      args.push_back(*value);
    } while (peek(',') && ++pos);
    if (term->arity >= 0 && static_cast<int>(args.size()) != term->arity)
      return fail(pos, term->text + " takes " + llvm::Twine(term->arity) +
                           " argument" + (term->arity == 1 ? "" : "s"));
    if (!expect(')', "')'"))
      return std::nullopt;
    return StaticMaskExpr::term(term->kind, args);
  }

  llvm::StringRef text;
  std::string &error;
  size_t pos = 0;
};

} // namespace

StaticMaskExpr StaticMaskExpr::term(Kind kind, llvm::ArrayRef<int64_t> args) {
  return node(kind, args, {});
}

StaticMaskExpr StaticMaskExpr::node(Kind kind, llvm::ArrayRef<int64_t> args,
                                    std::vector<StaticMaskExpr> operands) {
  StaticMaskExpr expr;
  expr.kind_ = kind;
  expr.args_.assign(args.begin(), args.end());
  expr.operands_ = std::move(operands);
  return expr;
}

StaticMaskExpr
StaticMaskExpr::unionOf(llvm::ArrayRef<StaticMaskExpr> operands) {
  std::vector<StaticMaskExpr> flat;
  for (const StaticMaskExpr &operand : operands) {
    llvm::ArrayRef<StaticMaskExpr> parts =
        operand.kind_ == Kind::Union
            ? llvm::ArrayRef<StaticMaskExpr>(operand.operands_)
            : llvm::ArrayRef<StaticMaskExpr>(operand);
    for (const StaticMaskExpr &part : parts)
      if (!llvm::is_contained(flat, part))
        flat.push_back(part);
  }
  if (flat.empty())
    return StaticMaskExpr();
  if (flat.size() == 1)
    return flat.front();
  // `all` absorbs every other operand.
  if (llvm::any_of(flat, [](const StaticMaskExpr &e) { return e.isAll(); }))
    return StaticMaskExpr();
  StaticMaskExpr expr;
  expr.kind_ = Kind::Union;
  expr.operands_ = std::move(flat);
  return expr;
}

StaticMaskExpr StaticMaskExpr::restrictOf(StaticMaskExpr input,
                                          StaticMaskExpr domain) {
  // `all` is the identity of intersection.
  if (input.isAll())
    return domain;
  if (domain.isAll() || input == domain)
    return input;
  StaticMaskExpr expr;
  expr.kind_ = Kind::Restrict;
  expr.operands_.push_back(std::move(input));
  expr.operands_.push_back(std::move(domain));
  return expr;
}

std::optional<StaticMaskExpr> StaticMaskExpr::parse(llvm::StringRef text,
                                                    std::string &error) {
  error.clear();
  return Parser(text, error).parseAll();
}

std::string StaticMaskExpr::text() const {
  std::string out = spelling(kind_).text.str();
  if (kind_ == Kind::All || kind_ == Kind::Current)
    return out;
  out += '(';
  for (auto [position, arg] : llvm::enumerate(args_))
    out += (position ? "," : "") + std::to_string(arg);
  for (auto [position, operand] : llvm::enumerate(operands_))
    out += (position ? "," : "") + operand.text();
  return out + ')';
}

std::string StaticMaskExpr::cppType() const {
  std::string out = "lfc::mask::" + spelling(kind_).cpp.str();
  if (kind_ == Kind::All || kind_ == Kind::Current)
    return out;
  out += '<';
  for (auto [position, arg] : llvm::enumerate(args_))
    out += (position ? ", " : "") + std::to_string(arg);
  for (auto [position, operand] : llvm::enumerate(operands_))
    out += (position ? ", " : "") + operand.cppType();
  return out + '>';
}
