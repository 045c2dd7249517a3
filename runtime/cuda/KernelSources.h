// The thin entry sources (config block + extern "C" wrappers) that instantiate
// kernels_templates/ for one variant, and the names that encode every
// parameter.
#pragma once

#include "lfc/tensor.h"

#include <string>
#include <vector>

namespace lfc::cuda {

/// One block-sparse attention kernel.
struct AttnVariant {
  std::string arch; ///< "sm_90a", ...
  DType dtype = DType::BF16;
  int headDim = 128;
  int blockQ = 128, blockK = 128; ///< selection blocks (policy)
  int tileQ = 128, tileK = 64;    ///< CTA tiles (per arch)
  int warps = 4;      ///< tileQ / warps query rows (16 or 32) per warp
  bool dense = false; ///< no kept list: every key
  bool wgmma = false; ///< sm_90a warpgroup-MMA kernel (attention_sm90.cuh)
  bool decoupled =
      false; ///< wgmma: per-stage mbarriers, no CTA barrier per tile
  /// wgmma, warp-specialized (attention_sm90_tma.cuh): `warps` consumer warps
  /// plus a producer warpgroup that loads tiles with TMA; takes tensor maps.
  bool tma = false;
  int stages = 2; ///< tma: K and V stages in the mbarrier ring

  int threads() const { return warps * 32 + (tma ? 128 : 0); }
  /// Q tile + two (tma: `stages`) K and V stages (+ 1024 bytes to align the
  /// wgmma tiles).
  int sharedBytes() const {
    return (tileQ + 2 * (tma ? stages : 2) * tileK) * headDim * 2 +
           (wgmma ? 1024 : 0);
  }
};

/// The kernel lfc uses for `blockQ`/`blockK` on `arch` within `maxShared` bytes
/// of shared memory per CTA: on sm_90a the TMA warp-specialized wgmma kernel
/// where block_q >= 128 and block_k >= 64, else the wgmma kernel where the
/// blocks allow 64-key tiles, else the mma.sync kernel with per-arch tiles.
/// `allowTma` false skips the TMA kernel (the benchmarks' previous default).
/// Throws lfc::Error for unsupported head_dim/dtype/block sizes.
AttnVariant chooseAttnVariant(const std::string &arch, DType dtype, int headDim,
                              int blockQ, int blockK, bool dense, int maxShared,
                              bool allowTma = true);

/// e.g. lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk64_list
std::string kernelName(const AttnVariant &v);
std::string entrySource(const AttnVariant &v);

/// The selection module of one dtype/head_dim: three entries, `<name>_commit`,
/// `<name>_pool` and `<name>_select`.
struct SelectVariant {
  std::string arch;
  DType dtype = DType::BF16;
  int headDim = 128;
  static constexpr int kThreads = 256;
};
std::string kernelName(const SelectVariant &v);
std::string entrySource(const SelectVariant &v);

/// The archs lfc JIT-compiles its kernels for (sm_80 .. sm_120).
const std::vector<std::string> &supportedArchs();

/// Every kernel variant lfc can launch on `arch`: name and source, for
/// precompiling and for the compile-everything test.
struct KernelSource {
  std::string name, source;
};
std::vector<KernelSource> allKernelSources(const std::string &arch);

} // namespace lfc::cuda
