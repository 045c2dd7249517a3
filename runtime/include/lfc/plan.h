// The plan artifact (docs/plan-format.md): what the compiler hands the runtime,
// loaded and validated.
#pragma once

#include "lfc/backend.h"
#include "lfc/jit.h"
#include "lfc/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lfc {

/// The manifest format this runtime reads (plan.toml `format_version`).
inline constexpr int kPlanFormatVersion = 2;

struct PlanGeometry {
  int layers = 0;
  int heads = 0;
  int headDim = 0;
  DType dtype = DType::BF16;
  int tokensPerFrame = 0;
  int framesPerChunk = 0;
  int chunks = 0;
  int passesPerChunk = 0;
  int kvWindowFrames = 0; ///< 0: global cache
  int sinkFrames = 0;     ///< cache sink frames (kept when the window rolls)
  float softmaxScale =
      0; ///< 1/sqrt(head_dim) unless the manifest says otherwise
};

/// One chunk: its 1-based index, the sparsity the compiler resolved, and the
/// selection.
struct PlanChunk {
  int index = 0;
  double sparsity = 0;
  /// selection.staticMask is always set (StaticMask() for `all`).
  ChunkSelection selection;
  /// `refresh = "every_pass"` (true) or `"per_chunk"`: select in the chunk's
  /// first pass only and reuse the kept blocks in its other passes.
  bool selectEveryPass = true;
};

/// How to launch one entry point. Grid dimensions are symbols resolved at
/// launch time: "batch", "heads", "query_blocks", "key_blocks", "query_tiles"
/// (ceil(query tokens / tile_q)), or a decimal constant such as "1". A grid of
/// just {"params"} means the rule documented with the params struct
/// (kernels_templates/lfc/abi.h), for grids that depend on run-time work.
struct LaunchContract {
  std::vector<std::string> grid; ///< x, y, z, or {"params"}
  int block[3] = {1, 1, 1};      ///< threads
  int64_t sharedBytes =
      0;         ///< dynamic shared memory (a bound over every chunk served)
  int tileQ = 0; ///< query rows per CTA (0 when no grid dim uses query_tiles)
  std::string params; ///< name of the params struct the kernel takes by value
                      ///< ("LfcAttnParams,LfcAttnTmaParams": two)
};

/// What an attention entry instantiates (role "attention" only): the template
/// family and its tiles, so the runtime launches it as it was compiled.
struct AttentionVariant {
  std::string kernel; ///< "mma", "wgmma", "wgmma_mbar" or "tma"
  std::string mask;   ///< "dense", "list" or "static"
  int tileK = 0;
  int warps = 0;  ///< consumer warps (tma: plus a producer warpgroup)
  int stages = 0; ///< tma only: K and V stages
};

struct PlanEntry {
  std::string symbol; ///< extern "C" name in the CUBIN
  /// "commit_keys", "pool_keys", "pool_queries", "frame_scores", "select" or
  /// "attention"
  std::string role;
  LaunchContract launch;
  AttentionVariant attention; ///< role "attention" only
};

struct PlanKernel {
  std::string name;       ///< unique; names the cache entry
  std::string sourceFile; ///< relative to the plan directory, under kernels/
  std::string sha256;     ///< of the source file's bytes (lowercase hex)
  std::vector<int>
      chunks; ///< 1-based chunk indices it serves; empty: every chunk
  std::vector<std::string> options; ///< extra NVRTC options (after the plan's)
  /// Archs it is compiled for (e.g. {"sm_90a"}); empty: every arch that no
  /// arch-specific kernel of the same role and chunk serves.
  std::vector<std::string> archs;
  /// Canonical static mask compiled into it (docs/static-masks.md); every
  /// chunk it serves has the same.
  std::string staticMask = "all";
  std::vector<PlanEntry> entries;
  std::string source; ///< the loaded, hash-checked source text
};

struct PlanHeader {
  std::string path; ///< relative to the plan directory, under include/
  std::string sha256;
};

struct Plan {
  std::string dir; ///< absolute plan directory
  int formatVersion = 0;
  std::string name;
  std::string source; ///< [plan] source: the policy it was compiled from
  PlanGeometry geometry;
  std::vector<PlanChunk> chunks; ///< chunks[i].index == i + 1
  std::vector<PlanHeader> headers;
  /// Absolute include directories: the plan's own (bundled headers) and, when
  /// the manifest sets build.external_templates, defaultKernelIncludeDir().
  std::vector<std::string> includeDirs;
  std::vector<std::string> options; ///< NVRTC options shared by every kernel
  std::vector<PlanKernel> kernels;

  /// The JIT request for `kernel` on `arch` (include dirs and options filled
  /// in).
  JitRequest jitRequest(const PlanKernel &kernel,
                        const std::string &arch) const;
  /// The kernel with an entry of `role` serving 1-based chunk `chunkIndex` on
  /// `arch`, or nullptr: one that lists `arch` in its archs, else one with no
  /// archs. `arch` "" matches only kernels with no archs.
  const PlanKernel *findKernel(const std::string &role, int chunkIndex,
                               const std::string &arch,
                               const PlanEntry **entry = nullptr) const;
};

/// Loads and validates `dir`/plan.toml and every file it names. Throws
/// lfc::Error naming the file and field: "plan.toml: chunks[3].kept_key_blocks:
/// must be <= key_blocks (74), got 80".
Plan loadPlan(const std::string &dir);

/// Checks that the kernel headers a plan bundles (include/lfc/abi.h and
/// include/lfc/tma_abi.h: the launch contract between this runtime's host code
/// and the kernels) are the ones this runtime was built with; throws
/// lfc::Error naming the header and saying to recompile the plan otherwise. A
/// plan compiled before a change to the launch protocol would otherwise be
/// launched with the new grid and compute wrong results without an error. The
/// CUDA backend calls it when it binds a plan.
void checkKernelAbi(const Plan &plan);

/// Parses "bf16" / "fp16" / "fp32"; throws lfc::Error naming `what` otherwise.
DType parseDType(const std::string &name, const std::string &what);

} // namespace lfc
