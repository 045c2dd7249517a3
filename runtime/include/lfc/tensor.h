// Tensor views passed across the lfc runtime API: pointers + strides, no
// ownership.
#pragma once

#include <cstdint>
#include <string>

namespace lfc {

enum class DType { BF16, F16, F32 };

const char *dtypeName(DType t);
int dtypeSize(DType t);

/// Where a view's memory lives.
enum class Device { Host, Cuda };

/// A 4-D [batch, tokens, heads, head_dim] view with element strides; the
/// innermost dimension is contiguous (stride 1). BSHD and BHSD are both
/// expressible.
struct Tensor4 {
  void *data = nullptr;
  DType dtype = DType::BF16;
  Device device = Device::Host;
  int64_t batch = 0, tokens = 0, heads = 0, dim = 0;
  int64_t strideB = 0, strideS = 0, strideH = 0;

  static Tensor4 bshd(void *data, DType t, Device dev, int64_t b, int64_t s,
                      int64_t h, int64_t d) {
    return {data, t, dev, b, s, h, d, s * h * d, h * d, d};
  }
  static Tensor4 bhsd(void *data, DType t, Device dev, int64_t b, int64_t s,
                      int64_t h, int64_t d) {
    return {data, t, dev, b, s, h, d, h * s * d, d, s * d};
  }
  int64_t offset(int64_t b, int64_t s, int64_t h) const {
    return b * strideB + s * strideS + h * strideH;
  }
};

} // namespace lfc
