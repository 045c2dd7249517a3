// Helpers of the quality tests: host tensors and kept lists, a minimal XML
// well-formedness checker that also lists the elements (to count SVG bars and
// cells), and a minimal JSON parser (to read report.json back). Both are
// written here, independently of the code under test.
#pragma once

#include "lfc/backend.h"
#include "lfc/half.h"
#include "lfc/tensor.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace lfc::qtest {

/// A host tensor with 16-bit (bf16/fp16) or fp32 storage, BSHD or BHSD.
struct HostTensor {
  std::vector<uint16_t> half;
  std::vector<float> full;
  Tensor4 view;

  HostTensor(DType t, int64_t b, int64_t s, int64_t h, int64_t d,
             bool bhsd = false) {
    size_t n = size_t(b * s * h * d);
    void *data = nullptr;
    if (t == DType::F32) {
      full.assign(n, 0.0f);
      data = full.data();
    } else {
      half.assign(n, 0);
      data = half.data();
    }
    view = bhsd ? Tensor4::bhsd(data, t, Device::Host, b, s, h, d)
                : Tensor4::bshd(data, t, Device::Host, b, s, h, d);
  }
  HostTensor(const HostTensor &) = delete;
  HostTensor(HostTensor &&) = default;

  size_t index(int64_t b, int64_t s, int64_t h, int64_t d) const {
    return size_t(view.offset(b, s, h) + d);
  }
  /// The stored value (after rounding to the dtype).
  double get(int64_t b, int64_t s, int64_t h, int64_t d) const {
    size_t i = index(b, s, h, d);
    switch (view.dtype) {
    case DType::BF16:
      return bf16ToFloat(half[i]);
    case DType::F16:
      return halfToFloat(half[i]);
    case DType::F32:
      return full[i];
    }
    return 0;
  }
  void set(int64_t b, int64_t s, int64_t h, int64_t d, float v) {
    size_t i = index(b, s, h, d);
    switch (view.dtype) {
    case DType::BF16:
      half[i] = floatToBf16(v);
      break;
    case DType::F16:
      half[i] = floatToHalf(v);
      break;
    case DType::F32:
      full[i] = v;
      break;
    }
  }
  void fillNormal(std::mt19937 &rng, float stddev = 1.0f) {
    std::normal_distribution<float> dist(0.0f, stddev);
    for (int64_t b = 0; b < view.batch; ++b)
      for (int64_t s = 0; s < view.tokens; ++s)
        for (int64_t h = 0; h < view.heads; ++h)
          for (int64_t d = 0; d < view.dim; ++d)
            set(b, s, h, d, dist(rng));
  }
};

/// Kept-block storage behind a KeptBlocks view.
struct HostKept {
  std::vector<int32_t> idx, cnt;
  KeptBlocks view;
  HostKept(int64_t b, int64_t h, int64_t nqb, int64_t maxKept)
      : idx(size_t(b * h * nqb * maxKept), -1), cnt(size_t(b * h * nqb), 0) {
    view.idx = idx.data();
    view.cnt = cnt.data();
    view.batch = b;
    view.heads = h;
    view.queryBlocks = nqb;
    view.maxKept = maxKept;
  }
  HostKept(const HostKept &) = delete;
  void setRow(int64_t b, int64_t h, int64_t i,
              const std::vector<int32_t> &blocks) {
    int64_t r = (b * view.heads + h) * view.queryBlocks + i;
    for (size_t n = 0; n < blocks.size(); ++n)
      idx[size_t(r * view.maxKept) + n] = blocks[n];
    cnt[size_t(r)] = int32_t(blocks.size());
  }
  std::vector<int32_t> row(int64_t b, int64_t h, int64_t i) const {
    int64_t r = (b * view.heads + h) * view.queryBlocks + i;
    return std::vector<int32_t>(idx.begin() + r * view.maxKept,
                                idx.begin() + r * view.maxKept +
                                    cnt[size_t(r)]);
  }
};

// ------------------------------------------------------------------ XML

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text; ///< direct text content, entities decoded
  std::string attr(const std::string &k) const {
    auto it = attrs.find(k);
    return it == attrs.end() ? std::string() : it->second;
  }
  bool hasClass(const std::string &c) const {
    std::string cls = " " + attr("class") + " ";
    return cls.find(" " + c + " ") != std::string::npos;
  }
};

/// Checks that `xml` is well-formed (one root, balanced tags, quoted and
/// unique attributes, known entities, no stray '<' or '&') and returns every
/// element in document order; throws std::runtime_error naming the offset.
inline std::vector<XmlElement> parseXml(const std::string &xml) {
  std::vector<XmlElement> elements;
  std::vector<std::pair<std::string, size_t>> stack; // name, element index
  size_t i = 0, roots = 0;
  auto fail = [&](const std::string &why) {
    throw std::runtime_error("XML offset " + std::to_string(i) + ": " + why);
  };
  auto isNameChar = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_' || c == ':' || c == '.';
  };
  auto decode = [&](const std::string &raw) {
    std::string out;
    for (size_t p = 0; p < raw.size(); ++p) {
      if (raw[p] == '<')
        fail("raw '<' in text or attribute");
      if (raw[p] != '&') {
        out += raw[p];
        continue;
      }
      size_t semi = raw.find(';', p);
      if (semi == std::string::npos)
        fail("unterminated entity");
      std::string ent = raw.substr(p + 1, semi - p - 1);
      if (ent == "amp")
        out += '&';
      else if (ent == "lt")
        out += '<';
      else if (ent == "gt")
        out += '>';
      else if (ent == "quot")
        out += '"';
      else if (ent == "apos")
        out += '\'';
      else if (ent.size() > 1 && ent[0] == '#')
        out += '?';
      else
        fail("unknown entity &" + ent + ";");
      p = semi;
    }
    return out;
  };
  auto skipSpace = [&] {
    while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i])))
      ++i;
  };
  if (xml.compare(0, 5, "<?xml") == 0) {
    size_t end = xml.find("?>");
    if (end == std::string::npos)
      fail("unterminated XML declaration");
    i = end + 2;
  }
  while (i < xml.size()) {
    if (xml[i] != '<') {
      size_t next = xml.find('<', i);
      std::string text = xml.substr(i, next - i);
      std::string decoded = decode(text);
      bool blank = decoded.find_first_not_of(" \t\r\n") == std::string::npos;
      if (stack.empty() && !blank)
        fail("text outside the root element");
      if (!stack.empty())
        elements[stack.back().second].text += decoded;
      i = next == std::string::npos ? xml.size() : next;
      continue;
    }
    if (xml.compare(i, 4, "<!--") == 0) {
      size_t end = xml.find("-->", i);
      if (end == std::string::npos)
        fail("unterminated comment");
      i = end + 3;
      continue;
    }
    if (xml.compare(i, 2, "</") == 0) {
      i += 2;
      size_t start = i;
      while (i < xml.size() && isNameChar(xml[i]))
        ++i;
      std::string name = xml.substr(start, i - start);
      skipSpace();
      if (i >= xml.size() || xml[i] != '>')
        fail("expected '>' after </" + name);
      ++i;
      if (stack.empty() || stack.back().first != name)
        fail("closing </" + name + "> does not match");
      stack.pop_back();
      continue;
    }
    ++i; // '<'
    size_t start = i;
    while (i < xml.size() && isNameChar(xml[i]))
      ++i;
    XmlElement el;
    el.name = xml.substr(start, i - start);
    if (el.name.empty())
      fail("empty element name");
    if (stack.empty() && ++roots > 1)
      fail("more than one root element");
    bool selfClosing = false;
    for (;;) {
      skipSpace();
      if (i >= xml.size())
        fail("unterminated start tag <" + el.name);
      if (xml[i] == '>') {
        ++i;
        break;
      }
      if (xml.compare(i, 2, "/>") == 0) {
        i += 2;
        selfClosing = true;
        break;
      }
      size_t an = i;
      while (i < xml.size() && isNameChar(xml[i]))
        ++i;
      std::string attr = xml.substr(an, i - an);
      if (attr.empty())
        fail("bad attribute in <" + el.name);
      skipSpace();
      if (i >= xml.size() || xml[i] != '=')
        fail("attribute " + attr + " without '='");
      ++i;
      skipSpace();
      if (i >= xml.size() || (xml[i] != '"' && xml[i] != '\''))
        fail("attribute " + attr + " is not quoted");
      char quote = xml[i++];
      size_t end = xml.find(quote, i);
      if (end == std::string::npos)
        fail("unterminated attribute " + attr);
      if (el.attrs.count(attr))
        fail("duplicate attribute " + attr);
      el.attrs[attr] = decode(xml.substr(i, end - i));
      i = end + 1;
    }
    elements.push_back(el);
    if (!selfClosing)
      stack.push_back({el.name, elements.size() - 1});
  }
  if (!stack.empty())
    fail("unclosed <" + stack.back().first + ">");
  if (roots != 1)
    fail("no root element");
  return elements;
}

inline std::vector<XmlElement> withClass(const std::vector<XmlElement> &els,
                                         const std::string &name,
                                         const std::string &cls) {
  std::vector<XmlElement> out;
  for (const XmlElement &e : els)
    if (e.name == name && e.hasClass(cls))
      out.push_back(e);
  return out;
}

// ------------------------------------------------------------------ JSON

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  bool has(const std::string &key) const {
    for (const auto &kv : object)
      if (kv.first == key)
        return true;
    return false;
  }
  const Json &operator[](const std::string &key) const {
    for (const auto &kv : object)
      if (kv.first == key)
        return kv.second;
    throw std::runtime_error("JSON: no key '" + key + "'");
  }
  const Json &operator[](size_t i) const { return array.at(i); }
  bool isNull() const { return kind == Null; }
};

class JsonParser {
public:
  explicit JsonParser(const std::string &text) : s_(text) {}
  Json parse() {
    Json v = value();
    space();
    if (i_ != s_.size())
      fail("trailing text");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string &why) {
    throw std::runtime_error("JSON offset " + std::to_string(i_) + ": " + why);
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' ||
                              s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (s_.compare(i_, n, word) != 0)
      return false;
    i_ += n;
    return true;
  }
  std::string stringValue() {
    if (s_[i_] != '"')
      fail("expected a string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20)
        fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size())
        fail("unterminated escape");
      char e = s_[i_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        if (i_ + 4 > s_.size())
          fail("short \\u escape");
        out += char(std::stoi(s_.substr(i_, 4), nullptr, 16));
        i_ += 4;
        break;
      default:
        fail("bad escape");
      }
    }
    if (i_ >= s_.size())
      fail("unterminated string");
    ++i_;
    return out;
  }
  Json value() {
    space();
    if (i_ >= s_.size())
      fail("unexpected end");
    Json v;
    char c = s_[i_];
    if (c == '{') {
      v.kind = Json::Object;
      ++i_;
      space();
      if (s_[i_] == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        space();
        std::string key = stringValue();
        space();
        if (s_[i_] != ':')
          fail("expected ':'");
        ++i_;
        v.object.emplace_back(key, value());
        space();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == '}') {
          ++i_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      ++i_;
      space();
      if (s_[i_] == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.array.push_back(value());
        space();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == ']') {
          ++i_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::String;
      v.string = stringValue();
      return v;
    }
    if (literal("null"))
      return v;
    if (literal("true") || literal("false")) {
      v.kind = Json::Bool;
      v.boolean = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u';
      return v;
    }
    // number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    size_t start = i_;
    if (s_[i_] == '-')
      ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])))
        ++i_;
      return i_ - d;
    };
    if (i_ < s_.size() && s_[i_] == '0')
      ++i_;
    else if (digits() == 0)
      fail("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (digits() == 0)
        fail("bad fraction");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      if (digits() == 0)
        fail("bad exponent");
    }
    v.kind = Json::Number;
    v.number = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
    return v;
  }

  const std::string &s_;
  size_t i_ = 0;
};

inline Json parseJson(const std::string &text) {
  return JsonParser(text).parse();
}

} // namespace lfc::qtest
