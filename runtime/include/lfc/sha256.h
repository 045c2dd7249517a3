// SHA-256 (FIPS 180-4): cache keys and plan source hashes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lfc {

class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// Appends the length too, so that ("ab","c") and ("a","bc") hash
  /// differently.
  void updateField(std::string_view s);
  std::array<uint8_t, 32>
  digest(); ///< finishes; the object must not be updated after
  std::string hexDigest();

private:
  void compress(const uint8_t *block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t totalBytes_ = 0;
};

/// Lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

} // namespace lfc
