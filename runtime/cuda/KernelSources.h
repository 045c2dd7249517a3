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
  /// Canonical static mask text (docs/static-masks.md): the kernel walks the
  /// key blocks it makes eligible, with no kept list (MaskMode::Static).
  /// Empty: not static (dense or kept list, as `dense` says).
  std::string staticMask;
  int tokensPerFrame = 0; ///< static: tokens per frame (compiled in)

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

/// e.g. lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk64_list; static masks
/// end in `_tpf<T>_static_<mask tag>` (staticMaskTag).
std::string kernelName(const AttnVariant &v);
/// The extern "C" entry point of the kernel (module) named `kernelName`: the
/// name with every character a C identifier cannot hold (`.`, `-`: static mask
/// tags) replaced by `_`, so the name itself for every kernel without a static
/// mask. A select module's entries are `<symbol>_commit`, `_pool`, `_select`.
std::string entrySymbol(const std::string &kernelName);
std::string entrySource(const AttnVariant &v);

/// The selection module of one dtype/head_dim: three entries, `<name>_commit`,
/// `<name>_pool` and `<name>_select`.
struct SelectVariant {
  std::string arch;
  DType dtype = DType::BF16;
  int headDim = 128;
  /// Canonical static mask text the select entry ANDs into the frame stage's
  /// eligibility; empty or "all": none (the name ends in `_static_<mask tag>`
  /// otherwise).
  std::string staticMask;
  static constexpr int kThreads = 256;
};
std::string kernelName(const SelectVariant &v);
std::string entrySource(const SelectVariant &v);

/// The readable, injective kernel-name form of a canonical static mask text
/// (names hold letters, digits, `_ . -`): term arguments follow the term's name
/// joined by `x`, union/restrict operands follow theirs after `-`, `.` closes
/// an operator's operands (omitted at the end): `union(sink(1),current,
/// radial(3,156))` -> `union-sink1-current-radial3x156`. Over 48 characters:
/// its first 39, `-` and the first 8 hex digits of the text's SHA-256. Throws
/// lfc::Error (the parser's) on text that is not canonical.
std::string staticMaskTag(const std::string &text);

/// The archs lfc JIT-compiles its kernels for (sm_80 .. sm_120).
const std::vector<std::string> &supportedArchs();

/// Every kernel variant lfc can launch on `arch`: name and source, for
/// precompiling and for the compile-everything test.
struct KernelSource {
  std::string name, source;
};
std::vector<KernelSource> allKernelSources(const std::string &arch);

} // namespace lfc::cuda
