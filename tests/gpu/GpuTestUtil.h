// Helpers for the CUDA backend tests: synthetic Q/K/V in any layout, mirrored
// on host and device, and kept-list builders. The CPU reference backend is the
// oracle.
#pragma once

#include "lfc/backend.h"
#include "lfc/cuda_backend.h"
#include "lfc/half.h"
#include "runtime/cuda/Driver.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

/// Skips the test where no CUDA backend loads (no driver or no GPU).
#define SKIP_WITHOUT_GPU()                                                     \
  do {                                                                         \
    std::string why;                                                           \
    if (!cudaBackendAvailable(&why))                                           \
      GTEST_SKIP() << "no CUDA backend: " << why;                              \
  } while (0)

namespace lfc::test {

enum class Layout { BSHD, BHSD };

/// One [B, S, H, D] tensor: the same bits on the host (for the CPU oracle) and
/// the device.
struct MirroredTensor {
  DType dtype = DType::BF16;
  Layout layout = Layout::BSHD;
  int64_t b = 0, s = 0, h = 0, d = 0;
  std::vector<uint16_t> host;
  cuda::DeviceBuffer dev;

  MirroredTensor(DType t, Layout l, int64_t b, int64_t s, int64_t h, int64_t d);
  Tensor4 hostView() { return view(host.data(), Device::Host); }
  Tensor4 deviceView() { return view(dev.get(), Device::Cuda); }
  uint16_t &at(int64_t bi, int64_t si, int64_t hi, int64_t di);
  float value(int64_t bi, int64_t si, int64_t hi, int64_t di) const;
  void set(int64_t bi, int64_t si, int64_t hi, int64_t di, float v);
  void upload() { dev.upload(host.data(), host.size() * 2); }
  /// Host copy of the device contents (after a kernel wrote it).
  std::vector<uint16_t> download() const;
  float decode(uint16_t bits) const {
    return dtype == DType::BF16 ? bf16ToFloat(bits) : halfToFloat(bits);
  }

private:
  Tensor4 view(void *p, Device dev) const;
};

/// Video-like keys/queries: each frame shows the same content shifted by
/// `motion` tokens per frame, plus noise; sink frames (the first `sinkFrames`)
/// get keys `sinkGain` larger.
struct VideoLikeSpec {
  int tokensPerFrame = 0;
  int sinkFrames = 1;
  float sinkGain = 4.f;
  int motion = 7;
  float noise = 0.3f;
};
void fillVideoLike(MirroredTensor &t, const VideoLikeSpec &spec, uint32_t seed,
                   bool isKey);
void fillRandom(MirroredTensor &t, uint32_t seed, float scale = 1.f);

/// A kept-block list on the host and the device.
struct MirroredKept {
  int64_t batch, heads, queryBlocks, maxKept;
  std::vector<int32_t> idx, cnt;
  cuda::DeviceBuffer devIdx, devCnt;

  MirroredKept(int64_t batch, int64_t heads, int64_t queryBlocks,
               int64_t maxKept);
  KeptBlocks hostView();
  KeptBlocks deviceView();
  void upload();
  void download();
};

/// Random sorted kept lists of exactly `perRow` blocks out of `keyBlocks` (rows
/// listed in `emptyRows` keep none).
void fillRandomKept(MirroredKept &kept, int64_t keyBlocks, int64_t perRow,
                    uint32_t seed, const std::vector<int64_t> &emptyRows = {});

/// Expects identical kept lists (counts, and the first `count` indices of every
/// row); `what` names the case in the failure message.
void expectSameKept(const MirroredKept &cpu, const MirroredKept &gpu,
                    const std::string &what = "");

} // namespace lfc::test
