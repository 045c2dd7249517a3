// .npy reader and writer (lfc/io.h): NumPy format versions 1.0, 2.0 and 3.0,
// C order, little-endian '<f4', '<f2', and bf16 as raw 16-bit patterns. The
// header is a Python dict literal; a small strict parser reads the subset
// NumPy writes (strings, True/False/None, integers, tuples, lists).
#include "runtime/io/Bytes.h"

#include <cstdint>
#include <cstdio>

namespace lfc {

using namespace io_detail;

const char *const kNpySupportedDtypes =
    "'<f4' (fp32), '<f2' (fp16), '<u2' / '<V2' / '|V2' (bf16 bit patterns)";

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr int kMaxPyDepth = 16;

// A value of the Python literal subset .npy headers use.
struct PyValue {
  enum class Kind { Str, Bool, None, Int, Tuple, List } kind = Kind::None;
  std::string text; ///< Str: contents; Int: the digits, '-' included
  bool boolean = false;
  std::vector<PyValue> items; ///< Tuple / List
};

const char *pyKindName(PyValue::Kind k) {
  switch (k) {
  case PyValue::Kind::Str:
    return "a string";
  case PyValue::Kind::Bool:
    return "True/False";
  case PyValue::Kind::None:
    return "None";
  case PyValue::Kind::Int:
    return "an integer";
  case PyValue::Kind::Tuple:
    return "a tuple";
  case PyValue::Kind::List:
    return "a list";
  }
  return "?";
}

class HeaderParser {
public:
  HeaderParser(const std::string &h, const std::string &file)
      : s_(h), file_(file) {}

  std::vector<std::pair<std::string, PyValue>> parseDict() {
    skipWs();
    if (!peek('{'))
      fail("expected the header to be a Python dict starting with '{', got " +
           describe());
    ++pos_;
    std::vector<std::pair<std::string, PyValue>> members;
    for (;;) {
      skipWs();
      if (peek('}')) {
        ++pos_;
        break;
      }
      if (!peek('\'') && !peek('"'))
        fail("expected a quoted key or '}' in the header dict, got " +
             describe());
      std::string key = parseStr();
      for (const auto &m : members)
        if (m.first == key)
          fail("duplicate key '" + key + "' in the header dict");
      skipWs();
      if (!peek(':'))
        fail("expected ':' after key '" + key + "', got " + describe());
      ++pos_;
      skipWs();
      members.emplace_back(key, parseValue(0));
      skipWs();
      if (peek(',')) {
        ++pos_;
        continue;
      }
      if (peek('}')) {
        ++pos_;
        break;
      }
      fail("expected ',' or '}' after the value of '" + key + "', got " +
           describe());
    }
    skipWs();
    if (pos_ != s_.size())
      fail("unexpected " + describe() +
           " after the header dict (only spaces and a newline may follow)");
    return members;
  }

private:
  const std::string &s_;
  const std::string &file_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string &msg) const {
    throw Error(file_ + ": malformed .npy header at header byte " +
                std::to_string(pos_) + ": " + msg);
  }
  std::string describe() const {
    if (pos_ >= s_.size())
      return "end of header";
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x21 && c < 0x7f)
      return std::string("'") + char(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(c));
    return buf;
  }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool isDigit() const {
    return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9';
  }
  bool word(const char *w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.compare(pos_, n, w) != 0)
      return false;
    size_t after = pos_ + n;
    if (after < s_.size()) {
      char c = s_[after];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_')
        return false;
    }
    pos_ = after;
    return true;
  }

  std::string parseStr() {
    char q = s_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= s_.size() || s_[pos_] == '\n')
        fail("unterminated string");
      char c = s_[pos_];
      if (c == q) {
        ++pos_;
        return out;
      }
      if (c == '\\')
        fail("escape sequences are not supported in .npy header strings");
      out += c;
      ++pos_;
    }
  }

  PyValue parseValue(int depth) {
    if (depth > kMaxPyDepth)
      fail("values nested deeper than " + std::to_string(kMaxPyDepth));
    PyValue v;
    if (peek('\'') || peek('"')) {
      v.kind = PyValue::Kind::Str;
      v.text = parseStr();
    } else if (word("True")) {
      v.kind = PyValue::Kind::Bool;
      v.boolean = true;
    } else if (word("False")) {
      v.kind = PyValue::Kind::Bool;
    } else if (word("None")) {
      v.kind = PyValue::Kind::None;
    } else if (peek('-') || isDigit()) {
      v.kind = PyValue::Kind::Int;
      if (peek('-'))
        v.text += s_[pos_++];
      if (!isDigit())
        fail("expected a digit, got " + describe());
      while (isDigit())
        v.text += s_[pos_++];
      if (peek('L') || peek('l')) // Python 2 long (old version 1.0 files)
        ++pos_;
    } else if (peek('(') || peek('[')) {
      bool tuple = peek('(');
      char close = tuple ? ')' : ']';
      ++pos_;
      bool sawComma = false;
      for (;;) {
        skipWs();
        if (peek(close)) {
          ++pos_;
          break;
        }
        v.items.push_back(parseValue(depth + 1));
        skipWs();
        if (peek(',')) {
          ++pos_;
          sawComma = true;
          continue;
        }
        if (peek(close)) {
          ++pos_;
          break;
        }
        fail(std::string("expected ',' or '") + close + "', got " + describe());
      }
      if (tuple && v.items.size() == 1 && !sawComma)
        return std::move(v.items[0]); // (x) is x in Python, not a tuple
      v.kind = tuple ? PyValue::Kind::Tuple : PyValue::Kind::List;
    } else {
      fail("expected a value (string, True, False, None, integer, tuple or "
           "list), got " +
           describe());
    }
    return v;
  }
};

// "a descr NumPy wrote" -> DType, or an error listing what is supported.
DType descrToDType(const std::string &descr, const std::string &file) {
  if (descr == "<f4")
    return DType::F32;
  if (descr == "<f2")
    return DType::F16;
  if (descr == "<u2" || descr == "<V2" || descr == "|V2")
    return DType::BF16;
  std::string why;
  if (!descr.empty() && descr[0] == '>')
    why = " (big-endian)";
  else if (descr == "<f8")
    why = " (fp64: convert to float32 first)";
  throw Error(file + ": unsupported .npy dtype '" + descr + "'" + why +
              "; supported: " + kNpySupportedDtypes);
}

const char *dtypeToDescr(DType t) {
  switch (t) {
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::BF16:
    return "<u2";
  }
  return "?";
}

std::string describeBytes(const std::string &b) {
  std::string out;
  char buf[8];
  for (unsigned char c : b) {
    std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
    out += buf;
  }
  return out;
}

NpyHeader parseHeader(const ByteSource &src) {
  const std::string &file = src.name();
  const uint64_t size = src.size();
  if (size < 10)
    throw Error(file + ": too short for an .npy file (" + std::to_string(size) +
                " bytes; expected at least 10: the magic \\x93NUMPY, a "
                "2-byte version and the header length)");
  std::string pre = src.readString(0, size >= 12 ? 12 : 10);
  if (pre.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    throw Error(file +
                ": bad magic: not an .npy file (expected the bytes "
                "\\x93NUMPY, got " +
                describeBytes(pre.substr(0, kMagicLen)) + ")");
  NpyHeader h;
  h.major = static_cast<unsigned char>(pre[6]);
  h.minor = static_cast<unsigned char>(pre[7]);
  if ((h.major != 1 && h.major != 2 && h.major != 3) || h.minor != 0)
    throw Error(file + ": unsupported .npy format version " +
                std::to_string(h.major) + "." + std::to_string(h.minor) +
                " (supported: 1.0, 2.0, 3.0)");
  const int lenBytes = h.major == 1 ? 2 : 4;
  const uint64_t preamble = 8 + uint64_t(lenBytes);
  if (size < preamble)
    throw Error(file + ": truncated .npy preamble: version " +
                std::to_string(h.major) + ".0 needs " +
                std::to_string(preamble) + " bytes, the file has " +
                std::to_string(size));
  const uint64_t hlen =
      loadLE(reinterpret_cast<const uint8_t *>(pre.data()) + 8, lenBytes);
  if (hlen > size - preamble)
    throw Error(file + ": truncated .npy header: its length field says " +
                std::to_string(hlen) + " bytes, only " +
                std::to_string(size - preamble) + " bytes follow the preamble");
  const std::string text = src.readString(preamble, hlen);
  const auto members = HeaderParser(text, file).parseDict();

  const PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (const auto &m : members) {
    if (m.first == "descr")
      descr = &m.second;
    else if (m.first == "fortran_order")
      fortran = &m.second;
    else if (m.first == "shape")
      shape = &m.second;
    else
      throw Error(file + ": unexpected key '" + m.first +
                  "' in the .npy header (expected exactly 'descr', "
                  "'fortran_order', 'shape')");
  }
  for (auto [p, key] :
       {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"},
        std::pair{shape, "shape"}})
    if (!p)
      throw Error(file + ": the .npy header has no '" + key +
                  "' key (expected 'descr', 'fortran_order', 'shape')");
  if (descr->kind != PyValue::Kind::Str)
    throw Error(file + ": unsupported .npy dtype: 'descr' is " +
                pyKindName(descr->kind) +
                " (a structured dtype?); supported: " + kNpySupportedDtypes);
  h.descr = descr->text;
  h.dtype = descrToDType(descr->text, file);
  if (fortran->kind != PyValue::Kind::Bool)
    throw Error(file + ": 'fortran_order' is " + pyKindName(fortran->kind) +
                ", expected True or False");
  if (fortran->boolean)
    throw Error(file + ": Fortran-order (column-major) data is not "
                       "supported: expected 'fortran_order': False (save a "
                       "C-contiguous array, e.g. np.ascontiguousarray(a))");
  if (shape->kind != PyValue::Kind::Tuple)
    throw Error(file + ": 'shape' is " + pyKindName(shape->kind) +
                ", expected a tuple of non-negative integers");
  for (const PyValue &d : shape->items) {
    if (d.kind != PyValue::Kind::Int)
      throw Error(file + ": 'shape' holds " + pyKindName(d.kind) +
                  ", expected non-negative integers");
    if (d.text[0] == '-')
      throw Error(file + ": 'shape' has a negative dimension " + d.text +
                  ", expected non-negative integers");
    int64_t v = 0;
    for (char c : d.text) {
      const int64_t digit = c - '0';
      if (!mulOk(v, 10, v) || v > INT64_MAX - digit)
        throw Error(file + ": shape dimension " + d.text +
                    " overflows int64 (shape overflow)");
      v += digit;
    }
    h.shape.push_back(v);
  }
  h.dataOffset = preamble + hlen;
  h.dataBytes = uint64_t(checkedByteSize(h.shape, h.dtype, file));
  const uint64_t have = size - h.dataOffset;
  if (have < h.dataBytes)
    throw Error(file + ": truncated data: shape " + shapeString(h.shape) +
                " of '" + h.descr + "' needs " + std::to_string(h.dataBytes) +
                " bytes after the " + std::to_string(h.dataOffset) +
                "-byte header, the file has " + std::to_string(have));
  if (have > h.dataBytes)
    throw Error(file + ": " + std::to_string(have - h.dataBytes) +
                " unexpected bytes after the data: shape " +
                shapeString(h.shape) + " of '" + h.descr + "' needs " +
                std::to_string(h.dataBytes) + " bytes after the " +
                std::to_string(h.dataOffset) + "-byte header, the file has " +
                std::to_string(have));
  return h;
}

HostArray readData(const ByteSource &src, const NpyHeader &h) {
  HostArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.bytes.resize(size_t(h.dataBytes));
  if (h.dataBytes)
    src.read(h.dataOffset, h.dataBytes, a.bytes.data());
  return a;
}

} // namespace

NpyHeader readNpyHeader(const std::string &path) {
  return parseHeader(*fileSource(path));
}

HostArray readNpy(const std::string &path) {
  auto src = fileSource(path);
  return readData(*src, parseHeader(*src));
}

HostArray parseNpy(const std::string &bytes, const std::string &name) {
  auto src = memorySource(bytes, name);
  return readData(*src, parseHeader(*src));
}

std::string npyBytes(const HostArray &a, int version) {
  int64_t nbytes = checkedByteSize(a.shape, a.dtype, "npyBytes");
  if (uint64_t(nbytes) != a.bytes.size())
    throw Error("npyBytes: shape " + shapeString(a.shape) + " of " +
                dtypeName(a.dtype) + " needs " + std::to_string(nbytes) +
                " bytes, the array holds " + std::to_string(a.bytes.size()));
  std::string dict = std::string("{'descr': '") + dtypeToDescr(a.dtype) +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < a.shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(a.shape[i]);
  dict += a.shape.size() == 1 ? ",), }" : "), }";
  if (version == 0)
    version = 10 + dict.size() + 1 + 63 <= 65535 ? 1 : 2;
  if (version < 1 || version > 3)
    throw Error("npyBytes: version " + std::to_string(version) +
                " requested; lfc writes .npy versions 1, 2 and 3 (0: the "
                "smallest that fits)");
  const size_t preamble = version == 1 ? 10 : 12;
  size_t total = preamble + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  if (version == 1 && dict.size() > 65535)
    throw Error("npyBytes: the header of shape " + shapeString(a.shape) +
                " does not fit version 1.0 (use 2.0)");
  std::string out(kMagic, kMagicLen);
  out += char(version);
  out += char(0);
  storeLE(out, dict.size(), version == 1 ? 2 : 4);
  out += dict;
  out.append(reinterpret_cast<const char *>(a.bytes.data()), a.bytes.size());
  return out;
}

void writeNpy(const std::string &path, const HostArray &a, int version) {
  writeFileAtomic(path, npyBytes(a, version));
}

} // namespace lfc
