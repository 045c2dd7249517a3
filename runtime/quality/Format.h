// Number and text formatting shared by the quality report writers: locale-free
// (std::to_chars), so report.json and the SVG pictures are byte-for-byte
// deterministic.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace lfc::quality::detail {

/// `v` with `significant` significant digits, shortest form ("0.5", "1e-05");
/// "nan", "inf" or "-inf" when not finite (callers map these).
inline std::string general(double v, int significant = 10) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general,
                         significant);
  return std::string(buf, r.ptr);
}

/// `v` with exactly `decimals` digits after the point ("-" when not finite).
inline std::string fixed(double v, int decimals) {
  if (!std::isfinite(v))
    return "-";
  if (v == 0)
    v = 0; // no "-0.00"
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed,
                         decimals);
  std::string s(buf, r.ptr);
  if (s.size() > 1 && s[0] == '-' &&
      s.find_first_not_of("-0.") == std::string::npos)
    s.erase(0, 1); // a negative value that rounds to zero
  return s;
}

/// `v` in scientific notation with `decimals` mantissa decimals ("1.50e-04").
inline std::string scientific(double v, int decimals) {
  if (!std::isfinite(v))
    return "-";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v,
                         std::chars_format::scientific, decimals);
  return std::string(buf, r.ptr);
}

/// A JSON number, or null when not finite.
inline std::string jsonNumber(double v) {
  return std::isfinite(v) ? general(v) : std::string("null");
}

inline std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        static const char *hex = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += char(c);
      }
    }
  }
  return out + "\"";
}

/// Text or attribute content for XML.
inline std::string xmlEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      // XML 1.0 has no other control characters.
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' ||
          c == '\r')
        out += c;
    }
  }
  return out;
}

} // namespace lfc::quality::detail
