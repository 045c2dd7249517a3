// Static mask expressions (docs/static-masks.md, normative): the canonical-text
// parser, the canonical text and C++ type of an expression, and per-block
// eligibility in integer arithmetic, which must agree bit for bit with
// kernels_templates/lfc/static_mask.cuh.
#include "lfc/static_mask.h"

#include <algorithm>
#include <climits>
#include <string>

namespace lfc {
namespace {

// Template arguments of the generated C++ types are `int`: larger numbers are
// rejected at parse time.
constexpr int64_t kMaxArg = INT32_MAX;
// Nesting depth bound, so that a hostile manifest cannot exhaust the stack.
constexpr int kMaxDepth = 64;

struct TermInfo {
  const char *text;
  const char *cpp;
  StaticMask::Kind kind;
};

const TermInfo kTerms[] = {
    {"all", "All", StaticMask::Kind::All},
    {"sink", "Sink", StaticMask::Kind::Sink},
    {"near", "Near", StaticMask::Kind::Near},
    {"current", "Current", StaticMask::Kind::Current},
    {"window_frames", "WindowFrames", StaticMask::Kind::WindowFrames},
    {"window_tokens", "WindowTokens", StaticMask::Kind::WindowTokens},
    {"radial", "Radial", StaticMask::Kind::Radial},
    {"frames", "Frames", StaticMask::Kind::Frames},
    {"union", "Union", StaticMask::Kind::Union},
    {"restrict", "Restrict", StaticMask::Kind::Restrict},
};

const TermInfo &info(StaticMask::Kind k) {
  for (const TermInfo &t : kTerms)
    if (t.kind == k)
      return t;
  return kTerms[0];
}

const char *kTermList = "all, sink(N), near(N), current, window_frames(N), "
                        "window_tokens(N), radial(D,W), frames(a,...), "
                        "union(x,y,...) or restrict(x,y)";

// Key token range [begin, end) of a term that is one contiguous range.
struct Range {
  int64_t begin, end;
};

bool overlaps(Range a, Range b) {
  return std::max(a.begin, b.begin) < std::min(a.end, b.end);
}

} // namespace

StaticMask StaticMask::parse(const std::string &text) {
  // Recursive-descent parser over the canonical grammar; every error names the
  // 1-based column of the first character that does not fit. A local class has
  // parse()'s access to StaticMask's members.
  class Parser {
  public:
    explicit Parser(const std::string &input) : s_(input) {}

    StaticMask parseAll() {
      StaticMask m = expr(0);
      if (pos_ != s_.size())
        fail(pos_, "end of text");
      return m;
    }

  private:
    [[noreturn]] void fail(size_t at, const std::string &expected) const {
      throw Error("static mask '" + s_ + "': column " + std::to_string(at + 1) +
                  ": expected " + expected);
    }

    bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

    void expect(char c, const std::string &what) {
      if (!peek(c))
        fail(pos_, what);
      ++pos_;
    }

    // A canonical decimal integer in [0, kMaxArg]: no sign, no leading zeros.
    int64_t number(const char *what) {
      const size_t start = pos_;
      if (peek('-'))
        fail(pos_, std::string(what) + " as a non-negative decimal integer");
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
        fail(pos_, std::string(what) + " as a decimal integer");
      int64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (pos_ > start && s_[start] == '0')
          fail(start, std::string(what) +
                          " as a canonical decimal integer (no leading zeros)");
        v = v * 10 + (s_[pos_] - '0');
        if (v > kMaxArg)
          fail(start, std::string(what) + " <= " + std::to_string(kMaxArg));
        ++pos_;
      }
      return v;
    }

    StaticMask expr(int depth) {
      const size_t start = pos_;
      if (depth > kMaxDepth)
        fail(start, "at most " + std::to_string(kMaxDepth) +
                        " levels of nested union/restrict");
      size_t end = pos_;
      while (end < s_.size() &&
             ((s_[end] >= 'a' && s_[end] <= 'z') || s_[end] == '_'))
        ++end;
      const std::string word = s_.substr(start, end - start);
      const TermInfo *term = nullptr;
      for (const TermInfo &t : kTerms)
        if (word == t.text)
          term = &t;
      if (!term)
        fail(start, std::string("a term (") + kTermList + ")");
      pos_ = end;
      StaticMask m;
      m.kind_ = term->kind;
      const std::string name = term->text;
      using Kind = StaticMask::Kind;
      switch (term->kind) {
      case Kind::All:
      case Kind::Current:
        break;
      case Kind::Sink:
      case Kind::Near:
      case Kind::WindowFrames:
      case Kind::WindowTokens:
        expect('(', "'(' after " + name);
        m.args_.push_back(number("N"));
        expect(')', "')' (" + name + " takes one argument)");
        break;
      case Kind::Radial: {
        expect('(', "'(' after radial");
        size_t at = pos_;
        int64_t d = number("D");
        if (d < 1)
          fail(at, "D >= 1 (radial halves the band every D frames)");
        expect(',', "',' (radial takes two arguments, D and W)");
        at = pos_;
        int64_t w = number("W");
        if (w < 1)
          fail(at, "W >= 1 (the narrowest band, in tokens)");
        expect(')', "')' (radial takes two arguments, D and W)");
        m.args_ = {d, w};
        break;
      }
      case Kind::Frames:
        expect('(', "'(' after frames");
        for (;;) {
          const size_t at = pos_;
          int64_t f = number("a frame");
          if (!m.args_.empty() && f <= m.args_.back())
            fail(at, "a frame > " + std::to_string(m.args_.back()) +
                         " (frames are ascending and distinct)");
          m.args_.push_back(f);
          if (peek(')'))
            break;
          expect(',', "',' or ')'");
        }
        ++pos_;
        break;
      case Kind::Union:
        expect('(', "'(' after union");
        m.operands_.push_back(expr(depth + 1));
        expect(',', "',' (union takes two or more operands)");
        m.operands_.push_back(expr(depth + 1));
        while (peek(',')) {
          ++pos_;
          m.operands_.push_back(expr(depth + 1));
        }
        expect(')', "',' or ')'");
        break;
      case Kind::Restrict:
        expect('(', "'(' after restrict");
        m.operands_.push_back(expr(depth + 1));
        expect(',', "',' (restrict takes exactly two operands)");
        m.operands_.push_back(expr(depth + 1));
        expect(')', "')' (restrict takes exactly two operands)");
        break;
      }
      return m;
    }

    const std::string &s_;
    size_t pos_ = 0;
  };
  return Parser(text).parseAll();
}

std::string StaticMask::text() const {
  std::string out = info(kind_).text;
  if (kind_ == Kind::All || kind_ == Kind::Current)
    return out;
  out += '(';
  for (size_t n = 0; n < args_.size(); ++n)
    out += (n ? "," : "") + std::to_string(args_[n]);
  for (size_t n = 0; n < operands_.size(); ++n)
    out += (n ? "," : "") + operands_[n].text();
  return out + ')';
}

std::string StaticMask::cppType() const {
  std::string out = std::string("lfc::mask::") + info(kind_).cpp;
  if (kind_ == Kind::All || kind_ == Kind::Current)
    return out;
  out += '<';
  for (size_t n = 0; n < args_.size(); ++n)
    out += (n ? ", " : "") + std::to_string(args_[n]);
  for (size_t n = 0; n < operands_.size(); ++n)
    out += (n ? ", " : "") + operands_[n].cppType();
  return out + '>';
}

const StaticMask *StaticMask::radialWiderThan(int64_t tokensPerFrame) const {
  if (kind_ == Kind::Radial && args_[1] > tokensPerFrame)
    return this;
  for (const StaticMask &o : operands_)
    if (const StaticMask *bad = o.radialWiderThan(tokensPerFrame))
      return bad;
  return nullptr;
}

std::vector<int32_t> StaticMask::eligibleBlocks(const ChunkSelection &sel,
                                                int64_t qb) const {
  std::vector<int32_t> out;
  for (int64_t j = 0; j < sel.keyBlocks(); ++j)
    if (eligible(sel, qb, j))
      out.push_back(int32_t(j));
  return out;
}

bool StaticMask::eligible(const ChunkSelection &sel, int64_t qb,
                          int64_t j) const {
  const int64_t T = sel.tokensPerFrame, nf = sel.visibleFrames;
  const int64_t P = nf - sel.framesPerChunk;
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
  const int64_t Bq = sel.blockQ, Bk = sel.blockK;
  // Key block j's tokens (empty past the last block).
  const Range block{j * Bk, std::min((j + 1) * Bk, Lk)};
  auto frames = [&](int64_t a, int64_t b) { return Range{a * T, b * T}; };
  switch (kind_) {
  case Kind::All:
    return overlaps(block, Range{0, Lk});
  case Kind::Sink:
    return overlaps(block, frames(0, std::min(args_[0], P)));
  case Kind::Near:
    return overlaps(block, frames(std::max<int64_t>(0, P - args_[0]), P));
  case Kind::Current:
    return overlaps(block, frames(P, nf));
  case Kind::WindowFrames:
    return overlaps(block, frames(std::max<int64_t>(0, P - args_[0]), nf));
  case Kind::WindowTokens:
    // The N tokens before the query block, and the whole current chunk.
    return overlaps(
        block,
        Range{std::max<int64_t>(0, std::min(P * T, P * T + qb * Bq - args_[0])),
              Lk});
  case Kind::Radial: {
    const int64_t D = args_[0], W = args_[1];
    const int64_t qBegin = qb * Bq, qEnd = std::min((qb + 1) * Bq, Lq);
    const int64_t c = qBegin + (qEnd - qBegin) / 2;
    const int64_t sc = c % T;
    if (block.begin >= block.end)
      return false;
    // Only the past frames the block touches can overlap their band.
    const int64_t first = block.begin / T;
    const int64_t last = std::min((block.end - 1) / T, P - 1);
    for (int64_t f = first; f <= last; ++f) {
      const int64_t d = P - f;
      const int64_t w = std::max(W, T >> std::min<int64_t>(d / D, 30));
      const int64_t s = std::min(std::max<int64_t>(sc - w / 2, 0), T - w);
      if (overlaps(block, Range{f * T + s, f * T + s + w}))
        return true;
    }
    return false;
  }
  case Kind::Frames:
    for (int64_t f : args_)
      if (f < nf && overlaps(block, frames(f, f + 1)))
        return true;
    return false;
  case Kind::Union:
    for (const StaticMask &m : operands_)
      if (m.eligible(sel, qb, j))
        return true;
    return false;
  case Kind::Restrict:
    return operands_[0].eligible(sel, qb, j) &&
           operands_[1].eligible(sel, qb, j);
  }
  return false;
}

} // namespace lfc
