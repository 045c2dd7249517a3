// The execution backend interface: selection and block-sparse attention for one
// call. Implemented by the CPU reference backend (the oracle) and the CUDA
// backend. Semantics: docs/selection-semantics.md (normative).
#pragma once

#include "lfc/tensor.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lfc {

class StaticMask;
class BoundPlan;
struct Plan;

/// Static structure of one chunk's selection, as resolved by the compiler (plan
/// manifest).
struct ChunkSelection {
  int tokensPerFrame = 0;
  int framesPerChunk = 0;
  int visibleFrames = 0; ///< frames in the logical KV sequence (past + current)
  int sinkFrames = 0;
  int nearFrames = 0;
  int framesTopK = 0; ///< 0: no frame stage (all past frames eligible)
  int blockQ = 128;   ///< selection block sizes (policy), not kernel tiles
  int blockK = 128;
  int keptKeyBlocks = 0; ///< budget K per query block
  bool dense = false;    ///< every block kept; no selection runs
  /// The static part of the mask (docs/static-masks.md); null: every block.
  std::shared_ptr<const StaticMask> staticMask;

  int64_t queryTokens() const {
    return int64_t(framesPerChunk) * tokensPerFrame;
  }
  int64_t keyTokens() const { return int64_t(visibleFrames) * tokensPerFrame; }
  int64_t queryBlocks() const { return (queryTokens() + blockQ - 1) / blockQ; }
  int64_t keyBlocks() const { return (keyTokens() + blockK - 1) / blockK; }
};

/// Kept key blocks per (batch, head, query block): indices ascending,
/// idx[((b*H + h)*nqb + i)*maxKept + n], cnt[(b*H + h)*nqb + i]. Device memory
/// for the CUDA backend, host memory for the CPU backend.
struct KeptBlocks {
  int32_t *idx = nullptr;
  int32_t *cnt = nullptr;
  int64_t batch = 0, heads = 0, queryBlocks = 0;
  int64_t maxKept = 0;
};

/// Pooled keys of the committed KV prefix (frames already in the cache), so
/// they are computed once when frames enter the cache, not in every pass.
/// Holds, per (batch, head), fp32 running sums of every key block of the flat
/// grid and of every frame, plus the committed length. Opaque: each backend
/// keeps it in its own memory. Continuing a sequential sum gives the same bits
/// as pooling from scratch (docs/selection-semantics.md), so results do not
/// depend on it.
class PooledKeyCache {
public:
  virtual ~PooledKeyCache() = default;
  /// Tokens of the logical KV sequence whose sums are final.
  virtual int64_t committedTokens() const = 0;
  /// Device or host bytes the cache holds.
  virtual int64_t bytes() const = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;

  /// An empty pooled-key cache for up to `maxTokens` logical KV tokens.
  virtual std::unique_ptr<PooledKeyCache>
  createPooledKeys(int64_t batch, int64_t heads, int64_t headDim,
                   int64_t maxTokens, int blockK, int tokensPerFrame) = 0;

  /// Commits rows [cache.committedTokens(), endToken) of `k` (the logical KV
  /// sequence) into the cache: their block and frame sums become final.
  virtual void commitKeys(PooledKeyCache &cache, const Tensor4 &k,
                          int64_t endToken) = 0;

  /// Hierarchical selection (pooling, frame top-k, block top-k) for one call.
  /// q: [B, Lq, H, D]; k: [B, Lk, H, D] (the logical KV sequence); writes
  /// `kept`. `pooled` (may be nullptr) supplies the sums of k's committed
  /// prefix; the rest of k is pooled here.
  virtual void select(const ChunkSelection &sel, const Tensor4 &q,
                      const Tensor4 &k, const PooledKeyCache *pooled,
                      KeptBlocks &kept) = 0;

  /// Block-sparse attention over `kept` (nullptr: dense). o has q's shape.
  virtual void attention(const ChunkSelection &sel, const Tensor4 &q,
                         const Tensor4 &k, const Tensor4 &v,
                         const KeptBlocks *kept, const Tensor4 &o,
                         float scale) = 0;

  /// Waits for all queued work (no-op on the CPU).
  virtual void synchronize() {}

  /// Copies `src` into `dst` (same shape and dtype, both in this backend's
  /// memory, any strides with the innermost dimension contiguous), queued
  /// like the kernels. The session's KV cache writes through it.
  virtual void copy(const Tensor4 &dst, const Tensor4 &src) = 0;

  /// Copies `bytes` from this backend's memory to the host, after the queued
  /// work that writes it (synchronizes the backend's stream).
  virtual void toHost(void *host, const void *src, size_t bytes);
  /// Copies `bytes` from the host into this backend's memory; queued work
  /// issued later sees them.
  virtual void fromHost(void *dst, const void *host, size_t bytes);

  /// The queue every later call is enqueued on: a CUstream on the CUDA
  /// backend, nullptr for the default stream. The CPU backend runs
  /// synchronously and accepts nullptr only.
  virtual void setStream(void *stream);
  virtual void *stream() const { return nullptr; }

  /// A point in this backend's queue of work, for timing: a CUDA event
  /// recorded on the current stream, or the host clock on the CPU.
  class TimeMark {
  public:
    virtual ~TimeMark() = default;
  };
  virtual std::unique_ptr<TimeMark> mark();
  /// Milliseconds from `a` to `b` (waits for `b` to complete).
  virtual double elapsedMs(const TimeMark &a, const TimeMark &b);

  /// `bytes` of zeroed memory this backend's kernels can use (host memory on
  /// the CPU, device memory for CUDA), freed with the last reference.
  virtual std::shared_ptr<void> allocate(size_t bytes);
  /// The kernels of `plan` ready to run here (lfc/executor.h). The default runs
  /// every chunk through select() and attention() with the plan's
  /// ChunkSelection; the CUDA backend launches the plan's own kernels.
  virtual std::unique_ptr<BoundPlan> bind(const Plan &plan);
  /// The default binding on any backend: every chunk through select() and
  /// attention() with the plan's ChunkSelection, whatever kernels it lists.
  std::unique_ptr<BoundPlan> bindGeneric(const Plan &plan);
};

/// Thrown for invalid arguments, plans, compile or launch failures; what()
/// names the kernel, argument, expected shape/dtype/stride, and carries any
/// NVRTC/CUDA log.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace lfc
