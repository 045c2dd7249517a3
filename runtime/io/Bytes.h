// Internal helpers of the trace I/O layer (runtime/io/): byte sources (a file
// read on demand, or bytes in memory), overflow-checked sizes, little-endian
// integers and shape formatting. Not part of the public API (lfc/io.h).
#pragma once

#include "lfc/io.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lfc::io_detail {

/// Random-access bytes with a name for error messages.
class ByteSource {
public:
  virtual ~ByteSource() = default;
  const std::string &name() const { return name_; }
  virtual uint64_t size() const = 0;
  /// Reads exactly [offset, offset + n) into dst; throws lfc::Error on a short
  /// read (the file changed since it was opened).
  virtual void read(uint64_t offset, uint64_t n, void *dst) const = 0;
  /// Reads [offset, offset + n) as a string (n is bounded by the caller).
  std::string readString(uint64_t offset, uint64_t n) const;

protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}

private:
  std::string name_;
};

/// A regular file, opened for each read; throws lfc::Error if `path` is not a
/// readable regular file.
std::shared_ptr<const ByteSource> fileSource(const std::string &path);
/// Bytes held in memory; `name` stands for them in errors.
std::shared_ptr<const ByteSource> memorySource(std::string bytes,
                                               std::string name);

/// a * b, or false on overflow of int64 (a, b >= 0).
bool mulOk(int64_t a, int64_t b, int64_t &out);
/// Bytes of `shape` elements of `t`; throws lfc::Error ("<what>: shape ...
/// overflows ...") on a negative dimension or int64 overflow.
int64_t checkedByteSize(const std::vector<int64_t> &shape, DType t,
                        const std::string &what);

uint64_t loadLE(const uint8_t *p, int bytes);
void storeLE(std::string &out, uint64_t v, int bytes);

/// Writes `bytes` to `path` atomically (a temporary file renamed over it);
/// throws lfc::Error naming the path.
void writeFileAtomic(const std::string &path, const std::string &bytes);

} // namespace lfc::io_detail
