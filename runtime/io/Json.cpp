// The strict JSON parser of the trace I/O layer (Json.h): recursive descent
// over bytes, every error at a line and column.
#include "runtime/io/Json.h"

#include "lfc/backend.h"

#include <cstdio>
#include <limits>

namespace lfc::io_detail {

const JsonValue *JsonValue::find(const std::string &key) const {
  for (const auto &m : members)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

bool JsonValue::asUint(uint64_t &out) const {
  if (kind != Kind::Number || text.empty())
    return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    uint64_t d = uint64_t(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
      return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

const char *JsonValue::kindName(Kind k) {
  switch (k) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "true/false";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "?";
}

std::string jsonLocation(const std::string &text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

std::string jsonQuote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

namespace {

constexpr int kMaxDepth = 64;

class Parser {
public:
  Parser(const std::string &text, const std::string &what, size_t maxValues)
      : s_(text), what_(what), maxValues_(maxValues) {}

  JsonValue parseDocument() {
    skipWs();
    JsonValue v = parseValue(0);
    skipWs();
    if (pos_ != s_.size())
      fail(pos_, "unexpected " + describe(pos_) +
                     " after the JSON value (only whitespace may follow)");
    return v;
  }

private:
  const std::string &s_;
  const std::string &what_;
  const size_t maxValues_;
  size_t pos_ = 0;
  size_t values_ = 0;

  [[noreturn]] void fail(size_t at, const std::string &msg) const {
    throw Error(what_ + ": JSON error at " + jsonLocation(s_, at) + " (byte " +
                std::to_string(at) + "): " + msg);
  }

  std::string describe(size_t at) const {
    if (at >= s_.size())
      return "end of input";
    unsigned char c = static_cast<unsigned char>(s_[at]);
    if (c >= 0x21 && c < 0x7f)
      return std::string("'") + char(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(c));
    return buf;
  }

  void skipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  JsonValue parseValue(int depth) {
    if (depth > kMaxDepth)
      fail(pos_, "nesting deeper than " + std::to_string(kMaxDepth) +
                     " arrays/objects");
    if (pos_ >= s_.size())
      fail(pos_, "expected a JSON value, got end of input");
    if (++values_ > maxValues_)
      fail(pos_, "more than " + std::to_string(maxValues_) + " JSON values");
    JsonValue v;
    v.offset = pos_;
    char c = s_[pos_];
    if (c == '{') {
      v.kind = JsonValue::Kind::Object;
      parseObject(v, depth);
    } else if (c == '[') {
      v.kind = JsonValue::Kind::Array;
      parseArray(v, depth);
    } else if (c == '"') {
      v.kind = JsonValue::Kind::String;
      v.text = parseString();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = JsonValue::Kind::Number;
      v.text = parseNumber();
    } else if (s_.compare(pos_, 4, "true") == 0) {
      v.kind = JsonValue::Kind::Bool;
      v.boolean = true;
      pos_ += 4;
    } else if (s_.compare(pos_, 5, "false") == 0) {
      v.kind = JsonValue::Kind::Bool;
      pos_ += 5;
    } else if (s_.compare(pos_, 4, "null") == 0) {
      pos_ += 4;
    } else {
      fail(pos_, "expected a JSON value (object, array, string, number, "
                 "true, false or null), got " +
                     describe(pos_));
    }
    return v;
  }

  void parseObject(JsonValue &v, int depth) {
    ++pos_; // {
    skipWs();
    if (peek('}')) {
      ++pos_;
      return;
    }
    for (;;) {
      skipWs();
      if (!peek('"'))
        fail(pos_,
             "expected '\"' starting an object key, got " + describe(pos_));
      size_t keyAt = pos_;
      std::string key = parseString();
      for (const auto &m : v.members)
        if (m.first == key)
          fail(keyAt, "duplicate object key " + jsonQuote(key));
      skipWs();
      if (!peek(':'))
        fail(pos_, "expected ':' after object key " + jsonQuote(key) +
                       ", got " + describe(pos_));
      ++pos_;
      skipWs();
      v.members.emplace_back(std::move(key), parseValue(depth + 1));
      skipWs();
      if (peek(',')) {
        ++pos_;
        continue;
      }
      if (peek('}')) {
        ++pos_;
        return;
      }
      fail(pos_,
           "expected ',' or '}' after an object member, got " + describe(pos_));
    }
  }

  void parseArray(JsonValue &v, int depth) {
    ++pos_; // [
    skipWs();
    if (peek(']')) {
      ++pos_;
      return;
    }
    for (;;) {
      skipWs();
      v.items.push_back(parseValue(depth + 1));
      skipWs();
      if (peek(',')) {
        ++pos_;
        continue;
      }
      if (peek(']')) {
        ++pos_;
        return;
      }
      fail(pos_,
           "expected ',' or ']' after an array element, got " + describe(pos_));
    }
  }

  std::string parseNumber() {
    size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
        ++n;
      }
      return n;
    };
    if (peek('-'))
      ++pos_;
    if (peek('0')) {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        fail(pos_ - 1, "numbers must not have leading zeros");
    } else if (digits() == 0) {
      fail(pos_, "expected a digit in a number, got " + describe(pos_));
    }
    if (peek('.')) {
      ++pos_;
      if (digits() == 0)
        fail(pos_,
             "expected a digit after '.' in a number, got " + describe(pos_));
    }
    if (peek('e') || peek('E')) {
      ++pos_;
      if (peek('+') || peek('-'))
        ++pos_;
      if (digits() == 0)
        fail(pos_,
             "expected a digit in a number's exponent, got " + describe(pos_));
    }
    return s_.substr(start, pos_ - start);
  }

  unsigned hex4(size_t at) {
    if (s_.size() - at < 4)
      fail(at, "expected 4 hex digits after \\u, got end of input");
    unsigned v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = s_[i];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = unsigned(c - 'A' + 10);
      else
        fail(i, "expected a hex digit in a \\u escape, got " + describe(i));
      v = v * 16 + d;
    }
    return v;
  }

  static void appendUtf8(std::string &out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    }
  }

  // Validates one raw UTF-8 sequence at pos_ (lead byte >= 0x80) and appends
  // it: no overlong forms, no surrogates, nothing above U+10FFFF.
  void copyUtf8(std::string &out) {
    size_t at = pos_;
    auto b = [&](size_t i) { return static_cast<unsigned char>(s_[i]); };
    unsigned c = b(at);
    int n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      fail(at, "invalid UTF-8 (" + describe(at) + ") in a string");
    }
    if (s_.size() - at - 1 < size_t(n))
      fail(at, "truncated UTF-8 sequence in a string");
    for (int i = 1; i <= n; ++i) {
      unsigned cc = b(at + size_t(i));
      if ((cc & 0xc0) != 0x80)
        fail(at + size_t(i), "invalid UTF-8 continuation (" +
                                 describe(at + size_t(i)) + ") in a string");
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      fail(at, "invalid UTF-8 (overlong, surrogate or above U+10FFFF) in a "
               "string");
    out.append(s_, at, size_t(n) + 1);
    pos_ = at + size_t(n) + 1;
  }

  std::string parseString() {
    size_t start = pos_;
    ++pos_; // "
    std::string out;
    for (;;) {
      if (pos_ >= s_.size())
        fail(start, "unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20)
        fail(pos_, "control character (" + describe(pos_) +
                       ") in a string: write it as an escape");
      if (c >= 0x80) {
        copyUtf8(out);
        continue;
      }
      if (c != '\\') {
        out += char(c);
        ++pos_;
        continue;
      }
      size_t escAt = pos_;
      if (++pos_ >= s_.size())
        fail(escAt, "unterminated escape at end of input");
      char e = s_[pos_++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned cp = hex4(pos_);
        pos_ += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff)
          fail(escAt, "lone low surrogate \\u escape in a string");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (s_.compare(pos_, 2, "\\u") != 0)
            fail(escAt, "high surrogate \\u escape not followed by a low "
                        "surrogate \\u escape");
          unsigned lo = hex4(pos_ + 2);
          if (lo < 0xdc00 || lo > 0xdfff)
            fail(pos_, "high surrogate \\u escape not followed by a low "
                       "surrogate \\u escape");
          pos_ += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        fail(escAt, "invalid escape: backslash followed by " +
                        describe(pos_ - 1) +
                        " in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r "
                        "\\t \\uXXXX)");
      }
    }
  }
};

} // namespace

JsonValue parseJson(const std::string &text, const std::string &what,
                    size_t maxValues) {
  return Parser(text, what, maxValues).parseDocument();
}

} // namespace lfc::io_detail
