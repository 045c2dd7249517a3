// Host arrays (lfc/io.h): views, conversions, and the byte sources and
// overflow-checked sizes the .npy / .safetensors readers share (Bytes.h).
#include "runtime/io/Bytes.h"

#include "lfc/half.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>

#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lfc's trace I/O reads little-endian data into host memory as is"
#endif

namespace fs = std::filesystem;

namespace lfc {
namespace io_detail {

std::string ByteSource::readString(uint64_t offset, uint64_t n) const {
  std::string s(size_t(n), '\0');
  if (n)
    read(offset, n, &s[0]);
  return s;
}

namespace {

class FileSource final : public ByteSource {
public:
  FileSource(const std::string &path, uint64_t size)
      : ByteSource(path), size_(size) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint64_t n, void *dst) const override {
    if (offset > size_ || n > size_ - offset)
      throw Error(name() + ": read of bytes [" + std::to_string(offset) + ", " +
                  std::to_string(offset + n) + ") past the end (" +
                  std::to_string(size_) + " bytes)");
    std::FILE *f = std::fopen(name().c_str(), "rb");
    if (!f)
      throw Error(name() + ": cannot open: " + std::strerror(errno));
    bool ok = ::fseeko(f, off_t(offset), SEEK_SET) == 0 &&
              std::fread(dst, 1, size_t(n), f) == size_t(n);
    std::fclose(f);
    if (!ok)
      throw Error(name() + ": short read of " + std::to_string(n) +
                  " bytes at offset " + std::to_string(offset) +
                  " (did the file change after it was opened?)");
  }

private:
  uint64_t size_;
};

class MemorySource final : public ByteSource {
public:
  MemorySource(std::string bytes, std::string name)
      : ByteSource(std::move(name)), bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  void read(uint64_t offset, uint64_t n, void *dst) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset)
      throw Error(name() + ": read of bytes [" + std::to_string(offset) + ", " +
                  std::to_string(offset + n) + ") past the end (" +
                  std::to_string(bytes_.size()) + " bytes)");
    if (n)
      std::memcpy(dst, bytes_.data() + offset, size_t(n));
  }

private:
  std::string bytes_;
};

} // namespace

std::shared_ptr<const ByteSource> fileSource(const std::string &path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw Error(path + ": no such file");
  if (!fs::is_regular_file(st))
    throw Error(path + ": not a regular file");
  uintmax_t size = fs::file_size(path, ec);
  if (ec)
    throw Error(path + ": cannot read its size: " + ec.message());
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::fclose(f);
  return std::make_shared<FileSource>(path, uint64_t(size));
}

std::shared_ptr<const ByteSource> memorySource(std::string bytes,
                                               std::string name) {
  return std::make_shared<MemorySource>(std::move(bytes), std::move(name));
}

bool mulOk(int64_t a, int64_t b, int64_t &out) {
  if (a < 0 || b < 0)
    return false;
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
    return false;
  out = a * b;
  return true;
}

int64_t checkedByteSize(const std::vector<int64_t> &shape, DType t,
                        const std::string &what) {
  int64_t n = dtypeSize(t);
  for (int64_t d : shape) {
    if (d < 0)
      throw Error(what + ": shape " + shapeString(shape) +
                  " has a negative dimension");
  }
  for (int64_t d : shape) {
    if (!mulOk(n, d, n))
      throw Error(what + ": shape " + shapeString(shape) + " of " +
                  dtypeName(t) +
                  " overflows: its byte size exceeds 2^63-1 (shape "
                  "overflow)");
  }
  return n;
}

uint64_t loadLE(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

void storeLE(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(char((v >> (8 * i)) & 0xff));
}

void writeFileAtomic(const std::string &path, const std::string &bytes) {
  fs::path target(path);
  fs::path tmp = target;
  tmp += ".tmp" + std::to_string(::getpid());
  std::FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw Error(path + ": cannot write: " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (ok)
    fs::rename(tmp, target, ec);
  if (!ok || ec) {
    fs::remove(tmp, ec);
    throw Error(path + ": cannot write (disk full or no permission?)");
  }
}

} // namespace io_detail

using namespace io_detail;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

int64_t HostArray::elements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

float HostArray::at(int64_t i) const {
  const uint8_t *p = bytes.data() + size_t(i) * size_t(dtypeSize(dtype));
  switch (dtype) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case DType::BF16:
    return bf16ToFloat(uint16_t(loadLE(p, 2)));
  case DType::F16:
    return halfToFloat(uint16_t(loadLE(p, 2)));
  }
  return 0.0f;
}

HostArray HostArray::zeros(DType dtype, std::vector<int64_t> shape) {
  HostArray a;
  a.dtype = dtype;
  int64_t bytes = checkedByteSize(shape, dtype, "HostArray::zeros");
  a.shape = std::move(shape);
  a.bytes.assign(size_t(bytes), 0);
  return a;
}

namespace {
void storeFloat(uint8_t *p, DType t, float f) {
  switch (t) {
  case DType::F32:
    std::memcpy(p, &f, 4);
    return;
  case DType::BF16: {
    uint16_t h = floatToBf16(f);
    std::memcpy(p, &h, 2);
    return;
  }
  case DType::F16: {
    uint16_t h = floatToHalf(f);
    std::memcpy(p, &h, 2);
    return;
  }
  }
}
} // namespace

HostArray HostArray::fromFloats(DType dtype, std::vector<int64_t> shape,
                                const std::vector<float> &values) {
  HostArray a = zeros(dtype, std::move(shape));
  if (int64_t(values.size()) != a.elements())
    throw Error("HostArray::fromFloats: " + std::to_string(values.size()) +
                " values for shape " + shapeString(a.shape) + " (" +
                std::to_string(a.elements()) + " elements)");
  for (size_t i = 0; i < values.size(); ++i)
    storeFloat(a.bytes.data() + i * size_t(dtypeSize(dtype)), dtype, values[i]);
  return a;
}

Tensor4 bshdView(HostArray &a, const std::string &what) {
  if (a.shape.size() != 4)
    throw Error(what +
                ": expected a rank-4 [batch, tokens, heads, head_dim] "
                "array, got shape " +
                shapeString(a.shape));
  return Tensor4::bshd(a.bytes.data(), a.dtype, Device::Host, a.shape[0],
                       a.shape[1], a.shape[2], a.shape[3]);
}

Tensor4 bshdView(const HostArray &a, const std::string &what) {
  return bshdView(const_cast<HostArray &>(a), what);
}

HostArray toHostArray(const Tensor4 &t) {
  if (t.device != Device::Host)
    throw Error("toHostArray: expected a host view, got a device view");
  HostArray a = HostArray::zeros(t.dtype, {t.batch, t.tokens, t.heads, t.dim});
  const size_t es = size_t(dtypeSize(t.dtype));
  const size_t row = size_t(t.dim) * es;
  uint8_t *dst = a.bytes.data();
  const auto *src = static_cast<const uint8_t *>(t.data);
  for (int64_t b = 0; b < t.batch; ++b)
    for (int64_t s = 0; s < t.tokens; ++s)
      for (int64_t h = 0; h < t.heads; ++h, dst += row)
        std::memcpy(dst, src + size_t(t.offset(b, s, h)) * es, row);
  return a;
}

HostArray convert(const HostArray &a, DType to) {
  if (a.dtype == to)
    return a;
  HostArray r = HostArray::zeros(to, a.shape);
  const int64_t n = a.elements();
  const size_t es = size_t(dtypeSize(to));
  for (int64_t i = 0; i < n; ++i)
    storeFloat(r.bytes.data() + size_t(i) * es, to, a.at(i));
  return r;
}

} // namespace lfc
