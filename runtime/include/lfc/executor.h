// Executing a compiled plan (docs/plan-format.md) on a backend: the kernels a
// plan lists, bound to a device, and the per-call logic of the AR loop around
// them (which chunk, which pass, when selection runs, pooled keys).
#pragma once

#include "lfc/backend.h"
#include "lfc/plan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lfc {

/// A plan's kernels, ready on one backend. The CPU backend runs every chunk
/// through its reference selection and attention; the CUDA backend launches the
/// plan's own kernels, JIT-compiled for the device's arch (Backend::bind).
class BoundPlan {
public:
  virtual ~BoundPlan() = default;
  const Plan &plan() const { return *plan_; }

  /// Whether chunk `chunk` (1-based) runs a selection that writes a kept list.
  /// False for dense chunks, and on the CUDA backend for static-only chunks,
  /// whose attention kernel walks the static mask itself.
  virtual bool selects(int chunk) const = 0;
  /// The plan's selection for `chunk` (requires selects(chunk)).
  virtual void select(int chunk, const Tensor4 &q, const Tensor4 &k,
                      const PooledKeyCache *pooled, KeptBlocks &kept) = 0;
  /// The plan's attention for `chunk`; `kept` when selects(chunk), else
  /// nullptr.
  virtual void attention(int chunk, const Tensor4 &q, const Tensor4 &k,
                         const Tensor4 &v, const KeptBlocks *kept,
                         const Tensor4 &o) = 0;
  /// The kernel names `chunk` runs, "select + attention" (reports, tests).
  virtual std::string kernelsFor(int chunk) const = 0;

protected:
  explicit BoundPlan(const Plan &plan) : plan_(&plan) {}

private:
  const Plan *plan_;
};

/// Runs a plan's attention calls in AR-loop order for `batch` sequences:
/// chunk by chunk, pass by pass, layer by layer. Owns, per layer, the pooled
/// keys of the committed KV prefix and the kept blocks, which a `per_chunk`
/// refresh reuses across the chunk's passes.
class PlanRunner {
public:
  /// `plan` and `backend` must outlive the runner.
  /// `builtinKernels`: bind with Backend::bindGeneric (the backend's own
  /// select/attention) instead of Backend::bind.
  PlanRunner(Backend &backend, const Plan &plan, int64_t batch,
             bool builtinKernels = false);
  ~PlanRunner();

  /// One attention call: chunk (1-based), pass (0-based, < passes_per_chunk),
  /// layer (0-based, < layers). q, o: [batch, Lq, heads, head_dim]; k, v: the
  /// chunk's logical KV sequence [batch, Lk, heads, head_dim] (past frames,
  /// then the chunk's own), in the backend's memory.
  void attention(int chunk, int pass, int layer, const Tensor4 &q,
                 const Tensor4 &k, const Tensor4 &v, const Tensor4 &o);
  /// attention() in two steps, for callers that time them apart: select()
  /// runs the chunk's selection when its refresh rule says so (returns whether
  /// it ran), attend() the attention over the layer's kept blocks.
  bool select(int chunk, int pass, int layer, const Tensor4 &q,
              const Tensor4 &k);
  void attend(int chunk, int layer, const Tensor4 &q, const Tensor4 &k,
              const Tensor4 &v, const Tensor4 &o);
  /// Commits rows [committed, endToken) of `k` (the logical KV sequence) into
  /// `layer`'s pooled keys; call after a chunk's cache-refresh pass with
  /// endToken = the chunk's last key token + 1.
  void commit(int layer, const Tensor4 &k, int64_t endToken);
  /// `layer`'s kept blocks from its last selection, or nullptr (backend
  /// memory).
  const KeptBlocks *kept(int layer) const;
  /// Selections run so far (a per_chunk refresh runs one per chunk and layer).
  int64_t selections() const { return selections_; }
  BoundPlan &bound() { return *bound_; }
  /// Bytes of the pooled-key sums and of the kept-block lists, all layers.
  int64_t pooledKeyBytes() const { return pooledBytes_; }
  int64_t keptBlockBytes() const { return keptBytes_; }

private:
  struct Layer;
  Backend &backend_;
  const Plan &plan_;
  int64_t batch_;
  std::unique_ptr<BoundPlan> bound_;
  std::vector<std::unique_ptr<Layer>> layers_;
  int64_t selections_ = 0;
  int64_t pooledBytes_ = 0, keptBytes_ = 0;
};

} // namespace lfc
