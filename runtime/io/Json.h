// A small strict JSON parser (RFC 8259) for .safetensors headers and
// trace.json: objects, arrays, strings with every escape (surrogate pairs
// included, raw UTF-8 validated), numbers, true/false/null. Duplicate object
// keys, trailing commas, comments, leading zeros, control characters in
// strings, nesting deeper than 64, more than `maxValues` values and anything
// but whitespace after the value are errors. Internal to runtime/io/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lfc::io_detail {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  /// String: the decoded text (UTF-8). Number: the literal as written.
  std::string text;
  std::vector<JsonValue> items;                           ///< Array
  std::vector<std::pair<std::string, JsonValue>> members; ///< Object, in order
  size_t offset = 0; ///< byte offset of the value in the parsed text

  /// The member `key` of an object, or nullptr.
  const JsonValue *find(const std::string &key) const;
  /// A number written as a plain non-negative integer ("0", "42"; no sign,
  /// fraction or exponent) that fits `out`; false otherwise.
  bool asUint(uint64_t &out) const;
  /// "object", "array", "string", "number", "true/false", "null".
  static const char *kindName(Kind k);
};

/// Each value costs ~100 bytes however short its text ("0,"): the bound on
/// their number bounds what a hostile header makes the parser allocate. 2^20
/// values is ~100k safetensors entries.
constexpr size_t kJsonMaxValues = size_t(1) << 20;

/// Parses `text` as one JSON value; throws lfc::Error
/// "<what>: JSON error at line L, column C (byte B): <message>".
JsonValue parseJson(const std::string &text, const std::string &what,
                    size_t maxValues = kJsonMaxValues);

/// `s` as a JSON string literal, quotes included (escapes ", \ and control
/// characters).
std::string jsonQuote(const std::string &s);

/// Line and column (1-based) of byte `offset` in `text`, as "line L, column C".
std::string jsonLocation(const std::string &text, size_t offset);

} // namespace lfc::io_detail
