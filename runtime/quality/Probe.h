// Internal: the GPU side of quality::evaluate(Backend &, ...). The CUDA part
// lives in runtime/cuda/QualityProbe.cpp (always built into lfc_runtime; the
// driver and NVRTC are loaded at run time), the metrics are formed in
// runtime/quality/Metrics.cpp exactly as the host evaluate() forms them.
#pragma once

#include "lfc/quality.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lfc::quality::detail {

/// What comes back from the GPU for one call.
struct DeviceProbe {
  int64_t dim = 0;
  /// Per sampled (batch, sampled head, row), in that order, `rowFloats`
  /// floats: the dense output [dim], the output over the kept blocks [dim],
  /// the kept and the total softmax sums (relative to the row's maximum
  /// logit; mass = kept / total).
  std::vector<float> rows;
  int64_t rowFloats = 0;
  /// Every block kept (no kept list and no static mask): density 1.
  bool dense = false;
  /// Otherwise per (b, h, query block) of every head, [B][H][nqb]: kept key
  /// blocks and kept key tokens.
  std::vector<int32_t> keptBlocks, keptTokens;
};

/// The CUDA backend's probe: validates every argument (device memory, shapes,
/// the kept list), then runs the sampled rows on the GPU. `kept` null: the
/// static mask of `sel` when the chunk is neither dense nor without one, else
/// dense (as CudaBackend::attention reads kept == nullptr). Throws lfc::Error.
DeviceProbe probeOnCuda(Backend &backend, const ChunkSelection &sel,
                        const Tensor4 &q, const Tensor4 &k, const Tensor4 &v,
                        const KeptBlocks *kept, float scale,
                        const std::vector<int64_t> &rows,
                        const std::vector<int64_t> &heads);

/// The probe module of one dtype (bf16 or fp16), head_dim (64 or 128) and
/// warps per CTA (4 or 8): e.g. "lfc_quality_probe_sm90a_bf16_d128_w8", with
/// the entries <name>_check, <name>_probe, <name>_combine.
std::string probeKernelName(const std::string &arch, DType dtype, int headDim,
                            int warps);
/// Its thin source: includes lfc/quality_probe.cuh, one extern "C" wrapper per
/// entry.
std::string probeKernelSource(const std::string &arch, DType dtype, int headDim,
                              int warps);
/// The warps per CTA the probe uses within `maxSharedBytes` of shared memory
/// per CTA (8, else 4); 0 when neither fits.
int probeWarps(int headDim, int maxSharedBytes);

} // namespace lfc::quality::detail
