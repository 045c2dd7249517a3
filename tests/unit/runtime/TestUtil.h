// Helpers shared by the runtime unit tests: host tensors of random bf16/fp16
// values.
#pragma once

#include "lfc/backend.h"
#include "lfc/half.h"
#include "lfc/tensor.h"

#include <cstdint>
#include <random>
#include <vector>

namespace lfc::test {

/// A host tensor owning 16-bit storage (bf16 or fp16), BSHD or BHSD.
struct HostTensor {
  std::vector<uint16_t> storage;
  Tensor4 view;

  HostTensor(DType t, int64_t b, int64_t s, int64_t h, int64_t d,
             bool bhsd = false)
      : storage(size_t(b * s * h * d), 0) {
    view = bhsd ? Tensor4::bhsd(storage.data(), t, Device::Host, b, s, h, d)
                : Tensor4::bshd(storage.data(), t, Device::Host, b, s, h, d);
  }
  int64_t index(int64_t b, int64_t s, int64_t h, int64_t d) const {
    return view.offset(b, s, h) + d;
  }
  float get(int64_t b, int64_t s, int64_t h, int64_t d) const {
    uint16_t bits = storage[size_t(index(b, s, h, d))];
    return view.dtype == DType::BF16 ? bf16ToFloat(bits) : halfToFloat(bits);
  }
  void set(int64_t b, int64_t s, int64_t h, int64_t d, float v) {
    storage[size_t(index(b, s, h, d))] =
        view.dtype == DType::BF16 ? floatToBf16(v) : floatToHalf(v);
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

/// Kept-block storage for KeptBlocks views.
struct HostKept {
  std::vector<int32_t> idx, cnt;
  KeptBlocks view;
  HostKept(int64_t b, int64_t h, int64_t nqb, int64_t maxKept)
      : idx(size_t(b * h * nqb * maxKept), -1), cnt(size_t(b * h * nqb), -1) {
    view.idx = idx.data();
    view.cnt = cnt.data();
    view.batch = b;
    view.heads = h;
    view.queryBlocks = nqb;
    view.maxKept = maxKept;
  }
  // `view` points into the vectors: copies would alias, moves keep the buffers.
  HostKept(const HostKept &) = delete;
  HostKept(HostKept &&) = default;
  std::vector<int32_t> row(int64_t b, int64_t h, int64_t i) const {
    int64_t r = (b * view.heads + h) * view.queryBlocks + i;
    return std::vector<int32_t>(idx.begin() + r * view.maxKept,
                                idx.begin() + r * view.maxKept +
                                    cnt[size_t(r)]);
  }
};

} // namespace lfc::test
