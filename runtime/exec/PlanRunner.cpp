// Plan execution: the generic binding (a backend's select/attention with the
// plan's ChunkSelection) and the AR-loop bookkeeping of PlanRunner.
#include "lfc/executor.h"
#include "lfc/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace lfc {

namespace {

const PlanChunk &chunkAt(const Plan &plan, int chunk, const char *what) {
  if (chunk < 1 || chunk > int(plan.chunks.size()))
    throw Error(std::string(what) + ": chunk " + std::to_string(chunk) +
                " is outside plan '" + plan.name + "' (chunks 1.." +
                std::to_string(plan.chunks.size()) + ")");
  return plan.chunks[size_t(chunk - 1)];
}

/// Every non-dense chunk runs the backend's selection (which applies the
/// static mask) and list attention: the reference semantics of a plan.
class GenericBoundPlan final : public BoundPlan {
public:
  GenericBoundPlan(Backend &backend, const Plan &plan)
      : BoundPlan(plan), backend_(backend) {}

  bool selects(int chunk) const override {
    return !chunkAt(plan(), chunk, "select").selection.dense;
  }
  void select(int chunk, const Tensor4 &q, const Tensor4 &k,
              const PooledKeyCache *pooled, KeptBlocks &kept) override {
    const PlanChunk &c = chunkAt(plan(), chunk, "select");
    if (c.selection.dense)
      throw Error("select: chunk " + std::to_string(chunk) + " of plan '" +
                  plan().name + "' is dense and has no selection");
    backend_.select(c.selection, q, k, pooled, kept);
  }
  void attention(int chunk, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const KeptBlocks *kept,
                 const Tensor4 &o) override {
    const PlanChunk &c = chunkAt(plan(), chunk, "attention");
    if (!c.selection.dense && !kept)
      throw Error("attention: chunk " + std::to_string(chunk) + " of plan '" +
                  plan().name + "' needs the kept blocks of its selection");
    backend_.attention(c.selection, q, k, v, c.selection.dense ? nullptr : kept,
                       o, plan().geometry.softmaxScale);
  }
  std::string kernelsFor(int chunk) const override {
    const PlanChunk &c = chunkAt(plan(), chunk, "kernels");
    return backend_.name() + (c.selection.dense
                                  ? ": dense attention"
                                  : ": selection + kept-list attention");
  }

private:
  Backend &backend_;
};

} // namespace

std::shared_ptr<void> Backend::allocate(size_t bytes) {
  void *p = std::calloc(std::max<size_t>(bytes, 1), 1);
  if (!p)
    throw Error("allocate: out of host memory for " + std::to_string(bytes) +
                " bytes");
  return std::shared_ptr<void>(p, std::free);
}

void Backend::toHost(void *host, const void *src, size_t bytes) {
  synchronize();
  if (bytes)
    std::memcpy(host, src, bytes);
}

void Backend::fromHost(void *dst, const void *host, size_t bytes) {
  if (bytes)
    std::memcpy(dst, host, bytes);
}

void Backend::setStream(void *stream) {
  if (stream)
    throw Error(name() + ": setStream: this backend runs synchronously and has "
                         "no streams; pass nullptr");
}

namespace {
struct HostMark final : Backend::TimeMark {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
};
} // namespace

std::unique_ptr<Backend::TimeMark> Backend::mark() {
  synchronize();
  return std::make_unique<HostMark>();
}

double Backend::elapsedMs(const TimeMark &a, const TimeMark &b) {
  const auto *ha = dynamic_cast<const HostMark *>(&a);
  const auto *hb = dynamic_cast<const HostMark *>(&b);
  if (!ha || !hb)
    throw Error(name() + ": elapsedMs: marks from another backend");
  return std::chrono::duration<double, std::milli>(hb->t - ha->t).count();
}

std::unique_ptr<BoundPlan> Backend::bind(const Plan &plan) {
  return bindGeneric(plan);
}

std::unique_ptr<BoundPlan> Backend::bindGeneric(const Plan &plan) {
  return std::make_unique<GenericBoundPlan>(*this, plan);
}

struct PlanRunner::Layer {
  std::unique_ptr<PooledKeyCache> pooled;
  std::shared_ptr<void> keptIdx, keptCnt;
  KeptBlocks kept;
  int selectedChunk = 0; ///< chunk of the kept blocks (0: none yet)
  bool haveKept = false;
};

PlanRunner::PlanRunner(Backend &backend, const Plan &plan, int64_t batch,
                       bool builtinKernels)
    : backend_(backend), plan_(plan), batch_(batch),
      bound_(builtinKernels ? backend.bindGeneric(plan) : backend.bind(plan)) {
  if (batch < 1)
    throw Error("PlanRunner: batch must be >= 1, got " + std::to_string(batch));
  const PlanGeometry &g = plan.geometry;
  // One pooled-key cache per layer needs one key-block size across the
  // chunks that select; a plan mixing block_k pools from scratch instead.
  int blockK = 0;
  bool oneBlockK = true;
  int64_t maxTokens = 0, maxQueryBlocks = 0, maxKept = 0;
  for (const PlanChunk &c : plan.chunks) {
    maxTokens = std::max(maxTokens, c.selection.keyTokens());
    maxQueryBlocks = std::max(maxQueryBlocks, c.selection.queryBlocks());
    maxKept = std::max(
        maxKept, c.selection.dense ? 0 : int64_t(c.selection.keptKeyBlocks));
    if (c.selection.dense)
      continue;
    if (blockK && blockK != c.selection.blockK)
      oneBlockK = false;
    blockK = c.selection.blockK;
  }
  for (int l = 0; l < g.layers; ++l) {
    auto layer = std::make_unique<Layer>();
    // With a rolling window the logical KV sequence shifts when the window
    // rolls, so sums over its committed prefix go stale: pool from scratch.
    if (blockK && oneBlockK && g.kvWindowFrames == 0) {
      layer->pooled = backend.createPooledKeys(
          batch, g.heads, g.headDim, maxTokens, blockK, g.tokensPerFrame);
      pooledBytes_ += layer->pooled->bytes();
    }
    if (maxKept > 0) {
      const int64_t rows = batch * g.heads * maxQueryBlocks;
      keptBytes_ += rows * (maxKept + 1) * int64_t(sizeof(int32_t));
      layer->keptIdx =
          backend.allocate(size_t(rows * maxKept) * sizeof(int32_t));
      layer->keptCnt = backend.allocate(size_t(rows) * sizeof(int32_t));
    }
    layers_.push_back(std::move(layer));
  }
}

PlanRunner::~PlanRunner() = default;

void PlanRunner::attention(int chunk, int pass, int layer, const Tensor4 &q,
                           const Tensor4 &k, const Tensor4 &v,
                           const Tensor4 &o) {
  chunkAt(plan_, chunk, "PlanRunner::attention");
  const PlanGeometry &g = plan_.geometry;
  if (pass < 0 || pass >= g.passesPerChunk)
    throw Error("PlanRunner::attention: pass " + std::to_string(pass) +
                " is outside 0.." + std::to_string(g.passesPerChunk - 1));
  if (layer < 0 || layer >= g.layers)
    throw Error("PlanRunner::attention: layer " + std::to_string(layer) +
                " is outside 0.." + std::to_string(g.layers - 1));
  if (q.batch != batch_)
    throw Error("PlanRunner::attention: q has batch " +
                std::to_string(q.batch) + ", the runner was created for " +
                std::to_string(batch_));
  select(chunk, pass, layer, q, k);
  attend(chunk, layer, q, k, v, o);
}

bool PlanRunner::select(int chunk, int pass, int layer, const Tensor4 &q,
                        const Tensor4 &k) {
  const PlanChunk &c = chunkAt(plan_, chunk, "PlanRunner::select");
  const PlanGeometry &g = plan_.geometry;
  if (pass < 0 || pass >= g.passesPerChunk)
    throw Error("PlanRunner::select: pass " + std::to_string(pass) +
                " is outside 0.." + std::to_string(g.passesPerChunk - 1));
  if (layer < 0 || layer >= g.layers)
    throw Error("PlanRunner::select: layer " + std::to_string(layer) +
                " is outside 0.." + std::to_string(g.layers - 1));
  Layer &L = *layers_[size_t(layer)];
  if (!bound_->selects(chunk))
    return false;
  const ChunkSelection &sel = c.selection;
  const bool reuse =
      !c.selectEveryPass && pass > 0 && L.haveKept && L.selectedChunk == chunk;
  if (!reuse) {
    L.kept.idx = static_cast<int32_t *>(L.keptIdx.get());
    L.kept.cnt = static_cast<int32_t *>(L.keptCnt.get());
    L.kept.batch = batch_;
    L.kept.heads = g.heads;
    L.kept.queryBlocks = sel.queryBlocks();
    L.kept.maxKept = sel.keptKeyBlocks;
    const PooledKeyCache *pooled =
        L.pooled && L.pooled->committedTokens() <= sel.keyTokens()
            ? L.pooled.get()
            : nullptr;
    bound_->select(chunk, q, k, pooled, L.kept);
    L.selectedChunk = chunk;
    L.haveKept = true;
    ++selections_;
    return true;
  }
  return false;
}

void PlanRunner::attend(int chunk, int layer, const Tensor4 &q,
                        const Tensor4 &k, const Tensor4 &v, const Tensor4 &o) {
  chunkAt(plan_, chunk, "PlanRunner::attend");
  if (layer < 0 || layer >= plan_.geometry.layers)
    throw Error("PlanRunner::attend: layer " + std::to_string(layer) +
                " is outside 0.." + std::to_string(plan_.geometry.layers - 1));
  Layer &L = *layers_[size_t(layer)];
  if (!bound_->selects(chunk)) {
    bound_->attention(chunk, q, k, v, nullptr, o);
    return;
  }
  if (!L.haveKept || L.selectedChunk != chunk)
    throw Error("PlanRunner::attend: layer " + std::to_string(layer) +
                " has no selection for chunk " + std::to_string(chunk) +
                "; call select first");
  bound_->attention(chunk, q, k, v, &L.kept, o);
}

void PlanRunner::commit(int layer, const Tensor4 &k, int64_t endToken) {
  if (layer < 0 || layer >= int(layers_.size()))
    throw Error("PlanRunner::commit: layer " + std::to_string(layer) +
                " is outside 0.." + std::to_string(layers_.size() - 1));
  Layer &L = *layers_[size_t(layer)];
  if (L.pooled && endToken > L.pooled->committedTokens())
    backend_.commitKeys(*L.pooled, k, endToken);
}

const KeptBlocks *PlanRunner::kept(int layer) const {
  if (layer < 0 || layer >= int(layers_.size()))
    return nullptr;
  const Layer &L = *layers_[size_t(layer)];
  return L.haveKept ? &L.kept : nullptr;
}

} // namespace lfc
